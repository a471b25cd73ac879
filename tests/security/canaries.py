"""Canary secrets: unique tokens, the encodings a leak could take, and a search for them in files and output.

A canary is a made-up secret (``dtmcanary-<hex>``) handed to dtm the way a user hands a real
one. If any form of it turns up where dtm writes — state, journal, caches, files beside the
toolchain, stdout or stderr — a secret leaked. The forms searched are the raw value, its
URL-encoding, its JSON escaping, and its base64 (standard and URL-safe) at each of the three
alignments, so ``base64("admin:" + token)`` in an HTTP Basic header is caught too.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

# The tail makes URL-encoding and JSON escaping differ from the raw value, so each is searched for.
_AWKWARD_TAIL = '/+="'


@dataclass(frozen=True)
class Canary:
    """One made-up secret and what it stands for (``github-repo.token via env:``)."""

    label: str
    value: str

    @classmethod
    def new(cls, label: str, *, awkward: bool = True) -> Canary:
        # A header or a password cannot hold every character; those canaries stay plain.
        tail = _AWKWARD_TAIL if awkward else ""
        return cls(label, f"dtmcanary-{uuid.uuid4().hex}{tail}")

    def forms(self) -> dict[str, bytes]:
        """Each encoding of the value a leak could take, by name."""
        raw = self.value.encode()
        found = {"raw": raw, "url-encoded": quote(self.value, safe="").encode(),
                 "json-escaped": json.dumps(self.value)[1:-1].encode()}
        for offset in range(3):
            core = _base64_core(raw, offset)
            found[f"base64+{offset}"] = core
            found[f"urlsafe-base64+{offset}"] = core.translate(bytes.maketrans(b"+/", b"-_"))
        return found


def _base64_core(raw: bytes, offset: int) -> bytes:
    """The base64 characters that depend on ``raw`` alone when it starts ``offset`` bytes into the data."""
    encoded = base64.b64encode(b"\0" * offset + raw)
    start = -(-8 * offset // 6)  # the first character with no bit of the bytes before
    end = 8 * (offset + len(raw)) // 6  # the last one with no bit of the bytes after
    return encoded[start:end]


@dataclass(frozen=True)
class Leak:
    """Where a canary was found, and in which form."""

    where: str
    canary: str
    form: str

    def __str__(self) -> str:
        return f"{self.canary} ({self.form}) in {self.where}"


@dataclass
class Canaries:
    """The canaries of one run, and the places searched for them."""

    items: list[Canary] = field(default_factory=list)

    def new(self, label: str, *, awkward: bool = True) -> Canary:
        canary = Canary.new(label, awkward=awkward)
        self.items.append(canary)
        return canary

    def add(self, label: str, value: str) -> None:
        """Watch a secret dtm or a service generated (a password read back, a sealed value sent)."""
        self.items.append(Canary(label, value))

    def leaks_in(self, where: str, data: bytes | str) -> list[Leak]:
        blob = data.encode() if isinstance(data, str) else data
        leaks = []
        for canary in self.items:
            named = {needle: form for form, needle in reversed(canary.forms().items())}  # first name wins
            leaks += [Leak(where, canary.label, form) for needle, form in named.items() if needle in blob]
        return leaks

    def leaks_in_files(self, roots: Iterable[Path], skip: Collection[Path] = ()) -> list[Leak]:
        return [leak for path in files_under(roots) if path not in skip
                for leak in self.leaks_in(str(path), path.read_bytes())]


def files_under(roots: Iterable[Path]) -> Iterator[Path]:
    """Every regular file below ``roots`` (symlinks not followed)."""
    for root in roots:
        for directory, _, names in os.walk(root):
            for name in names:
                path = Path(directory, name)
                if path.is_file() and not path.is_symlink():
                    yield path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def too_open(paths: Iterable[Path], allowed: int) -> dict[str, str]:
    """The paths whose mode grants more than ``allowed``, with their mode in octal."""
    return {str(path): oct(mode(path)) for path in paths if mode(path) & ~allowed}


def secret_option_paths(options: Sequence[Any], prefix: str) -> Iterator[str]:
    """Dotted paths of the secret options among ``options`` (``*`` for a mapping's key or list index)."""
    for option in options:
        yield from _secret_paths(option, f"{prefix}.{option.name}")


def _secret_paths(option: Any, path: str) -> Iterator[str]:
    if option.secret:
        yield path
    if option.items is not None:
        yield from _secret_paths(option.items, f"{path}.*")
    for inner in option.fields:
        yield from _secret_paths(inner, f"{path}.{inner.name}")


def values_at(data: Any, path: Sequence[str]) -> list[Any]:
    """The values under ``data`` at ``path`` (``*`` matches every key of a mapping, item of a list)."""
    if not path:
        return [data]
    head, rest = path[0], path[1:]
    if isinstance(data, Mapping):
        children = list(data.values()) if head == "*" else [data[head]] if head in data else []
    elif isinstance(data, list) and head == "*":
        children = data
    else:
        children = []
    return [found for child in children for found in values_at(child, rest)]
