"""Limits on what a YAML file may make dtm do: nesting, alias expansion, huge numbers, tags.

All are checked on the parser's event stream, before anything builds nodes, so a hostile or
broken file costs little: ruamel's composer recurses once per level (a few hundred levels
exhaust Python's stack) and its scanner slows down quadratically with flow nesting, while an
alias is shared, not copied, until dtm's own walk over the values expands it (the "billion
laughs": ten levels of ten aliases make ten billion values). ruamel's constructors for
explicit standard tags (``!!int x``, ``!!bool x``, a bare ``!!``) fail with TypeError,
KeyError or IndexError instead of a marked error, so only ``!!str``, ``!!map`` and ``!!seq``
get that far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .diagnostics import config_error
from .model import Location

#: Deeper than any toolchain needs (options nest a few levels), shallow enough that every
#: recursive walk over the values (substitution, option schemas, JSON) stays far from the
#: interpreter's recursion limit.
MAX_DEPTH = 64
#: Values a file may stand for once its aliases are expanded; real files have hundreds.
MAX_VALUES = 100_000
#: Explicit standard tags that change nothing dtm cares about; other ``!!`` tags are refused.
_HARMLESS_TAGS = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
#: Python refuses to turn longer digit strings into an int (CVE-2020-10735), which ruamel
#: would try for a plain scalar such as 99999…; anything near this long is a mistake.
MAX_DIGITS = 4000


@dataclass
class _Open:
    """A collection the event stream is inside of."""

    anchor: Any
    #: How many values it stands for so far, aliases expanded.
    count: int
    mapping: bool
    #: In a mapping: whether the next node is a key (keys and values alternate).
    next_is_key: bool = True


def check_yaml_limits(label: str, text: str) -> None:
    """Raise a ConfigError at the first place ``text`` passes a limit or uses a refused construct.

    YAML syntax errors are left to the loader (it reports them with the same marks).
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        MappingStartEvent,
        NodeEvent,
        ScalarEvent,
    )

    stack = [_Open(None, 0, mapping=False)]
    sizes: dict[Any, int] = {}
    collections: set[Any] = set()  # anchors of lists and mappings
    for event in YAML(typ="rt").parse(text):
        if isinstance(event, NodeEvent):
            _check_node(label, event, stack[-1], isinstance(event, CollectionStartEvent)
                        or (isinstance(event, AliasEvent) and event.anchor in collections))
        if isinstance(event, CollectionStartEvent):
            if len(stack) > MAX_DEPTH:
                raise config_error(_where(label, event), f"values nest more than {MAX_DEPTH} levels deep",
                                   "flatten the structure; no dtm setting needs this depth")
            stack.append(_Open(event.anchor, 1, mapping=isinstance(event, MappingStartEvent)))
        elif isinstance(event, CollectionEndEvent):
            closed = stack.pop()
            _add(stack[-1], closed.count, label, event)
            if closed.anchor is not None:
                sizes[closed.anchor] = closed.count
                collections.add(closed.anchor)
        elif isinstance(event, AliasEvent):
            # An undefined alias is the loader's error to report, with its own wording.
            _add(stack[-1], sizes.get(event.anchor, 1), label, event)
        elif isinstance(event, ScalarEvent):
            if event.style is None and len(event.value) > MAX_DIGITS and _looks_numeric(event.value):
                raise config_error(_where(label, event), f"a number with more than {MAX_DIGITS} digits",
                                   "quote it to make it text, or shorten it")
            _add(stack[-1], 1, label, event)
            if event.anchor is not None:
                sizes[event.anchor] = 1


def _check_node(label: str, event: Any, parent: _Open, collection: bool) -> None:
    """Refuse tags ruamel cannot construct, and lists or mappings used as keys."""
    tag = getattr(event, "tag", None)
    if tag is not None and str(tag) not in _HARMLESS_TAGS and (
            str(tag) == "!" or str(tag).startswith(("!!", "tag:yaml.org,2002:"))):
        shown = str(tag).replace("tag:yaml.org,2002:", "!!")
        raise config_error(_where(label, event), f"unsupported YAML tag {shown}",
                           "leave the tag out: write numbers, booleans and null plainly, and quote text")
    if not parent.mapping:
        return
    is_key, parent.next_is_key = parent.next_is_key, not parent.next_is_key
    if is_key and collection:
        # ruamel hashes such a key, and a mapping inside one fails with TypeError.
        raise config_error(_where(label, event), "a list or mapping cannot be a key",
                           "keys are names: write 'name: value'")


def _add(parent: _Open, count: int, label: str, event: Any) -> None:
    parent.count += count
    if parent.count > MAX_VALUES:
        raise config_error(_where(label, event),
                           f"with its aliases expanded, the file holds more than {MAX_VALUES} values here",
                           "use fewer nested aliases (*name); each one copies its anchor's whole value")


def _looks_numeric(value: str) -> bool:
    return value.lstrip("+-").replace("_", "").replace(".", "", 1)[:MAX_DIGITS].isdigit()


def _where(label: str, event: Any) -> Location:
    mark = event.start_mark
    return Location(label, mark.line + 1, mark.column + 1)
