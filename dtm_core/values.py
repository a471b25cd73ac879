"""Option values from the command line: ``--set key.path=value`` pairs and ``--values`` YAML files."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import ConfigError, InvalidInputError


def parse_value(text: str) -> Any:
    """``true``, ``3``, ``[1, 2]`` and ``"quoted"`` are JSON; anything else is a plain string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def merge_set_pairs(options: dict[str, Any], pairs: Iterable[str]) -> dict[str, Any]:
    """Apply ``key.path=value`` pairs onto ``options`` (nested keys create mappings)."""
    result = dict(options)
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key or any(not part for part in key.split(".")):
            raise InvalidInputError(f"--set {pair}: expected KEY=VALUE",
                                    hint="for example --set visibility=private")
        node = result
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[leaf] = parse_value(raw)
    return result


def load_values_file(path: Path) -> dict[str, Any]:
    """Read a YAML mapping of options; errors name ``file:line:column``."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}",
                                hint="check the path given to --values") from None
    try:
        data = YAML(typ="safe").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML: {exc.problem}",
                          hint="fix the YAML syntax at that position") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1:1: expected a mapping of options, got {type(data).__name__}",
                          hint="write options as key: value lines")
    return data
