"""The ``github-repo`` tool: a repository created, read back, changed in place, archived or deleted.

What DevStream's users lost is what this module guards: a repository deleted by hand is GONE
(the next apply creates it again), an update never deletes (settings are PATCHed in place, so
commits stay), and a repository dtm did not create is never deleted, nor taken over unless
the user says ``adopt: true``. One that a killed run created before it could record it is
dtm's own: ``dtm recover`` finishes it, ``dtm recover --rollback`` removes it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dtm_core import (
    GONE,
    Live,
    OperationError,
    Option,
    OutputSpec,
    ReadResult,
    ToolContext,
    ToolKind,
    create_once,
)

from .client import GitHubClient, repo_path, segment
from .connection import API_URL, TOKEN, client_for
from .errors import GitHubError, scope_error
from .gitdata import branch_head, commit_files
from .starters import LANGUAGES, starter_files

#: How long to wait for GitHub to write a new repository's first commit (template copies are async).
FIRST_COMMIT_TIMEOUT = 60.0
POLL_INTERVAL = 0.5


def _same(live: str, wanted: Any) -> Any:
    """GitHub names are case-insensitive: report the user's spelling when they match."""
    return wanted if isinstance(wanted, str) and live.lower() == wanted.lower() else live


def _where(ctx: ToolContext) -> tuple[str, str]:
    """The repository dtm recorded (it follows renames), else the one the options name."""
    return (str(ctx.outputs.get("owner") or ctx.options["owner"]),
            str(ctx.outputs.get("name") or ctx.options["name"]))


def _outputs(repo: dict[str, Any], created_by_dtm: bool) -> dict[str, Any]:
    return {"owner": repo["owner"]["login"], "name": repo["name"], "html_url": repo.get("html_url"),
            "clone_url": repo.get("clone_url"), "default_branch": repo.get("default_branch"),
            "created_by_dtm": created_by_dtm}


def observed(repo: dict[str, Any], options: Any) -> dict[str, Any]:
    """The live settings, named as the options that set them."""
    description = repo.get("description")
    if not description and not options.get("description"):
        description = options.get("description")  # GitHub says null for the "" a user wrote
    return {
        "owner": _same(repo["owner"]["login"], options.get("owner")),
        "name": _same(repo["name"], options.get("name")),
        "visibility": repo.get("visibility") or ("private" if repo.get("private") else "public"),
        "description": description,
        "default_branch": repo.get("default_branch"),
    }


