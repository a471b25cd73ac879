"""Files as Git objects: blob shas, what a branch holds, and many file changes written as one commit.

dtm writes through the Git Data API (blobs, a tree on top of the branch's tree, a commit, a
ref update) rather than the contents API, which makes one commit per file. Nothing is visible
until the ref moves, so a write that loses a race with a push is simply redone on the new head.
GitHub refuses Git Data calls on an *empty* repository (no branch at all); there the first file
goes in with the contents API, which creates the branch, and the rest follow as one commit.
A write whose outcome dtm could not see (a lost connection, a 5xx) is not sent again blindly:
dtm reads the branch again and writes only what is still missing (a commit object made twice
stays unreferenced; the branch gets one).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dtm_core import OperationError, is_uncertain

from .client import GitHubClient, file_path, repo_path
from .errors import GitHubError

#: How often a commit is redone when someone pushes to the branch while dtm writes.
RACE_ATTEMPTS = 3
#: How often dtm looks again and rewrites after a write whose outcome it could not see.
UNCERTAIN_ATTEMPTS = 5


def blob_sha(content: bytes) -> str:
    """The id Git gives ``content`` as a blob: what trees and the contents API report."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass(frozen=True)
class Head:
    """Where a branch points: its commit and that commit's tree."""

    commit: str
    tree: str


def branch_head(client: GitHubClient, owner: str, repo: str, branch: str) -> Head | None:
    """The branch's head, or None when there is no such branch (or the repository is empty)."""
    # 409 is GitHub's answer for a repository with no commits at all.
    ref = client.find(repo_path(owner, repo, "git", "ref", "heads/" + file_path(branch)), missing=(404, 409))
    if ref is None or not isinstance(ref, dict):
        return None
    sha = str(ref["object"]["sha"])
    commit = client.get(repo_path(owner, repo, "git", "commits", sha))
    return Head(sha, str(commit["tree"]["sha"]))


def file_shas(client: GitHubClient, owner: str, repo: str, head: Head, paths: list[str],
              ref: str) -> dict[str, str | None]:
    """The blob sha of each of ``paths`` at ``head`` (None where missing), with one read when possible."""
    tree = client.get(repo_path(owner, repo, "git", "trees", head.tree), params={"recursive": "1"})
    if not tree.get("truncated"):
        blobs = {e["path"]: e["sha"] for e in tree.get("tree", []) if e.get("type") == "blob"}
        return {p: blobs.get(p) for p in paths}
    # A tree too big for one answer: ask for just our files instead.
    found: dict[str, str | None] = {}
    for path in paths:
        item = client.find(repo_path(owner, repo, "contents", file_path(path)), params={"ref": ref})
        found[path] = str(item["sha"]) if isinstance(item, dict) and item.get("type") == "file" else None
    return found


def _changes(current: Mapping[str, str | None], files: Mapping[str, bytes | None]) -> dict[str, bytes | None]:
    return {path: content for path, content in files.items()
            if (content is None and current.get(path) is not None)
            or (content is not None and current.get(path) != blob_sha(content))}


def commit_files(client: GitHubClient, owner: str, repo: str, branch: str,
                 files: Mapping[str, bytes | None], message: str, *, start_from: str | None = None,
                 progress: Callable[[str], None] = lambda m: None) -> str | None:
    """Write ``files`` (None deletes a path) to ``branch`` as one commit; None if nothing changed.

    Files already holding the wanted content are left out of the commit. A missing ``branch``
    is created from branch ``start_from`` (the repository's default branch).
    """
    races = uncertain = 0
    wrote: str | None = None  # the commit a ref write whose outcome is unknown pointed at
    while True:
        head = branch_head(client, owner, repo, branch)
        new_branch = head is None
        if head is None and start_from and start_from != branch:
            head = branch_head(client, owner, repo, start_from)
        if head is None:
            return _into_empty_repository(client, owner, repo, branch, files, message, progress)
        paths = sorted(files)
        changes = _changes(file_shas(client, owner, repo, head, paths, branch), files)
        if not changes and not new_branch:
            # After an uncertain write, finding the files in place means it landed: report its commit.
            return head.commit if wrote is not None else None
        commit = head.commit
        refs = repo_path(owner, repo, "git", "refs")
        try:
            if changes:
                commit = _commit(client, owner, repo, head, changes, message)
            if new_branch:
                progress(f"creating branch {branch} from {start_from}")
                client.post(refs, {"ref": f"refs/heads/{branch}", "sha": commit})
            else:
                client.patch(f"{refs}/heads/{file_path(branch)}", {"sha": commit, "force": False})
            return commit
        except GitHubError as exc:
            # Lost or 5xx: GitHub may have moved the branch. Look again (above) before writing again.
            if is_uncertain(exc) and uncertain < UNCERTAIN_ATTEMPTS:
                uncertain += 1
                wrote = commit
                progress(f"GitHub may or may not have written to {branch} ({exc.message}); looking again")
                continue
            # 422 "not a fast forward" (or the branch appeared meanwhile): someone pushed; redo on top.
            races += 1
            if exc.status != 422 or races == RACE_ATTEMPTS:
                raise
            progress(f"branch {branch} moved while dtm wrote to it; writing again on the new head")


def _commit(client: GitHubClient, owner: str, repo: str, head: Head, changes: Mapping[str, bytes | None],
            message: str) -> str:
    entries = []
    for path, content in sorted(changes.items()):
        sha = None
        if content is not None:
            # Blobs and trees are named by their content: sending one twice makes nothing new.
            blob = client.post(repo_path(owner, repo, "git", "blobs"),
                               {"content": base64.b64encode(content).decode(), "encoding": "base64"},
                               idempotent=True)
            sha = str(blob["sha"])
        entries.append({"path": path, "mode": "100644", "type": "blob", "sha": sha})
    tree = client.post(repo_path(owner, repo, "git", "trees"), {"base_tree": head.tree, "tree": entries},
                       idempotent=True)
    commit = client.post(repo_path(owner, repo, "git", "commits"),
                         {"message": message, "tree": tree["sha"], "parents": [head.commit]})
    return str(commit["sha"])


def _into_empty_repository(client: GitHubClient, owner: str, repo: str, branch: str,
                           files: Mapping[str, bytes | None], message: str,
                           progress: Callable[[str], None]) -> str | None:
    written = {p: c for p, c in sorted(files.items()) if c is not None}
    if not written:
        return None
    if branch_head(client, owner, repo, branch) is None and _has_branches(client, owner, repo):
        raise OperationError(f"branch {branch} does not exist in {owner}/{repo}",
                             hint="create the branch first, or leave branch unset to use the "
                             "repository's default branch")
    first, content = next(iter(written.items()))
    progress(f"{owner}/{repo} is empty; its first commit adds {first}")
    done = client.put(repo_path(owner, repo, "contents", file_path(first)),
                      {"message": message, "content": base64.b64encode(content).decode(), "branch": branch})
    rest = {p: c for p, c in written.items() if p != first}
    if not rest:
        return str(done["commit"]["sha"])
    return commit_files(client, owner, repo, branch, rest, message, progress=progress) or str(
        done["commit"]["sha"])


def _has_branches(client: GitHubClient, owner: str, repo: str) -> bool:
    repository = client.get(repo_path(owner, repo))
    return branch_head(client, owner, repo, str(repository.get("default_branch") or "main")) is not None
