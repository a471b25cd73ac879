"""Fixtures for the GitHub plugin: an emulated GitHub on loopback and dtm pointed at it.

``gh`` -> ``GitHubEmulator``
    Running on loopback with user ``octo`` (token ``TOKEN``, scopes repo + workflow) in org
    ``acme``, and a template repository ``acme/tmpl``.
``github_dtm`` -> ``DtmHarness``
    dtm with only the dtm-plugins-github plugin, the repository's registry, ``GITHUB_API_URL``
    at the emulator, ``GITHUB_TOKEN`` set to the canary token and ``PYPI_TOKEN`` to a canary
    secret value. Retry waits are milliseconds (``fast_retries``, on for every test).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dtm_harness import DtmHarness

from dtm_core.emulators.github import GitHubEmulator

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
# The shared helpers (githubtests.py) are imported by module name, as tests/ does for its own.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from githubtests import SECRET_VALUE, TOKEN  # noqa: E402 - needs the path above


@pytest.fixture
def gh() -> Iterator[GitHubEmulator]:
    with GitHubEmulator() as running:
        running.add_user("octo", token=TOKEN, scopes=("repo", "workflow"))
        running.add_org("acme", members=["octo"])
        running.add_repo("acme", "tmpl", files={"README.md": "template\n", "app/main.py": "print(1)\n"},
                         template=True)
        yield running


@pytest.fixture
def github_dtm(dtm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, gh: GitHubEmulator,
               tmp_path: Path) -> DtmHarness:
    settings = {"DTM_LOAD_PLUGINS": "dtm-plugins-github", "DTM_PLUGINS": "",
                "DTM_REGISTRY": str(REPO / "registry.json"), "GITHUB_API_URL": gh.url,
                "GITHUB_TOKEN": TOKEN, "PYPI_TOKEN": SECRET_VALUE, "HOME": str(tmp_path)}
    for key, value in settings.items():
        dtm_env[key] = value
        monkeypatch.setenv(key, value)
    return DtmHarness(home=Path(dtm_env["DTM_HOME"]), env=dtm_env)

