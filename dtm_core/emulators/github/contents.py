"""The contents API (read, create, update and delete one file per commit) and ``GET branches/{branch}``."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from . import errors
from .call import Call, Reply
from .gitobjects import Entry, Person, parse_time
from .gitshapes import api, branch, file_commit_commit, html
from .model import PULL, PUSH, Repo

WORKFLOWS_DIR = ".github/workflows/"
LARGE_FILE = 1024 * 1024  # above this GitHub leaves ``content`` empty (encoding "none")
OBJECT_MEDIA = "application/vnd.github.object"
RAW_MEDIA = "application/vnd.github.raw"
TOO_LARGE = ("This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the "
             "API, but you can use the Git Data API to request blobs up to 100 MB in size.")


def is_workflow(path: str) -> bool:
    return path.lstrip("/").startswith(WORKFLOWS_DIR)


def require_workflow_scope(call: Call, paths: set[str] | list[str]) -> None:
    """Workflow files need the ``workflow`` scope; without it GitHub answers 404 (octokit.rb#1184)."""
    if any(is_workflow(path) for path in paths) and not call.has_scope("workflow"):
        call.accepted = ("workflow",)
        raise errors.not_found(call.docs)


def wrap64(data: bytes) -> str:
    """Base64 in 60-character lines with a final newline, the way GitHub sends file contents."""
    text = base64.b64encode(data).decode()
    return "".join(text[i:i + 60] + "\n" for i in range(0, len(text), 60))


def entry_shape(repo: Repo, root: str, path: str, entry: Entry, ref: str, *, content: bool) -> dict[str, Any]:
    file_kind = "symlink" if entry.mode == "120000" else "file"
    kind = {"tree": "dir", "commit": "submodule"}.get(entry.kind, file_kind)
    base = api(repo, root)
    url = f"{base}/contents/{quote(path)}?ref={quote(ref, safe='')}"
    git_url = None if kind == "submodule" else f"{base}/git/{entry.kind}s/{entry.sha}"
    html_url = f"{html(repo, root)}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{path}"
    download = f"{html(repo, root)}/raw/{ref}/{path}" if kind in ("file", "symlink") else None
    data = repo.objects.blobs.get(entry.sha, b"")
    shape: dict[str, Any] = {
        "type": kind, "size": len(data) if entry.kind == "blob" else 0, "name": path.rsplit("/", 1)[-1],
        "path": path, "sha": entry.sha, "url": url, "git_url": git_url, "html_url": html_url,
        "download_url": download, "_links": {"self": url, "git": git_url, "html": html_url},
    }
    if content and kind == "file":
        large = len(data) > LARGE_FILE
        shape.update({"content": "" if large else wrap64(data), "encoding": "none" if large else "base64"})
    elif content and kind == "symlink":
        shape["target"] = data.decode(errors="replace")
    elif content and kind == "submodule":
        shape["submodule_git_url"] = f"{html(repo, root)}/{entry.sha}.git"
    return shape


def get_contents(call: Call) -> Reply:
    repo = call.repo(PULL)
    path = call.params.get("path", "").strip("/")
    if repo.empty:
        raise errors.not_found(call.docs, "This repository is empty.")
    ref = call.query.get("ref") or repo.default_branch
    head = repo.resolve(ref)
    if head is None:
        raise errors.not_found(call.docs, f"No commit found for the ref {ref}")
    entry = repo.objects.lookup(repo.tree_of(head), path)
    if entry is None:
        raise errors.not_found(call.docs)
    accept = call.headers.get("Accept", "")
    if RAW_MEDIA in accept and entry.kind == "blob":
        return Reply(200, repo.objects.blobs[entry.sha], content_type=RAW_MEDIA + "; charset=utf-8",
                     headers={"X-GitHub-Media-Type": "github.v3; param=raw"})
    if entry.kind == "tree":
        listing = [entry_shape(repo, call.root, f"{path}/{name}".lstrip("/"), child, ref, content=False)
                   for name, child in sorted(repo.objects.trees[entry.sha].items())]
        if call.version < "2026-03-10":  # until then listings call submodules "file" (a breaking change)
            for item in listing:
                item["type"] = "file" if item["type"] == "submodule" else item["type"]
        if OBJECT_MEDIA in accept:
            shape = entry_shape(repo, call.root, path, entry, ref, content=False)
            shape["entries"] = listing
            return _object(shape)
        return Reply(200, listing)
    shape = entry_shape(repo, call.root, path, entry, ref, content=True)
    if OBJECT_MEDIA in accept:
        return _object(shape)
    if shape.get("encoding") == "none":  # the plain JSON media type stops at 1 MB
        # GitHub adds errors: [{"code": "too_large", …}]; the documented basic-error 403 has no room for it.
        raise errors.forbidden(TOO_LARGE, call.docs)
    return Reply(200, shape)


def _object(shape: dict[str, Any]) -> Reply:
    return Reply(200, shape, content_type=OBJECT_MEDIA + "; charset=utf-8",
                 headers={"X-GitHub-Media-Type": "github.v3; param=object; format=json"})


def _person(call: Call, name: str) -> Person | None:
    given = call.field(name, dict)
    if given is None:
        return None
    missing = [key for key in ("name", "email") if not isinstance(given.get(key), str)]
    if missing:
        raise errors.not_supplied([f"{name}.{key}" for key in missing], call.docs)
    moment = call.user.person().date
    if isinstance(given.get("date"), str):
        try:
            moment = parse_time(given["date"])
        except ValueError as error:
            raise errors.invalid_request(f"{name}.date is not a valid date.", call.docs) from error
    return Person(given["name"], given["email"], moment)


def _target(call: Call, repo: Repo) -> tuple[str, str, Entry | None]:
    """(path, branch, current entry) for a write, after GitHub's checks on the branch and ``sha``."""
    path = call.params.get("path", "").strip("/")
    branch_name = call.field("branch", str) or repo.default_branch
    head = repo.branch(branch_name)
    if head is None and not repo.empty:
        raise errors.not_found(call.docs, f"Branch {branch_name} not found")
    current = repo.objects.lookup(repo.tree_of(head), path) if head else None
    sha = call.field("sha", str)
    if current is not None and current.kind == "tree":
        raise errors.invalid_request(f'"{path}" is a directory.', call.docs)
    if current is not None and sha is None:
        raise errors.not_supplied(["sha"], call.docs)
    if current is not None and sha != current.sha:
        raise errors.conflict(f"{path} does not match {sha}", call.docs)
    return path, branch_name, current


def put_contents(call: Call) -> Reply:
    repo = call.repo(PUSH, write=True)
    require_workflow_scope(call, [call.params.get("path", "")])
    call.body()
    call.require("message", "content")
    message = call.field("message", str, required=True)
    encoded = call.field("content", str, required=True)
    try:
        data = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise errors.invalid_request("content is not valid Base64.", call.docs) from error
    path, branch_name, current = _target(call, repo)
    if not path:
        raise errors.not_found(call.docs)
    committer = _person(call, "committer")
    author = _person(call, "author") or committer or call.user.person()
    sha = repo.commit_files(branch_name, {path: data}, message, author, committer or author)
    entry = repo.objects.lookup(repo.tree_of(sha), path)
    assert entry is not None
    shape = {"content": entry_shape(repo, call.root, path, entry, branch_name, content=False),
             "commit": file_commit_commit(repo, sha, call.root)}
    return Reply(200 if current is not None else 201, shape)


def delete_contents(call: Call) -> Reply:
    repo = call.repo(PUSH, write=True)
    require_workflow_scope(call, [call.params.get("path", "")])
    call.body()
    call.require("message", "sha")
    message = call.field("message", str, required=True)
    if repo.empty:
        raise errors.not_found(call.docs)
    path, branch_name, current = _target(call, repo)
    if current is None:
        raise errors.not_found(call.docs)
    committer = _person(call, "committer")
    author = _person(call, "author") or committer or call.user.person()
    sha = repo.commit_files(branch_name, {path: None}, message, author, committer or author)
    return Reply(200, {"content": None, "commit": file_commit_commit(repo, sha, call.root)})


def get_branch(call: Call) -> Reply:
    repo = call.repo(PULL)
    name = call.params["branch"]
    if repo.branch(name) is None:
        raise errors.not_found(call.docs, "Branch not found")
    return Reply(200, branch(repo, name, call.root, call.world))
