"""search, info, list, plugins, completion and help: read-only commands and their JSON."""

from __future__ import annotations

import json

import pytest
from dtm_harness import DtmHarness

from dtm_core.cli import COMMANDS


def test_search_json_ranks_exact_and_prefix_first_and_marks_installed(dtm: DtmHarness) -> None:
    assert dtm.run("install", "alpha", "-y").exit_code == 0
    rows = json.loads(dtm.run("search", "beta", "-o", "json").stdout)
    assert rows[0] == {"name": "beta", "kind": "tool", "version": "2.0",
                       "description": "Beta builds on alpha", "tags": ["ci", "test"],
                       "installed": False}
    everything = json.loads(dtm.run("search", "-o", "json").stdout)
    assert {r["name"]: r["installed"] for r in everything}["alpha"] is True
    assert {r["name"]: r["kind"] for r in everything}["duo"] == "stack"


def test_search_text_and_no_match(dtm: DtmHarness) -> None:
    text = dtm.run("search", "gamma")
    assert text.exit_code == 0
    assert text.stdout.splitlines()[0].split() == ["NAME", "VERSION", "KIND", "INSTALLED",
                                                   "DESCRIPTION"]
    none = dtm.run("search", "zzz")
    assert none.exit_code == 0 and none.stderr.strip() == "no tool matches 'zzz'"


def test_info_shows_versions_dependents_plugin_and_source(dtm: DtmHarness) -> None:
    data = json.loads(dtm.run("info", "alpha", "-o", "json").stdout)
    assert data["source"] == "default"
    assert data["needed_by"] == ["beta", "duo"]
    assert [v["version"] for v in data["versions"]] == ["2.0", "1.1", "1.0"]
    assert data["versions"][0]["plugin"] == "dtm-testplugin>=0.1"
    text = dtm.run("info", "beta").stdout
    assert "alpha>=2.0" in text
    unknown = dtm.run("info", "alpah")
    assert unknown.exit_code == 2
    assert unknown.stderr.splitlines() == [
        "error: no index lists a tool named 'alpah'",
        "hint: did you mean alpha? 'dtm search' lists tools; 'dtm update' refreshes indexes"]


def test_list_shows_reason_and_held(dtm: DtmHarness) -> None:
    assert dtm.run("install", "beta", "-y").exit_code == 0
    assert dtm.run("hold", "beta").exit_code == 0
    rows = json.loads(dtm.run("list", "-o", "json").stdout)
    assert [(r["address"], r["version"], r["reason"], r["held"]) for r in rows] == [
        ("alpha.default", "2.0", "auto", False), ("beta.default", "2.0", "manual", True)]


def test_plugins_lists_loaded_and_broken_plugins_and_commands_still_work(dtm: DtmHarness) -> None:
    dtm.env["DTM_PLUGINS"] = "testplugin,no_such_plugin_module"
    dtm.env["DTM_LOAD_PLUGINS"] = "testplugin,no_such_plugin_module"
    rows = json.loads(dtm.run("plugins", "-o", "json").stdout)
    by_name = {r["name"]: r for r in rows}
    assert by_name["testplugin"]["status"] == "ok"
    assert by_name["testplugin"]["tools"] == ["alpha", "beta", "delta", "epsilon", "gamma"]
    assert by_name["no_such_plugin_module"]["status"] == "broken"
    assert by_name["no_such_plugin_module"]["error"] == (
        "ModuleNotFoundError: No module named 'no_such_plugin_module'")
    assert dtm.run("install", "alpha", "-y").exit_code == 0


def test_disabled_plugin_makes_its_tools_unavailable_with_a_clear_error(dtm: DtmHarness) -> None:
    dtm.env["DTM_DISABLE_PLUGINS"] = "testplugin"
    result = dtm.run("install", "alpha", "-y")
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(dtm: DtmHarness, command: str) -> None:
    result = dtm.run(command, "--help")
    assert result.exit_code == 0
    assert "Usage: " in result.stdout


def test_top_level_help_lists_commands_and_exit_codes(dtm: DtmHarness) -> None:
    result = dtm.run("--help")
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.stdout
    assert "4 lock timeout" in result.stdout


def test_version(dtm: DtmHarness) -> None:
    from dtm_core import __version__

    assert dtm.run("--version").stdout == f"dtm {__version__}\n"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(dtm: DtmHarness, shell: str) -> None:
    result = dtm.run("completion", shell)
    assert result.exit_code == 0
    assert "_DTM_COMPLETE" in result.stdout


def test_unknown_command_is_a_usage_error(dtm: DtmHarness) -> None:
    result = dtm.run("instal", "alpha")
    assert result.exit_code == 2
    assert "No such command 'instal'" in result.stderr


def test_info_lists_options_and_outputs_from_the_plugin(dtm: DtmHarness) -> None:
    data = json.loads(dtm.run("info", "alpha", "-o", "json").stdout)
    options = {o["name"]: o for o in data["options"]}
    assert options["token"]["secret"] is True
    assert options["size"]["type"] == "integer" and options["size"]["default"] == 1
    assert [o["name"] for o in data["outputs"]] == ["url", "password", "size"]
    text = dtm.run("info", "alpha").stdout
    assert "  tier (string) = 'free'  A choice." in text
    assert "outputs:  url, password (secret)" in text
