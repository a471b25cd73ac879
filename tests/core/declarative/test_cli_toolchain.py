"""init, status, graph, schema, the lock file and install/remove -f, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from dtm_harness import DtmHarness


def test_init_writes_the_stack_starter_and_it_applies(dtm: DtmHarness, tmp_path: Path) -> None:
    out = tmp_path / "toolchain.yaml"
    result = dtm.run("init", "--stack", "duo", "--set", "label=shop", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "# A starter for the duo stack." in out.read_text()
    assert "label: shop" in out.read_text()
    assert dtm.run("apply", "-f", str(out), "-y").exit_code == 0
    assert dtm.state()["instances"]["alpha.default"]["options"]["label"] == "shop"
    again = dtm.run("init", "--stack", "duo", "--set", "label=x", "-o", str(out))
    assert again.exit_code == 3
    assert again.stderr.splitlines()[0] == f"error: {out} already exists"


def test_init_without_values_names_what_is_missing(dtm: DtmHarness, tmp_path: Path) -> None:
    result = dtm.run("init", "--stack", "duo", "-o", str(tmp_path / "t.yaml"), input="")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: the duo starter needs a value for: label"
    unknown = dtm.run("init", "--stack", "alpha", "-o", str(tmp_path / "t.yaml"))
    assert unknown.exit_code == 2
    assert unknown.stderr.splitlines() == ["error: no index lists a stack named 'alpha'",
                                           "hint: stacks: duo; 'dtm search' lists them"]


def test_status_reports_live_drift_and_outdated(dtm: DtmHarness, tmp_path: Path) -> None:
    config = tmp_path / "t.yaml"
    config.write_text("version: 1\ntools:\n  - tool: alpha\n    version: '<2'\n  - tool: beta\n")
    assert dtm.run("apply", "-f", str(config), "-y").exit_code == 0
    world = dtm.world()
    del world["resources"]["beta.default"]
    dtm.world_file.write_text(json.dumps(world))
    rows = {r["address"]: r for r in json.loads(dtm.run("status", "-f", str(config), "-o", "json").stdout)}
    assert (rows["alpha.default"]["recorded"], rows["alpha.default"]["live"],
            rows["alpha.default"]["latest"], rows["alpha.default"]["outdated"]) == ("1.1", "ok", "2.0", True)
    assert rows["beta.default"]["live"] == "gone"
    assert dtm.run("status", "-f", str(config), "--detailed-exitcode").exit_code == 2
    recorded = json.loads(dtm.run("status", "-o", "json").stdout)
    assert [(r["address"], r["live"]) for r in recorded] == [("alpha.default", "ok"),
                                                              ("beta.default", "gone")]


def test_graph_dot_and_mermaid(dtm: DtmHarness, tmp_path: Path) -> None:
    config = tmp_path / "t.yaml"
    config.write_text("version: 1\ntools:\n  - tool: gamma\n")
    dot = dtm.run("graph", "-f", str(config))
    assert dot.exit_code == 0, dot.stderr
    assert dot.stdout.startswith("digraph")
    assert '"gamma.default" -> "beta.default"' in dot.stdout
    mermaid = dtm.run("graph", "-f", str(config), "--format", "mermaid")
    assert mermaid.stdout.startswith("flowchart") or mermaid.stdout.startswith("graph")


def test_schema_is_json_schema_of_the_plugins_options(dtm: DtmHarness) -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads(dtm.run("schema").stdout)
    Draft202012Validator.check_schema(schema)
    text = json.dumps(schema)
    assert "alpha" in text and "duo" not in text


def test_apply_writes_a_lock_file_and_locked_refuses_a_mismatch(dtm: DtmHarness, tmp_path: Path) -> None:
    config = tmp_path / "t.yaml"
    config.write_text("version: 1\ntools:\n  - tool: alpha\n    version: '<2'\n")
    assert dtm.run("apply", "-f", str(config), "-y").exit_code == 0
    lock = json.loads((tmp_path / "dtm.lock").read_text())
    assert lock["tools"]["alpha"]["version"] == "1.1"
    config.write_text("version: 1\ntools:\n  - tool: alpha\n  - tool: beta\n")
    refused = dtm.run("plan", "-f", str(config), "--locked")
    assert refused.exit_code == 3
    assert refused.stderr.splitlines()[0].startswith("error: dtm.lock does not match the configuration")
    assert "beta is not locked" in refused.stderr
    honoured = json.loads(dtm.run("plan", "-f", str(config), "-o", "json").stdout)
    assert {c["address"]: c["to_version"] for c in honoured["changes"]}["alpha.default"] == "1.1"
    upgraded = json.loads(dtm.run("plan", "-f", str(config), "--upgrade", "-o", "json").stdout)
    assert {c["address"]: c["to_version"] for c in upgraded["changes"]}["alpha.default"] == "2.0"
    assert "alpha 1.1 -> 2.0" in upgraded["lock_changes"]


def test_install_and_remove_with_file_edit_the_toolchain_keeping_comments(
        dtm: DtmHarness, tmp_path: Path) -> None:
    config = tmp_path / "t.yaml"
    config.write_text("# our toolchain\nversion: 1\ntools:\n  - tool: alpha  # the base\n")
    result = dtm.run("install", "beta", "--instance", "one", "--set", "size=3", "-f", str(config), "-y")
    assert result.exit_code == 0, result.stderr
    text = config.read_text()
    assert text.startswith("# our toolchain\nversion: 1\ntools:\n  - tool: alpha  # the base\n")
    assert "tool: beta" in text and "name: one" in text and "size: 3" in text
    assert dtm.run("plan", "-f", str(config), "--detailed-exitcode").exit_code == 0
    removed = dtm.run("remove", "beta.one", "-f", str(config), "-y")
    assert removed.exit_code == 0, removed.stderr
    assert config.read_text() == "# our toolchain\nversion: 1\ntools:\n  - tool: alpha  # the base\n"


def test_a_version_no_index_has_fails_at_its_tool_item(dtm: DtmHarness, tmp_path: Path) -> None:
    # Found by tests/fuzz: the resolver's message named no file or line.
    path = tmp_path / "toolchain.yaml"
    path.write_text("version: 1\ntools:\n  - tool: beta\n  - tool: alpha\n    version: '>=9'\n")
    result = dtm.run("plan", "-f", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {path}:4:5: no version of alpha matches >=9; available: 2.0, 1.1, 1.0",
        "hint: pick one of them, or leave the version out; 'dtm info alpha' lists them",
    ]


def test_an_option_error_about_a_key_with_a_line_break_stays_on_one_line(dtm: DtmHarness,
                                                                        tmp_path: Path) -> None:
    # Found by tests/fuzz: such a key, brought in by a variable, split the error over two lines.
    path = tmp_path / "toolchain.yaml"
    path.write_text('version: 1\nvars:\n  s: {"a\\nb": 1}\ntools:\n  - tool: alpha\n'
                    '    options:\n      settings: ${{ vars.s }}\n')
    result = dtm.run("plan", "-f", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"error: {path}:7:7: alpha.default: options.settings.a\\nb: unknown option")


def test_a_state_url_reference_that_does_not_resolve_is_told_at_its_line(dtm: DtmHarness,
                                                                          tmp_path: Path) -> None:
    # Found by tests/fuzz: the state backend's own error named no file or line.
    path = tmp_path / "toolchain.yaml"
    path.write_text("version: 1\nstate:\n  backend: postgresql\n  url: env:DTM_TEST_NO_SUCH_URL\n"
                    "tools:\n  - tool: alpha\n")
    result = dtm.run("plan", "-f", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {path}:4:8: environment variable DTM_TEST_NO_SUCH_URL is not set",
        "hint: export DTM_TEST_NO_SUCH_URL=... before running dtm",
    ]
