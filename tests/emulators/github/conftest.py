"""Fixtures for the GitHub emulator tests: a running emulator, spec-checked clients, PyGithub.

``github_spec`` (session) -> ``GitHubSpec``
    GitHub's ``github-rest.json`` as an oracle (tests/github_spec.py); skips when the shared
    specs folder is missing. Its ``checked`` log spans the session: read it through ``spec_log``.
``spec_log`` (per test) -> ``spec_log() -> list[Checked]``
    The checks the spec-checked clients made since the test started.
``emulator`` (per test) -> ``GitHubEmulator``
    Started with user ``alice`` (scopes: repo, workflow, delete_repo, admin:repo_hook) and the
    organisation ``acme`` (alice a member, ``olivia`` an admin). When the spec is available, every
    response the emulator sent during the test is checked against it at teardown, whichever
    client sent the request (httpx, PyGithub, a plugin) — except replies to paths outside the
    kept operations and raw-media replies, which the spec does not describe.
``token`` -> alice's token.
``client`` (per test) -> ``httpx.Client``
    Talks to ``emulator`` as alice; every request *and* response is checked against the spec as it
    completes (skipped without the spec). Non-2xx answers do not raise.
``lax_client`` -> the same, for requests that are malformed on purpose: only responses are checked.
``as_user`` -> ``as_user(login, scopes=...) -> httpx.Client``: another user with its own token.
``pygithub`` -> ``github.Github`` for alice, with retries and pacing off so tests run fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import httpx
import pytest
from github import Auth, Github
from github_spec import SPEC_FILE, Checked, GitHubSpec

from dtm_core.emulators.github import GitHubEmulator

ALICE_SCOPES = ("repo", "workflow", "delete_repo", "admin:repo_hook")


@pytest.fixture(scope="session")
def _optional_spec() -> GitHubSpec | None:
    return GitHubSpec.load() if SPEC_FILE.exists() else None


@pytest.fixture(scope="session")
def github_spec(_optional_spec: GitHubSpec | None) -> GitHubSpec:
    if _optional_spec is None:
        pytest.skip(f"GitHub's description {SPEC_FILE} is not available: upstream files are kept outside the "
                    "repository, in ../shared/specs (or set DTM_SPECS_DIR)")
    return _optional_spec


@pytest.fixture
def spec_log(github_spec: GitHubSpec) -> Callable[[], list[Checked]]:
    """The checks made since the test started, by the clients above (they share one spec)."""
    start = len(github_spec.checked)
    return lambda: github_spec.checked[start:]


@pytest.fixture
def emulator(_optional_spec: GitHubSpec | None) -> Iterator[GitHubEmulator]:
    with GitHubEmulator() as running:
        running.add_user("alice", token="alice-token", scopes=ALICE_SCOPES)
        running.add_user("olivia", token="olivia-token", scopes=ALICE_SCOPES)
        running.add_org("acme", members=["alice"], admins=["olivia"])
        yield running
        if _optional_spec is not None:
            for exchange in running.exchanges:
                path = exchange.target.split("?", 1)[0]
                # Paths outside the kept operations, and the raw media type (which the operation's text
                # mentions but its responses do not describe), are beyond what the spec can judge.
                raw = "vnd.github.raw" in {key.lower(): value for key, value in
                                           exchange.request_headers.items()}.get("accept", "")
                if _optional_spec.operation_for(exchange.method, path) is not None and not raw:
                    _optional_spec.check_exchange(exchange, request_too=False)


@pytest.fixture
def token() -> str:
    return "alice-token"


def _client(emulator: GitHubEmulator, spec: GitHubSpec | None, token: str, request_too: bool) -> httpx.Client:
    if spec is None:
        return httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return spec.client(emulator.url, token, request_too=request_too)


@pytest.fixture
def client(emulator: GitHubEmulator, _optional_spec: GitHubSpec | None, token: str) -> Iterator[httpx.Client]:
    with _client(emulator, _optional_spec, token, request_too=True) as http:
        yield http


@pytest.fixture
def lax_client(emulator: GitHubEmulator, _optional_spec: GitHubSpec | None,
               token: str) -> Iterator[httpx.Client]:
    with _client(emulator, _optional_spec, token, request_too=False) as http:
        yield http


@pytest.fixture
def as_user(emulator: GitHubEmulator,
            _optional_spec: GitHubSpec | None) -> Iterator[Callable[..., httpx.Client]]:
    opened: list[httpx.Client] = []

    def make(login: str, scopes: Sequence[str] = ("repo", "workflow")) -> httpx.Client:
        http = _client(emulator, _optional_spec, emulator.add_user(login, scopes=scopes), request_too=True)
        opened.append(http)
        return http

    yield make
    for http in opened:
        http.close()


@pytest.fixture
def pygithub(emulator: GitHubEmulator, token: str) -> Iterator[Github]:
    # PyGithub paces itself for github.com (0.25 s between requests, 1 s between writes): not needed here.
    client = Github(base_url=emulator.url, auth=Auth.Token(token), retry=None, per_page=30,
                    seconds_between_requests=None, seconds_between_writes=None)
    yield client
    client.close()
