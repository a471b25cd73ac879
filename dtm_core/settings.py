"""dtm's own settings file (``config.toml``): where it is, and reading it into a mapping.

``<config dir>/config.toml`` by default; ``DTM_CONFIG`` names another file, so that a team or
an administrator can hand out one managed file. Each part of dtm reads its own table (the
registry reads ``[registry]``, see :mod:`dtm_core.registry.policy`) and checks its values.
A missing file means no settings, and costs one failed ``open``: ``tomllib`` is imported only
when there is a file to read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError
from .paths import DtmPaths

__all__ = ["SETTINGS_ENV", "Settings", "load_settings", "settings_file"]

SETTINGS_ENV = "DTM_CONFIG"
_HINT = "fix the file; see docs/config.md for the settings dtm reads"


class Settings:
    """The decoded settings file and where it came from (named in every error about it)."""

    __slots__ = ("file", "data")

    def __init__(self, file: str, data: Mapping[str, Any]) -> None:
        self.file = file
        self.data = data

    def table(self, name: str) -> Mapping[str, Any]:
        """The table ``[name]``; empty when absent, an error when it is not a table."""
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self.file}: {name} must be a table ([{name}])", hint=_HINT)
        return value

    def error(self, key: str, problem: str, hint: str = _HINT) -> ConfigError:
        """A ConfigError about ``key`` (``registry.allowed``), at the line that sets it if found."""
        return ConfigError(f"{self.file}:{self._where(key)}: {key} {problem}", hint=hint)

    def _where(self, key: str) -> str:
        # tomllib keeps no positions: find the line that sets the key, as written in a table
        # (``allowed = …``) or dotted (``registry.allowed = …``).
        table, _, leaf = key.rpartition(".")
        pattern = re.compile(rf"^\s*(?:{re.escape(table)}\s*\.\s*)?{re.escape(leaf)}\s*=")
        try:
            with open(self.file, encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    if pattern.match(line):
                        return f"{number}:{len(line) - len(line.lstrip()) + 1}"
        except (OSError, UnicodeDecodeError):
            pass
        return "1:1"


def settings_file(paths: DtmPaths, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    chosen = env.get(SETTINGS_ENV, "").strip()
    return os.path.expanduser(chosen) if chosen else paths.settings_file_text


def load_settings(paths: DtmPaths, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings in effect; an unreadable or malformed file is a ConfigError (exit 2)."""
    env = os.environ if environ is None else environ
    file = settings_file(paths, env)
    try:
        with open(file, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        if env.get(SETTINGS_ENV, "").strip():
            # A file named on purpose that is not there is a mistake, not "no settings".
            raise ConfigError(f"{file}: no such file (named by {SETTINGS_ENV})",
                              hint=f"create it, or unset {SETTINGS_ENV}") from None
        return Settings(file, {})
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}", hint=_HINT) from None
    import tomllib

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{file}:1:1: not UTF-8 text", hint=_HINT) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}:{_toml_error(str(exc), text)}", hint=_HINT) from None
    return Settings(file, data)


def _toml_error(message: str, text: str) -> str:
    """``LINE:COLUMN: invalid TOML: reason`` from tomllib's "reason (at line L, column C)"."""
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found:
        return f"{found[1]}:{found[2]}: invalid TOML: {message[: found.start()]}"
    reason = message.removesuffix(" (at end of document)")
    lines = text.split("\n")
    return f"{len(lines)}:{len(lines[-1]) + 1}: invalid TOML: {reason}"
