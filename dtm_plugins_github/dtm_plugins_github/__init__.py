"""dtm-plugins-github: registers the github-repo and github-actions tool kinds."""

from __future__ import annotations

from collections.abc import Sequence

from dtm_core import ToolKind, hookimpl

from .actions import GitHubActions
from .repo import GitHubRepo

__version__ = "0.1.0"

__all__ = ["GitHubActions", "GitHubRepo", "dtm_tool_kinds"]


@hookimpl
def dtm_tool_kinds() -> Sequence[ToolKind]:
    return [GitHubRepo(), GitHubActions()]
