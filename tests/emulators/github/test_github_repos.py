"""Repositories, secrets and webhooks: names, edits, deletions behind the client's back, sealed boxes."""

from __future__ import annotations

import base64
import subprocess
import sys
from typing import Any

import httpx
import pytest
from nacl.public import PrivateKey, PublicKey, SealedBox

from dtm_core.emulators.github import GitHubEmulator


def seal(client: httpx.Client, repo: str, value: str) -> dict[str, str]:
    key = client.get(f"{repo}/actions/secrets/public-key").json()
    sealed = SealedBox(PublicKey(base64.b64decode(key["key"]))).encrypt(value.encode())
    return {"encrypted_value": base64.b64encode(sealed).decode(), "key_id": key["key_id"]}


def test_a_taken_name_is_githubs_422_and_names_are_cleaned_and_case_blind(client: httpx.Client) -> None:
    made = client.post("/user/repos", json={"name": "My Tool!"})
    assert made.json()["name"] == "My-Tool-"  # runs of other characters become one hyphen, as on GitHub
    assert client.get("/repos/ALICE/my-tool-").json()["full_name"] == "alice/My-Tool-"
    taken = client.post("/user/repos", json={"name": "my-tool-"})
    assert taken.status_code == 422
    assert taken.json() == {
        "message": "Repository creation failed.",
        "documentation_url": "https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user",
        "errors": [{"resource": "Repository", "code": "custom", "field": "name",
                    "message": "name already exists on this account"}]}
    assert client.post("/orgs/acme/repos", json={"name": "My-Tool-"}).status_code == 201  # another account


def test_malformed_bodies_get_githubs_400_and_422(lax_client: httpx.Client) -> None:
    broken = lax_client.post("/user/repos", content=b"{not json",
                             headers={"Content-Type": "application/json"})
    assert (broken.status_code, broken.json()["message"]) == (400, "Problems parsing JSON")
    nameless = lax_client.post("/user/repos", json={"description": "x"})
    assert nameless.status_code == 422
    assert nameless.json()["message"] == 'Invalid request.\n\n"name" wasn\'t supplied.'
    mistyped = lax_client.post("/user/repos", json={"name": "x", "private": "yes"})
    assert mistyped.json()["message"] == (
        "Invalid request.\n\nFor 'properties/private', \"yes\" is not a boolean.")


