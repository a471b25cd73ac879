"""The source-control provider: other plugins commit files to GitHub repositories through the core.

A Jenkins pipeline that wants a ``Jenkinsfile`` in ``https://github.com/acme/app`` asks the core
(``ctx.source_control(url)``), which routes to :class:`GitHubSourceControl`. Writes go through the
same client and the same one-commit Git Data writer (:mod:`.gitdata`) as the plugin's tools.

Which API serves a repository URL, explicitly:

=====================================================  ===========================================
repository URL                                         REST API root
=====================================================  ===========================================
``https://github.com/OWNER/REPO(.git)``,               ``https://api.github.com``
``git@github.com:OWNER/REPO.git``,
``ssh://git@github.com/OWNER/REPO.git``
``https://HOST/OWNER/REPO`` when ``GITHUB_API_URL``    ``https://HOST/api/v3`` (GitHub Enterprise
is ``https://HOST/api/v3``                             Server: the API under ``/api/v3``, the
                                                       repositories at the host's root)
``SCHEME://HOST:PORT/OWNER/REPO`` when                 ``SCHEME://HOST:PORT`` (an API at the root,
``GITHUB_API_URL`` is ``SCHEME://HOST:PORT``           as the emulator serves it; repositories beside
                                                       it). For ``https://api.X`` the repositories
                                                       may also be at ``https://X`` (GHE.com)
=====================================================  ===========================================

For ``GITHUB_API_URL`` the scheme, host and port of the repository URL must equal the API's
(SSH forms compare the host only: their port is SSH's). Nothing else is claimed, so a token is
only ever sent to api.github.com or to the API ``GITHUB_API_URL`` names. The token is the asking
tool's, else ``GITHUB_TOKEN``/``GH_TOKEN`` — and those only for the GitHub ``GITHUB_API_URL``
(default api.github.com) names, whose tokens they are.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from dtm_core import CommitRequest, CommitResult, OperationError, Secret, SourceControl

from .client import DEFAULT_API_URL, GitHubClient, file_path, repo_path
from .connection import TOKEN_VARIABLES, max_wait
from .errors import GitHubError
from .gitdata import blob_sha, branch_head, commit_files, file_shas

API_URL_VARIABLE = "GITHUB_API_URL"
DEFAULT_PORTS = {"http": 80, "https": 443}
SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})
#: ``[user@]host:path``, git's scp-like syntax (only when the URL has no ``://``).
SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^@/:\[\]]+):(?P<path>.+)$")


@dataclass(frozen=True)
class Site:
    """One GitHub: its REST API root and where the web addresses of its repositories are."""

    api_url: str
    scheme: str
    port: int
    #: Host names of repository web URLs (lower case).
    hosts: frozenset[str]
    #: Host names of its SSH remotes.
    ssh_hosts: frozenset[str]


GITHUB_COM = Site(DEFAULT_API_URL, "https", 443, frozenset({"github.com", "www.github.com"}),
                  frozenset({"github.com", "ssh.github.com"}))


def site_for_api(api_url: str) -> Site | None:
    """The GitHub whose API is at ``api_url`` (None when it is no http(s) URL)."""
    parts = urlsplit(api_url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host, path = parts.hostname.lower(), parts.path.rstrip("/")
    port = parts.port or DEFAULT_PORTS[scheme]
    if (scheme, host, port, path) == ("https", "api.github.com", 443, ""):
        return GITHUB_COM
    hosts = {host}
    if not path and host.startswith("api."):
        hosts.add(host[len("api."):])  # https://api.X serving https://X/OWNER/REPO, as github.com does
    # The API's path is kept in api_url and is not part of repository URLs: Enterprise Server serves
    # https://HOST/api/v3/repos/OWNER/REPO for https://HOST/OWNER/REPO, the emulator (API at the root)
    # http://HOST:PORT/repos/OWNER/REPO for http://HOST:PORT/OWNER/REPO.
    root = f"{scheme}://{parts.netloc.rpartition('@')[2]}{path}"
    return Site(root, scheme, port, frozenset(hosts), frozenset(hosts))


def _sites(environ: Mapping[str, str]) -> list[Site]:
    configured = environ.get(API_URL_VARIABLE)
    found = site_for_api(configured) if configured else None
    return [found, GITHUB_COM] if found is not None and found != GITHUB_COM else [GITHUB_COM]


def _split(repo_url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, path) of a repository URL; scheme ``ssh`` (port 0) for SSH remotes."""
    text = repo_url.strip()
    if "://" not in text:
        match = SCP_LIKE.match(text)
        return ("ssh", match["host"].lower(), 0, match["path"]) if match else None
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if not parts.hostname:
        return None
    if scheme in SSH_SCHEMES:
        return "ssh", parts.hostname.lower(), 0, parts.path
    if scheme in DEFAULT_PORTS:
        return scheme, parts.hostname.lower(), parts.port or DEFAULT_PORTS[scheme], parts.path
    return None


