"""Loading a toolchain: merging its files, checking each tool item, and linking dependencies.

``load_toolchain`` reads one or more files (a directory means its ``*.yaml``/``*.yml``,
sorted by name), checks their shape (see ``documents.py``), merges them, substitutes
variables into parsed values (see ``expressions.py``) and links instances through
``depends_on`` and output references. Every fault is a :class:`ConfigError` that starts with
``file:line:column`` and says the fix (see ``diagnostics.py``).
The format is documented in ``docs/config.md``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .diagnostics import config_error, known_keys_hint
from .documents import (
    FORMAT_VERSION,
    TOP_KEYS,
    Document,
    parse_yaml,
    read_text,
    toolchain_files,
    top_level_sections,
)
from .expressions import (
    Scope,
    describe,
    has_unresolved,
    item_location,
    key_location,
    plain,
    references_in,
    value_location,
)
from .model import InstanceSpec, Location, Toolchain

# FORMAT_VERSION and TOP_KEYS live with the top-level checks in documents.py; schema.py and
# other callers still import them from here.
__all__ = ["BACKENDS", "FORMAT_VERSION", "NAME", "STATE_KEYS", "TOOL_KEYS", "TOP_KEYS", "OptionLocation",
           "load_toolchain", "load_toolchain_texts", "locate_option_error"]

TOOL_KEYS = ("tool", "name", "version", "options", "depends_on")
STATE_KEYS = ("backend", "url", "workspace")
BACKENDS = ("local", "postgresql")
#: Tool and instance names; DNS-label-like so that ``tool.instance`` splits unambiguously.
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_NAME_RULE = "lower-case letters, digits and '-', starting with a letter or digit, at most 63"


@dataclass(frozen=True, eq=False)
class OptionLocation(Location):
    """Where an option's value was written, also knowing where its key was (for "unknown option")."""

    key: Location | None = None


def locate_option_error(spec: InstanceSpec, option_path: str, *, key: bool = False) -> Location:
    """Where to report a fault in ``option_path``: its value, or with ``key=True`` its key."""
    found = spec.location_of(option_path)
    if key and isinstance(found, OptionLocation) and found.key is not None:
        return found.key
    return found


def _merge_vars(docs: Sequence[Document]) -> dict[str, tuple[Any, Location]]:
    merged: dict[str, tuple[Any, Location, Location]] = {}
    for doc in docs:
        for name, node, key_at, value_at in doc.vars:
            if name in merged:
                first_node, first_key, _ = merged[name]
                if plain(first_node, first_key) != plain(node, key_at):
                    raise config_error(first_key, f"variable {name} is defined twice with different values "
                                       f"(also at {key_at})", "keep one definition, or rename one of them")
                continue
            merged[name] = (node, key_at, value_at)
    return {name: (node, value_at) for name, (node, _, value_at) in merged.items()}


def _merge_state(docs: Sequence[Document]) -> tuple[Any, Location] | None:
    chosen: tuple[Any, Location] | None = None
    for doc in docs:
        if doc.state is None:
            continue
        if chosen is not None and plain(chosen[0], chosen[1]) != plain(doc.state[0], doc.state[1]):
            raise config_error(chosen[1], f"state is configured twice, differently (also at {doc.state[1]})",
                               "configure state in one file only")
        chosen = chosen or doc.state
    return chosen


def _state(found: tuple[Any, Location] | None, scope: Scope) -> dict[str, Any]:
    if found is None:
        return {}
    node, at = found
    if not isinstance(node, Mapping):
        raise config_error(at, f"state must be a mapping, not {describe(node)}",
                           "write state: {backend: local}, or leave state out for the local store")
    for key in node:
        if key not in STATE_KEYS:
            raise config_error(key_location(node, key, at), f"unknown key {key!r} in state",
                               known_keys_hint(str(key), STATE_KEYS))
    values: dict[str, Any] = scope.resolve(node, at)
    backend = values.get("backend", "local")
    if backend not in BACKENDS:
        raise config_error(value_location(node, "backend", at), f"unknown state backend {backend!r}",
                           "choose one of: " + ", ".join(BACKENDS))
    for key, value in values.items():
        if not isinstance(value, str) or has_unresolved(value):
            raise config_error(value_location(node, key, at),
                               f"state {key} must be a string, not {describe(value)}",
                               "state settings are known before any tool runs: use text, vars or env")
    url = values.get("url")
    if url is not None:
        where = value_location(node, "url", at)
        if backend != "postgresql":
            raise config_error(where, f"url is used only by the postgresql backend, not {backend}",
                               "remove url, or set backend: postgresql")
        if re.match(r"[a-z][a-z0-9+.-]*://[^/@]*:[^/@]*@", url):
            raise config_error(where, "the state url holds a password in plain text",
                               "give it as a secret reference, such as url: env:DTM_STATE_URL")
    return values


