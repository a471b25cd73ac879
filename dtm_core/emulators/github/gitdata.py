"""The Git Data API: blobs, trees, commits and refs, over real git objects.

On an empty repository (no commit yet) every call answers 409 "Git Repository is empty.", as on
GitHub: the first commit has to come from the contents API or ``auto_init``.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from . import errors
from .call import Call, Reply
from .contents import is_workflow, require_workflow_scope
from .gitobjects import SUBMODULE_MODE, TREE_MODE, Commit, Entry, Person, kind_of_mode, parse_time, utc_now
from .gitshapes import api, git_commit, git_ref, git_tree
from .model import PULL, PUSH, Repo

MODES = ("100644", "100755", TREE_MODE, SUBMODULE_MODE, "120000")
SHA = re.compile(r"^[0-9a-f]{40}$")


def _repo(call: Call, write: bool) -> Repo:
    repo = call.repo(PUSH if write else PULL, write=write)
    if repo.empty:
        raise errors.conflict("Git Repository is empty.", call.docs)
    return repo


def create_blob(call: Call) -> Reply:
    repo = _repo(call, write=True)
    content = call.field("content", str, required=True)
    encoding = call.field("encoding", str, default="utf-8")
    if encoding in ("utf-8", "utf8"):
        data = content.encode()
    elif encoding == "base64":
        try:
            data = base64.b64decode("".join(content.split()), validate=True)
        except (binascii.Error, ValueError) as error:
            raise errors.invalid_request("content is not valid Base64.", call.docs) from error
    else:
        raise errors.validation(f"encoding must be either 'utf-8' or 'base64', not {encoding!r}", call.docs)
    sha = repo.objects.add_blob(data)
    url = f"{api(repo, call.root)}/git/blobs/{sha}"
    return Reply(201, {"url": url, "sha": sha}, headers={"Location": url})


def _tree_entry(call: Call, repo: Repo, index: int, item: Any) -> tuple[str, Entry | None]:
    """One element of ``tree`` as (path, entry); entry None deletes the path."""
    if not isinstance(item, dict):
        raise errors.wrong_type(f"tree/{index}", item, "object", call.docs)
    path = item.get("path")
    if not isinstance(path, str) or not path or any(part in ("", ".", "..") for part in path.split("/")):
        raise errors.validation(f"tree.path contains a malformed path component: {path!r}", call.docs)
    default_mode = {"tree": TREE_MODE, "commit": SUBMODULE_MODE}.get(item.get("type", ""), "100644")
    mode = item.get("mode") or default_mode
    if mode not in MODES:
        raise errors.invalid_request(f"For 'items', {mode!r} is not one of {list(MODES)}.", call.docs)
    kind = item.get("type") or kind_of_mode(mode)
    if kind != kind_of_mode(mode):
        raise errors.validation(f"tree.type {kind} does not match tree.mode {mode}", call.docs)
    if "content" in item and item.get("sha") is not None:
        raise errors.validation("Must supply either tree.sha or tree.content, not both", call.docs)
    if "content" in item:
        if not isinstance(item["content"], str) or kind != "blob":
            raise errors.validation("tree.content is only for blobs and must be a string", call.docs)
        return path, Entry(mode, "blob", repo.objects.add_blob(item["content"].encode()))
    if "sha" not in item:
        raise errors.validation("Must supply either tree.sha or tree.content", call.docs)
    sha = item["sha"]
    if sha is None:
        return path, None
    known = kind == "commit" or repo.objects.kind(sha) == kind  # a submodule's commit lives elsewhere
    if not isinstance(sha, str) or not SHA.match(sha) or not known:
        raise errors.validation(f"tree.sha {sha} is not a valid {kind}", call.docs)
    return path, Entry(mode, kind, sha)


def create_tree(call: Call) -> Reply:
    repo = _repo(call, write=True)
    items = call.field("tree", list, required=True)
    base_sha = call.field("base_tree", str)
    leaves: dict[str, Entry] = {}
    if base_sha is not None:
        if base_sha not in repo.objects.trees:
            raise errors.validation(f"base_tree {base_sha} is not a valid tree", call.docs)
        leaves = repo.objects.flatten(base_sha)
    for index, item in enumerate(items):
        path, entry = _tree_entry(call, repo, index, item)
        # A path replaces whatever was at it or below it, as a later entry of the same name would.
        for existing in [leaf for leaf in leaves if leaf == path or leaf.startswith(path + "/")]:
            del leaves[existing]
        if entry is not None and entry.kind == "tree":
            below = repo.objects.flatten(entry.sha)
            leaves.update({f"{path}/{name}": leaf for name, leaf in below.items()})
        elif entry is not None:
            leaves[path] = entry
    sha = repo.objects.build(leaves)
    require_workflow_scope(call, repo.objects.changed_paths(base_sha, sha) if base_sha else
                           [path for path in leaves if is_workflow(path)])
    shape = git_tree(repo, sha, call.root, recursive=False)
    return Reply(201, shape, headers={"Location": shape["url"]})


def get_tree(call: Call) -> Reply:
    repo = _repo(call, write=False)
    wanted = call.params["tree_sha"]
    sha = wanted if wanted in repo.objects.trees else None
    if sha is None:
        commit = repo.resolve(wanted)
        sha = repo.tree_of(commit) if commit else None
    if sha is None:
        raise errors.not_found(call.docs)
    # GitHub recurses when ``recursive`` is present at all, whatever its value ("0" and "false" too).
    return Reply(200, git_tree(repo, sha, call.root, recursive="recursive" in call.query))


def _person(call: Call, name: str, default: Person) -> Person:
    given = call.field(name, dict)
    if given is None:
        return default
    if not isinstance(given.get("name"), str) or not isinstance(given.get("email"), str):
        raise errors.not_supplied([f"{name}.name", f"{name}.email"], call.docs)
    moment = default.date
    if isinstance(given.get("date"), str):
        try:
            moment = parse_time(given["date"])
        except ValueError as error:
            detail = f"For 'properties/{name}/date', {given['date']!r} is not a date-time."
            raise errors.invalid_request(detail, call.docs) from error
    return Person(given["name"], given["email"], moment)


def create_commit(call: Call) -> Reply:
    repo = _repo(call, write=True)
    message = call.field("message", str, required=True)
    tree = call.field("tree", str, required=True)
    parents = call.field("parents", list, default=[])
    if tree not in repo.objects.trees:
        raise errors.validation("Tree SHA does not exist", call.docs)
    for parent in parents:
        if not isinstance(parent, str) or parent not in repo.objects.commits:
            raise errors.validation("Parent SHA does not exist or is not a commit object", call.docs)
    author = _person(call, "author", call.user.person())
    committer = _person(call, "committer", author)
    sha = repo.objects.add_commit(Commit(tree, tuple(parents), author, committer, message))
    shape = git_commit(repo, sha, call.root)
    return Reply(201, shape, headers={"Location": shape["url"]})


def get_commit(call: Call) -> Reply:
    repo = _repo(call, write=False)
    sha = call.params["commit_sha"]
    if sha not in repo.objects.commits:
        raise errors.not_found(call.docs)
    return Reply(200, git_commit(repo, sha, call.root))


def get_ref(call: Call) -> Reply:
    repo = _repo(call, write=False)
    ref = "refs/" + call.params["ref"]
    if ref not in repo.refs:
        raise errors.not_found(call.docs)
    return Reply(200, git_ref(repo, ref, call.root))


def _guard_workflows(call: Call, repo: Repo, old: str | None, new: str) -> None:
    """Moving a ref may not change workflow files without the ``workflow`` scope."""
    old_tree = repo.tree_of(old) if old else None
    require_workflow_scope(call, repo.objects.changed_paths(old_tree, repo.tree_of(new)))


def create_ref(call: Call) -> Reply:
    repo = _repo(call, write=True)
    ref = call.field("ref", str, required=True)
    sha = call.field("sha", str, required=True)
    if not ref.startswith("refs/") or ref.count("/") < 2 or ref.endswith("/"):
        raise errors.validation("Reference name is invalid", call.docs)
    if ref in repo.refs:
        raise errors.validation("Reference already exists", call.docs)
    if sha not in repo.objects.commits:
        raise errors.validation("Object does not exist", call.docs)
    _guard_workflows(call, repo, repo.branch(repo.default_branch), sha)
    repo.refs[ref] = sha
    shape = git_ref(repo, ref, call.root)
    return Reply(201, shape, headers={"Location": shape["url"]})


def update_ref(call: Call) -> Reply:
    repo = _repo(call, write=True)
    ref = "refs/" + call.params["ref"]
    sha = call.field("sha", str, required=True)
    force = call.field("force", bool, default=False)
    if ref not in repo.refs:
        raise errors.validation("Reference does not exist", call.docs)
    if sha not in repo.objects.commits:
        raise errors.validation("Object does not exist", call.docs)
    old = repo.refs[ref]
    if not force and not repo.objects.is_ancestor(old, sha):
        raise errors.validation("Update is not a fast forward", call.docs)
    _guard_workflows(call, repo, old, sha)
    repo.refs[ref] = sha
    if ref.startswith("refs/heads/"):
        repo.pushed_at = utc_now()
    return Reply(200, git_ref(repo, ref, call.root))