def _site_of(repo_url: str, environ: Mapping[str, str]) -> tuple[Site, str] | None:
    """The GitHub serving ``repo_url`` and the URL's path, or None when no GitHub dtm knows does."""
    split = _split(repo_url)
    if split is None:
        return None
    scheme, host, port, path = split
    for site in _sites(environ):
        if scheme == "ssh" and host in site.ssh_hosts:
            return site, path
        if (scheme, port) == (site.scheme, site.port) and host in site.hosts:
            return site, path
    return None


def shown(repo_url: str) -> str:
    """``repo_url`` for messages: any credentials in it (``https://TOKEN@host/...``) left out."""
    text = repo_url.strip()
    if "://" not in text:
        return text
    parts = urlsplit(text)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2], query="", fragment="").geturl()


@dataclass(frozen=True)
class Repository:
    site: Site
    owner: str
    name: str
    url: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def locate(repo_url: str, environ: Mapping[str, str]) -> Repository:
    """The repository ``repo_url`` names on the GitHub serving it; an error a user can act on if none."""
    url = shown(repo_url)
    try:
        found = _site_of(repo_url, environ)
    except ValueError:  # a port that is not a number, a malformed IPv6 host
        found = None
    if found is None:
        raise OperationError(
            f"{url} is not on a GitHub dtm can reach (github.com, or the host of {API_URL_VARIABLE})",
            hint=f"for GitHub Enterprise set {API_URL_VARIABLE}=https://HOST/api/v3 in dtm's environment")
    site, path = found
    parts = [unquote(part) for part in path.strip("/").split("/")]
    if len(parts) != 2 or not all(parts) or parts[1] in {".git", ".", ".."} or parts[0] in {".", ".."}:
        raise OperationError(f"{url} does not name a GitHub repository",
                             hint="give the repository's address, e.g. https://github.com/OWNER/REPO "
                             "or git@github.com:OWNER/REPO.git")
    return Repository(site, parts[0], parts[1].removesuffix(".git"), url)


def _token(given: Secret | None, environ: Mapping[str, str], repository: Repository, verb: str) -> str:
    """The asking tool's token, else GITHUB_TOKEN/GH_TOKEN — if they are for this repository's GitHub."""
    if given is not None and given.reveal():
        return given.reveal()
    names = [name for name in TOKEN_VARIABLES if environ.get(name)]
    if not names:
        raise OperationError(
            f"no GitHub token to {verb} {repository.url}: the asking tool passed none and neither "
            f"{' nor '.join(TOKEN_VARIABLES)} is set",
            hint="export GITHUB_TOKEN=... (a token with the repo scope, and workflow for files under "
            ".github/workflows/), or give the tool that asked a token")
    home_url = environ.get(API_URL_VARIABLE) or DEFAULT_API_URL
    try:
        home = site_for_api(home_url)
    except ValueError:
        home = None
    if home is None or home.api_url != repository.site.api_url:
        # A token GitHub Actions (or a user) set for one GitHub must not be sent to another.
        raise OperationError(
            f"{names[0]} is a token for {shown(home_url)} ({API_URL_VARIABLE}), not for "
            f"{repository.site.api_url} where {repository.url} is; dtm does not send it there",
            hint="give the tool that asked a token for that GitHub, or set "
            f"{API_URL_VARIABLE}={repository.site.api_url} and a token for it")
    return environ[names[0]]


def _client(repository: Repository, token: str, environ: Mapping[str, str],
            progress: Callable[[str], None]) -> GitHubClient:
    return GitHubClient(token, repository.site.api_url, progress=progress,
                        max_rate_limit_wait=max_wait(environ))


def _fetch(gh: GitHubClient, repository: Repository) -> dict[str, Any]:
    found = gh.find(repo_path(repository.owner, repository.name))
    if not isinstance(found, dict):
        raise OperationError(
            f"repository {repository.full_name} not found at {repository.url}",
            hint="create it first, or check the URL; a private repository also answers 404 to a token "
            "that may not see it")
    return found