def _address(text: str) -> str | None:
    """``tool`` or ``tool.instance`` as a full address, or None when malformed."""
    tool, _, instance = text.partition(".")
    if not NAME.fullmatch(tool) or (instance and not NAME.fullmatch(instance)):
        return None
    return f"{tool}.{instance or 'default'}"


def _instance(node: Any, at: Location, scope: Scope) -> tuple[InstanceSpec, list[tuple[str, Location]]]:
    """One tool item as an InstanceSpec, and its explicit dependencies with where each was written."""
    if not isinstance(node, Mapping):
        shown = plain(node, at)
        hint = f"write '- tool: {shown}'" if isinstance(shown, str) else "write '- tool: NAME'"
        raise config_error(at, f"each item of tools must be a mapping, not {describe(shown)}", hint)
    for key in node:
        if key not in TOOL_KEYS:
            raise config_error(key_location(node, key, at), f"unknown key {key!r} in a tool item",
                               known_keys_hint(str(key), TOOL_KEYS))
    if "tool" not in node:
        hint = "name the registry tool: '- tool: NAME'"
        if "name" in node:
            hint += "; name: is the instance name (default 'default')"
        raise config_error(at, "this tool item has no 'tool:' key", hint)
    tool = plain(node["tool"], value_location(node, "tool", at))
    if not isinstance(tool, str) or not NAME.fullmatch(tool):
        raise config_error(value_location(node, "tool", at), f"invalid tool name: {describe(tool)}",
                           f"a tool is named as the registry lists it ({_NAME_RULE}), e.g. github-repo")
    name = plain(node.get("name", "default"), value_location(node, "name", at))
    if not isinstance(name, str) or not NAME.fullmatch(name):
        hint = f"instance names are {_NAME_RULE}"
        if isinstance(name, int) and not isinstance(name, bool):
            hint += f'; quote it: name: "{name}"'
        raise config_error(value_location(node, "name", at), f"invalid instance name: {describe(name)}", hint)
    spec = InstanceSpec(tool=tool, name=name, location=at)
    if node.get("version") is not None:
        spec.version = _version(node, at, scope)
    options = node.get("options")
    if options is not None:
        if not isinstance(options, Mapping):
            raise config_error(key_location(node, "options", at),
                               f"options must be a mapping, not {describe(options)}",
                               "write one option per line under options:, as KEY: VALUE")

        def visit(path: str, value_at: Location, key_at: Location) -> None:
            if not path.isprintable():
                # Option paths reach messages (options.KEY: …); a line break there splits them.
                raise config_error(key_at, f"the option name {path.rpartition('.')[2]!r} holds an "
                                   "unprintable character", "option names are words: remove the character")
            spec.option_locations[path] = OptionLocation(value_at.file, value_at.line, value_at.column,
                                                         key=key_at)

        spec.options = scope.resolve(options, key_location(node, "options", at), "", visit)
    return spec, _depends_on(node, at)


def _version(node: Any, at: Location, scope: Scope) -> str:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    where = value_location(node, "version", at)
    raw = node["version"]
    text = scope.text(str(raw), where) if isinstance(raw, str) else plain(raw, where)
    if has_unresolved(text):
        raise config_error(
            where, "version cannot refer to another instance's outputs",
            "versions are resolved before any tool runs: write a specifier, or use vars or env")
    if not isinstance(text, str):
        raise config_error(where, f"version must be a quoted specifier, not {describe(text)}",
                           f'quote it: version: "=={text}"' if isinstance(text, int | float) else
                           'write a PEP 440 specifier such as ">=1.2,<2"')
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        hint = 'use a PEP 440 specifier such as ">=1.2,<2" or "==3.5.1"'
        if re.fullmatch(r"v?\d+(\.\d+)*", text.strip()):
            hint = f'for exactly that version write "=={text.strip().lstrip("v")}"'
        raise config_error(where, f"invalid version specifier {text!r}", hint) from None
    return text.strip()


def _depends_on(node: Any, at: Location) -> list[tuple[str, Location]]:
    deps = node.get("depends_on")
    if deps is None:
        return []
    where = key_location(node, "depends_on", at)
    if not isinstance(deps, list):
        shown = plain(deps, where)
        hint = f"write depends_on: [{shown if isinstance(shown, str) else 'TOOL.INSTANCE'}]"
        raise config_error(where, f"depends_on must be a list of instance addresses, not {describe(shown)}",
                           hint)
    found = []
    for index, item in enumerate(deps):
        item_at = item_location(deps, index, where)
        text = plain(item, item_at)
        address = _address(text) if isinstance(text, str) else None
        if address is None:
            raise config_error(
                item_at, f"depends_on entries are 'tool' or 'tool.instance', not {describe(text)}",
                "write the address of an instance declared under tools:, e.g. github-repo.backend")
        found.append((address, item_at))
    return found


