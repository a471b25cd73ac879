"""The item tree: folders and jobs under the root, Jenkins' name rules, creating, updating, deleting."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote

from . import config as cfg
from .config import ConfigError, ItemConfig, UnknownType
from .pages import HttpError, Reply, failure

UNSAFE = "?*/\\%!@#$^&|<>[]:;"


@dataclass
class Build:
    """A build a trigger asked for; it exists for the API once its queue item has left the queue."""

    number: int
    queue_id: int
    params: dict[str, str] | None
    started_ms: int | None = None  # set when the queue item leaves: the build ran (and passed) at once


@dataclass
class Item:
    """A folder or a job; the root ("Jenkins") is an item group with no parent and an empty name."""

    name: str
    parent: Item | None
    config: ItemConfig | None  # None only for the root
    children: dict[str, Item] = field(default_factory=dict)  # keyed by _key(name)
    builds: list[Build] = field(default_factory=list)  # oldest first
    next_build_number: int = 1

    @property
    def is_group(self) -> bool:
        return self.config is None or self.config.is_folder

    @property
    def full_name(self) -> str:
        if self.parent is None:
            return ""
        prefix = self.parent.full_name
        return f"{prefix}/{self.name}" if prefix else self.name

    @property
    def url_path(self) -> str:
        """The item's URL below the root: ``job/a/job/b/`` (``""`` for the root)."""
        if self.parent is None:
            return ""
        return f"{self.parent.url_path}job/{quote(self.name, safe='')}/"

    @property
    def item_class(self) -> str:
        return "hudson.model.Hudson" if self.config is None else self.config.item_class

    def child(self, name: str) -> Item | None:
        return self.children.get(_key(name))

    def sorted_children(self) -> list[Item]:
        """Children in Jenkins' order: its item maps are sorted by name, ignoring case."""
        return [self.children[key] for key in sorted(self.children)]

    def walk(self) -> list[Item]:
        """Every item below this one, parents before children."""
        found: list[Item] = []
        for item in self.sorted_children():
            found.append(item)
            found.extend(item.walk())
        return found

    def started_builds(self) -> list[Build]:
        return [build for build in self.builds if build.started_ms is not None]


def _key(name: str) -> str:
    # Jenkins keeps items in a map ordered by String.CASE_INSENSITIVE_ORDER: "App" and "app" are one item.
    return name.lower()


def check_good_name(name: str) -> None:
    """``Jenkins.checkGoodName``: the same checks, in the same order, with the same messages."""
    if not name:
        raise failure("No name is specified")
    if name.strip() in (".", ".."):
        raise failure(f"“{name.strip()}” is not an allowed name")
    for ch in name:
        if unicodedata.category(ch) == "Cc":
            printable = "".join(f"\\u{ord(c)};" if unicodedata.category(c) == "Cc" else c for c in name)
            raise failure(f"No control code is allowed: {printable}")
        if ch in UNSAFE:
            raise failure(f"‘{ch}’ is an unsafe character")
    if name.strip().endswith("."):
        raise failure("A name cannot end with ‘.’")


def load(raw: bytes, persist_message: str) -> ItemConfig:
    """Read a submitted config.xml; unreadable XML is refused with the message Jenkins' IOException carries.

    Jenkins itself lets that IOException become a 500; the emulator answers 400 + ``X-Error`` so a client
    sees a refusal of its input (the brief's contract), with the same message text.
    """
    try:
        return cfg.read_config(raw)
    except ConfigError as error:
        raise failure(persist_message) from error
    except UnknownType as error:
        body = f"com.thoughtworks.xstream.mapper.CannotResolveClassException: {error}\n".encode()
        raise HttpError(Reply(500, body, "text/plain;charset=utf-8")) from error


class ItemTree:
    """All items; callers hold the emulator's lock."""

    def __init__(self) -> None:
        self.root = Item(name="", parent=None, config=None)

    def find(self, full_name: str) -> Item | None:
        item: Item | None = self.root
        for part in full_name.strip("/").split("/") if full_name.strip("/") else []:
            if item is None or not item.is_group:
                return None
            item = item.child(part)
        return item

    def create(self, parent: Item, name: str, config: ItemConfig) -> Item:
        """Add an item whose name was checked (``check_name`` then ``load``)."""
        item = Item(name=name, parent=parent, config=config)
        parent.children[_key(name)] = item
        return item

    @staticmethod
    def check_name(parent: Item, name: str) -> str:
        """The name checks of ``createTopLevelItem``: good name, then not taken; returns the trimmed name."""
        check_good_name(name)
        name = name.strip()
        check_good_name(name)  # createProjectFromXML checks the trimmed name again ("  " ends up empty)
        if parent.child(name) is not None:
            raise failure(f"A job already exists with the name ‘{name}’")
        return name

    @staticmethod
    def update(item: Item, config: ItemConfig) -> None:
        """``updateByXml``: the new config must keep the item's type."""
        assert item.config is not None
        if config.item_class != item.config.item_class:
            message = (f"java.io.IOException: Expecting class {item.config.item_class} but got class "
                       f"{config.item_class} instead\n")
            raise HttpError(Reply(500, message.encode(), "text/plain;charset=utf-8"))
        item.config = config

    @staticmethod
    def delete(item: Item) -> None:
        if item.parent is not None:
            item.parent.children.pop(_key(item.name), None)
            item.parent = None

    def jobs(self) -> dict[str, str]:
        return {item.full_name: item.config.text for item in self.root.walk()
                if item.config is not None and not item.is_group}

    def folders(self) -> list[str]:
        return [item.full_name for item in self.root.walk() if item.is_group]
