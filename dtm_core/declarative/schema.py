"""The JSON Schema of toolchain files, with each installed tool's option schema, for editors and CI."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..options import options_json_schema
from .config import BACKENDS, FORMAT_VERSION

if TYPE_CHECKING:
    from ..toolkind import ToolKind

_NAME = "^[a-z0-9][a-z0-9-]{0,62}$"
#: A whole value that is one expression: its type is known only after substitution.
EXPRESSION = {"type": "string", "pattern": "^\\$\\{\\{.*\\}\\}$",
              "description": "${{ vars.NAME }}, ${{ env.NAME }} or ${{ TOOL.INSTANCE.outputs.KEY }}"}
#: Secret options take a reference (env:NAME); ${{ env.NAME }} would put the value in state.
_VARS_EXPRESSION = {"type": "string", "pattern": "^\\$\\{\\{\\s*vars\\..*\\}\\}$"}


def _accepting_expressions(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` where every typed value may also be written as an expression."""
    inner = dict(schema)
    if "properties" in inner:
        inner["properties"] = {k: _accepting_expressions(v) for k, v in inner["properties"].items()}
    if isinstance(inner.get("items"), dict):
        inner["items"] = _accepting_expressions(inner["items"])
    if isinstance(inner.get("additionalProperties"), dict):
        inner["additionalProperties"] = _accepting_expressions(inner["additionalProperties"])
    if inner.get("x-dtm-secret"):
        return {"anyOf": [inner, _VARS_EXPRESSION]}
    if inner.get("type") == "string" and "enum" not in inner:
        return inner  # any string already matches, expressions included
    return {"anyOf": [inner, EXPRESSION]}


def _tool_item(names: list[str]) -> dict[str, Any]:
    tool: dict[str, Any] = {"type": "string", "pattern": _NAME,
                            "description": "The registry tool, e.g. github-repo."}
    if names:
        tool["enum"] = names
    return {
        "type": "object",
        "required": ["tool"],
        "additionalProperties": False,
        "properties": {
            "tool": tool,
            "name": {"type": "string", "pattern": _NAME, "default": "default",
                     "description": "The instance name; TOOL.NAME is its address."},
            "version": {"type": "string", "description": "A PEP 440 specifier, e.g. >=1.2,<2."},
            "options": {"type": ["object", "null"], "description": "The tool's options."},
            "depends_on": {
                "type": ["array", "null"],
                "description": "Instances to apply first: TOOL (its default instance) or TOOL.INSTANCE.",
                "items": {"type": "string",
                          "pattern": "^[a-z0-9][a-z0-9-]*(\\.[a-z0-9][a-z0-9-]*)?$"},
            },
        },
    }


def _state() -> dict[str, Any]:
    return {
        "type": ["object", "null"],
        "description": "Where dtm keeps state; the local store when left out.",
        "additionalProperties": False,
        "properties": {
            "backend": {"enum": list(BACKENDS), "default": "local"},
            "url": {"type": "string",
                    "description": "postgresql only: a secret reference such as env:DTM_STATE_URL, "
                                   "or a URL without a password."},
            "workspace": {"type": "string"},
        },
        "if": {"properties": {"backend": {"const": "local"}}},
        "then": {"properties": {"url": False}},  # url is for postgresql only
    }


def toolchain_json_schema(kinds: Mapping[str, ToolKind], registry_tools: Iterable[str]) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of toolchain files.

    Tools with an installed plugin (``kinds``) get their option schema; other registry tools
    accept any options mapping (their plugin validates them once installed).
    """
    names = sorted(set(registry_tools) | set(kinds))
    per_tool = []
    defs: dict[str, Any] = {}
    for name in sorted(kinds):
        options = options_json_schema(kinds[name].options)
        # The options mapping itself must be written out; its values may be expressions.
        options["properties"] = {k: _accepting_expressions(v) for k, v in options["properties"].items()}
        options["type"] = ["object", "null"]  # 'options:' with every line commented out
        defs[f"options-{name}"] = options
        per_tool.append({
            "if": {"properties": {"tool": {"const": name}}, "required": ["tool"]},
            "then": {"properties": {"options": {"$ref": f"#/$defs/options-{name}"}}},
        })
    item = _tool_item(names)
    if per_tool:
        item["allOf"] = per_tool
    defs["tool"] = item
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "dtm toolchain",
        "description": "A toolchain for `dtm apply -f`; see docs/config.md.",
        "type": "object",
        "required": ["version"],
        "properties": {
            "version": {"const": FORMAT_VERSION, "description": "The format version."},
            "vars": {
                "type": ["object", "null"],
                "description": "Variables, used as ${{ vars.NAME }}; any YAML value.",
                "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"},
            },
            "state": _state(),
            "tools": {"type": ["array", "null"], "items": {"$ref": "#/$defs/tool"}},
        },
        # x- keys hold YAML anchors for reuse; dtm ignores them.
        "patternProperties": {"^x-": True},
        "additionalProperties": False,
        "$defs": defs,
    }
