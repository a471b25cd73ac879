"""pytest fixtures for dtm and its plugins (registered as the ``pytest11`` plugin ``dtm``).

Plugin authors get the same isolation dtm's own tests use:

* ``dtm_home`` — an empty dtm home (``DTM_HOME``) for the test;
* ``make_registry`` — writes an index from tool entries and points ``DTM_REGISTRY`` at it;
* ``dtm_cli`` — runs the ``dtm`` command line in-process and returns click's ``Result``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def dtm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty dtm home for this test; config, state and cache all live under it."""
    home = tmp_path / "dtm-home"
    monkeypatch.setenv("DTM_HOME", str(home))
    return home


@pytest.fixture
def make_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                  ) -> Callable[[Mapping[str, Any]], Path]:
    """Return a function that writes ``{"tools": entries}`` as the index dtm resolves against."""

    def write(tools: Mapping[str, Any], name: str = "test") -> Path:
        path = tmp_path / f"{name}-registry.json"
        path.write_text(json.dumps({"format": 1, "name": name, "tools": dict(tools)}, indent=1))
        monkeypatch.setenv("DTM_REGISTRY", str(path))
        return path

    return write


@pytest.fixture
def dtm_cli(dtm_home: Path) -> Callable[..., Any]:
    """Run ``dtm ARGS...`` in-process with the test's environment; returns click's Result."""
    import os

    from .cli.testing import run_cli

    def run(*args: str, input: str | None = None) -> Any:
        return run_cli(list(args), os.environ, input=input)

    return run
