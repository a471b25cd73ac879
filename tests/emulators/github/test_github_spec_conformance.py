"""Every kept operation of github-rest.json, called on the emulator, answers as GitHub describes it.

The ``client`` fixture checks each request and response against the spec as it completes (see
tests/github_spec.py); these tests drive all 31 operations and the documented error replies, then
assert from the check log that each was really exercised and found conforming.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from github_spec import Checked, GitHubSpec, SpecViolation
from nacl.public import PublicKey, SealedBox

from dtm_core.emulators.github import GitHubEmulator

NULL = "0" * 40
WORKFLOW = "name: CI\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: [{run: make test}]\n"


def b64(data: str | bytes) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def sealed(public_key: dict[str, Any], value: str) -> dict[str, str]:
    box = SealedBox(PublicKey(base64.b64decode(public_key["key"])))
    return {"encrypted_value": b64(box.encrypt(value.encode())), "key_id": public_key["key_id"]}


def expect(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: " \
                                           f"{response.status_code} {response.text[:400]}"
    return response.json() if response.content else None


def test_all_kept_operations_are_served_and_conform(emulator: GitHubEmulator, client: httpx.Client,
                                                     github_spec: GitHubSpec,
                                                     spec_log: Callable[[], list[Checked]]) -> None:
    emulator.add_repo("acme", "template", template=True,
                      files={"README.md": "# template\n", "src/app.py": "x=1\n"})
    expect(client.get("/user"), 200)
    expect(client.get("/orgs/acme"), 200)
    expect(client.get("/rate_limit"), 200)
    expect(client.post("/user/repos", json={"name": "site", "auto_init": True, "description": "docs"}), 201)
    expect(client.post("/orgs/acme/repos", json={"name": "service", "visibility": "private"}), 201)
    expect(client.post("/repos/acme/template/generate", json={"owner": "alice", "name": "generated"}), 201)
    expect(client.get("/repos/alice/site"), 200)
    expect(client.patch("/repos/alice/site", json={"description": "edited", "has_wiki": False}), 200)

    r = "/repos/alice/site"
    created = expect(client.put(f"{r}/contents/docs/guide.md",
                                json={"message": "add", "content": b64("v1")}), 201)
    expect(client.put(f"{r}/contents/docs/guide.md",
                      json={"message": "edit", "content": b64("v2"), "sha": created["content"]["sha"]}), 200)
    current = expect(client.get(f"{r}/contents/docs/guide.md"), 200)
    assert base64.b64decode(current["content"]) == b"v2"
    assert [entry["name"] for entry in expect(client.get(f"{r}/contents/docs"), 200)] == ["guide.md"]
    expect(client.request("DELETE", f"{r}/contents/docs/guide.md",
                          json={"message": "remove", "sha": current["sha"]}), 200)
    expect(client.get(f"{r}/branches/main"), 200)

    blob = expect(client.post(f"{r}/git/blobs",
                              json={"content": b64("print(1)\n"), "encoding": "base64"}), 201)
    head = expect(client.get(f"{r}/git/ref/heads/main"), 200)["object"]["sha"]
    base_tree = expect(client.get(f"{r}/git/commits/{head}"), 200)["tree"]["sha"]
    tree = expect(client.post(f"{r}/git/trees", json={"base_tree": base_tree, "tree": [
        {"path": "tool/run.py", "mode": "100755", "type": "blob", "sha": blob["sha"]},
        {"path": ".github/workflows/ci.yml", "mode": "100644", "type": "blob", "content": WORKFLOW}]}), 201)
    listing = expect(client.get(f"{r}/git/trees/{tree['sha']}", params={"recursive": "1"}), 200)
    paths = {item["path"] for item in listing["tree"]}
    assert {"tool/run.py", ".github/workflows/ci.yml", "README.md"} <= paths
    commit = expect(client.post(f"{r}/git/commits", json={"message": "tooling", "tree": tree["sha"],
                                                          "parents": [head]}), 201)
    expect(client.post(f"{r}/git/refs", json={"ref": "refs/heads/feature", "sha": head}), 201)
    expect(client.patch(f"{r}/git/refs/heads/feature", json={"sha": commit["sha"]}), 200)
    expect(client.patch(f"{r}/git/refs/heads/main", json={"sha": commit["sha"], "force": False}), 200)

    key = expect(client.get(f"{r}/actions/secrets/public-key"), 200)
    assert expect(client.put(f"{r}/actions/secrets/DEPLOY_TOKEN", json=sealed(key, "first")), 201) == {}
    expect(client.put(f"{r}/actions/secrets/DEPLOY_TOKEN", json=sealed(key, "second")), 204)
    assert expect(client.get(f"{r}/actions/secrets/DEPLOY_TOKEN"), 200)["name"] == "DEPLOY_TOKEN"
    assert expect(client.get(f"{r}/actions/secrets"), 200)["total_count"] == 1
    assert emulator.secret_value("alice", "site", "DEPLOY_TOKEN") == "second"
    expect(client.delete(f"{r}/actions/secrets/DEPLOY_TOKEN"), 204)
    workflows = expect(client.get(f"{r}/actions/workflows"), 200)
    assert [(w["name"], w["path"]) for w in workflows["workflows"]] == [("CI", ".github/workflows/ci.yml")]
    assert expect(client.get(f"{r}/actions/runs"), 200) == {"total_count": 0, "workflow_runs": []}

    hook = expect(client.post(f"{r}/hooks", json={"name": "web", "events": ["push"], "active": True,
                                                  "config": {"url": "https://ci.example/hook",
                                                             "content_type": "json", "secret": "s"}}), 201)
    assert [item["id"] for item in expect(client.get(f"{r}/hooks"), 200)] == [hook["id"]]
    expect(client.delete(f"{r}/hooks/{hook['id']}"), 204)
    expect(client.delete(r), 204)

    exercised = {entry.operation for entry in spec_log() if entry.documented}
    assert sorted(set(github_spec.kept_operations) - exercised) == []
    assert len(github_spec.kept_operations) == 31


ERRORS: list[tuple[str, str, str, dict[str, Any] | None, int]] = [
    # (why, method, path, body, status) — statuses the operation documents
    ("no credentials", "GET", "/user", None, 401),
    ("name taken", "POST", "/user/repos", {"name": "site"}, 422),
    ("not a member", "POST", "/orgs/other/repos", {"name": "x"}, 403),
    ("unknown repository", "GET", "/repos/alice/missing", None, 404),
    ("unknown default branch", "PATCH", "/repos/alice/site", {"default_branch": "nope"}, 422),
    ("no delete_repo scope", "DELETE", "/repos/alice/site", None, 403),
    ("stale sha", "PUT", "/repos/alice/site/contents/README.md", {"message": "m", "content": "eA==",
                                                                  "sha": "0" * 40}, 409),
    ("missing sha", "PUT", "/repos/alice/site/contents/README.md", {"message": "m", "content": "eA=="}, 422),
    ("no such file", "DELETE", "/repos/alice/site/contents/nope.txt", {"message": "m", "sha": "0" * 40}, 404),
    ("empty repository", "POST", "/repos/alice/empty/git/blobs", {"content": "x"}, 409),
    ("empty repository", "GET", "/repos/alice/empty/git/ref/heads/main", None, 409),
    ("empty repository", "POST", "/repos/alice/empty/git/trees", {"tree": []}, 409),
    ("empty repository", "GET", "/repos/alice/empty/git/commits/" + "0" * 40, None, 409),
    ("empty repository", "GET", "/repos/alice/empty/git/trees/" + "0" * 40, None, 409),
    ("empty repository", "POST", "/repos/alice/empty/git/commits", {"message": "m", "tree": "0" * 40}, 409),
    ("empty repository", "POST", "/repos/alice/empty/git/refs", {"ref": "refs/heads/x", "sha": NULL}, 409),
    ("empty repository", "PATCH", "/repos/alice/empty/git/refs/heads/main", {"sha": "0" * 40}, 409),
    ("unknown tree", "GET", "/repos/alice/site/git/trees/" + "0" * 40, None, 404),
    ("unknown commit", "GET", "/repos/alice/site/git/commits/" + "0" * 40, None, 404),
    ("unknown ref", "GET", "/repos/alice/site/git/ref/heads/nope", None, 404),
    ("ref exists", "POST", "/repos/alice/site/git/refs", {"ref": "refs/heads/main", "sha": "{head}"}, 422),
    ("not fast forward", "PATCH", "/repos/alice/site/git/refs/heads/main", {"sha": "{orphan}"}, 422),
    ("unknown tree sha", "POST", "/repos/alice/site/git/commits", {"message": "m", "tree": "0" * 40}, 422),
    ("bad tree entry", "POST", "/repos/alice/site/git/trees",
     {"tree": [{"path": "a", "mode": "100644", "type": "blob", "sha": "0" * 40}]}, 422),
    ("unknown branch", "GET", "/repos/alice/site/branches/nope", None, 404),
    ("unknown organisation", "GET", "/orgs/nope", None, 404),
    ("hook without url", "POST", "/repos/alice/site/hooks", {"config": {}}, 422),
    ("unknown hook", "DELETE", "/repos/alice/site/hooks/12345", None, 404),
    ("hooks of a missing repository", "GET", "/repos/alice/missing/hooks", None, 404),
    ("contents of a missing file", "GET", "/repos/alice/site/contents/nope.md", None, 404),
    ("contents of an empty repository", "GET", "/repos/alice/empty/contents/README.md", None, 404),
]


def test_documented_error_replies_conform(emulator: GitHubEmulator, client: httpx.Client,
                                          spec_log: Callable[[], list[Checked]]) -> None:
    emulator.add_org("other")
    emulator.add_repo("alice", "site", files={"README.md": "# site\n"})
    emulator.add_repo("alice", "empty")
    head = emulator.commits("alice", "site")[0]["sha"]
    tree = emulator.commits("alice", "site")[0]["tree"]
    orphan = expect(client.post("/repos/alice/site/git/commits",
                                json={"message": "orphan", "tree": tree}), 201)
    client.headers["Authorization"] = "Bearer " + emulator.add_user("alice", scopes=["repo"])
    for why, method, path, body, status in ERRORS:
        text = json.dumps(body).replace("{head}", head).replace("{orphan}", orphan["sha"]) if body else None
        headers = {"Authorization": ""} if status == 401 else {}
        response = client.request(method, path, content=text, headers=headers)
        assert response.status_code == status, f"{why}: {method} {path}: {response.text}"
        assert response.json()["message"], why
    documented = [(entry.operation, entry.status) for entry in spec_log() if entry.status >= 400]
    assert all(entry.documented for entry in spec_log() if entry.status >= 400), documented
    assert len(documented) == len(ERRORS)


def test_redirects_for_renamed_repositories_are_documented_replies(
        emulator: GitHubEmulator, client: httpx.Client, spec_log: Callable[[], list[Checked]]) -> None:
    emulator.add_repo("alice", "old-name")
    expect(client.patch("/repos/alice/old-name", json={"name": "new-name"}), 200)
    moved = expect(client.get("/repos/alice/old-name"), 301)
    assert moved["url"] == f"{emulator.url}/repos/alice/new-name"
    assert client.get("/repos/alice/old-name").headers["Location"] == moved["url"]
    assert client.patch("/repos/alice/old-name", json={"description": "x"}).status_code == 307
    assert client.delete("/repos/alice/old-name").status_code == 307
    assert {(entry.status, entry.documented) for entry in spec_log() if entry.status in (301, 307)} == {
        (301, True), (307, True)}


def test_undocumented_error_statuses_are_still_githubs_error_shape(
        client: httpx.Client, spec_log: Callable[[], list[Checked]]) -> None:
    response = client.get("/repos/alice/site", headers={"Authorization": "token wrong"})
    assert (response.status_code, response.json()["message"]) == (401, "Bad credentials")
    assert spec_log()[-1] == Checked("GET /repos/{owner}/{repo}", 401, documented=False)


def test_the_oracle_rejects_invented_missing_and_mistyped_properties(github_spec: GitHubSpec,
                                                                      emulator: GitHubEmulator) -> None:
    shape = emulator.add_repo("alice", "probe")
    request = httpx.Request("GET", f"{emulator.url}/repos/alice/probe")

    def check(body: Any, status: int = 200) -> None:
        github_spec.check(request, httpx.Response(status, json=body, request=request))

    check(shape)
    ownerless = {key: value for key, value in shape.items() if key != "owner"}
    for broken, reason in [({**shape, "colour": "blue"}, "colour"), (ownerless, "owner"),
                           ({**shape, "private": "no"}, "private")]:
        with pytest.raises(SpecViolation, match=reason):
            check(broken)
    with pytest.raises(SpecViolation, match="not a documented response"):
        check(shape, status=202)
    with pytest.raises(SpecViolation, match="no operation"):
        github_spec.check(httpx.Request("GET", f"{emulator.url}/repos/alice/probe/issues"),
                          httpx.Response(200, json=[], request=request))
    bad_request = httpx.Request("POST", f"{emulator.url}/user/repos", json={"name": 5})
    with pytest.raises(SpecViolation, match="request"):
        github_spec.check(bad_request, httpx.Response(201, json=shape, request=bad_request))
