"""github-actions with github-repo through `dtm apply -f`: one commit, sealed secrets, drift, removal."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from dtm_harness import DtmHarness
from githubtests import SECRET_VALUE, TOKEN, behind_dtms_back, everything_dtm_wrote, outputs

from dtm_core.emulators.github import GitHubEmulator
from dtm_core.retries import RetryPolicy

TOOLCHAIN = """\
version: 1
tools:
  - tool: github-repo
    name: backend
    options:
      owner: acme
      name: backend
      language: python
      token: env:GITHUB_TOKEN
  - tool: github-actions
    name: ci
    options:
      owner: ${{ github-repo.backend.outputs.owner }}
      repo: ${{ github-repo.backend.outputs.name }}
      language: python
      image: ghcr.io/acme/backend
      secrets:
        PYPI_TOKEN: env:PYPI_TOKEN
      token: env:GITHUB_TOKEN
"""
CI = ".github/workflows/ci.yml"
LINT = ".github/workflows/lint.yml"


@pytest.fixture
def toolchain(tmp_path: Path) -> str:
    path = tmp_path / "toolchain.yaml"
    path.write_text(TOOLCHAIN, encoding="utf-8")
    return str(path)


@pytest.fixture
def applied(github_dtm: DtmHarness, toolchain: str) -> DtmHarness:
    result = github_dtm.run("apply", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stdout + result.stderr
    return github_dtm


def changes(dtm: DtmHarness, toolchain: str) -> dict[str, Any]:
    result = dtm.run("plan", "-f", toolchain, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return {c["address"]: c for c in json.loads(result.stdout)["changes"]}


def changed_paths(gh: GitHubEmulator, newer: dict[str, Any], older: dict[str, Any]) -> set[str]:
    after, before = gh.files("acme", "backend", newer["sha"]), gh.files("acme", "backend", older["sha"])
    return {p for p in set(after) | set(before) if after.get(p) != before.get(p)}


def test_apply_commits_the_workflows_in_one_commit_and_seals_the_secrets(
        applied: DtmHarness, gh: GitHubEmulator) -> None:
    files = gh.files("acme", "backend")
    assert {CI, LINT} <= set(files) and b"ghcr.io/acme/backend:${{ github.sha }}" in files[CI]
    workflows, starter, _ = gh.commits("acme", "backend")
    assert workflows["message"].startswith("Add CI workflows") and workflows["parents"] == [starter["sha"]]
    assert changed_paths(gh, workflows, starter) == {CI, LINT}
    assert gh.secret_value("acme", "backend", "PYPI_TOKEN") == SECRET_VALUE
    found = outputs(applied, "github-actions.ci")
    assert found["workflows"] == [CI, LINT] and found["secrets"] == ["PYPI_TOKEN"]
    assert found["actions_url"] == f"{gh.url}/acme/backend/actions"
    assert (found["owner"], found["repo"], found["branch"]) == ("acme", "backend", "main")


def test_reapplying_writes_nothing(applied: DtmHarness, toolchain: str, gh: GitHubEmulator) -> None:
    writes = gh.writes()
    result = applied.run("apply", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stderr
    assert applied.run("plan", "-f", toolchain, "--detailed-exitcode").exit_code == 0
    assert gh.writes() == writes


def test_a_workflow_edited_on_github_is_drift_and_apply_rewrites_only_it_in_one_commit(
        applied: DtmHarness, toolchain: str, gh: GitHubEmulator) -> None:
    original = gh.files("acme", "backend")[CI]
    with behind_dtms_back(gh) as web:
        sha = web.get(f"/repos/acme/backend/contents/{CI}").json()["sha"]
        web.put(f"/repos/acme/backend/contents/{CI}", json={
            "message": "hand edit", "sha": sha, "content": base64.b64encode(b"name: mine\n").decode()
        }).raise_for_status()
    change = changes(applied, toolchain)["github-actions.ci"]
    assert (change["action"], change["reasons"]) == ("update", [f"drifted: {CI} changed on GitHub"])
    assert changes(applied, toolchain)["github-repo.backend"]["action"] == "no-op"
    result = applied.run("apply", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stderr
    fix, edit = gh.commits("acme", "backend")[:2]
    assert edit["message"] == "hand edit" and fix["parents"] == [edit["sha"]]
    assert changed_paths(gh, fix, edit) == {CI}
    assert gh.files("acme", "backend")[CI] == original
    assert changes(applied, toolchain)["github-actions.ci"]["action"] == "no-op"


def test_a_deleted_workflow_and_secret_are_drift_and_put_back(
        applied: DtmHarness, toolchain: str, gh: GitHubEmulator) -> None:
    with behind_dtms_back(gh) as web:
        sha = web.get(f"/repos/acme/backend/contents/{LINT}").json()["sha"]
        web.request("DELETE", f"/repos/acme/backend/contents/{LINT}",
                    json={"message": "rm", "sha": sha}).raise_for_status()
        web.delete("/repos/acme/backend/actions/secrets/PYPI_TOKEN").raise_for_status()
    change = changes(applied, toolchain)["github-actions.ci"]
    assert change["reasons"] == [f"drifted: {LINT} is missing, secret PYPI_TOKEN is missing"]
    assert applied.run("apply", "-f", toolchain, "-y").exit_code == 0
    assert LINT in gh.files("acme", "backend")
    assert gh.secret_value("acme", "backend", "PYPI_TOKEN") == SECRET_VALUE


def test_secrets_and_the_token_never_reach_state_output_or_history(
        applied: DtmHarness, toolchain: str, gh: GitHubEmulator) -> None:
    with behind_dtms_back(gh) as web:
        web.delete("/repos/acme/backend/actions/secrets/PYPI_TOKEN").raise_for_status()
    gh.fail_next("PUT", "/repos/acme/backend/actions/secrets/", 502, times=RetryPolicy.attempts)
    failed = applied.run("--debug", "apply", "-f", toolchain, "-y")  # a traceback, too
    assert failed.exit_code == 1 and "Traceback" in failed.stderr
    converged = applied.run("apply", "-f", toolchain, "-y")
    assert converged.exit_code == 0 and "setting Actions secret PYPI_TOKEN" in converged.stderr
    reads = (("list", "-o", "json"), ("history", "-o", "json"), ("history", "info", "1", "-o", "json"),
             ("status", "-o", "json"), ("plan", "-f", toolchain, "-o", "json"))
    shown = [applied.run(*args) for args in reads]
    assert [r.exit_code for r in shown] == [0] * len(shown)
    shown += [failed, converged]
    recorded = everything_dtm_wrote(applied, *(r.stdout + r.stderr for r in shown))
    assert "env:PYPI_TOKEN" in recorded and "env:GITHUB_TOKEN" in recorded
    assert TOKEN not in recorded and SECRET_VALUE not in recorded
    # Nor did the plugin write them anywhere on GitHub but the sealed secret.
    for path, content in gh.files("acme", "backend").items():
        assert TOKEN.encode() not in content and SECRET_VALUE.encode() not in content, path


def test_a_token_without_the_workflow_scope_is_told_so(github_dtm: DtmHarness, gh: GitHubEmulator,
                                                      toolchain: str) -> None:
    github_dtm.env["GITHUB_TOKEN"] = gh.add_user("octo", token="ghp_noworkflow_canary", scopes=("repo",))
    result = github_dtm.run("apply", "-f", toolchain, "-y")
    assert result.exit_code == 1
    assert "github-actions.ci: the token lacks the `workflow` scope (it has: repo)" in result.stderr
    assert "hint: add the workflow scope to the token" in result.stderr


def test_a_repository_deleted_by_hand_brings_both_back(applied: DtmHarness, toolchain: str,
                                                       gh: GitHubEmulator) -> None:
    gh.delete_repo("acme", "backend")
    found = changes(applied, toolchain)
    assert {a: c["action"] for a, c in found.items()} == {"github-repo.backend": "create",
                                                          "github-actions.ci": "create"}
    assert applied.run("apply", "-f", toolchain, "-y").exit_code == 0
    assert {CI, LINT, "pyproject.toml"} <= set(gh.files("acme", "backend"))
    assert gh.secret_value("acme", "backend", "PYPI_TOKEN") == SECRET_VALUE


def test_changed_options_rewrite_the_files_and_drop_a_secret_no_longer_wanted(
        applied: DtmHarness, toolchain: str, gh: GitHubEmulator) -> None:
    Path(toolchain).write_text(TOOLCHAIN.replace("language: python\n      image", "language: go\n      image")
                               .replace("      secrets:\n        PYPI_TOKEN: env:PYPI_TOKEN\n", ""))
    assert applied.run("apply", "-f", toolchain, "-y").exit_code == 0
    assert b"actions/setup-go" in gh.files("acme", "backend")[CI]
    assert gh.secret_value("acme", "backend", "PYPI_TOKEN") is None
    assert outputs(applied, "github-actions.ci")["secrets"] == []


def test_destroy_removes_the_workflows_in_one_commit_and_the_secrets(
        applied: DtmHarness, toolchain: str, gh: GitHubEmulator) -> None:
    result = applied.run("destroy", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stderr
    removal, workflows = gh.commits("acme", "backend")[:2]
    assert removal["message"].startswith("Remove CI workflows")
    assert changed_paths(gh, removal, workflows) == {CI, LINT}
    assert gh.secret_value("acme", "backend", "PYPI_TOKEN") is None
    repo = gh.repo("acme", "backend")
    assert repo is not None and repo["archived"] is True


def test_moving_the_workflows_to_another_branch_takes_them_off_the_old_one(
        applied: DtmHarness, toolchain: str, gh: GitHubEmulator) -> None:
    Path(toolchain).write_text(TOOLCHAIN.replace("      language: python\n      image",
                                                 "      branch: ci\n      language: python\n      image"))
    result = applied.run("apply", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stderr
    assert "creating branch ci from main" in result.stderr
    assert {CI, LINT} <= set(gh.files("acme", "backend", "ci"))
    assert not {CI, LINT} & set(gh.files("acme", "backend", "main"))
    assert b'branches: ["ci"]' in gh.files("acme", "backend", "ci")[CI]
    assert gh.secret_value("acme", "backend", "PYPI_TOKEN") == SECRET_VALUE  # same repository: kept
    assert outputs(applied, "github-actions.ci")["branch"] == "ci"


def test_renaming_the_repository_keeps_its_workflows_and_secrets(
        applied: DtmHarness, toolchain: str, gh: GitHubEmulator) -> None:
    Path(toolchain).write_text(TOOLCHAIN.replace("      name: backend\n", "      name: backend2\n"))
    result = applied.run("apply", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stderr
    assert gh.repo("acme", "backend2") is not None and gh.repo("acme", "backend") is None
    # github-actions received the new name in the same apply: its reference waited for the rename.
    assert {CI, LINT} <= set(gh.files("acme", "backend2"))
    assert gh.secret_value("acme", "backend2", "PYPI_TOKEN") == SECRET_VALUE
    assert outputs(applied, "github-actions.ci")["repo"] == "backend2"
    assert changes(applied, toolchain)["github-actions.ci"]["action"] == "no-op"


def test_an_empty_repository_gets_its_first_commit_from_the_contents_api(
        github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    gh.add_repo("octo", "empty")
    result = github_dtm.run("install", "github-actions", "--set", "owner=octo", "--set", "repo=empty",
                            "--set", "language=go", "-y")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "octo/empty is empty; its first commit adds .github/workflows/ci.yml" in result.stderr
    assert set(gh.files("octo", "empty")) == {CI, LINT}
    assert len(gh.commits("octo", "empty")) == 2
    read = github_dtm.run("status", "-o", "json")
    assert [r["live"] for r in json.loads(read.stdout)] == ["ok"]


def test_a_403_naming_a_scope_the_token_lacks_is_reported_by_scope(
        github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    gh.add_repo("octo", "svc", files={"README.md": "x\n"})
    gh.fail_next("PATCH", "/repos/octo/svc/git/refs/", 403, headers={
        "X-Accepted-OAuth-Scopes": "workflow", "X-OAuth-Scopes": "repo"}, body={"message": "Forbidden"})
    result = github_dtm.run("install", "github-actions", "--set", "owner=octo", "--set", "repo=svc",
                            "--set", "language=python", "-y")
    assert result.exit_code == 1
    assert ("github-actions.default: the token lacks the `workflow` scope (it has: repo); GitHub refused "
            "PATCH /repos/octo/svc/git/refs/heads/main") in result.stderr
    assert not {CI, LINT} & set(gh.files("octo", "svc"))  # the ref never moved


@pytest.mark.parametrize("after", [True, False], ids=["moved-anyway", "not-moved"])
def test_a_ref_update_that_failed_uncertainly_is_checked_before_writing_again(
        github_dtm: DtmHarness, gh: GitHubEmulator, toolchain: str, after: bool) -> None:
    gh.fail_next("PATCH", "/repos/acme/backend/git/refs/heads/main", 502, after=after)
    result = github_dtm.run("apply", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stderr
    assert "github-repo.backend: GitHub may or may not have written to main" in result.stderr  # the starter
    assert [c["message"].splitlines()[0] for c in gh.commits("acme", "backend")] == [
        "Add CI workflows", "Add python starter files", "Initial commit"]
    ref_writes = [w for w in gh.writes() if w == ("PATCH", "/repos/acme/backend/git/refs/heads/main")]
    assert len(ref_writes) == (2 if after else 3)  # moved: the second look found the starter in place
    assert github_dtm.run("plan", "-f", toolchain, "--detailed-exitcode").exit_code == 0
