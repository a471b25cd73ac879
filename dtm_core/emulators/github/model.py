"""The emulator's world: accounts, tokens and repositories with their refs, secrets and hooks.

All state lives in one ``World`` guarded by one lock; the HTTP layer and the test facade both take
it for every read and write. Logins and repository names are case-insensitive, as on GitHub.
"""

from __future__ import annotations

import itertools
import secrets as random_tokens
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .gitobjects import Commit, Entry, ObjectStore, Person, iso, utc_now
from .ratelimit import RateLimiter

PULL, PUSH, ADMIN = 1, 2, 3  # repository permission levels; 0 means the repository is invisible


@dataclass
class Account:
    """A user or an organisation (``kind`` is GitHub's ``type``)."""

    login: str
    id: int
    kind: Literal["User", "Organization"]
    created_at: datetime
    members: set[str] = field(default_factory=set)  # organisations: lower-case logins, admins included
    admins: set[str] = field(default_factory=set)
    description: str | None = None

    @property
    def key(self) -> str:
        return self.login.lower()

    @property
    def is_org(self) -> bool:
        return self.kind == "Organization"

    def person(self, moment: datetime | None = None) -> Person:
        """How GitHub signs commits made through the API for this user."""
        return Person(self.login, f"{self.id}+{self.login}@users.noreply.github.com", moment or utc_now())


@dataclass(frozen=True)
class Token:
    value: str
    login: str
    scopes: tuple[str, ...]


@dataclass
class Hook:
    id: int
    name: str
    events: list[str]
    active: bool
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass
class Secret:
    name: str
    encrypted_value: str  # base64 sealed box, kept as sent, like GitHub
    created_at: datetime
    updated_at: datetime


@dataclass
class Repo:
    id: int
    owner: Account
    name: str
    creator: str  # lower-case login of who created it (its first admin in an organisation)
    description: str | None = None
    private: bool = False
    default_branch: str = "main"
    is_template: bool = False
    archived: bool = False
    homepage: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    template: tuple[str, str] | None = None  # (owner, name) of the template it was generated from
    license: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
    pushed_at: datetime | None = None
    objects: ObjectStore = field(default_factory=ObjectStore)
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/main" -> commit SHA
    secrets: dict[str, Secret] = field(default_factory=dict)
    secret_key: bytes = b""  # Curve25519 private key for Actions secrets, made on first use
    secret_key_id: str = ""
    hooks: dict[int, Hook] = field(default_factory=dict)
    workflow_ids: dict[str, int] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.owner.key, self.name.lower())

    @property
    def empty(self) -> bool:
        return not self.refs

    def branch(self, name: str) -> str | None:
        return self.refs.get("refs/heads/" + name)

    def resolve(self, ref: str | None) -> str | None:
        """A commit SHA for a branch, tag, full ref or commit SHA (the default branch when None)."""
        if ref is None:
            return self.branch(self.default_branch)
        for candidate in (f"refs/heads/{ref}", f"refs/tags/{ref}", ref):
            if candidate in self.refs:
                return self.refs[candidate]
        return ref if ref in self.objects.commits else None

    def tree_of(self, commit: str) -> str:
        return self.objects.commits[commit].tree

    def commit_files(self, branch: str, changes: Mapping[str, bytes | None], message: str, author: Person,
                     committer: Person | None = None, modes: Mapping[str, str] | None = None) -> str:
        """Commit ``changes`` (path -> content, None deletes) on ``branch``, creating it when absent."""
        head = self.branch(branch)
        leaves = self.objects.flatten(self.tree_of(head)) if head else {}
        for path, content in changes.items():
            if content is None:
                leaves.pop(path, None)
            else:
                mode = (modes or {}).get(path) or (leaves[path].mode if path in leaves else "100644")
                leaves[path] = Entry(mode, "blob", self.objects.add_blob(content))
        tree = self.objects.build(leaves)
        commit = Commit(tree, (head,) if head else (), author, committer or author, message)
        sha = self.objects.add_commit(commit)
        self.refs["refs/heads/" + branch] = sha
        self.pushed_at = self.updated_at = utc_now()
        return sha


class World:
    """Everything the emulator knows, and the one lock that guards it."""

    def __init__(self, rate_limit: int = 5000) -> None:
        self.lock = threading.RLock()
        self.limiter = RateLimiter(rate_limit)
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.redirects: dict[tuple[str, str], tuple[str, str]] = {}  # renamed repositories
        self._ids = itertools.count(1001)
        self._repo_ids = itertools.count(700001)
        self._hook_ids = itertools.count(5000001)
        self._workflow_ids = itertools.count(9000001)

    # -- accounts ----------------------------------------------------------------------------------------

    def account(self, login: str) -> Account | None:
        return self.accounts.get(login.lower())

    def add_account(self, login: str, kind: Literal["User", "Organization"]) -> Account:
        if login.lower() in self.accounts:
            raise ValueError(f"the login {login!r} is taken")
        account = Account(login, next(self._ids), kind, utc_now())
        self.accounts[account.key] = account
        return account

    def add_token(self, login: str, token: str | None, scopes: tuple[str, ...]) -> str:
        value = token or "ghp_" + random_tokens.token_urlsafe(27).replace("-", "A").replace("_", "b")[:36]
        self.tokens[value] = Token(value, login.lower(), scopes)
        return value

    # -- repositories ------------------------------------------------------------------------------------

    def repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get((owner.lower(), name.lower()))

    def new_repo(self, owner: Account, name: str, creator: str, **fields: Any) -> Repo:
        repo = Repo(next(self._repo_ids), owner, name, creator.lower(), **fields)
        self.repos[repo.key] = repo
        self.redirects.pop(repo.key, None)  # a new repository takes the name back from a rename
        return repo

    def rename(self, repo: Repo, name: str) -> None:
        old = repo.key
        del self.repos[old]
        repo.name = name
        self.repos[repo.key] = repo
        self.redirects[old] = repo.key

    def drop(self, repo: Repo) -> None:
        self.repos.pop(repo.key, None)
        for old, new in list(self.redirects.items()):
            if new == repo.key:
                del self.redirects[old]

    def moved(self, owner: str, name: str) -> Repo | None:
        target = self.redirects.get((owner.lower(), name.lower()))
        return None if target is None else self.repos.get(target)

    def next_hook_id(self) -> int:
        return next(self._hook_ids)

    def workflow_id(self, repo: Repo, path: str) -> int:
        if path not in repo.workflow_ids:
            repo.workflow_ids[path] = next(self._workflow_ids)
        return repo.workflow_ids[path]

    def permission(self, login: str | None, repo: Repo) -> int:
        """The user's permission on ``repo``: 0 (invisible), PULL, PUSH or ADMIN."""
        user = (login or "").lower()
        owner = repo.owner
        if not owner.is_org:
            level = ADMIN if user == owner.key else PULL
        elif user in owner.admins or (user == repo.creator and user in owner.members):
            level = ADMIN
        else:
            level = PULL  # organisation members read every repository (base permission "read")
        if repo.private and level == PULL and not (owner.is_org and user in owner.members):
            return 0
        return level


def stamp(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)
