"""Option schemas of tool kinds: declaration, validation before any call, and JSON Schema export.

A tool kind declares its options as :class:`Option` values. :func:`validate_options` checks a
user's values against them before any plugin call, applies defaults, parses secret references,
and reports the first fault by option path (``options.starter.language: expected string,
got integer 3``). :func:`options_json_schema` turns the same declarations into JSON Schema for
``dtm schema`` and editors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import InvalidInputError, OptionError
from .secrets import SecretRef

OptionType = Literal["string", "integer", "number", "boolean", "list", "mapping", "object"]

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "list": (list, tuple),
    "mapping": (dict,),
    "object": (dict,),
}

_MISSING: Any = object()


class _KnownAfterApply:
    """Type of :data:`KNOWN_AFTER_APPLY`."""

    def __repr__(self) -> str:
        return "(known after apply)"


#: Stands for a value another instance produces when it runs (an output reference): it passes
#: validation of any non-secret option, since its real type can only be checked at apply time.
KNOWN_AFTER_APPLY: Any = _KnownAfterApply()


@dataclass(frozen=True)
class Option:
    """One option of a tool kind.

    ``type`` is one of string, integer, number, boolean, list (of ``items``), mapping (string
    keys to ``items`` values, default string) or object (with named ``fields``). A ``secret``
    option must be given as a secret reference (``env:NAME``) and is never stored as a value.
    """

    name: str
    type: OptionType = "string"
    description: str = ""
    required: bool = False
    default: Any = None
    secret: bool = False
    choices: tuple[Any, ...] | None = None
    items: Option | None = None
    fields: tuple[Option, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.type not in _PY_TYPES:
            raise ValueError(f"option {self.name!r}: unknown type {self.type!r}")
        if self.secret and self.type != "string":
            raise ValueError(f"option {self.name!r}: only string options can be secret")


def _describe(value: Any) -> str:
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list",
            dict: "mapping", type(None): "null"}.get(type(value), type(value).__name__)
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{kind} {shown}"


def _about(option: Option) -> str:
    article = "an" if option.type[0] in "aeiou" else "a"
    about = f"{option.name} takes {article} {option.type} value"
    return f"{about}: {option.description}" if option.description else about


def _check(option: Option, value: Any, path: str) -> Any:
    if value is KNOWN_AFTER_APPLY:
        return value
    if option.secret:
        if isinstance(value, SecretRef):
            return value
        # Never echo the value: it may be the secret itself.
        if not isinstance(value, str):
            raise OptionError(f"{path}: expected a secret reference such as env:NAME",
                              hint="dtm stores only where a secret comes from, never its value")
        try:
            return SecretRef.parse(value, where=path)
        except InvalidInputError as exc:
            raise OptionError(exc.message, hint=exc.hint) from None
    expected = _PY_TYPES[option.type]
    # bool is an int in Python; an integer option must not accept true/false.
    if not isinstance(value, expected) or (option.type in {"integer", "number"} and isinstance(value, bool)):
        raise OptionError(f"{path}: expected {option.type}, got {_describe(value)}",
                          hint=_about(option))
    if option.choices is not None and value not in option.choices:
        allowed = ", ".join(str(c) for c in option.choices)
        raise OptionError(f"{path}: expected one of {allowed}, got {_describe(value)}",
                          hint=f"choose one of: {allowed}")
    # The isinstance check above narrowed nothing mypy can use; the shape is known from here.
    checked: Any = value
    if option.type == "list":
        item = option.items or Option(name="item")
        return [_check(item, v, f"{path}[{i}]") for i, v in enumerate(checked)]
    if option.type == "mapping":
        item = option.items or Option(name="value")
        out = {}
        for key, v in checked.items():
            if not isinstance(key, str):
                raise OptionError(f"{path}: keys must be strings, got {_describe(key)}",
                                  hint=_about(option))
            out[key] = _check(item, v, f"{path}.{key}")
        return out
    if option.type == "object":
        return _validate_fields(option.fields, checked, path)
    return value


def _validate_fields(fields: Sequence[Option], values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    declared = {f.name: f for f in fields}
    for key in values:
        if key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise OptionError(
                f"{prefix}.{key}: unknown option",
                hint=f"known options here: {known}",
            )
    result: dict[str, Any] = {}
    for opt in fields:
        path = f"{prefix}.{opt.name}"
        value = values.get(opt.name, _MISSING)
        if value is _MISSING or value is None:
            if opt.required:
                raise OptionError(f"{path}: required option is missing",
                                  hint=f"set it, e.g. --set {path.split('.', 1)[1]}=...")
            if opt.default is not None:
                result[opt.name] = opt.default
            continue
        result[opt.name] = _check(opt, value, path)
    return result


def validate_options(options: Sequence[Option], values: Mapping[str, Any],
                     prefix: str = "options") -> dict[str, Any]:
    """Return ``values`` checked against ``options`` with defaults filled in.

    Secret options come back as :class:`SecretRef`. Raises :class:`OptionError` naming the path.
    """
    if not isinstance(values, Mapping):
        raise OptionError(f"{prefix}: expected a mapping of options, got {_describe(values)}",
                          hint="write options as key: value pairs")
    return _validate_fields(options, values, prefix)


def secret_paths(options: Sequence[Option], prefix: str = "") -> list[str]:
    """Dotted paths of every secret option, for masking in plans and output."""
    paths: list[str] = []
    for opt in options:
        path = f"{prefix}{opt.name}"
        if opt.secret:
            paths.append(path)
        if opt.type == "object":
            paths.extend(secret_paths(opt.fields, path + "."))
    return paths


def option_json_schema(option: Option) -> dict[str, Any]:
    schema: dict[str, Any]
    if option.secret:
        schema = {"type": "string", "pattern": "^[a-z][a-z0-9+.-]*:.+$",
                  "x-dtm-secret": True}
    elif option.type == "list":
        schema = {"type": "array", "items": option_json_schema(option.items or Option("item"))}
    elif option.type == "mapping":
        schema = {"type": "object",
                  "additionalProperties": option_json_schema(option.items or Option("value"))}
    elif option.type == "object":
        schema = options_json_schema(option.fields)
    else:
        schema = {"type": option.type}
    if option.description:
        schema["description"] = option.description
    if option.choices is not None:
        schema["enum"] = list(option.choices)
    if option.default is not None:
        schema["default"] = option.default
    return schema


def options_json_schema(options: Sequence[Option]) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) object describing ``options``."""
    return {
        "type": "object",
        "properties": {opt.name: option_json_schema(opt) for opt in options},
        "required": [opt.name for opt in options if opt.required],
        "additionalProperties": False,
    }
