"""SIGKILL during `dtm apply` of github-repo + github-actions against the GitHub emulator.

The kill lands after a seeded random number of requests reached the emulator; trial 0 always
kills as soon as the repository exists, before dtm can record it. After ``dtm recover`` (or
``--rollback``) and one more apply, GitHub must hold the repository once, made by dtm and
finished (starter files), each workflow file and commit once, and the secret. The tests at
the end set up that moment by hand, to pin down how a repository is told apart as dtm's own.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from crash_harness import Killed, check_aftermath, kill_when, replayable, spawn, trials
from dtm_harness import DtmHarness
from githubtests import SECRET_VALUE, TOKEN, outputs

from dtm_core.emulators.github import GitHubEmulator
from dtm_core.state import InstanceRecord, LocalStateStore, Step, Transaction
from dtm_core.state.model import now

TOOLCHAIN = """\
version: 1
tools:
  - tool: github-repo
    name: backend
    options:
      owner: acme
      name: backend
      language: python
      delete_mode: delete
      token: env:GITHUB_TOKEN
  - tool: github-actions
    name: ci
    options:
      owner: ${{ github-repo.backend.outputs.owner }}
      repo: ${{ github-repo.backend.outputs.name }}
      language: python
      secrets:
        PYPI_TOKEN: env:PYPI_TOKEN
      token: env:GITHUB_TOKEN
