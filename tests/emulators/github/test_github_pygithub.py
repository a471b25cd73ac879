"""PyGithub, a second client written against the real GitHub, works against the emulator unchanged.

Whatever PyGithub cannot do here is an emulator bug. Its traffic is also checked against the spec,
in both directions, from what the emulator recorded on the wire.
"""

from __future__ import annotations

import pytest
from github import Github, GithubException, InputGitTreeElement, RateLimitExceededException
from github_spec import GitHubSpec

from dtm_core.emulators.github import GitHubEmulator


def test_repositories_for_the_user_and_an_organisation(pygithub: Github, emulator: GitHubEmulator) -> None:
    me = pygithub.get_user()
    assert (me.login, me.type) == ("alice", "User")
    repo = me.create_repo("site", description="the docs", private=True, auto_init=True)
    assert (repo.full_name, repo.private, repo.default_branch) == ("alice/site", True, "main")
    in_org = pygithub.get_organization("acme").create_repo("service", has_wiki=False)
    assert (in_org.owner.login, in_org.has_wiki, in_org.organization.login) == ("acme", False, "acme")

    fetched = pygithub.get_repo("alice/site")
    fetched.edit(description="edited", has_issues=False)
    assert (fetched.description, fetched.has_issues) == ("edited", False)
    assert emulator.repo("alice", "site")["description"] == "edited"  # type: ignore[index]
    assert emulator.files("alice", "site") == {"README.md": b"# site\nthe docs\n"}

    with pytest.raises(GithubException) as taken:
        me.create_repo("site")
    assert taken.value.status == 422
    assert taken.value.data["errors"][0]["message"] == "name already exists on this account"
    fetched.delete()
    assert emulator.repo("alice", "site") is None


def test_files_through_the_contents_api(pygithub: Github, emulator: GitHubEmulator) -> None:
    repo = pygithub.get_user().create_repo("files")
    created = repo.create_file("docs/a.md", "add a", "first")  # an empty repository gets its first commit
    assert created["content"].path == "docs/a.md"
    content = repo.get_contents("docs/a.md")
    assert not isinstance(content, list)
    assert content.decoded_content == b"first"
    repo.update_file("docs/a.md", "edit a", "second", content.sha)
    assert emulator.files("alice", "files") == {"docs/a.md": b"second"}
    listing = repo.get_contents("docs")
    assert isinstance(listing, list) and [item.name for item in listing] == ["a.md"]
    with pytest.raises(GithubException) as stale:
        repo.update_file("docs/a.md", "stale", "third", content.sha)
    assert stale.value.status == 409
    repo.delete_file("docs/a.md", "drop a", repo.get_contents("docs/a.md").sha)  # type: ignore[union-attr]
    assert emulator.files("alice", "files") == {}
    assert [commit["message"] for commit in emulator.commits("alice", "files")] == [
        "drop a", "edit a", "add a"]


def test_one_commit_for_many_files_through_the_git_data_api(pygithub: Github,
                                                            emulator: GitHubEmulator) -> None:
    repo = pygithub.get_user().create_repo("bulk", auto_init=True)
    ref = repo.get_git_ref("heads/main")
    head = repo.get_git_commit(ref.object.sha)
    blob = repo.create_git_blob("#!/bin/sh\necho hi\n", "utf-8")
    tree = repo.create_git_tree([InputGitTreeElement("bin/hi", "100755", "blob", sha=blob.sha),
                                 InputGitTreeElement("notes/todo.txt", "100644", "blob", content="later\n")],
                                base_tree=head.tree)
    commit = repo.create_git_commit("add tools", tree, [head])
    ref.edit(commit.sha)
    assert emulator.files("alice", "bulk") == {"README.md": b"# bulk\n", "bin/hi": b"#!/bin/sh\necho hi\n",
                                               "notes/todo.txt": b"later\n"}
    assert emulator.commits("alice", "bulk")[0] == {"sha": commit.sha, "message": "add tools",
                                                     "parents": [head.sha], "tree": tree.sha}
    orphan = repo.create_git_commit("rewrite", tree, [])
    with pytest.raises(GithubException) as refused:
        ref.edit(orphan.sha)
    assert (refused.value.status, refused.value.data["message"]) == (422, "Update is not a fast forward")
    ref.edit(orphan.sha, force=True)
    assert repo.get_branch("main").commit.sha == orphan.sha


