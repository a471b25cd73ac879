"""GitHub Actions endpoints: repository secrets (sealed boxes), workflows read from the tree, runs."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from . import errors
from .call import Call, Reply
from .contents import WORKFLOWS_DIR
from .gitobjects import utc_now
from .gitshapes import api, html
from .model import ADMIN, PULL, Repo, Secret, stamp
from .pagination import paginate
from .shapes import node_id

SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECRET_NAME_RULES = ("Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or "
                     "underscores (_). Spaces are not allowed. Must start with a letter ([a-z], [A-Z]) or "
                     "underscores (_). Must not start with the GITHUB_ prefix.")


def ensure_keypair(repo: Repo) -> bytes:
    """The repository's Curve25519 key pair, made on first use; returns the public key."""
    # PyNaCl is imported here, not at module import: it is a test and plugin dependency, not a core one.
    from nacl.public import PrivateKey

    if not repo.secret_key:
        private = PrivateKey.generate()
        repo.secret_key = bytes(private)
        repo.secret_key_id = str(568250167242549743 + repo.id)  # GitHub's key ids are long decimal strings
    return bytes(PrivateKey(repo.secret_key).public_key)


def open_sealed(repo: Repo, encrypted_value: str) -> str:
    """Decrypt a secret the way the Actions runner does, with the repository's private key."""
    from nacl.public import PrivateKey, SealedBox

    return SealedBox(PrivateKey(repo.secret_key)).decrypt(base64.b64decode(encrypted_value)).decode()


def _secrets_repo(call: Call, write: bool = False) -> Repo:
    repo = call.repo(ADMIN, write=write)
    if not call.has_scope("repo"):  # classic tokens need "repo" even for public repositories
        raise errors.not_found(call.docs)
    return repo


def _secret_shape(secret: Secret) -> dict[str, Any]:
    return {"name": secret.name, "created_at": stamp(secret.created_at),
            "updated_at": stamp(secret.updated_at)}


def _secret_name(call: Call) -> str:
    name = call.params["secret_name"]
    if not SECRET_NAME.match(name) or name.upper().startswith("GITHUB_"):
        raise errors.validation(SECRET_NAME_RULES, call.docs)
    return name.upper()  # GitHub stores secret names in upper case


def get_public_key(call: Call) -> Reply:
    repo = _secrets_repo(call)
    public = ensure_keypair(repo)
    return Reply(200, {"key_id": repo.secret_key_id, "key": base64.b64encode(public).decode()})


def put_secret(call: Call) -> Reply:
    repo = _secrets_repo(call, write=True)
    name = _secret_name(call)
    call.body()
    call.require("encrypted_value", "key_id")
    value = call.field("encrypted_value", str, required=True)
    key_id = call.field("key_id", str, required=True)
    ensure_keypair(repo)
    if key_id != repo.secret_key_id:
        raise errors.validation(f"key_id {key_id} does not match the repository's public key", call.docs)
    try:
        sealed = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise errors.invalid_request("For 'properties/encrypted_value', the value is not valid Base64.",
                                     call.docs) from error
    if len(sealed) < 48:  # a sealed box carries a 32-byte ephemeral key and a 16-byte MAC
        raise errors.validation("encrypted_value is not a sealed box", call.docs)
    now = utc_now()
    existing = repo.secrets.get(name)
    if existing is not None:
        existing.encrypted_value, existing.updated_at = value, now
        return Reply(204)
    repo.secrets[name] = Secret(name, value, now, now)
    return Reply(201, {})


def get_secret(call: Call) -> Reply:
    repo = _secrets_repo(call)
    secret = repo.secrets.get(call.params["secret_name"].upper())
    if secret is None:
        raise errors.not_found(call.docs)
    return Reply(200, _secret_shape(secret))


def delete_secret(call: Call) -> Reply:
    repo = _secrets_repo(call, write=True)
    if repo.secrets.pop(call.params["secret_name"].upper(), None) is None:
        raise errors.not_found(call.docs)
    return Reply(204)


def list_secrets(call: Call) -> Reply:
    repo = _secrets_repo(call)
    everything = [_secret_shape(repo.secrets[name]) for name in sorted(repo.secrets)]
    page, headers = paginate(call, everything)
    return Reply(200, {"total_count": len(everything), "secrets": page}, headers=headers)


def workflow_name(data: bytes, path: str) -> str:
    """The workflow's ``name:``, or its path when it has none or does not parse (as GitHub shows it)."""
    try:
        document = YAML(typ="safe", pure=True).load(data.decode("utf-8", errors="replace"))
    except YAMLError:
        return path
    name = document.get("name") if isinstance(document, dict) else None
    return str(name) if isinstance(name, str | int | float) and str(name).strip() else path


def workflows(call: Call, repo: Repo) -> list[dict[str, Any]]:
    head = repo.branch(repo.default_branch)
    if head is None:
        return []
    directory = repo.objects.lookup(repo.tree_of(head), WORKFLOWS_DIR)
    if directory is None or directory.kind != "tree":
        return []
    found = []
    when = stamp(repo.pushed_at or repo.created_at)
    for file, entry in sorted(repo.objects.trees[directory.sha].items()):
        if entry.kind != "blob" or not file.endswith((".yml", ".yaml")):
            continue  # GitHub reads only files directly in .github/workflows
        path = WORKFLOWS_DIR + file
        number = call.world.workflow_id(repo, path)
        name = workflow_name(repo.objects.blobs[entry.sha], path)
        found.append({
            "id": number, "node_id": node_id("Workflow", number), "name": name, "path": path,
            "state": "active", "created_at": when, "updated_at": when,
            "url": f"{api(repo, call.root)}/actions/workflows/{number}",
            "html_url": f"{html(repo, call.root)}/blob/{repo.default_branch}/{path}",
            "badge_url": f"{html(repo, call.root)}/workflows/{file.rsplit('.', 1)[0]}/badge.svg",
        })
    return sorted(found, key=lambda workflow: workflow["id"])


def list_workflows(call: Call) -> Reply:
    repo = call.repo(PULL)
    everything = workflows(call, repo)
    page, headers = paginate(call, everything)
    return Reply(200, {"total_count": len(everything), "workflows": page}, headers=headers)


def list_runs(call: Call) -> Reply:
    call.repo(PULL)
    # Nothing runs workflows here; the list is honest about that and still paginates like GitHub.
    no_runs: list[dict[str, Any]] = []
    page, headers = paginate(call, no_runs)
    return Reply(200, {"total_count": 0, "workflow_runs": page}, headers=headers)
