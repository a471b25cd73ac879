"""Reading the sources file ``registries.json`` (dtm's own settings), each fault at its line.

dtm writes the file itself (``dtm registry add``), but people edit it and tools damage it, so
every entry is checked as ``add`` would check it: a name is used for cache file names, so
one such as ``../x`` must never get as far as the cache.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigError

_HINT = "fix the file, or delete it to forget every index added with 'dtm registry add'"
_ENTRY = '{"name": text, "url": text, "priority": number, "key": text (optional)}'


def read_sources_file(file: str, *, name_rule: str, reserved: str) -> list[dict[str, Any]]:
    """The checked entries of the sources file at ``file``; [] when there is none.

    ``name_rule`` is the pattern an index name must match and ``reserved`` the name no entry
    may take (the built-in index). A trusted ``key`` is returned in its canonical base64 form;
    other keys are kept as they are, for the caller.
    """
    from ..jsonfiles import JsonFault, decode_json, locate

    try:
        with open(file, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ConfigError(f"{file}:1:1: cannot read: {exc.strerror}", hint=_HINT) from exc

    def fault(at: tuple[str | int, ...], problem: str) -> ConfigError:
        line, column = locate(raw, at)
        return ConfigError(f"{file}:{line}:{column}: {problem}", hint=_HINT)

    try:
        data = decode_json(raw)
    except JsonFault as exc:
        if exc.path is not None:
            raise fault(exc.path, exc.reason) from None
        raise ConfigError(f"{file}:{exc.line}:{exc.column}: not valid JSON: {exc.reason}",
                          hint=_HINT) from None
    if not isinstance(data, list):
        raise fault((), "expected a list of indexes")
    seen: set[str] = set()
    for i, item in enumerate(data):
        if not (isinstance(item, dict) and isinstance(item.get("name"), str)
                and isinstance(item.get("url"), str) and type(item.get("priority", 0)) is int
                and isinstance(item.get("key", ""), str)):
            raise fault((i,), f"entry {i}: expected {_ENTRY}")
        name, url = item["name"], item["url"]
        if not re.fullmatch(name_rule, name) or name == reserved:
            raise fault((i, "name"), f"entry {i}: {name!r} cannot name an index" + (
                f" ({reserved!r} is the built-in one)" if name == reserved else
                " (lowercase letters, digits, '-' and '_')"))
        if name in seen:
            raise fault((i, "name"), f"entry {i}: the name {name!r} is used twice")
        seen.add(name)
        scheme = url.split("://", 1)[0] if "://" in url else "file"
        if not url.strip() or "\0" in url or scheme not in ("http", "https", "file"):
            raise fault((i, "url"), f"entry {i}: {url!r} is not a path or an http(s):// or file:// URL")
        if item.get("key"):
            from ..errors import InvalidInputError
            from .signing import parse_public_key

            try:
                item["key"] = parse_public_key(item["key"])
            except InvalidInputError as exc:
                raise fault((i, "key"), f"entry {i}: {exc.message}") from None
    return data