def _link(instances: dict[str, InstanceSpec], explicit: dict[str, list[tuple[str, Location]]]) -> None:
    """Fill ``depends_on`` from explicit entries and references; refuse unknown names and cycles."""
    declared = list(instances)

    def suggestion(address: str) -> str:
        # A high cutoff: argocd.default is not a typo of argocd-app.default.
        close = difflib.get_close_matches(address, declared, n=1, cutoff=0.9)
        return f"; did you mean {close[0]}?" if close else ""

    for address, spec in instances.items():
        deps: list[str] = []
        for dep, where in explicit[address]:
            if dep not in instances:
                raise config_error(where, f"depends_on names {dep}, which is not declared in the toolchain",
                                   "declare it under tools:, or leave it out: dtm pulls in the tools a tool "
                                   f"needs automatically{suggestion(dep)}")
            deps.append(dep)
        for ref in references_in(spec.options):
            if ref.address not in instances:
                tool, _, name = ref.address.partition(".")
                raise config_error(ref.location, f"${{{{ {ref.address}.outputs.{ref.output} }}}} refers to "
                                   f"{ref.address}, which is not declared in the toolchain",
                                   f"declare it under tools: (- tool: {tool}, name: {name})"
                                   + suggestion(ref.address))
            deps.append(ref.address)
        spec.depends_on = list(dict.fromkeys(deps))
    _refuse_cycles(instances)


def _refuse_cycles(instances: dict[str, InstanceSpec]) -> None:
    order = {address: i for i, address in enumerate(instances)}
    done: set[str] = set()
    trail: list[str] = []

    def visit(address: str) -> None:
        trail.append(address)
        for dep in instances[address].depends_on:
            if dep in trail:
                cycle = trail[trail.index(dep):]
                # Start at the instance declared first, so the message does not depend on walk order.
                first = min(range(len(cycle)), key=lambda i: order[cycle[i]])
                cycle = cycle[first:] + cycle[:first]
                raise config_error(instances[cycle[0]].location,
                                   "dependency cycle: " + " -> ".join([*cycle, cycle[0]]),
                                   "remove a depends_on entry or an output reference to break it")
            if dep not in done:
                visit(dep)
        trail.pop()
        done.add(address)

    for address in instances:
        if address not in done:
            visit(address)


def load_toolchain_texts(sources: Sequence[tuple[str, str]], *, environ: Mapping[str, str],
                         files: Sequence[Path] = ()) -> Toolchain:
    """A toolchain from ``(label, YAML text)`` pairs, merged in order; ``label`` names the file in errors."""
    docs = [top_level_sections(label, parse_yaml(label, text)) for label, text in sources]
    scope = Scope(_merge_vars(docs), environ)
    variables = scope.variables()
    found_state = _merge_state(docs)
    state = _state(found_state, scope)
    instances: dict[str, InstanceSpec] = {}
    explicit: dict[str, list[tuple[str, Location]]] = {}
    for doc in docs:
        for node, at in doc.tools:
            spec, deps = _instance(node, at, scope)
            if spec.address in instances:
                raise config_error(instances[spec.address].location,
                                   f"{spec.address} is declared twice (also at {spec.location})",
                                   "give one of them another instance name with name:")
            instances[spec.address] = spec
            explicit[spec.address] = deps
    _link(instances, explicit)
    return Toolchain(instances=instances, state=state, variables=variables, files=list(files),
                     state_location=_state_location(found_state))


def _state_location(found: tuple[Any, Location] | None) -> Location | None:
    """Where a state block's errors are told: at its url, else at the block."""
    if found is None:
        return None
    node, at = found
    return value_location(node, "url", at) if isinstance(node, Mapping) and "url" in node else at


def load_toolchain(paths: Sequence[Path], *, environ: Mapping[str, str]) -> Toolchain:
    """Load, check and merge toolchain files; a directory means its *.yaml and *.yml files by name."""
    if not paths:
        raise InvalidInputError("no toolchain file given",
                                hint="pass -f toolchain.yaml (a file or a directory)")
    files = toolchain_files([Path(p) for p in paths])
    return load_toolchain_texts([(str(f), read_text(f)) for f in files], environ=environ,
                                files=[Path(p) for p in paths])
