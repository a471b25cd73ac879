"""The starter files github-repo commits into a new repository for its ``language``."""

from __future__ import annotations

import json
import re

from .templates import render_tree

LANGUAGES = ("python", "go", "node")


def python_package(name: str) -> str:
    """A valid import name made from a repository name (``my-app.v2`` -> ``my_app_v2``)."""
    package = re.sub(r"\W+", "_", name.lower()).strip("_") or "app"
    return f"app_{package}" if package[0].isdigit() else package


def starter_files(language: str, *, owner: str, name: str, description: str | None,
                  html_url: str) -> dict[str, bytes]:
    """The files to commit, by path; ``html_url`` gives the Go module path (works for Enterprise too)."""
    text = description or f"{name}, created by dtm"
    module = re.sub(r"^https?://", "", html_url).rstrip("/") or f"github.com/{owner}/{name}"
    values = {
        "name": name,
        "package": python_package(name),
        # JSON strings are valid TOML basic strings for anything a description holds.
        "name_toml": json.dumps(name),
        "description_toml": json.dumps(text),
        "description_json": json.dumps(text),
        "npm_name": json.dumps(re.sub(r"[^a-z0-9._-]+", "-", name.lower()).lstrip("._") or "app"),
        "module": module,
    }
    return render_tree("starters", language, values=values)
