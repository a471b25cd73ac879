"""Helpers the GitHub plugin's tests share: the canary secrets and reading what dtm recorded."""

from __future__ import annotations

import json
from typing import Any

import httpx
from dtm_harness import DtmHarness

from dtm_core.emulators.github import GitHubEmulator

TOKEN = "ghp_canary_5e1f9a0c7d2b4e6f8a1c3e5d7b9f0a2c4e6d8b0a"
#: The User-Agent of requests a test makes "by hand", so they can be told from dtm's.
BY_HAND = "a-person-on-github"
SECRET_VALUE = "pypi-canary-secret-7c1e2d"


def outputs(dtm: DtmHarness, address: str) -> dict[str, Any]:
    found: dict[str, Any] = dtm.state()["instances"][address]["outputs"]
    return found


def everything_dtm_wrote(dtm: DtmHarness, *texts: str) -> str:
    """State, history and every file under DTM_HOME, with ``texts`` (command output) added."""
    parts = [json.dumps(dtm.state())]
    for path in sorted(dtm.home.rglob("*")):
        if path.is_file():
            parts.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join([*parts, *texts])


def behind_dtms_back(gh: GitHubEmulator) -> httpx.Client:
    """A person using GitHub directly (the web UI, say), with octo's token."""
    return httpx.Client(base_url=gh.url, headers={"Authorization": f"Bearer {TOKEN}", "User-Agent": BY_HAND})
