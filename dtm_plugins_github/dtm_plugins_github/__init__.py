"""dtm-plugins-github: registers the github-repo and github-actions tool kinds (stubs in 0.1.0)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from dtm_core import Live, OperationError, Option, OutputSpec, ToolContext, ToolKind, hookimpl

__version__ = "0.1.0"

_RELEASE = f"dtm-plugins-github {__version__}"
_TOKEN = Option(
    "token",
    secret=True,
    required=True,
    description="GitHub token with the repo scope, as a reference such as env:GITHUB_TOKEN",
)


class _NotYetImplemented(ToolKind):
    """Registration only: the real operations arrive with their own issue."""

    def _refuse(self) -> NoReturn:
        raise OperationError(
            f"{self.name} is not implemented yet in {_RELEASE}",
            hint="its real implementation is tracked as a separate issue; "
            "only registration exists today",
        )

    def create(self, ctx: ToolContext) -> NoReturn:
        self._refuse()

    def read(self, ctx: ToolContext) -> NoReturn:
        self._refuse()

    def update(self, ctx: ToolContext, live: Live) -> NoReturn:
        self._refuse()

    def delete(self, ctx: ToolContext) -> NoReturn:
        self._refuse()


class GitHubRepo(_NotYetImplemented):
    name = "github-repo"
    description = "A GitHub repository, created under a user or organisation."
    options = (
        Option("owner", required=True, description="user or organisation owning the repository"),
        Option("name", required=True, description="repository name"),
        Option("visibility", default="private", choices=("public", "private")),
        Option("description", description="one-line description shown on GitHub"),
        Option("default_branch", default="main", description="branch created first"),
        _TOKEN,
    )
    outputs = (
        OutputSpec("url", "web address of the repository"),
        OutputSpec("clone_url", "HTTPS clone address"),
        OutputSpec("default_branch", "the repository's default branch"),
    )


class GitHubActions(_NotYetImplemented):
    name = "github-actions"
    description = "GitHub Actions CI workflows committed to a repository and kept in sync."
    options = (
        Option("owner", required=True, description="user or organisation owning the repository"),
        Option("repo", required=True, description="repository the workflows are committed to"),
        Option("branch", default="main", description="branch the workflow files live on"),
        Option(
            "language",
            required=True,
            choices=("go", "python", "java", "nodejs"),
            description="selects the build-and-test workflow template",
        ),
        _TOKEN,
    )
    outputs = (
        OutputSpec("workflows", "paths of the workflow files dtm manages"),
        OutputSpec("actions_url", "web address of the repository's Actions tab"),
    )


@hookimpl
def dtm_tool_kinds() -> Sequence[ToolKind]:
    return [GitHubRepo(), GitHubActions()]
