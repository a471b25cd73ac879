"""Git objects as git itself stores them: blobs, trees and commits named by their real SHA-1."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # what `git hash-object -t tree /dev/null` prints
TREE_MODE = "040000"  # the API's spelling; inside a tree object git writes "40000"
SUBMODULE_MODE = "160000"


def object_sha(kind: str, data: bytes) -> str:
    """The name git gives an object: SHA-1 over ``b"<kind> <size>\\0"`` and the content."""
    return hashlib.sha1(b"%s %d\x00%s" % (kind.encode(), len(data), data)).hexdigest()


def iso(moment: datetime) -> str:
    """GitHub's timestamp spelling: UTC, seconds, a trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time as clients send it (``Z`` or an offset); naive times count as UTC."""
    moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Person:
    """An author or committer line: name, email and a time with its UTC offset."""

    name: str
    email: str
    date: datetime

    def line(self) -> bytes:
        offset = self.date.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        zone = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
        return f"{self.name} <{self.email}> {int(self.date.timestamp())} {zone}".encode()

    def shape(self) -> dict[str, str]:
        return {"name": self.name, "email": self.email, "date": iso(self.date)}


@dataclass(frozen=True)
class Entry:
    """One tree entry: the API's mode (``100644``, ``040000`` …), object kind and SHA."""

    mode: str
    kind: str
    sha: str


@dataclass(frozen=True)
class Commit:
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str

    def encode(self) -> bytes:
        lines = [b"tree " + self.tree.encode()]
        lines += [b"parent " + parent.encode() for parent in self.parents]
        lines += [b"author " + self.author.line(), b"committer " + self.committer.line()]
        return b"\n".join(lines) + b"\n\n" + self.message.encode()


def _tree_key(item: tuple[str, Entry]) -> bytes:
    # git orders a subtree as if its name ended in "/" (so "a.txt" sorts before directory "a").
    name, entry = item
    return name.encode() + (b"/" if entry.kind == "tree" else b"")


def encode_tree(entries: Mapping[str, Entry]) -> bytes:
    data = b""
    for name, entry in sorted(entries.items(), key=_tree_key):
        mode = entry.mode.lstrip("0")
        data += mode.encode() + b" " + name.encode() + b"\x00" + bytes.fromhex(entry.sha)
    return data


def kind_of_mode(mode: str) -> str:
    return {TREE_MODE: "tree", SUBMODULE_MODE: "commit"}.get(mode, "blob")


class ObjectStore:
    """One repository's objects. Content-addressed, so writing the same object twice is harmless."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, dict[str, Entry]] = {EMPTY_TREE: {}}
        self.commits: dict[str, Commit] = {}
        self._born: dict[str, int] = {}  # commit SHA -> creation order, for newest-first history

    # -- writing ---------------------------------------------------------------------------------------

    def add_blob(self, data: bytes) -> str:
        sha = object_sha("blob", data)
        self.blobs[sha] = data
        return sha

    def add_tree(self, entries: Mapping[str, Entry]) -> str:
        sha = object_sha("tree", encode_tree(entries))
        self.trees[sha] = dict(entries)
        return sha

    def add_commit(self, commit: Commit) -> str:
        sha = object_sha("commit", commit.encode())
        if sha not in self.commits:
            self.commits[sha] = commit
            self._born[sha] = len(self._born)
        return sha

    # -- reading ---------------------------------------------------------------------------------------

    def kind(self, sha: str) -> str | None:
        for kind, table in (("blob", self.blobs), ("tree", self.trees), ("commit", self.commits)):
            if sha in table:
                return kind
        return None

    def blob_size(self, sha: str) -> int:
        return len(self.blobs.get(sha, b""))

    def walk(self, tree: str, recursive: bool = True, prefix: str = "") -> list[tuple[str, Entry]]:
        """Every entry below ``tree`` in git's order, subtrees listed before their contents."""
        found: list[tuple[str, Entry]] = []
        for name, entry in sorted(self.trees[tree].items(), key=_tree_key):
            path = prefix + name
            found.append((path, entry))
            if recursive and entry.kind == "tree":
                found += self.walk(entry.sha, True, path + "/")
        return found

    def flatten(self, tree: str) -> dict[str, Entry]:
        """The leaves (files, symlinks, submodules) below ``tree`` by their full path."""
        return {path: entry for path, entry in self.walk(tree) if entry.kind != "tree"}

    def lookup(self, tree: str, path: str) -> Entry | None:
        """The entry at ``path`` below ``tree`` (a tree entry for the root when ``path`` is empty)."""
        entry = Entry(TREE_MODE, "tree", tree)
        for part in [part for part in path.split("/") if part]:
            if entry.kind != "tree":
                return None
            found = self.trees[entry.sha].get(part)
            if found is None:
                return None
            entry = found
        return entry

    def build(self, leaves: Mapping[str, Entry]) -> str:
        """Write the trees holding ``leaves`` (full paths) and return the root tree's SHA."""
        children: dict[str, dict[str, Entry]] = {}
        entries: dict[str, Entry] = {}
        for path, entry in leaves.items():
            head, _, rest = path.partition("/")
            if rest:
                children.setdefault(head, {})[rest] = entry
            else:
                entries[head] = entry
        for name, below in children.items():
            entries[name] = Entry(TREE_MODE, "tree", self.build(below))
        return self.add_tree(entries)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when ``ancestor`` is ``descendant`` or reachable from it through parents."""
        return ancestor in self.reachable([descendant])

    def reachable(self, heads: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        stack = [head for head in heads if head in self.commits]
        while stack:
            sha = stack.pop()
            if sha not in seen:
                seen.add(sha)
                stack += [parent for parent in self.commits[sha].parents if parent in self.commits]
        return seen

    def history(self, head: str) -> list[str]:
        """Commits reachable from ``head``, newest first (by when this store first saw them)."""
        return sorted(self.reachable([head]), key=lambda sha: self._born[sha], reverse=True)

    def changed_paths(self, old_tree: str | None, new_tree: str) -> set[str]:
        """Paths of leaves added, removed or changed between two trees."""
        old = self.flatten(old_tree) if old_tree else {}
        new = self.flatten(new_tree)
        return {path for path in old.keys() | new.keys() if old.get(path) != new.get(path)}


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
