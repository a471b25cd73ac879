"""github-repo against the emulated GitHub, through `dtm install`, `dtm apply -f` and `dtm remove`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from dtm_harness import DtmHarness
from githubtests import behind_dtms_back, outputs

from dtm_core.emulators.github import GitHubEmulator
from dtm_core.retries import RetryPolicy

INSTALL = ("install", "github-repo", "--instance", "backend", "--set", "owner=acme", "--set", "name=backend",
           "--set", "token=env:GITHUB_TOKEN")

TOOLCHAIN = """\
version: 1
tools:
  - tool: github-repo
    name: backend
    options:
      owner: acme
      name: backend
      description: The backend
      visibility: private
      language: go
      token: env:GITHUB_TOKEN
"""


def install(dtm: DtmHarness, *extra: str) -> Any:
    result = dtm.run(*INSTALL, *extra, "-y")
    assert result.exit_code == 0, result.stdout + result.stderr
    return result


def error_line(result: Any) -> str:
    """The error dtm printed, after its "error: transaction N failed: " prefix."""
    line = next(line for line in result.stderr.splitlines() if line.startswith("error: "))
    return str(re.sub(r"^error: (transaction \d+ failed: )?", "", line))


def refused(dtm: DtmHarness, *args: str) -> Any:
    result = dtm.run(*args, "-y")
    assert result.exit_code == 1, result.stdout + result.stderr
    return result


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


def plan(dtm: DtmHarness, toolchain: str) -> dict[str, Any]:
    result = dtm.run("plan", "-f", toolchain, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return {c["address"]: c for c in json.loads(result.stdout)["changes"]}["github-repo.backend"]


def test_install_creates_a_private_repository_with_starter_files_in_one_commit(
        github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    result = install(github_dtm, "--set", "language=python")
    assert "creating repository acme/backend" in result.stderr
    repo = gh.repo("acme", "backend")
    assert repo is not None and repo["private"] is True and repo["default_branch"] == "main"
    assert sorted(gh.files("acme", "backend")) == [".gitignore", "README.md", "pyproject.toml",
                                                   "src/backend/__init__.py", "tests/test_hello.py"]
    starter, initial = gh.commits("acme", "backend")
    assert starter["parents"] == [initial["sha"]]
    assert starter["message"].startswith("Add python starter files")
    assert outputs(github_dtm, "github-repo.backend") == {
        "owner": "acme", "name": "backend", "html_url": f"{gh.url}/acme/backend",
        "clone_url": f"{gh.url}/acme/backend.git", "default_branch": "main", "created_by_dtm": True}
    assert github_dtm.state()["instances"]["github-repo.backend"]["options"]["token"] == "env:GITHUB_TOKEN"


def test_a_user_repository_from_a_template_on_another_default_branch(
        github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    result = github_dtm.run("install", "github-repo", "--instance", "mine", "--set", "owner=octo",
                            "--set", "name=svc", "--set", "template=acme/tmpl",
                            "--set", "default_branch=develop", "--set", "visibility=public",
                            "--set", "description=From a template", "-y")
    assert result.exit_code == 0, result.stderr
    repo = gh.repo("octo", "svc")
    assert repo is not None and repo["private"] is False and repo["default_branch"] == "develop"
    assert repo["description"] == "From a template"
    assert gh.files("octo", "svc", "develop") == {"README.md": b"template\n", "app/main.py": b"print(1)\n"}


def test_a_name_taken_by_a_repository_dtm_did_not_create_is_refused_unless_adopted(
        github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    gh.add_repo("acme", "backend", files={"README.md": "theirs\n"}, description="Theirs")
    result = refused(github_dtm, *INSTALL)
    assert "github-repo.backend: repository acme/backend exists and dtm did not create it\n" in result.stderr
    assert "hint: choose another name, or set adopt: true" in result.stderr
    assert [w for w in gh.writes()] == []

    gh.add_org("acme", admins=["octo"])  # settings and archiving take admin rights
    install(github_dtm, "--set", "adopt=true", "--set", "delete_mode=delete")
    repo = gh.repo("acme", "backend")
    assert repo is not None and repo["private"] is True  # converged to the options in place
    assert outputs(github_dtm, "github-repo.backend")["created_by_dtm"] is False
    # delete_mode: delete never deletes a repository dtm did not create: it is archived instead.
    result = github_dtm.run("remove", "github-repo.backend", "-y")
    assert result.exit_code == 0, result.stderr
    assert "dtm did not create acme/backend: archiving it instead of deleting it" in result.stderr
    repo = gh.repo("acme", "backend")
    assert repo is not None and repo["archived"] is True
    assert gh.files("acme", "backend") == {"README.md": b"theirs\n"}


def test_a_name_taken_between_the_look_and_the_create_is_refused_the_same_way(
        github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    gh.fail_next("POST", "/orgs/acme/repos", 422, body={
        "message": "Repository creation failed.",
        "errors": [{"resource": "Repository", "code": "custom", "field": "name",
                    "message": "name already exists on this account"}]})
    result = refused(github_dtm, *INSTALL)
    assert "repository acme/backend exists and dtm did not create it" in result.stderr


def test_an_unknown_owner_is_named(github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    result = refused(github_dtm, "install", "github-repo", "--set", "owner=nobody", "--set", "name=x")
    assert error_line(result) == ("github-repo.default: owner nobody not found (no organisation of that "
                                  "name, and the token belongs to octo)")
    assert "hint: owner must be octo or an organisation octo belongs to" in result.stderr


def test_a_bad_token_says_so_without_showing_it(github_dtm: DtmHarness) -> None:
    github_dtm.env["GITHUB_TOKEN"] = "ghp_wrong_canary_0000"
    result = refused(github_dtm, *INSTALL)
    assert error_line(result) == ("github-repo.backend: GitHub rejected the token as bad or expired (401 "
                                  "on GET /repos/acme/backend)")
    assert "ghp_wrong_canary_0000" not in result.stdout + result.stderr


def test_no_token_at_all_is_explained(github_dtm: DtmHarness) -> None:
    del github_dtm.env["GITHUB_TOKEN"]
    result = refused(github_dtm, "install", "github-repo", "--set", "owner=acme", "--set", "name=x")
    assert error_line(result).startswith("github-repo.default: no GitHub token: ")
    assert "export GITHUB_TOKEN" in result.stderr


def test_a_private_repository_needs_the_repo_scope(github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    github_dtm.env["GITHUB_TOKEN"] = gh.add_user("octo", token="ghp_public_canary_1",
                                                 scopes=("public_repo",))
    result = refused(github_dtm, "install", "github-repo", "--set", "owner=octo", "--set", "name=x")
    assert error_line(result).startswith("github-repo.default: the token lacks the `repo` scope (it has: "
                                         "public_repo)")


def test_a_rate_limit_is_waited_out_with_progress_shown(github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    gh.exhaust_rate_limit(reset_in=1.0)
    result = install(github_dtm)
    assert re.search(r"GitHub rate limit reached; waiting [12] s until it resets", result.stderr)
    assert gh.repo("acme", "backend") is not None
    gh.exhaust_rate_limit(reset_in=1.0, secondary=True)
    result = github_dtm.run("remove", "github-repo.backend", "-y")
    assert result.exit_code == 0, result.stderr
    assert "GitHub secondary rate limit reached; waiting 1 s as GitHub asks" in result.stderr


def test_a_429_with_retry_after_is_waited_out(github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    gh.fail_next("POST", "/orgs/acme/repos", 429, headers={"Retry-After": "1"})
    result = install(github_dtm)
    assert "GitHub secondary rate limit reached; waiting 1 s as GitHub asks" in result.stderr
    assert [w for w in gh.writes() if w[0] == "POST" and w[1] == "/orgs/acme/repos"] == [
        ("POST", "/orgs/acme/repos")] * 2


def test_server_errors_are_retried_for_reads_and_reported_after_the_last_try(
        github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    gh.fail_next("GET", "/repos/acme/backend", 502, times=2)
    install(github_dtm)
    assert gh.repo("acme", "backend") is not None
    gh.fail_next("GET", "/repos/acme/backend", 503, times=RetryPolicy.attempts)
    result = refused(github_dtm, "remove", "github-repo.backend")
    assert ("github-repo.backend: GitHub answered 503 Service Unavailable to GET /repos/acme/backend after "
            f"{RetryPolicy.attempts} attempts") in result.stderr
    assert "githubstatus.com" in result.stderr


def test_a_create_answered_with_502_is_looked_for_before_it_is_sent_again(
        github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    gh.fail_next("POST", "/orgs/acme/repos", 502)
    result = install(github_dtm)
    assert "looking before trying again" in result.stderr
    sent = [r for r in gh.requests if r[1].split("?")[0] in ("/orgs/acme/repos", "/repos/acme/backend")]
    assert sent[:3] == [("GET", "/repos/acme/backend"), ("POST", "/orgs/acme/repos"),
                        ("GET", "/repos/acme/backend")]
    assert sent.count(("POST", "/orgs/acme/repos")) == 2
    assert gh.repo("acme", "backend") is not None


def test_a_create_github_carried_out_before_its_answer_was_lost_is_adopted_not_sent_again(
        github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    gh.fail_next("POST", "/orgs/acme/repos", 502, after=True)
    result = install(github_dtm)
    assert "creating acme/backend had happened; carrying on with it" in result.stderr
    assert [w for w in gh.writes() if w[1] == "/orgs/acme/repos"] == [("POST", "/orgs/acme/repos")]
    assert outputs(github_dtm, "github-repo.backend")["created_by_dtm"] is True


def test_a_create_that_keeps_failing_ends_in_one_line_naming_github(
        github_dtm: DtmHarness, gh: GitHubEmulator) -> None:
    gh.fail_next("POST", "/orgs/acme/repos", 502, times=10)
    result = refused(github_dtm, *INSTALL)
    assert error_line(result) == ("github-repo.backend: GitHub answered 502 Bad Gateway to "
                                  "POST /orgs/acme/repos")
    assert "hint: GitHub may have carried it out anyway" in result.stderr
    assert gh.repo("acme", "backend") is None


def test_reapplying_an_unchanged_toolchain_writes_nothing(applied: DtmHarness, toolchain: str,
                                                          gh: GitHubEmulator) -> None:
    writes = gh.writes()
    result = applied.run("apply", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stderr
    assert applied.run("plan", "-f", toolchain, "--detailed-exitcode").exit_code == 0
    assert gh.writes() == writes


def test_settings_changed_on_github_are_drift_by_option_and_patched_back_in_place(
        applied: DtmHarness, toolchain: str, gh: GitHubEmulator) -> None:
    history = gh.commits("acme", "backend")
    with behind_dtms_back(gh) as web:
        web.patch("/repos/acme/backend",
                  json={"description": "Changed by hand", "private": False}).raise_for_status()
    change = plan(applied, toolchain)
    assert change["action"] == "update"
    assert change["reasons"] == ["drifted: description (live 'Changed by hand', want 'The backend'), "
                                 "visibility (live 'public', want 'private')"]
    before = len(gh.writes())
    result = applied.run("apply", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stderr
    assert gh.writes()[before:] == [("PATCH", "/repos/acme/backend")]
    repo = gh.repo("acme", "backend")
    assert repo is not None and repo["description"] == "The backend" and repo["private"] is True
    assert gh.commits("acme", "backend") == history  # nothing deleted, nothing re-created
    assert plan(applied, toolchain)["action"] == "no-op"


def test_a_repository_deleted_by_hand_is_created_again(applied: DtmHarness, toolchain: str,
                                                       gh: GitHubEmulator) -> None:
    gh.delete_repo("acme", "backend")
    change = plan(applied, toolchain)
    assert (change["action"], change["reasons"]) == ("create", ["gone: deleted outside dtm; will re-create"])
    result = applied.run("apply", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stderr
    assert "go.mod" in gh.files("acme", "backend")
    assert plan(applied, toolchain)["action"] == "no-op"


def test_an_archived_repository_is_drift_and_apply_unarchives_it(applied: DtmHarness, toolchain: str,
                                                                  gh: GitHubEmulator) -> None:
    with behind_dtms_back(gh) as web:
        web.patch("/repos/acme/backend", json={"archived": True}).raise_for_status()
    change = plan(applied, toolchain)
    assert change["reasons"] == [
        "drifted: repository acme/backend is archived on GitHub; apply unarchives it"]
    assert applied.run("apply", "-f", toolchain, "-y").exit_code == 0
    repo = gh.repo("acme", "backend")
    assert repo is not None and repo["archived"] is False


def test_a_repository_renamed_on_github_is_followed_and_renamed_back(applied: DtmHarness, toolchain: str,
                                                                     gh: GitHubEmulator) -> None:
    with behind_dtms_back(gh) as web:
        web.patch("/repos/acme/backend", json={"name": "backend-old"}).raise_for_status()
    change = plan(applied, toolchain)
    assert change["reasons"] == ["drifted: name (live 'backend-old', want 'backend')"]
    assert applied.run("apply", "-f", toolchain, "-y").exit_code == 0
    assert gh.repo("acme", "backend") is not None and gh.repo("acme", "backend-old") is None


def test_destroy_archives_by_default(applied: DtmHarness, toolchain: str, gh: GitHubEmulator) -> None:
    result = applied.run("destroy", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stderr
    repo = gh.repo("acme", "backend")
    assert repo is not None and repo["archived"] is True
    assert applied.state()["instances"] == {}


def test_delete_mode_delete_deletes_a_repository_dtm_created(github_dtm: DtmHarness,
                                                             gh: GitHubEmulator) -> None:
    install(github_dtm, "--set", "delete_mode=delete")
    result = refused(github_dtm, "remove", "github-repo.backend")
    assert "the token lacks the `delete_repo` scope (it has: repo, workflow)" in result.stderr
    github_dtm.env["GITHUB_TOKEN"] = gh.add_user("octo", token="ghp_admin_canary_2",
                                                 scopes=("repo", "workflow", "delete_repo"))
    result = github_dtm.run("remove", "github-repo.backend", "-y")
    assert result.exit_code == 0, result.stderr
    assert "deleting repository acme/backend" in result.stderr
    assert gh.repo("acme", "backend") is None


def test_an_unreachable_api_url_is_explained(github_dtm: DtmHarness) -> None:
    github_dtm.env["GITHUB_API_URL"] = "http://127.0.0.1:9"
    result = refused(github_dtm, *INSTALL)
    assert error_line(result).startswith("github-repo.backend: cannot reach GitHub API URL "
                                         f"http://127.0.0.1:9 for GET /repos/acme/backend after "
                                         f"{RetryPolicy.refused_attempts} attempts: ")
    assert "hint: check your network and proxy settings (HTTPS_PROXY), or set GITHUB_API_URL" in result.stderr
