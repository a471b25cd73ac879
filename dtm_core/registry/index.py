"""The registry index format: decoding, schema and semantic validation, and building entries.

Two paths, on purpose. The *trusted* path (``validate=False``) is decoding plus cheap
``ToolEntry`` construction and must never import ``jsonschema`` or ``packaging``: it serves
``dtm search`` on every run from the bundled index, which the test suite validates (cached
indexes, validated when dtm wrote them, are read by :mod:`.cache`). The *validating* path runs
when an index enters the cache (``dtm registry add``, ``dtm update``, a changed local file).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError, RegistryIndexError
from .model import LazyMapping, ToolEntry

if TYPE_CHECKING:
    from pathlib import Path

    #: The JSON Schema of index files (a Path, made on first use: see ``__getattr__``).
    SCHEMA_FILE: Path

__all__ = [
    "INDEX_FORMAT",
    "SCHEMA_FILE",
    "decode_index",
    "dependents_when_needed",
    "json_path",
    "load_index_bytes",
    "load_index_file",
    "parse_index",
    "reverse_dependencies",
    "validate_index",
]

#: The newest index format this dtm reads; an index declaring a newer one is refused.
INDEX_FORMAT = 1

# Patterns, compiled (and cached) by ``re`` when first used: compiling them all on import
# would cost every ``dtm search`` that uses none of them.
_TOOL_NAME = r"^[a-z0-9][a-z0-9-]*$"
# packaging's own NAME rule. On an index that validated, every requirement parses and names a
# tool, so the leading match is exactly ``Requirement(text).name`` at a fraction of the cost.
_REQUIREMENT_NAME = r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"

# jsonschema's default text for a failed ``pattern`` repeats the regex; say what it means.
_PATTERN_MEANINGS = {
    "^[a-z0-9][a-z0-9-]*$": "is not a valid tool name (lowercase letters, digits and '-')",
    "^sha256:[0-9a-f]{64}$": "is not of the form 'sha256:<64 lowercase hex digits>'",
    "^[0-9a-f]{64}$": "is not a sha256 digest (64 lowercase hex digits)",
}


def default_hint(name: str) -> str:
    return f"fix the index at that path, or remove it with 'dtm registry remove {name}'"


def json_path(parts: Iterator[str | int] | tuple[str | int, ...] | list[str | int]) -> str:
    """Render a path as jsonschema does: ``$.tools.argocd.versions['3.5.1'].plugin``."""
    from ..jsonfiles import render_path

    return render_path(parts)


def _fault(name: str, path: str, reason: str) -> RegistryIndexError:
    return RegistryIndexError(f"index '{name}': {path}: {reason}", hint=default_hint(name))


def load_index_file(
    path: str | os.PathLike[str], *, name: str, validate: bool = True
) -> dict[str, ToolEntry]:
    """Read an index file; ``validate=False`` only for files dtm validated itself."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidInputError(
            f"index '{name}': cannot read {path}: {reason}",
            hint=f"check the path, or remove the index with 'dtm registry remove {name}'",
        ) from exc
    return load_index_bytes(raw, name=name, validate=validate)


def load_index_bytes(raw: bytes, *, name: str, validate: bool = True) -> dict[str, ToolEntry]:
    """Decode index JSON and build its entries (see :func:`parse_index`)."""
    return parse_index(decode_index(raw, name=name), name=name, validate=validate)


def decode_index(raw: bytes, *, name: str) -> Any:
    """The decoded index; a fault (bad JSON, duplicate key, deep nesting …) as :class:`RegistryIndexError`."""
    from ..jsonfiles import JsonFault, decode_json

    try:
        return decode_json(raw)
    except JsonFault as fault:
        if fault.path is not None:
            raise _fault(name, json_path(fault.path), fault.reason) from None
        raise RegistryIndexError(
            f"index '{name}': not valid JSON at line {fault.line} column {fault.column}: {fault.reason}",
            hint=default_hint(name),
        ) from None


def parse_index(data: Any, *, name: str, validate: bool = True) -> dict[str, ToolEntry]:
    """Build the entries of one index; each entry's ``source`` is ``name``.

    With ``validate=True`` the index is checked against the schema and the semantic rules
    first and a fault raises :class:`RegistryIndexError` naming the JSON path.
    """
    if validate:
        validate_index(data, name=name)
    try:
        return _build_entries(data["tools"], name)
    except (KeyError, TypeError, AttributeError):
        if validate:
            raise
        # A trusted file that does not even have the expected shape (a damaged cache): the
        # validating path explains what is wrong with it far better than a KeyError would.
        validate_index(data, name=name)
        raise