def test_edits_change_what_every_client_reads(client: httpx.Client, emulator: GitHubEmulator) -> None:
    emulator.add_repo("alice", "app", files={"README.md": "x"}, description="before")
    head = emulator.commits("alice", "app")[0]["sha"]
    client.post("/repos/alice/app/git/refs", json={"ref": "refs/heads/develop", "sha": head})
    edited = client.patch("/repos/alice/app", json={
        "description": "after", "homepage": "https://app.example", "visibility": "private",
        "default_branch": "develop", "is_template": True, "allow_squash_merge": False}).json()
    assert (edited["description"], edited["homepage"], edited["private"], edited["visibility"]) == (
        "after", "https://app.example", True, "private")
    assert (edited["default_branch"], edited["is_template"], edited["allow_squash_merge"]) == (
        "develop", True, False)
    seen = emulator.repo("alice", "app")
    assert seen is not None
    assert {key: value for key, value in seen.items() if key != "updated_at"} == {
        key: value for key, value in edited.items() if key not in ("permissions", "updated_at")}
    refused = client.patch("/repos/alice/app", json={"default_branch": "nope"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "default_branch"
    renamed = client.patch("/repos/alice/app", json={"name": "application"}).json()
    assert renamed["full_name"] == "alice/application" and emulator.repo("alice", "app") is None


def test_a_repository_deleted_by_hand_is_gone_and_its_name_free(client: httpx.Client,
                                                                emulator: GitHubEmulator) -> None:
    first: dict[str, Any] = client.post("/user/repos", json={"name": "fragile", "auto_init": True}).json()
    emulator.delete_repo("alice", "fragile")
    assert client.get("/repos/alice/fragile").status_code == 404
    assert client.get("/repos/alice/fragile/contents/README.md").status_code == 404
    again = client.post("/user/repos", json={"name": "fragile"}).json()
    assert again["id"] != first["id"] and emulator.files("alice", "fragile") == {}
    with pytest.raises(KeyError):
        emulator.files("alice", "never")


def test_secrets_are_stored_sealed_and_opened_with_a_real_key_pair(client: httpx.Client,
                                                                    emulator: GitHubEmulator) -> None:
    emulator.add_repo("alice", "vault")
    repo = "/repos/alice/vault"
    key = client.get(f"{repo}/actions/secrets/public-key").json()
    assert key == client.get(f"{repo}/actions/secrets/public-key").json()  # stable per repository
    assert len(base64.b64decode(key["key"])) == 32 and key["key_id"].isdigit()
    assert client.put(f"{repo}/actions/secrets/api_key", json=seal(client, repo, "v1")).status_code == 201
    assert client.put(f"{repo}/actions/secrets/API_KEY", json=seal(client, repo, "v2 ✓")).status_code == 204
    assert emulator.secret_value("alice", "vault", "api_key") == "v2 ✓"
    assert emulator.secret_value("alice", "vault", "OTHER") is None
    # A box sealed for some other key cannot be opened with this repository's key.
    foreign = SealedBox(PrivateKey.generate().public_key).encrypt(b"x")
    client.put(f"{repo}/actions/secrets/FOREIGN", json={"encrypted_value": base64.b64encode(foreign).decode(),
                                                        "key_id": key["key_id"]})
    with pytest.raises(Exception, match="[Dd]ecrypt"):
        emulator.secret_value("alice", "vault", "FOREIGN")
    assert client.put(f"{repo}/actions/secrets/GITHUB_TOKEN", json=seal(client, repo, "x")).status_code == 422
    wrong_key = {**seal(client, repo, "x"), "key_id": "1"}
    assert client.put(f"{repo}/actions/secrets/OK", json=wrong_key).status_code == 422
    assert client.get(f"{repo}/actions/secrets/missing").status_code == 404
    listed = client.get(f"{repo}/actions/secrets").json()
    assert [secret["name"] for secret in listed["secrets"]] == ["API_KEY", "FOREIGN"]


def test_secrets_need_admin_rights_and_the_repo_scope(emulator: GitHubEmulator, client: httpx.Client) -> None:
    emulator.add_repo("acme", "shared")
    member = client.get("/repos/acme/shared/actions/secrets/public-key")  # alice is a member, not an admin
    assert (member.status_code, member.json()["message"]) == (403, "Must have admin rights to Repository.")
    public_only = emulator.add_user("alice", scopes=["public_repo"])
    emulator.add_repo("alice", "open")
    narrow = client.get("/repos/alice/open/actions/secrets",
                        headers={"Authorization": f"Bearer {public_only}"})
    assert narrow.status_code == 404


def test_webhooks_hide_their_secret_and_refuse_duplicates(client: httpx.Client,
                                                          emulator: GitHubEmulator) -> None:
    emulator.add_repo("alice", "hooked")
    hooks = "/repos/alice/hooked/hooks"
    config = {"url": "https://jenkins.example/github-webhook/", "content_type": "json", "secret": "hush"}
    made = client.post(hooks, json={"config": config, "events": ["push", "pull_request"]}).json()
    assert made["config"] == {"url": config["url"], "content_type": "json", "insecure_ssl": "0",
                              "secret": "********"}
    assert (made["name"], made["active"], made["type"]) == ("web", True, "Repository")
    duplicate = client.post(hooks, json={"config": config, "events": ["pull_request", "push"]})
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["message"] == "Hook already exists on this repository"
    assert client.post(hooks, json={"name": "travis", "config": config}).status_code == 422
    assert client.delete(f"{hooks}/{made['id']}").status_code == 204
    assert client.delete(f"{hooks}/{made['id']}").status_code == 404


def test_the_sandbox_command_serves_until_stopped() -> None:
    command = [sys.executable, "-m", "dtm_core.emulators.github", "--user", "sandy",
               "--token", "sandbox-token", "--org", "crew"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().split(" at ", 1)[1].strip()
            assert "token: sandbox-token" in process.stdout.readline()
            headers = {"Authorization": "Bearer sandbox-token"}
            assert httpx.get(f"{url}/user", headers=headers).json()["login"] == "sandy"
            made = httpx.post(f"{url}/orgs/crew/repos", headers=headers, json={"name": "x"})
            assert made.status_code == 201
        finally:
            process.terminate()
        assert process.wait(timeout=10) == 0
