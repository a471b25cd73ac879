"""install, remove, autoremove and their refusals, through the CLI with the test plugin."""

from __future__ import annotations

import json

from dtm_harness import DtmHarness


def test_install_pulls_dependencies_marked_auto_in_order(dtm: DtmHarness) -> None:
    result = dtm.run("install", "gamma", "-y")
    assert result.exit_code == 0, result.stderr
    instances = dtm.state()["instances"]
    assert {a: (r["version"], r["reason"]) for a, r in instances.items()} == {
        "alpha.default": ("2.0", "auto"),
        "beta.default": ("2.0", "auto"),
        "gamma.default": ("1.0", "manual"),
    }
    assert instances["gamma.default"]["requires"] == ["beta.default"]
    assert instances["beta.default"]["requires"] == ["alpha.default"]
    assert dtm.calls("create") == [("create", "alpha.default"), ("create", "beta.default"),
                                   ("create", "gamma.default")]
    assert "install alpha.default 2.0 (auto, as a dependency)" in result.stderr
    assert "transaction 1: ok" in result.stderr


def test_install_records_outputs_and_secret_references_only(dtm: DtmHarness) -> None:
    result = dtm.run("install", "alpha", "--instance", "prod", "--set", "token=env:ALPHA_TOKEN",
                     "--set", "size=3", "--set", "settings.region=us", "-y")
    assert result.exit_code == 0, result.stderr
    record = dtm.state()["instances"]["alpha.prod"]
    assert record["options"] == {"size": 3, "tier": "free", "token": "env:ALPHA_TOKEN",
                                 "settings": {"region": "us"}}
    assert record["outputs"] == {"url": "https://prod.alpha.test", "size": 3,
                                 "password": "env:ALPHA_PASSWORD"}
    assert dtm.world()["calls"][0]["token_seen"] is True
    canary = dtm.env["ALPHA_TOKEN"]
    state_text = (dtm.home / "data" / "state" / "state.json").read_text()
    assert canary not in state_text
    assert canary not in result.stdout + result.stderr


def test_dry_run_changes_nothing_and_json_shows_the_plan(dtm: DtmHarness) -> None:
    result = dtm.run("install", "beta", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["dry_run"] is True and data["transaction"] is None
    assert [(s["action"], s["address"], s["to_version"], s["reason"])
            for s in data["plan"]["steps"]] == [
        ("install", "alpha.default", "2.0", "auto"),
        ("install", "beta.default", "2.0", "manual"),
    ]
    assert dtm.state() == {}
    assert dtm.calls() == []


def test_declining_the_prompt_aborts_with_exit_6(dtm: DtmHarness) -> None:
    result = dtm.run("install", "alpha", input="n\n")
    assert result.exit_code == 6
    assert "error: aborted; nothing was changed" in result.stderr
    assert "hint: pass -y to proceed without asking" in result.stderr
    assert dtm.calls() == []


def test_no_stdin_without_yes_aborts(dtm: DtmHarness) -> None:
    result = dtm.run("install", "alpha", input="")
    assert result.exit_code == 6


def test_remove_needed_instance_is_refused_naming_dependent(dtm: DtmHarness) -> None:
    assert dtm.run("install", "gamma", "-y").exit_code == 0
    result = dtm.run("remove", "beta", "-y")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "error: cannot remove beta.default: gamma.default needs it",
        "hint: remove both with --cascade, or remove gamma.default first",
    ]
    assert "beta.default" in dtm.state()["instances"]


def test_remove_cascade_removes_dependents_first(dtm: DtmHarness) -> None:
    assert dtm.run("install", "gamma", "-y").exit_code == 0
    result = dtm.run("remove", "alpha", "--cascade", "-y")
    assert result.exit_code == 0, result.stderr
    assert dtm.calls("delete") == [("delete", "gamma.default"), ("delete", "beta.default"),
                                   ("delete", "alpha.default")]
    assert dtm.state()["instances"] == {}


def test_autoremove_removes_unneeded_auto_instances(dtm: DtmHarness) -> None:
    assert dtm.run("install", "gamma", "-y").exit_code == 0
    assert dtm.run("remove", "gamma", "-y").exit_code == 0
    assert set(dtm.state()["instances"]) == {"alpha.default", "beta.default"}
    result = dtm.run("autoremove", "-y")
    assert result.exit_code == 0, result.stderr
    assert dtm.state()["instances"] == {}
    assert dtm.run("autoremove", "-y").stderr.strip() == (
        "no auto-installed instance is unneeded\nnothing to do")


def test_installing_an_auto_instance_marks_it_manual(dtm: DtmHarness) -> None:
    assert dtm.run("install", "beta", "-y").exit_code == 0
    result = dtm.run("install", "alpha", "-y")
    assert result.exit_code == 0, result.stderr
    assert "alpha.default is now marked as manually installed" in result.stderr
    assert dtm.state()["instances"]["alpha.default"]["reason"] == "manual"
    assert dtm.calls("create") == [("create", "alpha.default"), ("create", "beta.default")]


def test_stack_installs_members_like_a_metapackage(dtm: DtmHarness) -> None:
    result = dtm.run("install", "duo", "-y")
    assert result.exit_code == 0, result.stderr
    instances = dtm.state()["instances"]
    assert instances["duo.default"]["reason"] == "manual"
    assert instances["alpha.default"]["reason"] == "auto"
    assert sorted(instances["duo.default"]["requires"]) == ["alpha.default", "beta.default"]


def test_remove_unknown_instance_is_invalid_input(dtm: DtmHarness) -> None:
    result = dtm.run("remove", "alpha.nope", "-y")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: alpha.nope is not installed",
                                          "hint: installed: nothing"]