def test_secrets_are_sealed_by_pygithub_and_opened_with_the_repository_key(pygithub: Github,
                                                                            emulator: GitHubEmulator) -> None:
    repo = pygithub.get_user().create_repo("secrets")
    repo.create_secret("deploy_token", "s3cr3t value")
    assert emulator.secret_value("alice", "secrets", "DEPLOY_TOKEN") == "s3cr3t value"
    assert [secret.name for secret in repo.get_secrets()] == ["DEPLOY_TOKEN"]  # GitHub upper-cases names
    assert repo.delete_secret("DEPLOY_TOKEN") is True
    assert emulator.secret_value("alice", "secrets", "DEPLOY_TOKEN") is None


def test_workflows_hooks_templates_and_rate_limit(pygithub: Github, emulator: GitHubEmulator) -> None:
    emulator.add_repo("acme", "starter", template=True, files={
        "README.md": "# starter\n", ".github/workflows/build.yaml": "name: Build\non: push\n",
        ".github/workflows/nameless.yml": "on: push\n"})
    repo = pygithub.get_user().create_repo_from_template("app", pygithub.get_repo("acme/starter"))
    assert set(emulator.files("alice", "app")) == {"README.md", ".github/workflows/build.yaml",
                                                   ".github/workflows/nameless.yml"}
    assert len(emulator.commits("alice", "app")) == 1
    assert sorted((workflow.name, workflow.path) for workflow in repo.get_workflows()) == [
        (".github/workflows/nameless.yml", ".github/workflows/nameless.yml"),
        ("Build", ".github/workflows/build.yaml")]
    assert repo.get_workflow_runs().totalCount == 0

    hook = repo.create_hook("web", {"url": "https://jenkins.example/github-webhook/", "content_type": "json"},
                            ["push", "pull_request"], active=True)
    assert [(item.id, item.config["url"]) for item in repo.get_hooks()] == [
        (hook.id, "https://jenkins.example/github-webhook/")]
    hook.delete()
    assert list(repo.get_hooks()) == []

    core = pygithub.get_rate_limit().resources.core
    assert core.limit == 5000 and 0 < core.remaining < 5000


def test_pagination_over_more_than_one_page(pygithub: Github, emulator: GitHubEmulator) -> None:
    repo = pygithub.get_user().create_repo("many")
    for number in range(65):
        repo.create_secret(f"SECRET_{number:02d}", "x")
    names = [secret.name for secret in repo.get_secrets()]
    assert names == sorted(f"SECRET_{number:02d}" for number in range(65))
    pages = [target for method, target in emulator.requests if "/actions/secrets?" in target]
    assert len(pages) == 2 and pages[-1].endswith("page=3")  # page 1 has no query; 2 and 3 follow Link


def test_rate_limit_errors_reach_pygithub_as_such(pygithub: Github, emulator: GitHubEmulator) -> None:
    emulator.exhaust_rate_limit(reset_in=30)
    with pytest.raises(RateLimitExceededException) as primary:
        pygithub.get_user().login  # noqa: B018 - the attribute access makes the request
    assert primary.value.status == 403
    assert primary.value.headers is not None and primary.value.headers["x-ratelimit-remaining"] == "0"


def test_pygithub_traffic_conforms_to_the_spec(pygithub: Github, emulator: GitHubEmulator,
                                               github_spec: GitHubSpec) -> None:
    test_files_through_the_contents_api(pygithub, emulator)
    test_one_commit_for_many_files_through_the_git_data_api(pygithub, emulator)
    operations = {github_spec.check_exchange(exchange) for exchange in emulator.exchanges}
    repo = "/repos/{owner}/{repo}"
    assert operations == {"POST /user/repos", f"GET {repo}/contents/{{path}}",
                          f"PUT {repo}/contents/{{path}}", f"DELETE {repo}/contents/{{path}}",
                          f"GET {repo}/git/ref/{{ref}}", f"GET {repo}/git/commits/{{commit_sha}}",
                          f"POST {repo}/git/blobs", f"POST {repo}/git/trees", f"POST {repo}/git/commits",
                          f"PATCH {repo}/git/refs/{{ref}}", f"GET {repo}/branches/{{branch}}"}