def _as_asked(found: dict[str, Any] | None, body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The repository an interrupted create made, if it is the one asked for (else None)."""
    if found is None or found["name"].lower() != str(body["name"]).lower():
        return None
    if bool(found.get("private")) != bool(body["private"]):
        return None
    if "description" in body and (found.get("description") or "") != (body["description"] or ""):
        return None
    return dict(found)


def _asked(options: Mapping[str, Any], name: str) -> dict[str, Any]:
    """What a create sends GitHub for these options: also what a killed create's repository shows."""
    body: dict[str, Any] = {"name": name, "private": options["visibility"] == "private"}
    if options.get("description") is not None:
        body["description"] = options["description"]
    return body


def _made_by_killed_run(repo: dict[str, Any], ctx: ToolContext, name: str) -> bool:
    """Whether ``repo`` is the one a killed create of this instance made: created since that run
    began, and as it asked. Someone else's repository of that name, made in the meantime, is not."""
    return _made_since(repo, ctx.resuming_since) and _as_asked(repo, _asked(ctx.options, name)) is not None


def _made_since(repo: dict[str, Any], since: str | None) -> bool:
    """Whether ``repo`` was created at or after ``since`` (an interrupted run's start).

    Both times have second precision. A GitHub clock behind ours only makes dtm treat its own
    repository as someone else's: archived rather than deleted, the safe side.
    """
    if since is None or not repo.get("created_at"):
        return False
    return _moment(str(repo["created_at"])) >= _moment(since)


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _taken(owner: str, name: str, repo: dict[str, Any]) -> OperationError:
    archived = " (archived)" if repo.get("archived") else ""
    return OperationError(
        f"repository {owner}/{name} exists{archived} and dtm did not create it",
        hint="choose another name, or set adopt: true to manage the existing repository "
        "(dtm then never deletes it)")


class GitHubRepo(ToolKind):
    name = "github-repo"
    description = "A GitHub repository under a user or organisation, optionally from a template."
    options = (
        Option("owner", required=True, description="user or organisation owning the repository"),
        Option("name", required=True, description="repository name"),
        Option("visibility", default="private", choices=("public", "private")),
        Option("description", description="one-line description shown on GitHub"),
        Option("default_branch", default="main", description="the repository's default branch"),
        Option("template", description="create from this template repository, given as OWNER/NAME"),
        Option("language", choices=LANGUAGES,
               description="commit starter files for python, go or node when creating the repository"),
        Option("delete_mode", default="archive", choices=("archive", "delete"),
               description="what removing the instance does: archive the repository, or delete it "
               "(only one dtm created)"),
        Option("adopt", "boolean", default=False,
               description="manage a repository of this name that already exists instead of refusing "
               "(dtm never deletes an adopted repository)"),
        API_URL,
        TOKEN,
    )
    outputs = (
        OutputSpec("owner", "user or organisation owning the repository"),
        OutputSpec("name", "repository name"),
        OutputSpec("html_url", "web address of the repository"),
        OutputSpec("clone_url", "HTTPS clone address"),
        OutputSpec("default_branch", "the repository's default branch"),
        OutputSpec("created_by_dtm", "whether dtm created the repository (only then may it delete it)"),
    )

    # -- create ----------------------------------------------------------------------------

    def create(self, ctx: ToolContext) -> dict[str, Any]:
        owner, name = str(ctx.options["owner"]), str(ctx.options["name"])
        with client_for(ctx) as gh:
            existing = gh.find(repo_path(owner, name))
            # A renamed repository's old name answers with the new one; the old name is free.
            if existing is not None and existing["full_name"].lower() == f"{owner}/{name}".lower():
                if _made_by_killed_run(existing, ctx, name):
                    # A killed run created it and was cut off before recording it: it is
                    # dtm's own, perhaps still without its first commit or starter files.
                    ctx.progress(f"finishing {existing['full_name']}, which an interrupted run created")
                    return _outputs(self._finish(ctx, gh, existing), created_by_dtm=True)
                if not ctx.options["adopt"]:
                    raise _taken(owner, name, existing)
                ctx.progress(f"adopting the existing repository {existing['full_name']}")
                return _outputs(self._converge(ctx, gh, existing), created_by_dtm=False)
            mine = self._owner_is_me(gh, owner)
            repo = self._create(ctx, gh, owner, name, mine)
            try:
                repo = self._finish(ctx, gh, repo)
            except OperationError as exc:
                exc.hint = (f"{repo['full_name']} was created but not finished; run again with adopt: "
                            f"true to finish it ({exc.hint or 'see the error above'})")
                raise
        return _outputs(repo, created_by_dtm=True)

    @staticmethod
    def _owner_is_me(gh: GitHubClient, owner: str) -> bool:
        """True for the token's own account, False for an organisation; an error for anything else."""
        try:
            login: str | None = str(gh.get("/user")["login"])
        except GitHubError as exc:
            if exc.status != 403:
                raise
            login = None  # an installation token (GITHUB_TOKEN in Actions) belongs to no user
        if login is not None and login.lower() == owner.lower():
            return True
        if gh.find(f"/orgs/{segment(owner)}") is None:
            whose = f"the token belongs to {login}" if login else "the token belongs to no user"
            raise OperationError(f"owner {owner} not found (no organisation of that name, and {whose})",
                                 hint=f"owner must be {login or 'your login'} or an organisation "
                                 f"{login or 'you'} belong{'s' if login else ''} to; check the spelling")
        return False

    def _create(self, ctx: ToolContext, gh: GitHubClient, owner: str, name: str,
                mine: bool) -> dict[str, Any]:
        options = ctx.options
        body = _asked(options, name)
        template = options.get("template")
        try:
            if template:
                t_owner, _, t_name = str(template).partition("/")
                if not t_owner or not t_name or "/" in t_name:
                    raise OperationError(f"template {template!r} is not OWNER/NAME",
                                         hint="name the template repository as OWNER/NAME, e.g. acme/tmpl")
                ctx.progress(f"creating {owner}/{name} from template {template}")
                return create_once(
                    lambda: dict(gh.post(f"/repos/{segment(t_owner)}/{segment(t_name)}/generate",
                                         {"owner": owner, **body})),
                    lambda: _as_asked(gh.find(repo_path(owner, name)), body),
                    what=f"creating {owner}/{name}", progress=ctx.progress)
            ctx.progress(f"creating repository {owner}/{name}")
            # auto_init: GitHub's Git Data API refuses an empty repository, and dtm commits through it.
            return create_once(
                lambda: dict(gh.post("/user/repos" if mine else f"/orgs/{segment(owner)}/repos",
                                     {**body, "auto_init": True})),
                lambda: _as_asked(gh.find(repo_path(owner, name)), body),
                what=f"creating {owner}/{name}", progress=ctx.progress)
        except GitHubError as exc:
            if exc.status == 422 and exc.mentions("already exists"):
                raise _taken(owner, name, {}) from None
            if template and exc.status == 404:
                raise OperationError(f"template repository {template} not found",
                                     hint="check its name, and that the token may read it") from None
            if template and exc.status == 422:
                raise OperationError(f"cannot create {owner}/{name} from {template}: {exc.message}",
                                     hint=f"mark {template} as a template repository in its settings, "
                                     "or leave template unset") from None
            if exc.status == 404:
                raise OperationError(f"owner {owner} not found",
                                     hint="check the spelling, and that the token's user belongs "
                                     "to it") from None
            raise

    def _finish(self, ctx: ToolContext, gh: GitHubClient, repo: dict[str, Any]) -> dict[str, Any]:
        """Wait for the first commit, move to the wanted default branch, commit starter files."""
        owner, name = repo["owner"]["login"], repo["name"]
        self._wait_for_first_commit(ctx, gh, owner, name, str(repo.get("default_branch") or "main"))
        repo = self._ensure_default_branch(ctx, gh, repo)
        language = ctx.options.get("language")
        if language:
            files = starter_files(str(language), owner=owner, name=name,
                                  description=ctx.options.get("description"),
                                  html_url=repo.get("html_url") or "")
            ctx.progress(f"committing {len(files)} {language} starter files")
            commit_files(gh, owner, name, str(repo["default_branch"]), files,
                         f"Add {language} starter files\n\nWritten by dtm ({ctx.address}).",
                         progress=ctx.progress)
        return repo

    @staticmethod
    def _wait_for_first_commit(ctx: ToolContext, gh: GitHubClient, owner: str, name: str,
                               branch: str) -> None:
        deadline = time.monotonic() + FIRST_COMMIT_TIMEOUT
        while branch_head(gh, owner, name, branch) is None:
            if time.monotonic() >= deadline:
                raise OperationError(f"GitHub did not write the first commit of {owner}/{name} within "
                                     f"{FIRST_COMMIT_TIMEOUT:g} s", hint="look at the repository on GitHub")
            ctx.progress(f"waiting for GitHub to write the first commit of {owner}/{name}")
            time.sleep(POLL_INTERVAL)

    @staticmethod
    def _ensure_default_branch(ctx: ToolContext, gh: GitHubClient, repo: dict[str, Any]) -> dict[str, Any]:
        wanted = str(ctx.options["default_branch"])
        current = str(repo.get("default_branch") or "")
        if current == wanted:
            return repo
        owner, name = repo["owner"]["login"], repo["name"]
        if branch_head(gh, owner, name, wanted) is None:
            head = branch_head(gh, owner, name, current)
            if head is None:
                raise OperationError(f"cannot create branch {wanted} in {owner}/{name}: it has no commits",
                                     hint="push a first commit, then apply again")
            ctx.progress(f"creating branch {wanted} from {current}")
            gh.post(repo_path(owner, name, "git", "refs"),
                    {"ref": f"refs/heads/{wanted}", "sha": head.commit})
        ctx.progress(f"making {wanted} the default branch of {owner}/{name}")
        return dict(gh.patch(repo_path(owner, name), {"default_branch": wanted}, idempotent=True))

    # -- read ------------------------------------------------------------------------------

    def read(self, ctx: ToolContext) -> ReadResult:
        owner, name = _where(ctx)
        with client_for(ctx) as gh:
            repo = gh.find(repo_path(owner, name))
        if repo is None:
            return GONE  # deleted behind dtm's back: the next apply creates it again
        drift = []
        if repo.get("archived"):
            # An archived repository is read-only: github-actions could not commit to it.
            drift.append(f"repository {repo['full_name']} is archived on GitHub; apply unarchives it")
        return Live(observed=observed(repo, ctx.options), drift=drift,
                    outputs=_outputs(repo, bool(ctx.outputs.get("created_by_dtm"))))

    # -- update ----------------------------------------------------------------------------

    def update(self, ctx: ToolContext, live: Live) -> dict[str, Any]:
        owner, name = _where(ctx)
        with client_for(ctx) as gh:
            repo = gh.find(repo_path(owner, name))
            if repo is None:
                raise OperationError(f"repository {owner}/{name} disappeared while dtm was updating it",
                                     hint="run dtm apply again: it creates the repository anew")
            repo = self._converge(ctx, gh, repo)
        return _outputs(repo, bool(ctx.outputs.get("created_by_dtm")))

    def _converge(self, ctx: ToolContext, gh: GitHubClient, repo: dict[str, Any]) -> dict[str, Any]:
        """PATCH what differs from the options, in place; never anything that loses commits."""
        options = ctx.options
        live_owner = repo["owner"]["login"]
        if live_owner.lower() != str(options["owner"]).lower():
            raise OperationError(
                f"repository {repo['full_name']} belongs to {live_owner}, not {options['owner']}; dtm does "
                "not move repositories between owners",
                hint="transfer it on GitHub (Settings → Transfer ownership), then run dtm apply again")
        path = repo_path(live_owner, repo["name"])
        if repo.get("archived"):
            ctx.progress(f"unarchiving {repo['full_name']}")
            repo = dict(gh.patch(path, {"archived": False}, idempotent=True))
        changes: dict[str, Any] = {}
        if repo["name"].lower() != str(options["name"]).lower():
            changes["name"] = options["name"]
        private = options["visibility"] == "private"
        if bool(repo.get("private")) != private:
            changes["private"] = private
        description = options.get("description")
        if description is not None and (repo.get("description") or "") != description:
            changes["description"] = description
        if changes:
            ctx.progress(f"changing {', '.join(sorted(changes))} of {repo['full_name']}")
            repo = dict(gh.patch(path, changes, idempotent=True))
        return self._ensure_default_branch(ctx, gh, repo)

    # -- delete ----------------------------------------------------------------------------

    def delete(self, ctx: ToolContext) -> None:
        owner, name = _where(ctx)
        with client_for(ctx) as gh:
            repo = gh.find(repo_path(owner, name))
            if repo is None:
                return  # already gone
            full = repo["full_name"]
            path = repo_path(repo["owner"]["login"], repo["name"])
            made_by_killed_run = _made_by_killed_run(repo, ctx, name)
            if ctx.resuming_since is not None and not made_by_killed_run:
                # Undoing a create a killed run began, but this repository is older, or not as
                # that create asked: someone else's.
                ctx.progress(f"{full} is not what the interrupted create made: leaving it as it is")
                return
            if ctx.options["delete_mode"] == "delete":
                # Undoing a create a killed run began: nothing was recorded, yet dtm made it.
                if ctx.outputs.get("created_by_dtm") or made_by_killed_run:
                    ctx.progress(f"deleting repository {full}")
                    try:
                        gh.delete(path)
                    except GitHubError as exc:
                        # GitHub names only `repo` as accepted here (cli/cli#4566): check the token's own.
                        if exc.status == 403 and exc.scopes is not None and "delete_repo" not in exc.scopes:
                            raise scope_error(["delete_repo"], exc.scopes, f"DELETE /repos/{full}",
                                              403) from None
                        raise
                    return
                ctx.progress(f"dtm did not create {full}: archiving it instead of deleting it")
            if not repo.get("archived"):
                ctx.progress(f"archiving repository {full}")
                gh.patch(path, {"archived": True}, idempotent=True)
