"""The source-control capability: the core routes a repository URL to the plugin that can write to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dtm_core import CommitRequest, OperationError, ToolContext
from dtm_core.plugins import load_plugins
from dtm_core.secrets import Secret


@pytest.fixture
def ctx(dtm_env: dict[str, str]) -> ToolContext:
    host = load_plugins(dtm_env)
    return ToolContext(tool="alpha", instance="default", version="1.0", options={},
                       environ=dtm_env, source_controls=host.source_controls())


def test_a_tool_commits_through_the_provider_that_claims_the_url(ctx: ToolContext,
                                                                  dtm_env: dict[str, str]) -> None:
    provider = ctx.source_control("test-scm://shop")
    assert provider.name == "test-scm"
    request = CommitRequest("test-scm://shop", {"Jenkinsfile": b"pipeline {}\n"}, "Add a Jenkinsfile",
                            branch="main", token=Secret("s3cret-canary"))
    first = provider.commit_files(request)
    assert (first.commit, list(first.changed)) == ("c1", ["Jenkinsfile"])
    # The same files again change nothing, so no commit is made.
    assert provider.commit_files(request).commit is None
    assert provider.read_file("test-scm://shop", "Jenkinsfile") == b"pipeline {}\n"
    recorded = json.loads(Path(dtm_env["DTM_TEST_WORLD"]).read_text())["repositories"]["test-scm://shop"]
    # The provider sees the token as a masked Secret: printing it never shows the value.
    assert recorded["commits"] == [{"sha": "c1", "message": "Add a Jenkinsfile", "branch": "main",
                                    "token": "***"}]


def test_a_url_no_plugin_claims_names_the_providers_and_what_to_install(ctx: ToolContext) -> None:
    with pytest.raises(OperationError) as caught:
        ctx.source_control("https://gitlab.example/team/shop.git")
    assert caught.value.message == ("no source-control plugin can write to "
                                    "https://gitlab.example/team/shop.git (providers: test-scm)")
    assert caught.value.hint is not None and "dtm-plugins-github" in caught.value.hint
    bare = ToolContext(tool="alpha", instance="default", version="1.0", options={})
    with pytest.raises(OperationError, match=r"providers: none is installed"):
        bare.source_control("test-scm://shop")
