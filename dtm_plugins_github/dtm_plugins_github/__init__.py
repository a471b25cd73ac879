"""dtm-plugins-github: registers the github-repo and github-actions tool kinds, and GitHub source control."""

from __future__ import annotations

from collections.abc import Sequence

from dtm_core import SourceControl, ToolKind, hookimpl

from .actions import GitHubActions
from .repo import GitHubRepo
from .sourcecontrol import GitHubSourceControl

__version__ = "0.1.0"

__all__ = ["GitHubActions", "GitHubRepo", "GitHubSourceControl", "dtm_source_control", "dtm_tool_kinds"]


@hookimpl
def dtm_tool_kinds() -> Sequence[ToolKind]:
    return [GitHubRepo(), GitHubActions()]


@hookimpl
def dtm_source_control() -> Sequence[SourceControl]:
    """Commits for other plugins (a Jenkinsfile, say) to github.com and the GITHUB_API_URL host (API 1.2)."""
    return [GitHubSourceControl()]
