"""GitHub as a source-control provider, reached the way another plugin reaches it: through the core.

The plugins are loaded as dtm loads them, a ``ToolContext`` carries their providers, and
``ctx.source_control(url)`` routes a repository URL to the GitHub plugin, which commits to the
emulated GitHub.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from dtm_plugins_github.sourcecontrol import locate
from githubtests import TOKEN, behind_dtms_back

from dtm_core import CommitRequest, OperationError, Secret, SourceControl, ToolContext
from dtm_core.emulators.github import GitHubEmulator
from dtm_core.plugins import load_plugins

JENKINSFILE = b"pipeline {\n  agent any\n  stages { stage('build') { steps { sh 'make' } } }\n}\n"
REPO_ONLY = "ghp_repo_only_4b1d9e2f7a3c5e8d0b6f1a9c2e4d7b3f5a8c0e6d"


@pytest.fixture
def env(gh: GitHubEmulator) -> dict[str, str]:
    return {"DTM_LOAD_PLUGINS": "dtm-plugins-github", "DTM_PLUGINS": "", "GITHUB_API_URL": gh.url,
            "GITHUB_TOKEN": TOKEN}


@pytest.fixture
def app(gh: GitHubEmulator) -> str:
    """The html_url of octo/app, an existing repository with a README on main."""
    return str(gh.add_repo("octo", "app", files={"README.md": "app\n"})["html_url"])


def context(env: dict[str, str]) -> ToolContext:
    host = load_plugins(env)
    return ToolContext(tool="jenkins-pipeline", instance="app", version="1", options={}, environ=env,
                       source_controls=host.source_controls())


@pytest.fixture
def scm(env: dict[str, str]) -> SourceControl:
    return context(env).source_control("https://github.com/acme/app")


def commit(url: str, files: Mapping[str, bytes | None], env: dict[str, str], *, branch: str | None = None,
           token: Secret | None = None, progress: Callable[[str], None] = lambda line: None) -> CommitRequest:
    return CommitRequest(url, files, "Add a Jenkinsfile\n\nWritten by dtm.", branch=branch, token=token,
                         environ=env, progress=progress)


def test_a_jenkinsfile_is_committed_in_one_commit(gh: GitHubEmulator, env: dict[str, str], app: str) -> None:
    assert app.startswith(gh.url + "/")  # the emulator's repositories live beside its API
    before = gh.commits("octo", "app")
    lines: list[str] = []
    provider = context(env).source_control(app)
    assert provider.name == "github"
    result = provider.commit_files(commit(app, {"Jenkinsfile": JENKINSFILE}, env, progress=lines.append))
    after = gh.commits("octo", "app")
    assert len(after) == len(before) + 1
    assert result.commit == after[0]["sha"] and list(result.changed) == ["Jenkinsfile"]
    assert after[0]["parents"] == [before[0]["sha"]] and after[0]["message"].startswith("Add a Jenkinsfile")
    assert gh.files("octo", "app") == {"README.md": b"app\n", "Jenkinsfile": JENKINSFILE}
    assert any("committed Jenkinsfile to octo/app@main" in line for line in lines)
    assert not any(TOKEN in line for line in lines)


def test_content_already_there_makes_no_commit_and_no_write(gh: GitHubEmulator, env: dict[str, str],
                                                             app: str, scm: SourceControl) -> None:
    scm.commit_files(commit(app, {"Jenkinsfile": JENKINSFILE}, env))
    writes, history = gh.writes(), gh.commits("octo", "app")
    again = scm.commit_files(commit(app, {"Jenkinsfile": JENKINSFILE, "README.md": b"app\n"}, env))
    assert again.commit is None and list(again.changed) == []
    assert gh.writes() == writes and gh.commits("octo", "app") == history
    # Of several files only those that differ are written, still as one commit.
    mixed = scm.commit_files(commit(app, {"Jenkinsfile": JENKINSFILE, "ci/Jenkinsfile": b"x\n"}, env))
    assert list(mixed.changed) == ["ci/Jenkinsfile"] and len(gh.commits("octo", "app")) == len(history) + 1


def test_none_deletes_a_file_and_a_missing_one_stays_missing(gh: GitHubEmulator, env: dict[str, str],
                                                               app: str, scm: SourceControl) -> None:
    scm.commit_files(commit(app, {"Jenkinsfile": JENKINSFILE}, env))
    removed = scm.commit_files(commit(app, {"Jenkinsfile": None}, env))
    assert removed.commit == gh.commits("octo", "app")[0]["sha"] and list(removed.changed) == ["Jenkinsfile"]
    assert gh.files("octo", "app") == {"README.md": b"app\n"}
    writes = gh.writes()
    assert scm.commit_files(commit(app, {"Jenkinsfile": None}, env)).commit is None
    assert gh.writes() == writes


def test_read_file_on_the_default_branch_or_another(gh: GitHubEmulator, env: dict[str, str], app: str,
                                                    scm: SourceControl) -> None:
    assert scm.read_file(app, "README.md", environ=env) == b"app\n"
    assert scm.read_file(app, "Jenkinsfile", environ=env) is None
    done = scm.commit_files(commit(app, {"Jenkinsfile": JENKINSFILE}, env, branch="ci"))
    assert done.commit == gh.commits("octo", "app", "ci")[0]["sha"]  # the branch was made from main
    assert "Jenkinsfile" not in gh.files("octo", "app")
    assert scm.read_file(app, "Jenkinsfile", branch="ci", environ=env) == JENKINSFILE
    assert scm.read_file(app, "Jenkinsfile", branch="no-such-branch", environ=env) is None
    # The asking tool's own token, when dtm's environment has none.
    alone = {"GITHUB_API_URL": env["GITHUB_API_URL"]}
    assert scm.read_file(app + ".git", "README.md", token=Secret(TOKEN), environ=alone) == b"app\n"
    with pytest.raises(OperationError, match="repository acme/gone not found"):
        scm.read_file(f"{gh.url}/acme/gone", "README.md", environ=env)


def test_an_empty_repository_gets_its_first_commit(gh: GitHubEmulator, env: dict[str, str],
                                                   scm: SourceControl) -> None:
    url = str(gh.add_repo("octo", "blank")["html_url"])
    done = scm.commit_files(commit(url, {"Jenkinsfile": JENKINSFILE, "README.md": b"blank\n"}, env))
    assert done.commit == gh.commits("octo", "blank")[0]["sha"]
    assert sorted(done.changed) == ["Jenkinsfile", "README.md"]
    assert gh.files("octo", "blank") == {"Jenkinsfile": JENKINSFILE, "README.md": b"blank\n"}


@pytest.mark.parametrize("url", [
    "https://github.com/acme/app", "https://github.com/acme/app.git", "https://www.github.com/acme/app/",
    "git@github.com:acme/app.git", "ssh://git@github.com/acme/app.git",
    "ssh://git@ssh.github.com:443/acme/app.git", "https://x-access-token:abc@github.com/acme/app",
])
def test_github_com_urls_are_handled_without_a_request(gh: GitHubEmulator, env: dict[str, str],
                                                       url: str) -> None:
    for environ in (env, {}):
        provider = context({**environ, "DTM_LOAD_PLUGINS": "dtm-plugins-github"}).source_control(url)
        assert provider.name == "github"
        repository = locate(url, environ)
        assert (repository.site.api_url, repository.full_name) == ("https://api.github.com", "acme/app")
        assert "abc" not in repository.url
    assert gh.requests == []


@pytest.mark.parametrize("api, url, expected", [
    # GitHub Enterprise Server: the API under /api/v3, repositories at the root of the same host.
    ("https://ghe.corp/api/v3", "https://ghe.corp/acme/app", "https://ghe.corp/api/v3"),
    ("https://ghe.corp/api/v3/", "https://GHE.corp:443/acme/app.git", "https://ghe.corp/api/v3"),
    ("https://ghe.corp/api/v3", "git@ghe.corp:acme/app.git", "https://ghe.corp/api/v3"),
    # An API at a host's root (the emulator): repositories beside it, port included.
    ("http://127.0.0.1:8081", "http://127.0.0.1:8081/acme/app", "http://127.0.0.1:8081"),
    # GHE.com: the API on api.X, repositories on X.
    ("https://api.acme.ghe.com", "https://acme.ghe.com/acme/app", "https://api.acme.ghe.com"),
    # github.com stays github.com whatever GITHUB_API_URL says.
    ("https://ghe.corp/api/v3", "https://github.com/acme/app", "https://api.github.com"),
    ("https://api.github.com/", "https://github.com/acme/app", "https://api.github.com"),
])
def test_a_repository_url_maps_to_its_api(api: str, url: str, expected: str) -> None:
    repository = locate(url, {"GITHUB_API_URL": api})
    assert (repository.site.api_url, repository.owner, repository.name) == (expected, "acme", "app")


@pytest.mark.parametrize("api, url", [
    ("https://ghe.corp/api/v3", "http://ghe.corp/acme/app"),  # another scheme
    ("https://ghe.corp/api/v3", "https://ghe.corp:8443/acme/app"),  # another port
    ("https://ghe.corp/api/v3", "https://other.corp/acme/app"),
    ("http://127.0.0.1:8081", "http://127.0.0.1:8082/acme/app"),
    ("", "https://gitlab.example/x/y"),
    ("", "https://github.com.evil.example/acme/app"),
    ("not a url", "file:///srv/git/app.git"),
])
def test_other_hosts_are_not_handled(api: str, url: str) -> None:
    provider = load_plugins({"DTM_LOAD_PLUGINS": "dtm-plugins-github"}).source_controls()[0]
    assert provider.handles(url, {"GITHUB_API_URL": api}) is False


def test_an_unrelated_host_gets_the_cores_error_naming_providers(env: dict[str, str]) -> None:
    with pytest.raises(OperationError, match=r"providers: github") as caught:
        context(env).source_control("https://gitlab.example/x/y")
    assert caught.value.hint and "dtm-plugins-github" in caught.value.hint


def test_a_url_on_github_that_names_no_repository_says_so(gh: GitHubEmulator, env: dict[str, str],
                                                          scm: SourceControl) -> None:
    for url in ("https://github.com/acme", f"{gh.url}/acme/app/tree/main"):
        with pytest.raises(OperationError, match="does not name a GitHub repository"):
            scm.commit_files(commit(url, {"Jenkinsfile": JENKINSFILE}, env))
    with pytest.raises(OperationError, match="must be relative"):
        scm.commit_files(commit(f"{gh.url}/acme/app", {"../Jenkinsfile": JENKINSFILE}, env))
    assert gh.requests == []


def test_no_token_is_a_clear_error(gh: GitHubEmulator, env: dict[str, str], app: str,
                                   scm: SourceControl) -> None:
    tokenless = {"GITHUB_API_URL": env["GITHUB_API_URL"]}
    missing = "no GitHub token to write to .*GITHUB_TOKEN nor GH_TOKEN"
    with pytest.raises(OperationError, match=missing) as caught:
        scm.commit_files(commit(app, {"Jenkinsfile": JENKINSFILE}, tokenless))
    assert caught.value.hint and "export GITHUB_TOKEN" in caught.value.hint
    assert gh.requests == []
    # GH_TOKEN will do, and so will the asking tool's token.
    assert scm.commit_files(commit(app, {"a": b"1"}, {**tokenless, "GH_TOKEN": TOKEN})).commit
    assert scm.commit_files(commit(app, {"b": b"2"}, tokenless, token=Secret(TOKEN))).commit


def test_the_environments_token_is_not_sent_to_another_github(gh: GitHubEmulator, env: dict[str, str],
                                                              scm: SourceControl) -> None:
    # GITHUB_TOKEN belongs to the GitHub GITHUB_API_URL names (the emulator), not to github.com.
    with pytest.raises(OperationError, match="GITHUB_TOKEN is a token for http://127.0.0.1") as caught:
        scm.commit_files(commit("https://github.com/acme/app", {"Jenkinsfile": JENKINSFILE}, env))
    assert "https://api.github.com" in caught.value.message and TOKEN not in str(caught.value)
    assert gh.requests == []


def test_a_token_without_the_workflow_scope_gets_the_plugins_scope_error(gh: GitHubEmulator,
                                                                         env: dict[str, str], app: str,
                                                                         scm: SourceControl) -> None:
    gh.add_user("octo", token=REPO_ONLY, scopes=("repo",))
    workflow = {".github/workflows/ci.yml": b"on: push\njobs: {}\n"}
    history = gh.commits("octo", "app")
    lacking = r"the token lacks the `workflow` scope \(it has: repo\)"
    with pytest.raises(OperationError, match=lacking) as caught:
        scm.commit_files(commit(app, workflow, env, token=Secret(REPO_ONLY)))
    assert caught.value.hint and "add the workflow scope" in caught.value.hint
    assert REPO_ONLY not in f"{caught.value.message} {caught.value.hint}"
    assert gh.commits("octo", "app") == history


def test_errors_never_show_credentials_in_the_url(gh: GitHubEmulator, env: dict[str, str],
                                                  scm: SourceControl) -> None:
    host = gh.url.split("://", 1)[1]
    url = f"http://x-access-token:{TOKEN}@{host}/acme/gone"
    with pytest.raises(OperationError, match="repository acme/gone not found") as caught:
        scm.commit_files(commit(url, {"Jenkinsfile": JENKINSFILE}, env))
    assert TOKEN not in f"{caught.value.message} {caught.value.hint}"


@pytest.fixture
def archived(gh: GitHubEmulator) -> str:
    url = str(gh.add_repo("octo", "old", files={"README.md": "old\n"})["html_url"])
    with behind_dtms_back(gh) as person:
        person.patch("/repos/octo/old", json={"archived": True}).raise_for_status()
    return url


def test_an_archived_repository_is_refused_before_any_write(gh: GitHubEmulator, env: dict[str, str],
                                                            archived: str, scm: SourceControl) -> None:
    writes = gh.writes()
    with pytest.raises(OperationError, match="octo/old is archived"):
        scm.commit_files(commit(archived, {"Jenkinsfile": JENKINSFILE}, env))
    assert gh.writes() == writes