def check_path(path: str, url: str) -> None:
    """A repository path: relative, with no empty, ``.`` or ``..`` parts (GitHub refuses those)."""
    if not isinstance(path, str) or any(part in {"", ".", ".."} for part in path.split("/")):
        raise OperationError(f"cannot write {path!r} to {url}: a path must be relative to the repository "
                             "root, without empty, '.' or '..' parts",
                             hint="write it as NAME or DIR/NAME, e.g. Jenkinsfile or ci/Jenkinsfile")


class GitHubSourceControl(SourceControl):
    """Commits and reads files of repositories on github.com and on the GitHub ``GITHUB_API_URL`` names."""

    name = "github"

    def handles(self, repo_url: str, environ: Mapping[str, str]) -> bool:
        try:
            return _site_of(repo_url, environ) is not None
        except ValueError:
            return False  # never let one odd URL break the core's routing

    def commit_files(self, request: CommitRequest) -> CommitResult:
        """Write ``request.files`` to the branch (the default one when unset) as one commit.

        Files already holding their content are left out; when none differs nothing is written
        and the result's ``commit`` is None. A branch that does not exist is created from the
        default branch (then ``commit`` is where it points, even when no file had to change).
        """
        repository = locate(request.repo_url, request.environ)
        for path in request.files:
            check_path(path, repository.url)
        if not request.files:
            return CommitResult(None)
        token = _token(request.token, request.environ, repository, "write to")
        progress = request.progress
        with _client(repository, token, request.environ, progress) as gh:
            found = _fetch(gh, repository)
            if found.get("archived"):
                raise OperationError(f"repository {found['full_name']} is archived, so read-only",
                                     hint="unarchive it on GitHub (Settings → Archive), then run again")
            # Renamed since? Reads follow GitHub's redirect, writes do not: write to the name it has now.
            owner, name = str(found["owner"]["login"]), str(found["name"])
            default = str(found.get("default_branch") or "main")
            branch = request.branch or default
            changed = self._changed(gh, owner, name, branch, default, request.files)
            if changed is None:
                progress(f"{owner}/{name}@{branch} already has {_count(request.files)}; nothing to commit")
                return CommitResult(None)
            if changed:
                progress(f"committing {_count(changed)} to {owner}/{name}@{branch}")
            commit = commit_files(gh, owner, name, branch, dict(request.files), request.message,
                                  start_from=default, progress=progress)
        if commit is None:
            return CommitResult(None)
        if changed:
            progress(f"committed {_count(changed)} to {owner}/{name}@{branch} ({commit[:7]})")
        return CommitResult(commit, tuple(changed))

    @staticmethod
    def _changed(gh: GitHubClient, owner: str, name: str, branch: str, default: str,
                 files: Mapping[str, bytes | None]) -> list[str] | None:
        """The paths whose content differs on the branch (its start point when it is new).

        None when there is nothing to do: no file differs on an existing branch, or an empty
        repository is only asked to delete.
        """
        head = branch_head(gh, owner, name, branch)
        base = head if head is not None or branch == default else branch_head(gh, owner, name, default)
        paths = sorted(files)
        current = file_shas(gh, owner, name, base, paths, branch if head else default) if base else {}
        changed = [path for path in paths
                   if (files[path] is None and current.get(path) is not None)
                   or (files[path] is not None and current.get(path) != blob_sha(files[path] or b""))]
        if not changed and (head is not None or base is None):
            return None
        return changed

    def read_file(self, repo_url: str, path: str, *, branch: str | None = None,
                  token: Secret | None = None, environ: Mapping[str, str] | None = None) -> bytes | None:
        """The content of ``path`` on ``branch`` (the default branch when None); None if it has none."""
        env = environ or {}
        repository = locate(repo_url, env)
        check_path(path, repository.url)
        secret = _token(token, env, repository, "read")
        with _client(repository, secret, env, lambda message: None) as gh:
            where = repo_path(repository.owner, repository.name, "contents", file_path(path))
            try:
                item = gh.find(where, params={"ref": branch} if branch else None)
            except GitHubError as exc:
                if exc.status == 403 and exc.mentions("too large"):
                    raise OperationError(f"{path} in {repository.full_name} is over 1 MB, more than GitHub's "
                                         "contents API returns",
                                         hint="read it from a clone instead") from None
                raise
            if item is None:
                # No such file, branch, or commit at all (an empty repository) — or no such repository.
                _fetch(gh, repository)
                return None
        if not isinstance(item, dict) or item.get("type") != "file":
            return None  # a directory, a submodule or a symlink: no file content to give
        return base64.b64decode(str(item.get("content") or ""))


def _count(files: Mapping[str, object] | list[str]) -> str:
    paths = sorted(files)
    return paths[0] if len(paths) == 1 else f"{len(paths)} files"