def _build_entries(tools: Mapping[str, Any], source: str) -> dict[str, ToolEntry]:
    return {
        tool_name: ToolEntry(
            name=tool_name,
            description=raw.get("description", ""),
            tags=tuple(raw.get("tags", ())),
            homepage=raw.get("homepage", ""),
            kind=raw.get("kind", "tool"),
            raw_versions=raw["versions"],
            source=source,
            starter=raw.get("starter", ""),
            known_latest=_plain_latest(raw["versions"]),
        )
        for tool_name, raw in tools.items()
    }


def _plain_latest(versions: Mapping[str, Any]) -> str | None:
    """The newest non-yanked version when every version is a plain release such as ``2.14.3``.

    Those order as integer tuples (trailing zeros dropped, as PEP 440 does), which spares
    search the import of ``packaging``; anything fancier returns None and packaging decides.
    """
    best = ""
    best_key: tuple[int, ...] = ()
    for text, raw in versions.items():
        parts = text.split(".")
        # ``^[0-9]+(\.[0-9]+)*$`` without a regex; isascii() keeps out digits such as "²".
        if not all(part.isdigit() and part.isascii() for part in parts):
            return None
        if raw.get("yanked"):
            continue
        key = tuple(int(part) for part in parts)
        while key and key[-1] == 0:
            key = key[:-1]
        if not best or key > best_key:
            best, best_key = text, key
    return best


def reverse_dependencies(entries: Mapping[str, ToolEntry]) -> dict[str, list[str]]:
    """Tool name -> the tools of ``entries`` whose newest non-yanked version depends on it.

    Only for entries built from a validated index (see ``_REQUIREMENT_NAME``).
    """
    found: dict[str, set[str]] = {}
    name_of = re.compile(_REQUIREMENT_NAME).match
    for tool, entry in entries.items():
        latest = entry.latest_text
        if latest is None:
            continue
        for text in entry.raw_versions[latest].get("dependencies", ()):
            match = name_of(text)
            if match:
                found.setdefault(match.group(1), set()).add(tool)
    return {name: sorted(tools) for name, tools in sorted(found.items())}


def dependents_when_needed(entries: Mapping[str, ToolEntry]) -> Mapping[str, Sequence[str]]:
    """:func:`reverse_dependencies`, worked out on first use (a search never needs them)."""
    return LazyMapping(reverse_dependencies, entries)


def validate_index(data: Any, *, name: str) -> None:
    """Raise :class:`RegistryIndexError` for the first fault of an index, or return."""
    declared = data.get("format") if isinstance(data, dict) else None
    if isinstance(declared, int) and not isinstance(declared, bool) and declared > INDEX_FORMAT:
        raise RegistryIndexError(
            f"index '{name}': $.format: format {declared} is newer than this dtm reads "
            f"(up to {INDEX_FORMAT})",
            hint=f"upgrade dtm, or remove the index with 'dtm registry remove {name}'",
        )
    _check_schema(data, name)
    _check_semantics(data, name)


@lru_cache(maxsize=1)
def _validator() -> Any:
    # No stubs for jsonschema are installed; the last code keeps mypy quiet if they appear.
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped,unused-ignore]

    with open(_schema_file(), encoding="utf-8") as handle:
        schema = json.load(handle)
    return Draft202012Validator(_inline_refs(schema, schema.get("$defs", {})))


def _inline_refs(node: Any, defs: Mapping[str, Any], within: tuple[str, ...] = ()) -> Any:
    """The schema with each local ``$ref`` replaced by the definition it names.

    jsonschema resolves a ``$ref`` again for every instance it meets: on a 10,000-tool index that
    is a third of the validation time. Keywords next to a ``$ref`` stay in their own schema,
    beside an ``allOf`` of the definition, so every error keeps the schema (and ``best_match``
    the ranking) it had.
    """
    if isinstance(node, list):
        return [_inline_refs(item, defs, within) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    target = ref.removeprefix("#/$defs/") if isinstance(ref, str) else ""
    rest = {key: _inline_refs(value, defs, within) for key, value in node.items() if key != "$ref"}
    # A recursive definition cannot be unrolled: leave those $refs to jsonschema ($defs stays).
    if target not in defs or target in within or "allOf" in rest:
        return {**({"$ref": ref} if ref is not None else {}), **rest}
    inlined = _inline_refs(defs[target], defs, (*within, target))
    return {"allOf": [inlined], **rest} if rest else inlined


def _check_schema(data: Any, name: str) -> None:
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped,unused-ignore]

    error = best_match(_validator().iter_errors(data))
    if error is None:
        return
    reason = error.message
    if error.validator == "pattern":
        meaning = _PATTERN_MEANINGS.get(str(error.validator_value))
        if meaning:
            reason = f"{error.instance!r} {meaning}"
    elif error.validator == "additionalProperties" and error.validator_value is False:
        unknown = _unknown_keys(error.instance, error.schema)
        reason = f"unknown key {unknown!r} (keys of your own must start with 'x-')"
    raise _fault(name, json_path(tuple(error.absolute_path)), reason)