"""
STARTER = ".gitignore", "README.md", "pyproject.toml", "src/backend/__init__.py", "tests/test_hello.py"
WORKFLOWS = ".github/workflows/ci.yml", ".github/workflows/lint.yml"
#: Requests a clean apply of TOOLCHAIN sends (27); kill points are drawn up to a few past it.
REQUESTS = 30


@pytest.fixture
def crash_dtm(github_dtm: DtmHarness, gh: GitHubEmulator, tmp_path: Path) -> DtmHarness:
    # Rolling back deletes the repository: that takes admin rights and the delete_repo scope.
    gh.add_org("acme", admins=["octo"])
    gh.add_user("octo", token=TOKEN, scopes=("repo", "workflow", "delete_repo"))
    (tmp_path / "toolchain.yaml").write_text(TOOLCHAIN)
    return github_dtm


def repositories_made(gh: GitHubEmulator) -> int:
    """Repositories dtm created and did not delete again (the emulator cannot list an org's)."""
    made = sum(1 for e in gh.exchanges if (e.method, e.target, e.status) == ("POST", "/orgs/acme/repos", 201))
    deleted = sum(1 for e in gh.exchanges if (e.method, e.status) == ("DELETE", 204)
                  and e.target == "/repos/acme/backend")
    return made - deleted


def settled_writes(gh: GitHubEmulator) -> list[tuple[str, str]]:
    """The emulator's writes once it has answered every request the killed run had sent.

    The emulator goes on with a request whose client died (GitHub would too); until it is
    done, such a write is not the next run's doing. A request still unread in a socket is
    picked up within moments, so quiet means: nothing in flight, twice 0.1 s apart.
    """
    quiet, polls = 0, 0
    while quiet < 2 and polls < 50:  # a request the emulator failed on is never answered
        time.sleep(0.1)
        quiet, polls = (quiet + 1 if len(gh.exchanges) == len(gh.requests) else 0), polls + 1
    return gh.writes()


@pytest.mark.parametrize("trial", trials(0.12))
def test_apply_killed_anywhere_converges_to_one_finished_repository(
        crash_dtm: DtmHarness, gh: GitHubEmulator, tmp_path: Path, trial: int,
        request: pytest.FixtureRequest) -> None:
    dtm, toolchain = crash_dtm, str(tmp_path / "toolchain.yaml")
    command = ["apply", "-f", toolchain, "-y"]
    with replayable("github-apply", trial, request.node.nodeid) as rng:
        proc = spawn(dtm, *command)
        killed: Killed
        if trial == 0:
            killed = kill_when(proc, lambda: gh.repo("acme", "backend"), "once acme/backend exists")
        else:
            count = rng.randint(1, REQUESTS)
            killed = kill_when(proc, lambda: len(gh.requests) >= count, f"at request {count}")
        check_aftermath(dtm, killed, command, rollback=rng.random() < 0.25, acted=lambda: settled_writes(gh))

        assert repositories_made(gh) == 1, killed.where
        assert not gh.repo("acme", "backend")["archived"], killed.where  # type: ignore[index]
        files = gh.files("acme", "backend")
        assert sorted(files) == sorted([*STARTER, *WORKFLOWS]), killed.where
        messages = [c["message"].splitlines()[0] for c in gh.commits("acme", "backend")]
        assert messages == ["Add CI workflows", "Add python starter files", "Initial commit"], killed.where
        repo = outputs(dtm, "github-repo.backend")
        assert repo["created_by_dtm"] is True, killed.where
        assert outputs(dtm, "github-actions.ci")["workflows"] == list(WORKFLOWS)
        assert gh.secret_value("acme", "backend", "PYPI_TOKEN") == SECRET_VALUE
        assert dtm.run("plan", "-f", toolchain, "--detailed-exitcode").exit_code == 0, killed.where


def interrupted_create(dtm: DtmHarness, started_at: str) -> None:
    """Leave state as a run killed while creating github-repo.backend would, begun at ``started_at``."""
    store = LocalStateStore(dtm.home / "data" / "state")
    state = store.load()
    record = InstanceRecord("github-repo", "backend", "0.1.0", options={
        "owner": "acme", "name": "backend", "language": "python", "delete_mode": "delete",
        "token": "env:GITHUB_TOKEN"})
    state.transactions.append(Transaction(id=1, command="install", started_at=started_at, steps=[
        Step("install", "github-repo.backend", to_version="0.1.0", status="running",
             after=record.to_json())]))
    store.commit(state)


def made_by_the_killed_run(dtm: DtmHarness, gh: GitHubEmulator) -> None:
    interrupted_create(dtm, now())
    # What GitHub holds once it answered the create: the repository and its first commit.
    gh.add_repo("acme", "backend", files={"README.md": "# backend\n"}, private=True)


def test_recover_finishes_the_repository_a_killed_create_made(crash_dtm: DtmHarness,
                                                             gh: GitHubEmulator) -> None:
    made_by_the_killed_run(crash_dtm, gh)
    result = crash_dtm.run("recover", "-y")
    assert result.exit_code == 0, result.stderr
    assert "finishing acme/backend, which an interrupted run created" in result.stderr
    assert outputs(crash_dtm, "github-repo.backend")["created_by_dtm"] is True
    assert [c["message"].splitlines()[0] for c in gh.commits("acme", "backend")] == [
        "Add python starter files", "Initial commit"]
    assert [w for w in gh.writes() if w[1] == "/orgs/acme/repos"] == []


def test_recover_rollback_deletes_the_repository_a_killed_create_made(crash_dtm: DtmHarness,
                                                                     gh: GitHubEmulator) -> None:
    made_by_the_killed_run(crash_dtm, gh)
    result = crash_dtm.run("recover", "--rollback", "-y")
    assert result.exit_code == 0, result.stderr
    assert gh.repo("acme", "backend") is None


def made_before_the_killed_run(dtm: DtmHarness, gh: GitHubEmulator) -> None:
    theirs = gh.add_repo("acme", "backend", files={"README.md": "theirs\n"})
    created = datetime.fromisoformat(theirs["created_at"].replace("Z", "+00:00"))
    interrupted_create(dtm, (created + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))


def test_recover_refuses_a_repository_older_than_the_killed_create(crash_dtm: DtmHarness,
                                                                  gh: GitHubEmulator) -> None:
    made_before_the_killed_run(crash_dtm, gh)
    refused = crash_dtm.run("recover", "-y")
    assert refused.exit_code == 1
    assert "repository acme/backend exists and dtm did not create it" in refused.stderr
    assert gh.writes() == []


def test_recover_rollback_leaves_a_repository_older_than_the_killed_create_alone(
        crash_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    made_before_the_killed_run(crash_dtm, gh)
    rolled_back = crash_dtm.run("recover", "--rollback", "-y")
    assert rolled_back.exit_code == 0, rolled_back.stderr
    assert "acme/backend is not what the interrupted create made: leaving it as it is" in rolled_back.stderr
    assert gh.writes() == []
    assert gh.files("acme", "backend") == {"README.md": b"theirs\n"}


def made_by_someone_else_since_the_killed_run(dtm: DtmHarness, gh: GitHubEmulator) -> None:
    interrupted_create(dtm, now())
    # Newer than the killed run, but public where it asked for private: not what it made.
    gh.add_repo("acme", "backend", files={"README.md": "theirs\n"}, private=False)


def test_recover_refuses_a_newer_repository_that_is_not_as_the_killed_create_asked(
        crash_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    made_by_someone_else_since_the_killed_run(crash_dtm, gh)
    refused = crash_dtm.run("recover", "-y")
    assert refused.exit_code == 1
    assert "repository acme/backend exists and dtm did not create it" in refused.stderr
    assert gh.writes() == []


def test_recover_rollback_leaves_a_newer_repository_not_as_asked_alone(crash_dtm: DtmHarness,
                                                                       gh: GitHubEmulator) -> None:
    made_by_someone_else_since_the_killed_run(crash_dtm, gh)
    rolled_back = crash_dtm.run("recover", "--rollback", "-y")
    assert rolled_back.exit_code == 0, rolled_back.stderr
    assert gh.repo("acme", "backend") is not None
    assert gh.files("acme", "backend") == {"README.md": b"theirs\n"}
