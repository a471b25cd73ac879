"""Every call the plugin makes is one of the kept operations of GitHub's OpenAPI description, well formed.

A whole life — create from a template on another default branch, starter files, workflows on a
new branch with secrets and an image job, drift put right, destroy with ``delete_mode: delete``
— runs against the emulator; each request it saw is then checked with openapi-core against
``../shared/specs/github-rest.json``: path, method, query and body.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from dtm_harness import DtmHarness
from githubtests import BY_HAND, TOKEN, behind_dtms_back

from dtm_core.emulators.github import GitHubEmulator

REPO = Path(__file__).resolve().parents[3]
SPECS = Path(os.environ.get("DTM_SPECS_DIR") or REPO.parent / "shared" / "specs")
GITHUB_REST = SPECS / "github-rest.json"

TOOLCHAIN = """\
version: 1
tools:
  - tool: github-repo
    name: svc
    options:
      owner: octo
      name: svc
      template: acme/tmpl
      default_branch: develop
      visibility: public
      description: A service
      language: node
      delete_mode: delete
  - tool: github-actions
    name: ci
    options:
      owner: ${{ github-repo.svc.outputs.owner }}
      repo: ${{ github-repo.svc.outputs.name }}
      branch: ci-setup
      language: node
      image: quay.io/octo/svc
      secrets:
        REGISTRY_USERNAME: env:PYPI_TOKEN
        REGISTRY_PASSWORD: env:PYPI_TOKEN
"""


@pytest.fixture(scope="module")
def openapi() -> Any:
    if not GITHUB_REST.exists():
        pytest.skip(f"GitHub's API description {GITHUB_REST} is not available (set DTM_SPECS_DIR)")
    from openapi_core import OpenAPI

    return OpenAPI.from_file_path(str(GITHUB_REST))


def kept_operations() -> list[tuple[str, str, re.Pattern[str]]]:
    spec = json.loads(GITHUB_REST.read_text(encoding="utf-8"))
    shared = spec["components"]["parameters"]
    kept = []
    for operation in spec["x-dtm-source"]["kept_operations"]:
        method, template = operation.split(" ", 1)
        parameters = [shared[p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p
                      for p in spec["paths"][template][method.lower()].get("parameters", [])]
        # Parameters marked x-multi-segment (a file path, a ref) may span slashes; the rest may not.
        multi = {p["name"] for p in parameters if p.get("x-multi-segment")}
        pattern = re.escape(template)
        for name in re.findall(r"\{([^}]+)\}", template):
            group = f"(?P<{name}>{'.+' if name in multi else '[^/]+'})"
            pattern = pattern.replace(re.escape(f"{{{name}}}"), group)
        kept.append((method, template, re.compile(f"^{pattern}$")))
    return kept


def spec_path(method: str, path: str, kept: list[tuple[str, str, re.Pattern[str]]]) -> str | None:
    """``path`` with each parameter's slashes escaped, as openapi-core matches one segment per
    parameter; None when no kept operation has this method and path."""
    for wanted, template, pattern in kept:
        found = pattern.match(path) if wanted == method else None
        if found:
            values = {name: quote(value, safe="") for name, value in found.groupdict().items()}
            return template.format_map(values)
    return None


def test_a_whole_life_uses_only_kept_operations_with_bodies_githubs_schema_accepts(
        github_dtm: DtmHarness, gh: GitHubEmulator, tmp_path: Path, openapi: Any) -> None:
    from openapi_core.testing import MockRequest

    gh.add_user("octo", token=TOKEN, scopes=("repo", "workflow", "delete_repo"))
    toolchain = tmp_path / "toolchain.yaml"
    toolchain.write_text(TOOLCHAIN, encoding="utf-8")
    assert github_dtm.run("apply", "-f", str(toolchain), "-y").exit_code == 0
    with behind_dtms_back(gh) as web:
        web.patch("/repos/octo/svc", json={"description": "hand"}).raise_for_status()
        web.delete("/repos/octo/svc/actions/secrets/REGISTRY_USERNAME").raise_for_status()
    result = github_dtm.run("apply", "-f", str(toolchain), "-y")
    assert result.exit_code == 0, result.stderr
    result = github_dtm.run("destroy", "-f", str(toolchain), "-y")
    assert result.exit_code == 0, result.stderr
    assert gh.repo("octo", "svc") is None
    ours = [e for e in gh.exchanges if {k.lower(): v for k, v in e.request_headers.items()}.get(
        "user-agent") != BY_HAND]
    assert len(ours) > 40

    kept = kept_operations()
    problems = []
    for exchange in ours:
        split = urlsplit(exchange.target)
        path = spec_path(exchange.method, split.path, kept)
        if path is None:
            problems.append(f"{exchange.method} {split.path}: not a kept operation")
            continue
        headers = {k.lower(): v for k, v in exchange.request_headers.items()}
        if (headers.get("x-github-api-version"), headers.get("accept")) != (
                "2022-11-28", "application/vnd.github+json") or not headers.get("user-agent", "").startswith(
                "dtm-plugins-github/"):
            problems.append(f"{exchange.method} {split.path}: headers {headers}")
        request = MockRequest("https://api.github.com", exchange.method.lower(), path,
                              args=dict(parse_qsl(split.query)),
                              data=exchange.request_body.decode() if exchange.request_body else None,
                              content_type="application/json" if exchange.request_body else None)
        try:
            openapi.validate_request(request)
        except Exception as error:  # noqa: BLE001 - every kind of mismatch is a finding
            cause = getattr(error, "__cause__", None)
            problems.append(f"{exchange.method} {split.path}: {error} {cause or ''}")
    assert problems == []
