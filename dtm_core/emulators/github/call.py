"""One API call as route handlers see it (``Call``), what they answer (``Reply``), and body parsing."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .model import ADMIN, PULL, Account, Repo, Token, World

SUPPORTED_VERSIONS = ("2026-03-10", "2022-11-28")  # newest first, as GitHub lists them
DEFAULT_VERSION = "2022-11-28"
REPO_SCOPE = ("repo",)
WRITE_SCOPES = ("public_repo", "repo")
IMPLIED_SCOPES = {
    "repo": ("repo:status", "repo_deployment", "public_repo", "repo:invite", "security_events"),
    "admin:repo_hook": ("write:repo_hook", "read:repo_hook"),
    "write:repo_hook": ("read:repo_hook",),
    "admin:org": ("write:org", "read:org"),
    "write:org": ("read:org",),
    "user": ("read:user", "user:email", "user:follow"),
}
MISSING = object()
JSON_TYPES = {str: "string", bool: "boolean", int: "integer", list: "array", dict: "object"}


@dataclass
class Reply:
    """A response: status, a JSON-able body (or bytes, or None for no body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


def effective_scopes(scopes: tuple[str, ...]) -> set[str]:
    found = set(scopes)
    for scope in scopes:
        found.update(IMPLIED_SCOPES.get(scope, ()))
    return found


@dataclass
class Call:
    """The request a route handler serves, with the helpers every handler needs."""

    world: World
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    headers: Mapping[str, str]
    raw: bytes
    root: str  # the API root URL, "http://127.0.0.1:PORT"
    docs: str  # documentation_url for errors of this operation
    token: Token | None = None
    version: str = DEFAULT_VERSION
    accepted: tuple[str, ...] = ()  # X-Accepted-OAuth-Scopes of the reply
    _body: Any = MISSING

    @property
    def user(self) -> Account:
        assert self.token is not None, "route handlers run for authenticated calls only"
        account = self.world.account(self.token.login)
        assert account is not None
        return account

    def has_scope(self, *accepted: str) -> bool:
        return self.token is not None and bool(effective_scopes(self.token.scopes) & set(accepted))

    # -- body ----------------------------------------------------------------------------------------------

    def body(self, *, required: bool = True) -> dict[str, Any]:
        """The JSON object sent; 400 when it does not parse, as on GitHub."""
        if self._body is MISSING:
            text = self.raw.strip()
            if not text:
                self._body = None
            else:
                try:
                    self._body = json.loads(text)
                except ValueError as error:
                    raise errors.bad_json(self.docs) from error
        if self._body is None:
            if required:
                raise errors.bad_json(self.docs)
            return {}
        if not isinstance(self._body, dict):
            raise errors.invalid_request(f"{json.dumps(self._body)} is not an object.", self.docs)
        return self._body

    def field(self, name: str, kind: type | tuple[type, ...], *, required: bool = False,
              default: Any = None, nullable: bool = False) -> Any:
        """A body field of the given JSON type; 422 in GitHub's words when it is missing or mistyped."""
        body = self.body()
        if name not in body:
            if required:
                raise errors.not_supplied([name], self.docs)
            return default
        value = body[name]
        if value is None and nullable:
            return None
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise errors.wrong_type(name, value, JSON_TYPES[kinds[0]], self.docs)
        return value

    def require(self, *names: str) -> None:
        missing = [name for name in names if name not in self.body()]
        if missing:
            raise errors.not_supplied(missing, self.docs)

    # -- repositories ----------------------------------------------------------------------------------------

    def repo(self, level: int = PULL, *, write: bool = False, owner: str = "owner",
             name: str = "repo") -> Repo:
        """The repository the path names, checked the way GitHub checks it.

        Invisible repositories, and private ones without the ``repo`` scope, are 404 (GitHub never
        confirms a repository the caller may not see). Writes without ``public_repo``/``repo`` are
        404 too. Too low a permission is 403, with the message GitHub gives for that level.
        """
        self.accepted = self.accepted or REPO_SCOPE
        repo = self.world.repo(self.params[owner], self.params[name])
        if repo is None:
            moved = self.world.moved(self.params[owner], self.params[name])
            if moved is not None:
                raise moved_error(self, moved, f"/repos/{self.params[owner]}/{self.params[name]}")
            raise errors.not_found(self.docs)
        login = self.token.login if self.token else None
        permission = self.world.permission(login, repo)
        if permission == 0 or (repo.private and not self.has_scope("repo")):
            raise errors.not_found(self.docs)
        if write and not self.has_scope(*WRITE_SCOPES):
            raise errors.not_found(self.docs)
        if permission < level:
            if level == ADMIN:
                raise errors.forbidden("Must have admin rights to Repository.", self.docs)
            raise errors.forbidden("Must have push access to repository", self.docs)
        if write and repo.archived:
            raise errors.forbidden("Repository was archived so is read-only.", self.docs)
        return repo


def moved_error(call: Call, repo: Repo, old: str) -> errors.ApiError:
    """GitHub's answer for a renamed repository: 301 for reads, 307 for writes, Location the new URL."""
    tail = call.path[len(old):] if call.path.lower().startswith(old.lower()) else ""
    # GitHub points at /repositories/{id}/…, an alias outside the kept operations; the new name works alike.
    location = f"{call.root}/repos/{repo.owner.login}/{repo.name}{tail}"
    status = 301 if call.method == "GET" else 307
    message = "Moved Permanently" if status == 301 else "Temporary Redirect"
    return errors.ApiError(status, message, docs=call.docs, headers={"Location": location},
                           body={"message": message, "url": location, "documentation_url": call.docs})


Handler = Callable[[Call], Reply]
