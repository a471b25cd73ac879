"""Journaled output references: how a step's options name another instance's outputs.

A toolchain option such as ``${{ github-repo.app.outputs.clone_url }}`` is only known once
``github-repo.app`` has run. The journal stores it as ``{"$output": [address, key]}`` (and a
string with references inside as ``{"$template": [...]}``) so that a recovered transaction
can fill it from recorded outputs just as the original run would have.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import OperationError

OUTPUT_KEY = "$output"
TEMPLATE_KEY = "$template"


def is_reference(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and (OUTPUT_KEY in value or TEMPLATE_KEY in value)


def contains_references(value: Any) -> bool:
    if is_reference(value):
        return True
    if isinstance(value, dict):
        return any(contains_references(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_references(v) for v in value)
    return False


def _output(address: str, key: str, outputs: Mapping[str, Mapping[str, Any]]) -> Any:
    produced = outputs.get(address)
    if produced is None:
        raise OperationError(f"{address} has not run, so its output {key!r} is unknown",
                             hint=f"apply {address} first; it is a dependency")
    if key not in produced:
        known = ", ".join(sorted(produced)) or "none"
        raise OperationError(f"{address} has no output {key!r}; its outputs: {known}",
                             hint="fix the reference in the configuration")
    return produced[key]


def _text(value: Any) -> str:
    """A value joined into text, written as YAML would (``true``, not ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def fill_references(value: Any, outputs: Mapping[str, Mapping[str, Any]]) -> Any:
    """Replace journaled references in ``value`` with the recorded outputs they name."""
    if is_reference(value):
        if OUTPUT_KEY in value:
            address, key = value[OUTPUT_KEY]
            return _output(address, key, outputs)
        return "".join(
            _text(_output(part[OUTPUT_KEY][0], part[OUTPUT_KEY][1], outputs))
            if is_reference(part) else str(part)
            for part in value[TEMPLATE_KEY]
        )
    if isinstance(value, dict):
        return {k: fill_references(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_references(v, outputs) for v in value]
    return value
