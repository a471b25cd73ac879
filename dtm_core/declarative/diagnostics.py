"""How a fault in a toolchain file is worded: ``file:line:column: problem``, the fix, a likely key."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from ..errors import ConfigError
from .model import Location

#: Keys people write out of habit (DevStream, Compose, Terraform), and dtm's word for them.
_FAMILIAR = {"instanceID": "name", "instance": "name", "dependsOn": "depends_on",
             "depends": "depends_on", "plugin": "tool", "config": "state", "variables": "vars",
             "with": "options", "settings": "options"}


def config_error(where: Location, message: str, hint: str) -> ConfigError:
    """The error for a fault at ``where``, for the caller to raise."""
    return ConfigError(f"{where}: {message}", hint=hint)


def known_keys_hint(word: str, known: Sequence[str]) -> str:
    """The hint for an unknown key ``word``: the known keys, and the one probably meant."""
    close = _FAMILIAR.get(word) or next(iter(difflib.get_close_matches(word, known, n=1)), None)
    suggestion = f"; did you mean {close!r}?" if close in known else ""
    return "known keys: " + ", ".join(known) + suggestion
