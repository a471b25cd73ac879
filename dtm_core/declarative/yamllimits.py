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


def check_yaml_limits(label: str, text: str) -> None:
    """Raise a ConfigError at the first place ``text`` passes a limit or uses a refused tag.

    YAML syntax errors are left to the loader (it reports them with the same marks).
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent

    #: Per open collection: its anchor and how many values it stands for so far.
    open_counts: list[tuple[Any, int]] = [(None, 0)]
    sizes: dict[Any, int] = {}
    for event in YAML(typ="rt").parse(text):
        tag = getattr(event, "tag", None)
        if tag is not None and str(tag) not in _HARMLESS_TAGS and (
                str(tag) == "!" or str(tag).startswith(("!!", "tag:yaml.org,2002:"))):
            shown = str(tag).replace("tag:yaml.org,2002:", "!!")
            raise config_error(_where(label, event), f"unsupported YAML tag {shown}",
                               "leave the tag out: write numbers, booleans and null plainly, and quote text")
        if isinstance(event, CollectionStartEvent):
            if len(open_counts) > MAX_DEPTH:
                raise config_error(_where(label, event), f"values nest more than {MAX_DEPTH} levels deep",
                                   "flatten the structure; no dtm setting needs this depth")
            open_counts.append((event.anchor, 1))
        elif isinstance(event, CollectionEndEvent):
            anchor, count = open_counts.pop()
            _add(open_counts, count, label, event)
            if anchor is not None:
                sizes[anchor] = count
        elif isinstance(event, AliasEvent):
            # An undefined alias is the loader's error to report, with its own wording.
            _add(open_counts, sizes.get(event.anchor, 1), label, event)
        elif isinstance(event, ScalarEvent):
            if event.style is None and len(event.value) > MAX_DIGITS and _looks_numeric(event.value):
                raise config_error(_where(label, event), f"a number with more than {MAX_DIGITS} digits",
                                   "quote it to make it text, or shorten it")
            _add(open_counts, 1, label, event)
            if event.anchor is not None:
                sizes[event.anchor] = 1


def _add(open_counts: list[tuple[Any, int]], count: int, label: str, event: Any) -> None:
    anchor, total = open_counts[-1]
    open_counts[-1] = (anchor, total + count)
    if total + count > MAX_VALUES:
        raise config_error(_where(label, event),
                           f"with its aliases expanded, the file holds more than {MAX_VALUES} values here",
                           "use fewer nested aliases (*name); each one copies its anchor's whole value")


def _looks_numeric(value: str) -> bool:
    return value.lstrip("+-").replace("_", "").replace(".", "", 1)[:MAX_DIGITS].isdigit()


def _where(label: str, event: Any) -> Location:
    mark = event.start_mark
    return Location(label, mark.line + 1, mark.column + 1)
