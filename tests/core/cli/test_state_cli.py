"""dtm state list, show, rm and migrate: state surgery and moving state between stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from dtm_harness import DtmHarness
from postgres import postgres_server, postgres_url  # noqa: F401 - fixtures; skip without PostgreSQL

from dtm_core.state import REMOTE_STORES, LocalStateStore, State, Step, Transaction
from dtm_core.state.lock import StateLock
from dtm_core.state.migrate import mask_url

PASSWORD = "s3cret-pw-91c4"


def state_file(home: Path) -> Path:
    return home / "data" / "state" / "state.json"


def other_home(dtm: DtmHarness, name: str) -> DtmHarness:
    """The same dtm with another DTM_HOME (so another local store)."""
    home = dtm.home.parent / name
    return DtmHarness(home=home, env=dict(dtm.env, DTM_HOME=str(home)))


def interrupt(home: Path) -> None:
    """Leave an unfinished transaction in the local store under ``home``, as a killed run does."""
    store = LocalStateStore(home / "data" / "state")
    state = store.load()
    state.transactions.append(Transaction(
        id=state.next_transaction_id(), command="install",
        steps=[Step(action="install", address="delta.default", to_version="1.0", status="running",
                    after={"tool": "delta", "instance": "default", "version": "1.0"})]))
    store.commit(state)


@pytest.fixture
def installed(dtm: DtmHarness) -> DtmHarness:
    """gamma installed: alpha and beta came with it (auto), gamma requires beta requires alpha."""
    result = dtm.run("install", "gamma", "-y")
    assert result.exit_code == 0, result.stderr
    return dtm


@pytest.fixture
def remote_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A ``testdb://`` backend (a local store under another name); yields the URLs it was given."""
    urls: list[str] = []

    def factory(url: str, workspace: str) -> LocalStateStore:
        urls.append(url)
        store = LocalStateStore(tmp_path / "testdb")
        store.description = "test database testdb/dtm"
        return store

    monkeypatch.setitem(REMOTE_STORES, "testdb", factory)
    yield urls


# -- help --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["list"], ["show"], ["rm"], ["migrate"]])
def test_every_state_command_has_help(dtm: DtmHarness, command: list[str]) -> None:
    result = dtm.run("state", *command, "--help")
    assert result.exit_code == 0, result.stderr
    assert "Usage: " in result.stdout


def test_state_is_listed_in_the_top_level_help(dtm: DtmHarness) -> None:
    assert "Inspect, repair (forget records) or migrate" in dtm.run("--help").stdout


def test_rm_help_says_that_it_never_calls_a_plugin(dtm: DtmHarness) -> None:
    text = " ".join(dtm.run("state", "rm", "--help").stdout.split())
    assert "no plugin is called and the real resources are left exactly as they are" in text


# -- list and show -----------------------------------------------------------------------------


def test_list_shows_every_record_with_the_store_and_serial(installed: DtmHarness) -> None:
    data = json.loads(installed.run("state", "list", "-o", "json").stdout)
    on_disk = installed.state()
    assert data["store"] == f"local file {state_file(installed.home)}"
    assert data["workspace"] is None and data["interrupted"] is None
    assert (data["serial"], data["transactions"]) == (on_disk["serial"], 1)
    assert [(r["address"], r["tool"], r["version"], r["reason"], r["held"], r["requires"])
            for r in data["instances"]] == [
        ("alpha.default", "alpha", "2.0", "auto", False, []),
        ("beta.default", "beta", "2.0", "auto", False, ["alpha.default"]),
        ("gamma.default", "gamma", "1.0", "manual", False, ["beta.default"]),
    ]
    text = installed.run("state", "list")
    assert text.exit_code == 0
    lines = text.stdout.splitlines()
    assert lines[0] == f"store:     local file {state_file(installed.home)}"
    assert lines[2].split() == ["ADDRESS", "TOOL", "VERSION", "REASON", "HELD", "UPDATED"]
    assert lines[5].split()[:4] == ["gamma.default", "gamma", "1.0", "manual"]
    assert "3 instance(s), 1 transaction(s)" in text.stderr