def _unknown_keys(instance: Mapping[str, Any], schema: Mapping[str, Any]) -> str:
    known = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extra = [k for k in instance if k not in known and not any(re.search(p, k) for p in patterns)]
    return extra[0] if extra else "?"


def _check_semantics(data: dict[str, Any], name: str) -> None:
    """What JSON Schema cannot say: versions, requirements and specifiers must parse."""
    from packaging.version import InvalidVersion, Version

    for tool_name, tool in data["tools"].items():
        seen: dict[Version, str] = {}
        for text, raw in tool["versions"].items():
            at = ("tools", tool_name, "versions", text)
            try:
                version = Version(text)
            except InvalidVersion:
                reason = f"{text!r} is not a valid PEP 440 version"
                raise _fault(name, json_path(at), reason) from None
            if version in seen:
                reason = f"{text!r} is the same version as {seen[version]!r}"
                raise _fault(name, json_path(at), reason)
            seen[version] = text
            _check_version(raw, tool_name, at, name)


def _check_version(raw: Mapping[str, Any], tool_name: str, at: tuple[str, ...], name: str) -> None:
    for field in ("dependencies", "conflicts"):
        for i, text in enumerate(raw.get(field, ())):
            reason = _requirement_fault(text, tool_name)
            if reason:
                raise _fault(name, json_path((*at, field, i)), reason)
    if "dtm" in raw:
        _check_specifier(raw["dtm"], (*at, "dtm"), name)
    plugin = raw.get("plugin")
    if plugin is None:
        return
    specifier = _check_specifier(plugin.get("version", ""), (*at, "plugin", "version"), name)
    if plugin.get("hashes") and not _is_exact_pin(specifier):
        raise _fault(
            name,
            json_path((*at, "plugin", "version")),
            "hashes need an exact '==' pin (pip's --require-hashes), "
            f"got {plugin.get('version', '')!r}",
        )


def _requirement_fault(text: str, tool_name: str) -> str | None:
    reason, required = _parse_requirement(text)
    if reason is None and required == tool_name:
        return f"{text!r} names the tool itself"
    return reason


# Big indexes repeat the same requirement and specifier strings thousands of times.
@lru_cache(maxsize=4096)
def _parse_requirement(text: str) -> tuple[str | None, str]:
    """(fault or None, the tool named) for one dependency or conflict string."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        detail = str(exc).splitlines()[0]
        return f"{text!r} is not a valid requirement: {detail[:1].lower()}{detail[1:]}", ""
    if requirement.extras or requirement.marker is not None or requirement.url:
        reason = f"{text!r} must be a tool name and a specifier (no extras, markers or URLs)"
        return reason, requirement.name
    if not re.match(_TOOL_NAME, requirement.name):
        return f"{text!r} names {requirement.name!r}, which is not a valid tool name", ""
    return None, requirement.name


def _check_specifier(text: str, at: tuple[str, ...], name: str) -> Any:
    specifier = _parse_specifier(text)
    if specifier is None:
        raise _fault(name, json_path(at), f"{text!r} is not a valid version specifier")
    return specifier


@lru_cache(maxsize=1024)
def _parse_specifier(text: str) -> Any:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def _is_exact_pin(specifier: Any) -> bool:
    specs = list(specifier)
    return (
        len(specs) == 1
        and specs[0].operator in ("==", "===")
        and not specs[0].version.endswith(".*")
    )


def _schema_file() -> str:
    # Worked out when validating, as text: the trusted path must not import pathlib (see
    # DtmPaths), nor resolve symlinks it has no use for.
    return os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "data",
                        "registry.schema.json")


def __getattr__(name: str) -> Any:
    if name == "SCHEMA_FILE":
        from pathlib import Path

        return Path(_schema_file())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
