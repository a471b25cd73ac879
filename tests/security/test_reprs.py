"""Regression: the objects dtm hands plugins showed the whole environment in their repr.

``ToolContext`` and ``CommitRequest`` are dataclasses; their ``environ`` (every variable dtm
runs with, GITHUB_TOKEN among them) was in the generated repr, so a plugin's
``f"... {ctx}"`` in an error message, or a debugger's view, printed every exported token.
Secret option values were already masked (:class:`~dtm_core.secrets.Secret`).
"""

from __future__ import annotations

from canaries import Canaries

from dtm_core.secrets import Secret, SecretRef
from dtm_core.sourcecontrol import CommitRequest
from dtm_core.toolkind import ToolContext


def test_a_tool_context_shows_neither_the_environment_nor_secret_values() -> None:
    canaries = Canaries()
    exported, resolved = canaries.new("GITHUB_TOKEN"), canaries.new("token option")
    ctx = ToolContext(tool="github-repo", instance="app", version="0.1.0",
                      options={"token": Secret(resolved.value, SecretRef("env", "APP_TOKEN"))},
                      environ={"GITHUB_TOKEN": exported.value})

    shown = repr(ctx)

    assert "Secret(env:APP_TOKEN)" in shown
    assert canaries.leaks_in("repr(ToolContext)", shown) == []


def test_a_commit_request_shows_neither_the_environment_nor_its_token() -> None:
    canaries = Canaries()
    exported, token = canaries.new("GITHUB_TOKEN"), canaries.new("token")
    request = CommitRequest(repo_url="https://github.com/acme/app.git", files={}, message="Add",
                            token=Secret(token.value), environ={"GITHUB_TOKEN": exported.value})

    shown = repr(request)

    assert "https://github.com/acme/app.git" in shown
    assert canaries.leaks_in("repr(CommitRequest)", shown) == []
