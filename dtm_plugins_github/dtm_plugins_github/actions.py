"""The ``github-actions`` tool: workflow files committed to a repository, and its Actions secrets.

dtm records the git blob sha of every file it wrote. ``read`` compares those with the branch:
a file edited or deleted on GitHub is drift, line by line, and the next apply writes back only
the files that differ, in one commit. Secret values are sealed for GitHub and never recorded;
only their names are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dtm_core import GONE, Live, OperationError, Option, OutputSpec, ReadResult, ToolContext, ToolKind

from .actions_secrets import check_names, delete_secrets, secret_names, set_secrets
from .client import GitHubClient, repo_path
from .connection import API_URL, TOKEN, client_for, reveal
from .gitdata import blob_sha, branch_head, commit_files, file_shas
from .workflows import LANGUAGES, check_image, workflow_files


def _location(ctx: ToolContext) -> tuple[str, str, str | None]:
    """Owner, repository and branch dtm last wrote to; the options' before the first write."""
    recorded = ctx.outputs
    if recorded.get("owner") and recorded.get("repo"):
        return str(recorded["owner"]), str(recorded["repo"]), recorded.get("branch")
    return str(ctx.options["owner"]), str(ctx.options["repo"]), ctx.options.get("branch")


def _secret_values(ctx: ToolContext) -> dict[str, str]:
    """The secrets option resolved: name (upper-case, as GitHub keeps it) to value."""
    refs: Mapping[str, Any] = ctx.options.get("secrets") or {}
    check_names(refs)
    values: dict[str, str] = {}
    for name, ref in refs.items():
        value = reveal(ctx, ref)
        if value is None:
            raise OperationError(f"secrets.{name}: its reference could not be resolved",
                                 hint="give each secret as a reference such as env:NAME or file:PATH")
        values[name.upper()] = value
    return values


