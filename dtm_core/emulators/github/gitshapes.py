"""REST representations of git data: commits (git and repository flavours), trees, refs, branches."""

from __future__ import annotations

from typing import Any

from .model import Repo, World
from .shapes import node_id, simple_user

UNSIGNED = {"verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None}


def api(repo: Repo, root: str) -> str:
    return f"{root}/repos/{repo.full_name}"


def html(repo: Repo, root: str) -> str:
    return f"{root}/{repo.full_name}"


def git_commit(repo: Repo, sha: str, root: str) -> dict[str, Any]:
    """``git-commit``: the commit object as the Git Data API shows it."""
    commit = repo.objects.commits[sha]
    base = api(repo, root)
    return {
        "sha": sha, "node_id": node_id("Commit", int(sha[:7], 16)), "url": f"{base}/git/commits/{sha}",
        "html_url": f"{html(repo, root)}/commit/{sha}", "author": commit.author.shape(),
        "committer": commit.committer.shape(), "message": commit.message,
        "tree": {"sha": commit.tree, "url": f"{base}/git/trees/{commit.tree}"},
        "parents": [{"sha": parent, "url": f"{base}/git/commits/{parent}",
                     "html_url": f"{html(repo, root)}/commit/{parent}"} for parent in commit.parents],
        "verification": dict(UNSIGNED),
    }


def _account_for(world: World, email: str, root: str) -> dict[str, Any]:
    """The GitHub user behind a commit email (its noreply address), or ``{}`` as GitHub answers."""
    for account in world.accounts.values():
        if email.lower() == f"{account.id}+{account.login}@users.noreply.github.com".lower():
            return simple_user(account, root)
    return {}


def repo_commit(repo: Repo, sha: str, root: str, world: World) -> dict[str, Any]:
    """``commit``: the repository-level view of a commit (used inside a branch)."""
    commit = repo.objects.commits[sha]
    base = api(repo, root)
    return {
        "url": f"{base}/commits/{sha}", "sha": sha, "node_id": node_id("Commit", int(sha[:7], 16)),
        "html_url": f"{html(repo, root)}/commit/{sha}", "comments_url": f"{base}/commits/{sha}/comments",
        "commit": {"url": f"{base}/git/commits/{sha}", "author": commit.author.shape(),
                   "committer": commit.committer.shape(), "message": commit.message, "comment_count": 0,
                   "tree": {"sha": commit.tree, "url": f"{base}/git/trees/{commit.tree}"},
                   "verification": dict(UNSIGNED)},
        "author": _account_for(world, commit.author.email, root),
        "committer": _account_for(world, commit.committer.email, root),
        "parents": [{"sha": parent, "url": f"{base}/commits/{parent}",
                     "html_url": f"{html(repo, root)}/commit/{parent}"} for parent in commit.parents],
    }


def file_commit_commit(repo: Repo, sha: str, root: str) -> dict[str, Any]:
    """The ``commit`` half of ``file-commit`` (what the contents API answers writes with)."""
    shape = git_commit(repo, sha, root)
    return {key: shape[key] for key in ("sha", "node_id", "url", "html_url", "author", "committer", "message",
                                        "tree", "parents", "verification")}


def git_ref(repo: Repo, ref: str, root: str) -> dict[str, Any]:
    sha = repo.refs[ref]
    kind = repo.objects.kind(sha) or "commit"
    return {"ref": ref, "node_id": node_id("Ref", sum(map(ord, repo.full_name + ref))),
            "url": f"{api(repo, root)}/git/{ref}",
            "object": {"type": kind, "sha": sha, "url": f"{api(repo, root)}/git/{kind}s/{sha}"}}


def git_tree(repo: Repo, sha: str, root: str, recursive: bool) -> dict[str, Any]:
    base = api(repo, root)
    entries = []
    for path, entry in repo.objects.walk(sha, recursive):
        item: dict[str, Any] = {"path": path, "mode": entry.mode, "type": entry.kind, "sha": entry.sha}
        if entry.kind == "blob":
            item["size"] = repo.objects.blob_size(entry.sha)
        if entry.kind != "commit":  # submodule commits live in another repository: no URL
            item["url"] = f"{base}/git/{entry.kind}s/{entry.sha}"
        entries.append(item)
    return {"sha": sha, "url": f"{base}/git/trees/{sha}", "tree": entries, "truncated": False}


def branch(repo: Repo, name: str, root: str, world: World) -> dict[str, Any]:
    """``branch-with-protection`` for an unprotected branch, as GitHub shows one."""
    base = api(repo, root)
    return {
        "name": name, "commit": repo_commit(repo, repo.refs["refs/heads/" + name], root, world),
        "_links": {"self": f"{base}/branches/{name}", "html": f"{html(repo, root)}/tree/{name}"},
        "protected": False,
        "protection": {"enabled": False,
                       "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []}},
        "protection_url": f"{base}/branches/{name}/protection",
    }
