"""Actions secrets of a repository: names checked, values sealed with the repository's public key.

GitHub takes a secret only encrypted with libsodium's sealed box for the repository's public
key, and never gives a value back: dtm can tell that a secret is missing, not that it changed.
"""

from __future__ import annotations

import re
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterable, Mapping

from nacl.public import PublicKey, SealedBox

from dtm_core import OperationError

from .client import GitHubClient, repo_path, segment

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_names(names: Iterable[str]) -> None:
    """GitHub's naming rules, checked before anything is written."""
    for name in names:
        if not _NAME.match(name) or name.upper().startswith("GITHUB_"):
            raise OperationError(
                f"secrets.{name}: not a valid Actions secret name",
                hint="use letters, digits and _, not starting with a digit nor with GITHUB_")


def seal(public_key: str, value: str) -> str:
    """``value`` encrypted for the holder of ``public_key`` (base64), as GitHub requires."""
    box = SealedBox(PublicKey(b64decode(public_key)))
    return b64encode(box.encrypt(value.encode("utf-8"))).decode("ascii")


def secret_names(client: GitHubClient, owner: str, repo: str) -> set[str]:
    """Names of the repository's secrets, upper-case as GitHub stores them."""
    return {str(item["name"]).upper()
            for item in client.paginate(repo_path(owner, repo, "actions", "secrets"), key="secrets")}


def set_secrets(client: GitHubClient, owner: str, repo: str, values: Mapping[str, str],
                progress: Callable[[str], None]) -> None:
    if not values:
        return
    key = client.get(repo_path(owner, repo, "actions", "secrets", "public-key"))
    for name in sorted(values):
        progress(f"setting Actions secret {name}")
        # Setting a secret to a value twice is the same as once: safe to retry.
        client.put(repo_path(owner, repo, "actions", "secrets", segment(name)),
                   {"encrypted_value": seal(str(key["key"]), values[name]), "key_id": str(key["key_id"])},
                   idempotent=True)


def delete_secrets(client: GitHubClient, owner: str, repo: str, names: Iterable[str],
                   progress: Callable[[str], None]) -> None:
    for name in sorted(names):
        progress(f"deleting Actions secret {name}")
        client.delete(repo_path(owner, repo, "actions", "secrets", segment(name)))
