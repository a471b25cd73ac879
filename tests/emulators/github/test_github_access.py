"""Who may do what: credentials, OAuth scopes, private repositories, organisations, archives, API versions.

GitHub's answers here are often not the obvious ones (404 rather than 403 for a missing scope, a
"Must have admin rights" 403 for a missing ``delete_repo``), so the tests pin the exact replies.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest

from dtm_core.emulators.github import GitHubEmulator

WORKFLOW_FILE = "/repos/alice/app/contents/.github/workflows/ci.yml"


def put_file(content: str, **extra: str) -> dict[str, str]:
    return {"message": "write", "content": base64.b64encode(content.encode()).decode(), **extra}


@pytest.fixture
def app(emulator: GitHubEmulator) -> str:
    emulator.add_repo("alice", "app", files={"README.md": "# app\n"})
    return "/repos/alice/app"


def test_missing_and_unknown_credentials_are_401_in_githubs_words(emulator: GitHubEmulator) -> None:
    with httpx.Client(base_url=emulator.url) as anonymous:
        missing = anonymous.get("/user")
        unknown = anonymous.get("/user", headers={"Authorization": "Bearer nope"})
        as_token = anonymous.get("/user", headers={"Authorization": "token alice-token"})
        as_bearer = anonymous.get("/user", headers={"Authorization": "Bearer alice-token"})
    assert missing.status_code == unknown.status_code == 401
    assert missing.json() == {"message": "Requires authentication", "status": "401",
                              "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user"}
    assert unknown.json()["message"] == "Bad credentials"
    assert "X-OAuth-Scopes" not in missing.headers
    assert as_token.json()["login"] == as_bearer.json()["login"] == "alice"


def test_scopes_are_reported_on_every_authenticated_reply(client: httpx.Client, app: str) -> None:
    me = client.get("/user")
    assert me.headers["X-OAuth-Scopes"] == "repo, workflow, delete_repo, admin:repo_hook"
    assert me.headers["X-Accepted-OAuth-Scopes"] == ""
    assert client.get(app).headers["X-Accepted-OAuth-Scopes"] == "repo"
    created = client.post("/user/repos", json={"name": "x"})
    assert created.headers["X-Accepted-OAuth-Scopes"] == "public_repo, repo"
    assert client.get(app + "/hooks").headers["X-Accepted-OAuth-Scopes"] == (
        "admin:repo_hook, read:repo_hook, repo, write:repo_hook")


def test_a_token_without_repo_scope_is_told_not_found(as_user: Callable[..., httpx.Client]) -> None:
    reader = as_user("reader", scopes=["read:user"])
    refused = reader.post("/user/repos", json={"name": "mine"})
    assert (refused.status_code, refused.json()["message"]) == (404, "Not Found")
    assert refused.headers["X-OAuth-Scopes"] == "read:user"
    assert refused.headers["X-Accepted-OAuth-Scopes"] == "public_repo, repo"
    public_only = as_user("publisher", scopes=["public_repo"])
    assert public_only.post("/user/repos", json={"name": "open"}).status_code == 201
    assert public_only.post("/user/repos", json={"name": "closed", "private": True}).status_code == 404


def test_workflow_files_need_the_workflow_scope(emulator: GitHubEmulator,
                                                as_user: Callable[..., httpx.Client]) -> None:
    carol = as_user("carol", scopes=["repo"])
    full = as_user("carol", scopes=["repo", "workflow"])  # a second token of the same user
    shared = "/repos/carol/shared"
    assert carol.post("/user/repos", json={"name": "shared", "auto_init": True}).status_code == 201
    refused = carol.put(shared + "/contents/.github/workflows/ci.yml", json=put_file("on: push\n"))
    assert (refused.status_code, refused.headers["X-Accepted-OAuth-Scopes"]) == (404, "workflow")
    assert carol.put(shared + "/contents/docs/ci.md", json=put_file("fine")).status_code == 201

    entry = {"path": ".github/workflows/x.yml", "mode": "100644", "type": "blob", "content": "on: push\n"}
    assert carol.post(shared + "/git/trees", json={"tree": [entry]}).status_code == 404
    # A commit that changes a workflow, made with the right scope, cannot be moved onto a branch without it.
    head = full.get(shared + "/git/ref/heads/main").json()["object"]["sha"]
    base = full.get(f"{shared}/git/commits/{head}").json()["tree"]["sha"]
    tree = full.post(shared + "/git/trees", json={"base_tree": base, "tree": [entry]}).json()
    commit = full.post(shared + "/git/commits", json={"message": "ci", "tree": tree["sha"],
                                                      "parents": [head]}).json()
    assert carol.patch(shared + "/git/refs/heads/main", json={"sha": commit["sha"]}).status_code == 404
    assert full.patch(shared + "/git/refs/heads/main", json={"sha": commit["sha"]}).status_code == 200
    sha = carol.get(shared + "/contents/.github/workflows/x.yml").json()["sha"]
    deleting = carol.request("DELETE", shared + "/contents/.github/workflows/x.yml",
                             json={"message": "rm", "sha": sha})
    assert deleting.status_code == 404
    assert set(emulator.files("carol", "shared")) == {"README.md", "docs/ci.md", ".github/workflows/x.yml"}


def test_deleting_needs_the_delete_repo_scope_and_admin_rights(emulator: GitHubEmulator,
                                                               as_user: Callable[..., httpx.Client]) -> None:
    emulator.add_repo("acme", "tool")
    bob = as_user("bob", scopes=["repo"])
    bob.post("/user/repos", json={"name": "own"})
    refused = bob.delete("/repos/bob/own")
    assert refused.status_code == 403
    assert refused.json()["message"] == "Must have admin rights to Repository."
    member = as_user("mallory", scopes=["repo", "delete_repo"])
    emulator.add_org("acme", members=["mallory"])
    assert member.delete("/repos/acme/tool").status_code == 403  # a member, not an admin of this repository
    made = member.post("/orgs/acme/repos", json={"name": "mine"})
    assert made.json()["permissions"]["admin"] is True  # the creator administers what it created
    assert member.delete("/repos/acme/mine").status_code == 204
    assert emulator.repo("bob", "own") is not None and emulator.repo("acme", "mine") is None


def test_private_repositories_are_404_to_those_who_cannot_see_them(
        emulator: GitHubEmulator, as_user: Callable[..., httpx.Client]) -> None:
    emulator.add_repo("alice", "diary", private=True, files={"today.md": "secret"})
    emulator.add_repo("acme", "internal", private=True)
    stranger = as_user("stranger")
    assert stranger.get("/repos/alice/diary").status_code == 404
    assert stranger.get("/repos/alice/diary/contents/today.md").status_code == 404
    assert stranger.get("/repos/acme/internal").status_code == 404
    emulator.add_org("acme", members=["stranger"])
    seen = stranger.get("/repos/acme/internal")
    assert seen.status_code == 200
    assert seen.json()["permissions"] == {"admin": False, "maintain": False, "push": False, "triage": False,
                                          "pull": True}
    assert stranger.patch("/repos/acme/internal", json={"description": "x"}).status_code == 403
    no_repo_scope = as_user("alice", scopes=["public_repo"])
    assert no_repo_scope.get("/repos/alice/diary").status_code == 404


def test_organisation_membership_decides_who_creates_repositories(emulator: GitHubEmulator,
                                                                  as_user: Callable[..., httpx.Client],
                                                                  client: httpx.Client) -> None:
    outsider = as_user("outsider")
    refused = outsider.post("/orgs/acme/repos", json={"name": "sneaky"})
    assert (refused.status_code, refused.json()["message"]) == (
        403, "You need admin access to the organization before adding a repository to it.")
    assert client.post("/orgs/nowhere/repos", json={"name": "x"}).status_code == 404
    made = client.post("/orgs/acme/repos", json={"name": "svc", "private": True})
    assert made.status_code == 201 and made.headers["Location"] == made.json()["url"]
    assert (made.json()["owner"]["type"], made.json()["visibility"]) == ("Organization", "private")
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer olivia-token"}) as admin:
        assert admin.patch("/repos/acme/svc", json={"description": "the org admin edits"}).status_code == 200
        assert admin.delete("/repos/acme/svc").status_code == 204
    org = client.get("/orgs/acme").json()
    assert (org["login"], org["type"]) == ("acme", "Organization")


def test_archived_repositories_are_read_only_until_unarchived(client: httpx.Client, app: str) -> None:
    assert client.patch(app, json={"archived": True}).json()["archived"] is True
    refused = client.put(app + "/contents/new.txt", json=put_file("x"))
    assert refused.status_code == 403
    assert refused.json()["message"] == "Repository was archived so is read-only."
    assert client.patch(app, json={"description": "still archived"}).status_code == 403
    assert client.get(app + "/contents/README.md").status_code == 200
    assert client.patch(app, json={"archived": False}).json()["archived"] is False
    assert client.put(app + "/contents/new.txt", json=put_file("x")).status_code == 201


def test_api_versions_are_checked_and_the_2026_changes_applied(emulator: GitHubEmulator, app: str) -> None:
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer alice-token"}) as plain:
        old = plain.get(app, headers={"X-GitHub-Api-Version": "2022-11-28"})
        new = plain.get(app, headers={"X-GitHub-Api-Version": "2026-03-10"})
        limits = plain.get("/rate_limit", headers={"X-GitHub-Api-Version": "2026-03-10"}).json()
        wrong = plain.get(app, headers={"X-GitHub-Api-Version": "v3"})
    assert old.headers["X-GitHub-Api-Version-Selected"] == "2022-11-28" and "has_downloads" in old.json()
    assert new.headers["X-GitHub-Api-Version-Selected"] == "2026-03-10" and "has_downloads" not in new.json()
    assert "rate" not in limits and "core" in limits["resources"]
    assert wrong.status_code == 400
    assert wrong.json()["message"].startswith(
        'The version you specified in the "X-GitHub-Api-Version" request header, "v3", is not a supported')