class GitHubActions(ToolKind):
    name = "github-actions"
    description = "GitHub Actions workflows (lint, test, build, image) and secrets, kept in sync."
    options = (
        Option("owner", required=True, description="user or organisation owning the repository"),
        Option("repo", required=True, description="repository the workflows are committed to"),
        Option("branch", description="branch the workflow files live on; the repository's default "
               "branch when unset (created from it when missing)"),
        Option("language", required=True, choices=LANGUAGES,
               description="selects the lint and CI workflow templates"),
        Option("image", description="also build and push a container image with this name on every "
               "push, e.g. ghcr.io/OWNER/NAME (needs a Dockerfile)"),
        Option("secrets", "mapping", items=Option("value", secret=True),
               description="Actions secrets to set, NAME: reference (env:NAME, file:PATH)"),
        API_URL,
        TOKEN,
    )
    outputs = (
        OutputSpec("owner", "user or organisation owning the repository"),
        OutputSpec("repo", "repository the workflows are in"),
        OutputSpec("branch", "branch the workflow files are on"),
        OutputSpec("workflows", "paths of the workflow files dtm manages"),
        OutputSpec("files", "git blob sha of each file as dtm wrote it (for drift)"),
        OutputSpec("actions_url", "web address of the repository's Actions tab"),
        OutputSpec("secrets", "names of the Actions secrets dtm set (never their values)"),
    )

    def create(self, ctx: ToolContext) -> dict[str, Any]:
        return self._converge(ctx)

    def update(self, ctx: ToolContext, live: Live) -> dict[str, Any]:
        return self._converge(ctx)

    def _converge(self, ctx: ToolContext) -> dict[str, Any]:
        """Write the files that differ (one commit), set the secrets, drop what is no longer wanted."""
        values = _secret_values(ctx)
        image = ctx.options.get("image")
        if image:
            check_image(str(image), set(values))
        owner, name = str(ctx.options["owner"]), str(ctx.options["repo"])
        with client_for(ctx) as gh:
            repository = gh.find(repo_path(owner, name))
            if repository is None:
                raise OperationError(f"repository {owner}/{name} not found",
                                     hint="create it first (the github-repo tool does), or check owner "
                                     "and repo, and that the token may see it")
            owner, name = repository["owner"]["login"], repository["name"]
            default = str(repository.get("default_branch") or "main")
            branch = str(ctx.options.get("branch") or default)
            files = workflow_files(str(ctx.options["language"]), branch=branch, address=ctx.address,
                                   image=str(image) if image else None)
            same_repo, same_branch = self._where_before(ctx, gh, repository, branch)
            previous = list(ctx.outputs.get("workflows") or []) if same_repo and same_branch else []
            writes: dict[str, bytes | None] = {**{p: None for p in previous if p not in files}, **files}
            verb = "Update" if ctx.outputs.get("files") else "Add"
            commit = commit_files(gh, owner, name, branch, writes,
                                  f"{verb} CI workflows\n\nWritten by dtm ({ctx.address}).",
                                  start_from=default, progress=ctx.progress)
            if commit:
                ctx.progress(f"committed workflows to {owner}/{name}@{branch} ({commit[:7]})")
            set_secrets(gh, owner, name, values, ctx.progress)
            recorded_secrets = {s.upper() for s in ctx.outputs.get("secrets") or []}
            old_owner, old_repo, old_branch = _location(ctx)
            if not (same_repo and same_branch):
                # The options now name another branch or repository: take dtm's files from the old one,
                # and its secrets too when that is another repository.
                self._remove(ctx, gh, old_owner, old_repo, old_branch,
                             secrets=set() if same_repo else recorded_secrets)
            if same_repo:
                delete_secrets(gh, owner, name, recorded_secrets - set(values), ctx.progress)
        return {"owner": owner, "repo": name, "branch": branch, "workflows": sorted(files),
                "files": {path: blob_sha(content) for path, content in sorted(files.items())},
                "actions_url": f"{repository.get('html_url')}/actions", "secrets": sorted(values)}

    @staticmethod
    def _where_before(ctx: ToolContext, gh: GitHubClient, repository: dict[str, Any],
                      branch: str) -> tuple[bool, bool]:
        """Whether dtm last wrote to this same repository, and to this same branch of it.

        Names are compared first; differing names may still be this repository (renamed since),
        which GitHub resolves by redirect: its id tells.
        """
        if not ctx.outputs.get("owner"):
            return True, True  # nothing written yet
        old_owner, old_repo, old_branch = _location(ctx)
        same = (old_owner.lower(), old_repo.lower()) == (str(repository["owner"]["login"]).lower(),
                                                         str(repository["name"]).lower())
        if not same:
            old = gh.find(repo_path(old_owner, old_repo))
            same = old is not None and old.get("id") == repository.get("id")
        return same, same and old_branch == branch

    def read(self, ctx: ToolContext) -> ReadResult:
        owner, name, branch = _location(ctx)
        recorded: Mapping[str, str] = ctx.outputs.get("files") or {}
        with client_for(ctx) as gh:
            repository = gh.find(repo_path(owner, name))
            if repository is None:
                return GONE  # the repository went, and the workflows with it
            owner, name = repository["owner"]["login"], repository["name"]  # renamed since, perhaps
            branch = branch or str(repository.get("default_branch") or "main")
            head = branch_head(gh, owner, name, branch)
            paths = sorted(recorded)
            live = file_shas(gh, owner, name, head, paths, branch) if head and paths else {}
            present = secret_names(gh, owner, name) if ctx.outputs.get("secrets") else set()
        drift = []
        for path in paths:
            if live.get(path) is None:
                drift.append(f"{path} is missing")
            elif live[path] != recorded[path]:
                drift.append(f"{path} changed on GitHub")
        drift += [f"secret {s} is missing" for s in ctx.outputs.get("secrets") or []
                  if s.upper() not in present]
        return Live(observed={}, drift=drift,
                    outputs={**ctx.outputs, "actions_url": f"{repository.get('html_url')}/actions"})

    def delete(self, ctx: ToolContext) -> None:
        owner, name, branch = _location(ctx)
        with client_for(ctx) as gh:
            self._remove(ctx, gh, owner, name, branch,
                         secrets={s.upper() for s in ctx.outputs.get("secrets") or []})

    @staticmethod
    def _remove(ctx: ToolContext, gh: GitHubClient, owner: str, name: str, branch: str | None, *,
                secrets: set[str]) -> None:
        """Remove the files dtm wrote (one commit) and ``secrets``; what is gone stays gone."""
        repository = gh.find(repo_path(owner, name))
        if repository is None:
            return
        # Renamed since? Reads follow GitHub's redirect, writes do not: write to the name it has now.
        owner, name = repository["owner"]["login"], repository["name"]
        branch = branch or str(repository.get("default_branch") or "main")
        paths = list(ctx.outputs.get("workflows") or [])
        if paths and branch_head(gh, owner, name, branch) is not None:
            commit = commit_files(gh, owner, name, branch, dict.fromkeys(paths),
                                  f"Remove CI workflows\n\nRemoved by dtm ({ctx.address}).",
                                  progress=ctx.progress)
            if commit:
                ctx.progress(f"removed {len(paths)} workflow files from {owner}/{name}@{branch}")
        delete_secrets(gh, owner, name, secrets, ctx.progress)
