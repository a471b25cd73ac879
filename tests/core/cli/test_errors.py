"""Every refusal, conflict and invalid input: exact one-line message, hint and exit code."""

from __future__ import annotations

import pytest
from dtm_harness import DtmHarness

CASES = [
    pytest.param(
        ["install", "alpah", "-y"], 2,
        "error: no index lists a tool named 'alpah'", id="unknown-tool"),
    pytest.param(
        ["install", "alpha", "--set", "size=big", "-y"], 2,
        "error: alpha.default: options.size: expected integer, got string 'big'", id="wrong-type"),
    pytest.param(
        ["install", "alpha", "--set", "colour=red", "-y"], 2,
        "error: alpha.default: options.colour: unknown option", id="unknown-option"),
    pytest.param(
        ["install", "alpha", "--set", "tier=gold", "-y"], 2,
        "error: alpha.default: options.tier: expected one of free, pro, got string 'gold'",
        id="bad-choice"),
    pytest.param(
        ["install", "alpha", "--set", "token=hunter2", "-y"], 2,
        "error: alpha.default: options.token must be a secret reference such as "
        "env:GITHUB_TOKEN, not a literal value", id="literal-secret"),
    pytest.param(
        ["install", "alpha", "--set", "size", "-y"], 2,
        "error: --set size: expected KEY=VALUE", id="bad-set"),
    pytest.param(
        ["install", "alpha", "beta", "--set", "size=2", "-y"], 2,
        "error: --set and --values apply to one tool at a time", id="set-two-tools"),
    pytest.param(
        ["install", "alpha==9.9", "-y"], 2,
        "error: no version of alpha matches ==9.9; available: 2.0, 1.1, 1.0", id="no-version"),
    pytest.param(
        ["install", "alpha (", "-y"], 2, None, id="malformed-requirement"),
    pytest.param(
        ["install", "alpha==1.0", "delta", "-y"], 3, None, id="conflict"),
    pytest.param(
        ["history", "undo", "42", "-y"], 3, "error: no transaction 42 in history", id="undo-unknown"),
]


@pytest.mark.parametrize(("args", "code", "first_line"), CASES)
def test_refusals_and_invalid_input(dtm: DtmHarness, args: list[str], code: int,
                                    first_line: str | None) -> None:
    result = dtm.run(*args)
    assert result.exit_code == code, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ")
    assert lines[-1].startswith("hint: ")
    assert "Traceback" not in result.stderr
    if first_line is not None:
        assert lines[0] == first_line
    assert dtm.calls() == []


def test_secret_literal_is_never_echoed(dtm: DtmHarness) -> None:
    result = dtm.run("install", "alpha", "--set", "token=hunter2-canary", "-y")
    assert result.exit_code == 2
    assert "hunter2-canary" not in result.stderr + result.stdout


def test_conflict_is_explained_in_plain_words(dtm: DtmHarness) -> None:
    result = dtm.run("install", "alpha==1.0", "delta", "-y")
    assert result.exit_code == 3
    first = result.stderr.splitlines()[0]
    assert "delta" in first and "alpha" in first


def test_plugin_failure_exits_1_and_records_nothing(dtm: DtmHarness) -> None:
    dtm.set_fault("alpha:create", "fail")
    result = dtm.run("install", "beta", "-y")
    assert result.exit_code == 1
    assert "error: transaction 1 failed: alpha.default: create failed on purpose" in result.stderr
    assert "hint: no step completed; fix the cause and run the command again" in result.stderr
    state = dtm.state()
    assert state["instances"] == {}
    tx = state["transactions"][0]
    assert tx["outcome"] == "failed"
    assert [s["status"] for s in tx["steps"]] == ["failed", "skipped"]


def test_plugin_bug_is_one_line_without_debug_and_a_traceback_with(dtm: DtmHarness) -> None:
    dtm.set_fault("alpha:create", "crash")
    result = dtm.run("install", "alpha", "-y")
    assert result.exit_code == 1
    assert "alpha.default: create failed: RuntimeError: boom" in result.stderr
    assert "Traceback" not in result.stderr
    dtm.set_fault("alpha:create", "crash")
    debug = dtm.run("--debug", "install", "alpha", "-y")
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr


def test_later_step_failure_keeps_done_steps_and_says_how_to_undo(dtm: DtmHarness) -> None:
    dtm.set_fault("beta:create", "fail")
    result = dtm.run("install", "gamma", "-y")
    assert result.exit_code == 1
    assert ("hint: 1 completed step(s) were kept; see 'dtm history info 1', undo them with "
            "'dtm history undo 1'") in result.stderr
    assert set(dtm.state()["instances"]) == {"alpha.default"}
    assert dtm.calls("create") == [("create", "alpha.default"), ("create", "beta.default")]


def test_unverified_release_artifacts_are_refused_unless_allowed(dtm: DtmHarness) -> None:
    refused = dtm.run("install", "epsilon==1.0", "-y")
    assert refused.exit_code == 3
    assert refused.stderr.splitlines() == [
        "error: unverified release: epsilon 1.0: the registry lists no sha256 for any of its "
        "downloads",
        "hint: pass --allow-unverified to install them anyway, or choose a verified version "
        "('dtm info TOOL' shows which are)"]
    assert dtm.calls() == []
    allowed = dtm.run("install", "epsilon==1.0", "--allow-unverified", "-y")
    assert allowed.exit_code == 0, allowed.stderr
    assert dtm.world()["calls"][0]["artifacts"] == {
        "manifest": {"url": "https://example.test/epsilon-1.0.yaml"}}


def test_verified_versions_install_and_info_says_which_are(dtm: DtmHarness) -> None:
    import json

    assert dtm.run("install", "epsilon", "-y").exit_code == 0  # 2.0 lists a sha256
    versions = json.loads(dtm.run("info", "epsilon", "-o", "json").stdout)["versions"]
    assert [(v["version"], v["artifacts_verified"], v["unverified_artifacts"]) for v in versions] == [
        ("2.0", True, []), ("1.0", False, ["manifest"])]