def test_list_of_an_empty_store_and_of_an_interrupted_one(dtm: DtmHarness) -> None:
    empty = dtm.run("state", "list")
    assert empty.exit_code == 0 and "ADDRESS" not in empty.stdout
    assert "0 instance(s), 0 transaction(s)" in empty.stderr
    interrupt(dtm.home)
    data = json.loads(dtm.run("state", "list", "-o", "json").stdout)
    assert data["interrupted"] == 1
    assert "run 'dtm recover'" in dtm.run("state", "list").stderr


def test_show_prints_the_record_with_secret_references_unresolved(dtm: DtmHarness) -> None:
    assert dtm.run("install", "beta", "-y").exit_code == 0
    assert dtm.run("install", "alpha", "--instance", "prod", "--set", "token=env:ALPHA_TOKEN",
                   "-y").exit_code == 0
    result = dtm.run("state", "show", "alpha.prod", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    recorded = dtm.state()["instances"]["alpha.prod"]
    assert data == {"address": "alpha.prod", **recorded, "required_by": []}
    assert data["options"]["token"] == "env:ALPHA_TOKEN"
    assert data["outputs"]["password"] == "env:ALPHA_PASSWORD"
    text = dtm.run("state", "show", "alpha.prod")
    assert "  token: env:ALPHA_TOKEN" in text.stdout.splitlines()
    assert dtm.env["ALPHA_TOKEN"] not in text.stdout + result.stdout
    required = dtm.run("state", "show", "alpha.default")
    assert "required_by: beta.default" in required.stdout.splitlines()


def test_show_of_an_unknown_address_is_invalid_input(installed: DtmHarness) -> None:
    missing = installed.run("state", "show", "delta.default")
    assert missing.exit_code == 2
    assert missing.stderr.splitlines() == ["error: delta.default is not recorded in state",
                                           "hint: 'dtm state list' shows what is recorded"]
    bare = installed.run("state", "show", "alpha")
    assert bare.exit_code == 2
    assert "hint: state commands take full addresses: alpha.default" in bare.stderr


# -- rm ----------------------------------------------------------------------------------------


def test_rm_forgets_records_without_calling_a_plugin_and_journals_it(installed: DtmHarness) -> None:
    resources = installed.world()["resources"]
    result = installed.run("state", "rm", "gamma.default", "-y")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "forgot gamma.default\n"
    assert "transaction 2: ok" in result.stderr
    assert sorted(installed.state()["instances"]) == ["alpha.default", "beta.default"]
    # The resource is still there and no plugin was asked to do anything.
    assert installed.world()["resources"] == resources
    assert [verb for verb, _ in installed.calls()] == ["create"] * 3
    history = json.loads(installed.run("history", "-o", "json").stdout)
    assert [(t["id"], t["command"], t["outcome"], t["steps"]) for t in history] == [
        (1, "install", "ok", 3), (2, "state rm gamma.default", "ok", 1)]
    step = installed.state()["transactions"][1]["steps"][0]
    assert (step["action"], step["status"], step["after"]) == ("mark", "done", None)
    assert step["before"]["version"] == "1.0"


def test_history_undo_of_rm_brings_the_records_back(installed: DtmHarness) -> None:
    before = installed.state()["instances"]["gamma.default"]
    assert installed.run("state", "rm", "gamma.default", "-y").exit_code == 0
    undone = installed.run("history", "undo", "2", "-y")
    assert undone.exit_code == 0, undone.stderr
    restored = installed.state()["instances"]["gamma.default"]
    assert {k: v for k, v in restored.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"}
    assert [verb for verb, _ in installed.calls()] == ["create"] * 3


def test_rm_refuses_a_required_instance_unless_forced(installed: DtmHarness) -> None:
    before = installed.state()
    refused = installed.run("state", "rm", "alpha.default", "-y")
    assert refused.exit_code == 3
    assert refused.stderr.splitlines()[0] == "error: cannot forget alpha.default: beta.default requires it"
    assert installed.state() == before
    together = installed.run("state", "rm", "gamma.default", "beta.default", "--dry-run", "-o", "json")
    assert together.exit_code == 0, together.stderr
    assert json.loads(together.stdout)["still_required_by"] == {}
    forced = installed.run("state", "rm", "alpha.default", "--force", "-y", "-o", "json")
    assert forced.exit_code == 0, forced.stderr
    data = json.loads(forced.stdout)
    assert data["forgotten"] == [{"address": "alpha.default", "tool": "alpha", "instance": "default",
                                  "version": "2.0"}]
    assert data["still_required_by"] == {"alpha.default": ["beta.default"]}
    assert data["dry_run"] is False and data["transaction"]["command"] == "state rm alpha.default"
    # Forgetting touches only the named record: beta keeps its requirement.
    assert installed.state()["instances"]["beta.default"]["requires"] == ["alpha.default"]


def test_rm_dry_run_and_declined_prompts_change_nothing(installed: DtmHarness) -> None:
    before = installed.state()
    dry = installed.run("state", "rm", "gamma.default", "--dry-run")
    assert dry.exit_code == 0
    assert "  gamma.default 1.0" in dry.stderr.splitlines()
    assert "dry run: nothing was changed" in dry.stderr
    declined = installed.run("state", "rm", "gamma.default", input="n\n")
    assert declined.exit_code == 6
    assert "error: aborted; nothing was changed" in declined.stderr
    no_terminal = installed.run("state", "rm", "gamma.default")
    assert no_terminal.exit_code == 6
    assert installed.state() == before
    accepted = installed.run("state", "rm", "gamma.default", input="y\n")
    assert accepted.exit_code == 0
    assert "gamma.default" not in installed.state()["instances"]


def test_rm_of_unknown_addresses_is_invalid_input(installed: DtmHarness) -> None:
    result = installed.run("state", "rm", "gamma.default", "nope.default", "-y")
    assert result.exit_code == 2
    assert "error: nope.default is not recorded in state" in result.stderr
    assert "gamma.default" in installed.state()["instances"]


def test_rm_is_refused_while_a_transaction_is_interrupted(installed: DtmHarness) -> None:
    interrupt(installed.home)
    result = installed.run("state", "rm", "gamma.default", "-y")
    assert result.exit_code == 5
    assert "hint: run 'dtm recover'" in result.stderr


def test_rm_waits_for_the_state_lock(installed: DtmHarness) -> None:
    lock = StateLock(installed.home / "data" / "state" / "lock").acquire(command="dtm other", timeout=5)
    try:
        result = installed.run("--lock-timeout", "0", "state", "rm", "gamma.default", "-y")
    finally:
        lock.release()
    assert result.exit_code == 4
    assert "(dtm other)" in result.stderr
    assert "gamma.default" in installed.state()["instances"]


# -- migrate between two local stores ----------------------------------------------------------


def test_migrate_copies_everything_to_another_local_store_and_keeps_the_source(
        installed: DtmHarness) -> None:
    assert installed.run("state", "rm", "gamma.default", "-y").exit_code == 0
    source_bytes = state_file(installed.home).read_bytes()
    source = installed.state()
    other = other_home(installed, "home2")
    result = installed.run("state", "migrate", "--to", f"local:{state_file(other.home).parent}", "-y")
    assert result.exit_code == 0, result.stderr
    copied = other.state()
    assert copied["instances"] == source["instances"]
    assert copied["transactions"] == source["transactions"]
    assert copied["serial"] == source["serial"] + 1
    assert state_file(installed.home).read_bytes() == source_bytes
    lines = result.stdout.splitlines()
    assert lines[0] == (f"moved 2 instance(s) and 2 transaction(s) to local file "
                        f"{state_file(other.home)} (verified, serial {source['serial'] + 1})")
    assert lines[1] == f"next: use it: export DTM_HOME={other.home}"
    assert lines[2] == (f"next: the source was kept; once the target works, remove it: "
                        f"rm {state_file(installed.home)} {state_file(installed.home)}.bak")
    assert f"  from local file {state_file(installed.home)}" in result.stderr
    # The copy is a working state: history and undo carry over.
    assert json.loads(other.run("history", "-o", "json").stdout)[1]["command"] == "state rm gamma.default"
    assert other.run("history", "undo", "2", "-y").exit_code == 0
    assert sorted(other.state()["instances"]) == ["alpha.default", "beta.default", "gamma.default"]


def test_migrate_with_from_goes_back_to_the_default_local_store(installed: DtmHarness) -> None:
    away = installed.home.parent / "elsewhere"
    assert installed.run("state", "migrate", "--to", f"local:{away}", "-y").exit_code == 0
    state_file(installed.home).unlink()
    result = installed.run("state", "migrate", "--from", f"local:{away}", "--to", "local", "-y",
                           "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["from"] == f"local file {away / 'state.json'}"
    assert data["to"] == f"local file {state_file(installed.home)}"
    assert (data["instances"], data["transactions"], data["verified"]) == (3, 1, True)
    assert data["addresses"] == ["alpha.default", "beta.default", "gamma.default"]
    assert data["next_steps"][0].startswith("use it: unset DTM_STATE_URL")
    assert data["next_steps"][1] == (f"the source was kept; once the target works, remove it: "
                                     f"rm {away / 'state.json'} {away / 'state.json.bak'}")
    assert sorted(installed.state()["instances"]) == data["addresses"]


def test_migrate_refuses_a_target_holding_state_unless_forced(installed: DtmHarness) -> None:
    other = other_home(installed, "home2")
    assert other.run("install", "delta", "-y").exit_code == 0
    target = f"local:{state_file(other.home).parent}"
    refused = installed.run("state", "migrate", "--to", target, "-y")
    assert refused.exit_code == 3
    assert refused.stderr.splitlines()[0] == (
        f"error: the target already holds state (1 instances, 1 transactions): "
        f"local file {state_file(other.home)}")
    assert list(other.state()["instances"]) == ["delta.default"]
    forced = installed.run("state", "migrate", "--to", target, "--force", "-y", "-o", "json")
    assert forced.exit_code == 0, forced.stderr
    assert json.loads(forced.stdout)["replaced"] == {"instances": 1, "transactions": 1}
    assert other.state()["instances"] == installed.state()["instances"]


def test_migrate_dry_run_and_declined_prompts_change_nothing(installed: DtmHarness) -> None:
    target = installed.home.parent / "copy"
    dry = installed.run("state", "migrate", "--to", f"local:{target}", "--dry-run", "-o", "json")
    assert dry.exit_code == 0
    data = json.loads(dry.stdout)
    assert (data["dry_run"], data["verified"], data["serial"], data["next_steps"]) == (True, False, None, [])
    assert installed.run("state", "migrate", "--to", f"local:{target}", input="n\n").exit_code == 6
    assert installed.run("state", "migrate", "--to", f"local:{target}").exit_code == 6
    assert not (target / "state.json").exists()


def test_migrate_refuses_the_same_store_and_an_interrupted_source(installed: DtmHarness) -> None:
    same = installed.run("state", "migrate", "--to", "local", "-y")
    assert same.exit_code == 2
    assert "the source and the target are the same store" in same.stderr
    interrupt(installed.home)
    target = installed.home.parent / "copy"
    interrupted = installed.run("state", "migrate", "--to", f"local:{target}", "-y")
    assert interrupted.exit_code == 5
    assert "hint: run 'dtm recover' to finish it" in interrupted.stderr
    assert not (target / "state.json").exists()


def test_migrate_refuses_an_empty_source_and_a_symlinked_same_store(
        installed: DtmHarness, tmp_path: Path) -> None:
    target = f"local:{tmp_path / 'copy'}"
    empty = installed.run("state", "migrate", "--from", f"local:{tmp_path / 'typo'}", "--to", target,
                          "--force", "-y")
    assert empty.exit_code == 3
    assert empty.stderr.splitlines()[0] == (
        "error: the source holds no state, so there is nothing to migrate: "
        f"local file {tmp_path / 'typo' / 'state.json'}")
    assert not (tmp_path / "typo").exists()
    link = tmp_path / "link"
    link.symlink_to(state_file(installed.home).parent)
    same = installed.run("state", "migrate", "--to", f"local:{link}", "-y")
    assert same.exit_code == 2
    assert "the source and the target are the same store" in same.stderr


def test_migrate_waits_for_the_targets_lock_too(installed: DtmHarness) -> None:
    target = installed.home.parent / "copy"
    lock = StateLock(target / "lock").acquire(command="dtm other", timeout=5)
    try:
        result = installed.run("--lock-timeout", "0", "state", "migrate", "--to", f"local:{target}", "-y")
    finally:
        lock.release()
    assert result.exit_code == 4
    assert not (target / "state.json").exists()


def test_migrate_verifies_the_copy_and_leaves_the_source_alone_on_a_mismatch(
        installed: DtmHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class LossyStore(LocalStateStore):
        """Loses the first instance on the way back, as a faulty backend might."""

        def load(self) -> State:
            state = super().load()
            if state.instances:
                del state.instances[min(state.instances)]
            return state

    monkeypatch.setitem(REMOTE_STORES, "lossy", lambda url, workspace: LossyStore(tmp_path / "lossy"))
    source_bytes = state_file(installed.home).read_bytes()
    result = installed.run("state", "migrate", "--to", "lossy://db", "-y")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-2:] == [
        "error: the copy in local file "
        f"{tmp_path / 'lossy' / 'state.json'} does not match the source: 2 instances, expected 3",
        "hint: the source was not changed and is still the state in use; do not switch to the "
        "target: check it, then migrate again with --force",
    ]
    assert state_file(installed.home).read_bytes() == source_bytes


# -- migrate to and from a remote backend ------------------------------------------------------


def test_migrate_to_a_remote_url_given_by_reference_and_back(
        installed: DtmHarness, remote_db: list[str]) -> None:
    url = f"testdb://dtm:{PASSWORD}@db.internal/dtm"
    installed.env["DB_URL"] = url
    result = installed.run("state", "migrate", "--to", "env:DB_URL", "-y")
    assert result.exit_code == 0, result.stderr
    assert remote_db == [url]
    assert result.stdout.splitlines() == [
        "moved 3 instance(s) and 1 transaction(s) to test database testdb/dtm (verified, serial "
        f"{installed.state()['serial'] + 1})",
        'next: use it: export DTM_STATE_URL="$DB_URL"',
        "next: in toolchain files: 'state: {backend: testdb, url: env:DB_URL}'",
        f"next: the source was kept; once the target works, remove it: rm {state_file(installed.home)} "
        f"{state_file(installed.home)}.bak",
    ]
    # Now use the remote store, and move the state back into an emptied local one.
    installed.env["DTM_STATE_URL"] = url
    listed = json.loads(installed.run("state", "list", "-o", "json").stdout)
    assert listed["store"] == "test database testdb/dtm"
    assert installed.run("state", "rm", "gamma.default", "-y").exit_code == 0
    state_file(installed.home).unlink()
    back = installed.run("state", "migrate", "--to", "local", "-y")
    assert back.exit_code == 0, back.stderr
    assert "from test database testdb/dtm" in back.stderr
    assert back.stdout.splitlines()[1:] == [
        "next: use it: unset DTM_STATE_URL, and use 'state: {backend: local}' (or no state block) "
        "in toolchain files",
        "next: the source was kept in test database testdb/dtm; dtm never deletes it: drop it by "
        "hand once the target works",
    ]
    assert sorted(installed.state()["instances"]) == ["alpha.default", "beta.default"]
    assert [t["command"] for t in installed.state()["transactions"]] == ["install",
                                                                         "state rm gamma.default"]
    assert PASSWORD not in result.output + back.output


def test_a_password_in_a_url_is_never_printed(installed: DtmHarness, remote_db: list[str]) -> None:
    url = f"testdb://dtm:{PASSWORD}@db.internal/dtm?sslmode=require"
    result = installed.run("state", "migrate", "--to", url, "-y")
    assert result.exit_code == 0, result.stderr
    assert PASSWORD not in result.output
    assert ("next: use it: export DTM_STATE_URL='testdb://dtm:***@db.internal/dtm?sslmode=require' "
            "(with the password in place of ***)") in result.stdout.splitlines()
    as_json = installed.run("state", "migrate", "--to", url, "--force", "-y", "-o", "json")
    assert as_json.exit_code == 0 and PASSWORD not in as_json.output
    unknown = installed.run("state", "migrate", "--to", f"mysql://dtm:{PASSWORD}@db/dtm", "-y")
    assert unknown.exit_code == 2
    assert unknown.stderr.splitlines()[0] == "error: no state backend for scheme 'mysql' in this dtm"
    assert PASSWORD not in unknown.output


def test_an_unset_reference_is_invalid_input(installed: DtmHarness) -> None:
    result = installed.run("state", "migrate", "--to", "env:NO_SUCH_URL", "-y")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: environment variable NO_SUCH_URL is not set"


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://dtm:pw@db:5432/dtm", "postgresql://dtm:***@db:5432/dtm"),
    ("postgresql://dtm@db/dtm", "postgresql://dtm@db/dtm"),
    ("postgresql://db/dtm?user=dtm&password=pw&sslmode=require",
     "postgresql://db/dtm?user=dtm&password=***&sslmode=require"),
    ("postgresql://dtm:p%40ss@db/dtm", "postgresql://dtm:***@db/dtm"),
    ("postgresql://dtm:pw@[::1/dtm", "postgresql://***"),
])
def test_mask_url_hides_passwords(url: str, shown: str) -> None:
    assert mask_url(url) == shown



# -- PostgreSQL: skipped (by the fixture) where PostgreSQL or psycopg is not installed --------


def test_round_trip_local_to_postgresql_and_back(
        installed: DtmHarness, postgres_url: str) -> None:  # noqa: F811 - the imported fixture
    url = postgres_url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")
    installed.env.update(PG_URL=url, DTM_WORKSPACE="team")
    source = installed.state()
    moved = installed.run("state", "migrate", "--to", "env:PG_URL", "-y")
    assert moved.exit_code == 0, moved.stderr
    assert moved.stdout.splitlines()[1:3] == [
        'next: use it: export DTM_STATE_URL="$PG_URL" DTM_WORKSPACE=team',
        "next: in toolchain files: 'state: {backend: postgresql, url: env:PG_URL, workspace: team}'",
    ]
    # dtm now runs on PostgreSQL: the same records, history, and a real change on top.
    installed.env["DTM_STATE_URL"] = url
    listed = json.loads(installed.run("state", "list", "-o", "json").stdout)
    assert listed["store"].startswith("PostgreSQL ") and listed["workspace"] == "team"
    assert listed["serial"] == source["serial"] + 1
    assert [r["address"] for r in listed["instances"]] == sorted(source["instances"])
    assert installed.run("install", "delta", "-y").exit_code == 0
    assert installed.run("state", "rm", "gamma.default", "-y").exit_code == 0
    # Back into the local store, which still holds the old copy: refused, then replaced.
    refused = installed.run("state", "migrate", "--to", "local", "-y")
    assert refused.exit_code == 3
    back = installed.run("state", "migrate", "--to", "local", "--force", "-y", "-o", "json")
    assert back.exit_code == 0, back.stderr
    data = json.loads(back.stdout)
    assert (data["instances"], data["transactions"], data["verified"]) == (3, 3, True)
    assert data["replaced"] == {"instances": 3, "transactions": 1}
    local = installed.state()
    assert sorted(local["instances"]) == ["alpha.default", "beta.default", "delta.default"]
    assert [t["command"] for t in local["transactions"]] == ["install", "install",
                                                             "state rm gamma.default"]
    assert local["instances"]["alpha.default"] == source["instances"]["alpha.default"]
    assert PASSWORD not in moved.output + listed["store"] + refused.output + back.output
