"""``GitHubEmulator``: GitHub's REST API on a loopback port, with fixtures, inspection and fault hooks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..faults import FaultPlan, FaultRates
from ..serving import Emulator, Serving
from .actions import open_sealed
from .dispatch import Exchange, Fault, ServerState
from .handler import EmulatorServer
from .model import Repo, World
from .repos import clean_name
from .shapes import full_repository


class GitHubEmulator(Emulator):
    """A GitHub REST API for tests and the offline sandbox.

    The API root is ``url`` (``/user``, ``/repos/…`` live directly under it, as under
    ``https://api.github.com``). Accounts, tokens and pre-existing repositories are set up with the
    ``add_*`` methods; what clients did is read back with ``repo``, ``files``, ``commits``,
    ``secret_value``, ``requests`` and ``exchanges``.
    """

    def __init__(self, *, rate_limit: int = 5000, host: str = "127.0.0.1", port: int = 0,
                 faults: FaultRates | None = None, fault_seed: int = 0) -> None:
        self.faults = FaultPlan(faults, seed=fault_seed)
        self._world = World(rate_limit)
        self._state = ServerState(self._world)
        self._address = (host, port)
        self._serving: Serving | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> GitHubEmulator:
        self._serving = Serving(EmulatorServer(self._address, self._state), "github-emulator-http",
                                self.faults)
        self._state.root = self._serving.root
        return self

    @property
    def url(self) -> str:
        """The API root, such as ``http://127.0.0.1:PORT``."""
        if self._serving is None:
            raise RuntimeError("the emulator is not started")
        return self._state.root

    # -- fixtures ----------------------------------------------------------------------------------------

    def add_user(self, login: str, *, token: str | None = None,
                 scopes: Sequence[str] = ("repo", "workflow")) -> str:
        """Create the user (or reuse it) and give it a token with ``scopes``; returns the token."""
        with self._world.lock:
            account = self._world.account(login)
            if account is None:
                account = self._world.add_account(login, "User")
            elif account.is_org:
                raise ValueError(f"{login!r} is an organization")
            return self._world.add_token(account.login, token, tuple(scopes))

    def add_org(self, login: str, *, members: Sequence[str] = (), admins: Sequence[str] = ()) -> None:
        """Create an organisation; members may create repositories in it, admins administer all of them."""
        with self._world.lock:
            org = self._world.account(login) or self._world.add_account(login, "Organization")
            if not org.is_org:
                raise ValueError(f"{login!r} is a user")
            org.admins.update(name.lower() for name in admins)
            org.members.update(name.lower() for name in [*members, *admins])

    def add_repo(self, owner: str, name: str, *, files: Mapping[str, str | bytes] | None = None,
                 template: bool = False, private: bool = False, default_branch: str = "main",
                 description: str = "") -> dict[str, Any]:
        """A repository that exists before the test (a template, or one dtm did not create).

        With ``files`` it has one commit holding them on ``default_branch``; without, it is empty.
        Returns its REST representation.
        """
        with self._world.lock:
            account = self._world.account(owner)
            if account is None:
                raise ValueError(f"no user or organization {owner!r}: add it first")
            if self._world.repo(owner, clean_name(name)) is not None:
                raise ValueError(f"{owner}/{name} exists")
            creator = next(iter(sorted(account.admins)), account.login) if account.is_org else account.login
            repo = self._world.new_repo(account, clean_name(name), creator, description=description or None,
                                        private=private, is_template=template, default_branch=default_branch)
            if files:
                data = {path: value.encode() if isinstance(value, str) else bytes(value)
                        for path, value in files.items()}
                repo.commit_files(default_branch, data, "Initial commit", account.person())
            return full_repository(repo, self._state.root, self._world, "2022-11-28")

    def delete_repo(self, owner: str, name: str) -> None:
        """Delete a repository behind the clients' backs, as a person in the web UI would."""
        with self._world.lock:
            repo = self._world.repo(owner, name)
            if repo is not None:
                self._world.drop(repo)

    # -- inspection --------------------------------------------------------------------------------------

    def repo(self, owner: str, name: str) -> dict[str, Any] | None:
        """The repository's REST representation, or None when it does not exist."""
        with self._world.lock:
            repo = self._world.repo(owner, name)
            if repo is None:
                return None
            return full_repository(repo, self._state.root, self._world, "2022-11-28")

    def files(self, owner: str, name: str, ref: str | None = None) -> dict[str, bytes]:
        """Path -> content of every file at ``ref`` (a branch, tag or SHA; the default branch when None)."""
        with self._world.lock:
            repo = self._require(owner, name)
            head = repo.resolve(ref)
            if head is None:
                if ref is None:
                    return {}  # an empty repository
                raise KeyError(f"{owner}/{name} has no ref {ref!r}")
            leaves = repo.objects.flatten(repo.tree_of(head))
            blobs = repo.objects.blobs
            return {path: blobs[entry.sha] for path, entry in leaves.items() if entry.kind == "blob"}

    def commits(self, owner: str, name: str, ref: str | None = None) -> list[dict[str, Any]]:
        """The history at ``ref``, newest first: ``{"sha", "message", "parents", "tree"}`` each."""
        with self._world.lock:
            repo = self._require(owner, name)
            head = repo.resolve(ref)
            if head is None:
                if ref is None:
                    return []
                raise KeyError(f"{owner}/{name} has no ref {ref!r}")
            found = []
            for sha in repo.objects.history(head):
                commit = repo.objects.commits[sha]
                found.append({"sha": sha, "message": commit.message, "parents": list(commit.parents),
                              "tree": commit.tree})
            return found

    def secret_value(self, owner: str, name: str, secret: str) -> str | None:
        """An Actions secret decrypted with the repository's private key (None when absent)."""
        with self._world.lock:
            repo = self._require(owner, name)
            stored = repo.secrets.get(secret.upper())
            return None if stored is None else open_sealed(repo, stored.encrypted_value)

    def _require(self, owner: str, name: str) -> Repo:
        repo = self._world.repo(owner, name)
        if repo is None:
            raise KeyError(f"no repository {owner}/{name}")
        return repo

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(METHOD, path with query) of every request received, oldest first."""
        with self._world.lock:
            return list(self._state.requests)

    def writes(self) -> list[tuple[str, str]]:
        """The requests that were not GETs (nor HEADs)."""
        return [request for request in self.requests if request[0] not in ("GET", "HEAD")]

    @property
    def exchanges(self) -> list[Exchange]:
        """Every request with its response, as sent on the wire (for checks against the spec)."""
        with self._world.lock:
            return list(self._state.exchanges)

    # -- fault hooks -------------------------------------------------------------------------------------

    def fail_next(self, method: str, path_prefix: str, status: int, *, times: int = 1,
                  headers: Mapping[str, str] | None = None, body: Mapping[str, Any] | None = None,
                  after: bool = False) -> None:
        """Answer the next ``times`` requests whose path starts with ``path_prefix`` with ``status``.

        ``method`` ``*`` matches any. The body defaults to GitHub's error for that status. With
        ``after`` the request is carried out first, as when a gateway loses the answer (a 502
        for a repository that was in fact created). Random faults: ``faults``.
        """
        with self._world.lock:
            self._state.faults.append(Fault(method.upper(), path_prefix, status, times, dict(headers or {}),
                                            None if body is None else dict(body), after))

    def exhaust_rate_limit(self, *, reset_in: float = 1.0, secondary: bool = False) -> None:
        """Spend every user's primary limit until ``reset_in`` seconds from now (403, remaining 0),
        or trip the secondary limit for that long (403 with ``Retry-After``)."""
        with self._world.lock:
            self._world.limiter.exhaust(reset_in, secondary)
