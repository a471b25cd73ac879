"""What a new plugin is called: one NAME, checked, and the distribution, module and class names it gives."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InvalidInputError

#: Lowercase words joined by single hyphens: valid as a registry tool name, a distribution
#: suffix and, with hyphens made underscores after the ``dtm_plugins_*`` prefix, a module name.
NAME_PATTERN = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
DISTRIBUTION_PREFIX = "dtm-plugins-"


@dataclass(frozen=True)
class PluginNames:
    """Every name of a plugin distribution, derived from one NAME (``bucket``)."""

    #: ``bucket``; also the entry point's name.
    name: str
    #: The registry tool the plugin's tool kind provides (``bucket`` unless ``--tool`` says otherwise).
    tool: str

    @property
    def distribution(self) -> str:
        """``dtm-plugins-bucket``: what PyPI and registry entries call it."""
        return f"{DISTRIBUTION_PREFIX}{self.name}"

    @property
    def module(self) -> str:
        """The import package the entry point names: the distribution name with underscores."""
        return self.distribution.replace("-", "_")

    @property
    def entry_point(self) -> str:
        return self.name

    @property
    def class_name(self) -> str:
        """``Bucket``: the tool kind's class, CamelCase of the tool name."""
        words = "".join(word.capitalize() for word in self.tool.split("-"))
        return words if words[0].isalpha() else f"Tool{words}"


def _check(value: str, what: str, example: str) -> str:
    if NAME_PATTERN.fullmatch(value) is None:
        raise InvalidInputError(
            f"{value!r} is not a valid {what}",
            hint=f"use lowercase letters and digits, words joined by single '-', e.g. {example}",
        )
    return value


def plugin_names(name: str, tool: str | None = None) -> PluginNames:
    """Check NAME (a ``dtm-plugins-`` prefix is accepted and dropped) and TOOL (default NAME)."""
    bare = name.strip().removeprefix(DISTRIBUTION_PREFIX)
    _check(bare, "plugin name", "'bucket' for dtm-plugins-bucket")
    chosen = _check(tool.strip(), "tool name", "'object-bucket'") if tool is not None else bare
    return PluginNames(name=bare, tool=chosen)
