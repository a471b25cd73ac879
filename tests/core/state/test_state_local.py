"""The local state store: round trips, serials, file modes, damaged files and migrations."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from dtm_core.errors import InvalidInputError, RefusedError
from dtm_core.paths import DtmPaths
from dtm_core.state import (
    REMOTE_STORES,
    InstanceRecord,
    LocalStateStore,
    State,
    Step,
    Transaction,
    open_store,
)
from dtm_core.state.local import MIGRATIONS
from dtm_core.state.model import STATE_SCHEMA_VERSION


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sample_state() -> State:
    argocd = InstanceRecord(
        tool="argocd", instance="main", version="2.9.3",
        options={"namespace": "argocd", "token": "env:ARGO_TOKEN"},
        outputs={"url": "https://argocd.example"}, requires=["kind.dev"], held=True,
    )
    kind = InstanceRecord(tool="kind", instance="dev", version="0.20.0", reason="auto")
    tx = Transaction(
        id=1, command="dtm install argocd",
        steps=[
            Step(action="install", address="kind.dev", to_version="0.20.0", status="done",
                 after=kind.to_json()),
            Step(action="install", address="argocd.main", to_version="2.9.3", status="done",
                 after=argocd.to_json()),
        ],
        outcome="ok", finished_at="2026-11-24T15:00:05Z",
    )
    return State(instances={argocd.address: argocd, kind.address: kind}, transactions=[tx])


def test_load_without_a_file_is_empty_and_creates_nothing(store: LocalStateStore,
                                                          store_dir: Path) -> None:
    state = store.load()
    assert state == State()
    assert state.serial == 0
    assert not store_dir.exists()
    assert store.description == f"local file {store_dir / 'state.json'}"


def test_round_trip_keeps_instances_and_transactions(store: LocalStateStore,
                                                     store_dir: Path) -> None:
    state = sample_state()
    store.commit(state)
    loaded = LocalStateStore(store_dir).load()
    assert loaded == state
    assert loaded.instances["argocd.main"].options["token"] == "env:ARGO_TOKEN"
    assert loaded.transactions[0].steps[1].after == state.instances["argocd.main"].to_json()


def test_each_commit_bumps_the_serial(store: LocalStateStore, store_dir: Path) -> None:
    state = store.load()
    for expected in (1, 2, 3):
        store.commit(state)
        assert state.serial == expected
        assert json.loads((store_dir / "state.json").read_text())["serial"] == expected
    assert store.load().serial == 3


def test_backup_is_the_previous_commit(store: LocalStateStore, store_dir: Path) -> None:
    state = sample_state()
    store.commit(state)
    assert not (store_dir / "state.json.bak").exists()
    del state.instances["kind.dev"]
    store.commit(state)
    backup = json.loads((store_dir / "state.json.bak").read_text())
    assert backup["serial"] == 1
    assert set(backup["instances"]) == {"argocd.main", "kind.dev"}


@pytest.mark.usefixtures("umask_zero")
@pytest.mark.parametrize("hard_links", [True, False])
def test_files_are_private_whatever_the_umask(store: LocalStateStore, store_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              hard_links: bool) -> None:
    if not hard_links:
        def no_link(*args: Any, **kwargs: Any) -> None:
            raise OSError("hard links not supported")

        monkeypatch.setattr(os, "link", no_link)
    state = store.load()
    store.commit(state)
    store.commit(state)
    with store.lock(command="dtm test", timeout=0):
        assert mode(store_dir / "lock.holder.json") == 0o600
    assert mode(store_dir) == 0o700
    assert mode(store_dir / "state.json") == 0o600
    assert mode(store_dir / "state.json.bak") == 0o600
    assert mode(store_dir / "lock") == 0o600
    assert sorted(p.name for p in store_dir.iterdir()) == ["lock", "state.json", "state.json.bak"]


def test_corrupt_file_without_backup(store: LocalStateStore, store_dir: Path) -> None:
    store_dir.mkdir()
    path = store_dir / "state.json"
    path.write_text("{not json")
    with pytest.raises(InvalidInputError) as caught:
        store.load()
    assert str(caught.value) == f"state file {path} is corrupt: invalid JSON at line 1 column 2"
    assert caught.value.hint == (
        f"no backup exists; move it aside to start empty: mv {path} {path}.broken"
    )
    assert caught.value.exit_code == 2


def test_corrupt_file_points_at_the_backup_and_the_hint_works(store: LocalStateStore,
                                                              store_dir: Path) -> None:
    state = sample_state()
    store.commit(state)
    store.commit(state)
    path, backup = store_dir / "state.json", store_dir / "state.json.bak"
    path.write_bytes(path.read_bytes()[:40])  # a torn write, as if copied by hand and cut off
    with pytest.raises(InvalidInputError) as caught:
        store.load()
    assert str(caught.value).startswith(f"state file {path} is corrupt: invalid JSON at line ")
    assert caught.value.hint == f"restore the previous good copy with: cp {backup} {path}"
    shutil.copyfile(backup, path)
    assert store.load().serial == 1


def test_commit_never_backs_up_a_corrupt_file_over_the_good_copy(store: LocalStateStore,
                                                                 store_dir: Path) -> None:
    state = sample_state()
    store.commit(state)
    store.commit(state)
    good_backup = (store_dir / "state.json.bak").read_bytes()
    (store_dir / "state.json").write_text("garbage")
    with pytest.raises(InvalidInputError, match="is corrupt"):
        store.commit(state)
    assert (store_dir / "state.json.bak").read_bytes() == good_backup


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "the document is not a JSON object"),
        ({"schema": "one"}, "schema is 'one', not a version number"),
        ({"serial": "7"}, "serial is '7', not a number"),
        ({"instances": {"a.b": {"tool": "a"}}},
         "InstanceRecord.__init__() missing 2 required positional arguments: "
         "'instance' and 'version'"),
    ],
)
def test_a_document_of_the_wrong_shape_is_corrupt(store: LocalStateStore, store_dir: Path,
                                                  document: Any, reason: str) -> None:
    store_dir.mkdir()
    path = store_dir / "state.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InvalidInputError) as caught:
        store.load()
    assert str(caught.value) == f"state file {path} is corrupt: not a dtm state document ({reason})"


def test_an_unreadable_file_says_so(store: LocalStateStore, store_dir: Path) -> None:
    (store_dir / "state.json").mkdir(parents=True)  # unreadable even for root
    with pytest.raises(InvalidInputError) as caught:
        store.load()
    assert str(caught.value) == f"cannot read state file {store_dir / 'state.json'}: Is a directory"
    assert caught.value.hint == (
        "check that it belongs to the user running dtm and is readable (0600)"
    )


def test_a_newer_schema_is_refused(store: LocalStateStore, store_dir: Path) -> None:
    store_dir.mkdir()
    path = store_dir / "state.json"
    newer = STATE_SCHEMA_VERSION + 1
    path.write_text(json.dumps({"schema": newer, "serial": 9, "instances": {}}))
    with pytest.raises(InvalidInputError) as caught:
        store.load()
    assert str(caught.value) == f"state was written by a newer dtm (schema {newer}); upgrade dtm"
    assert caught.value.hint == (
        f"this dtm reads schema {STATE_SCHEMA_VERSION} and older; the state is {path}"
    )
    with pytest.raises(InvalidInputError, match="newer dtm"):
        store.commit(State(serial=9))
    assert json.loads(path.read_text())["schema"] == newer


def test_an_older_schema_is_migrated_on_load_and_written_back_on_commit(
    store: LocalStateStore, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
        # A made-up schema 0 that listed tools instead of keying instances by address.
        tools = data.pop("tools")
        data["instances"] = {f"{t['name']}.main": {"tool": t["name"], "instance": "main",
                                                   "version": t["version"]} for t in tools}
        return data

    monkeypatch.setitem(MIGRATIONS, 0, v0_to_v1)
    store_dir.mkdir()
    path = store_dir / "state.json"
    path.write_text(json.dumps({"schema": 0, "serial": 4,
                                "tools": [{"name": "argocd", "version": "2.9.3"}]}))
    state = store.load()
    assert state.schema == STATE_SCHEMA_VERSION
    assert state.serial == 4
    assert state.instances["argocd.main"].version == "2.9.3"
    store.commit(state)
    written = json.loads(path.read_text())
    assert (written["schema"], written["serial"]) == (STATE_SCHEMA_VERSION, 5)
    assert "tools" not in written


def test_an_older_schema_without_a_migration(store: LocalStateStore, store_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(MIGRATIONS, 0, raising=False)
    store_dir.mkdir()
    (store_dir / "state.json").write_text(json.dumps({"schema": 0}))
    with pytest.raises(InvalidInputError) as caught:
        store.load()
    assert str(caught.value) == "state schema 0 is too old for this dtm (no migration to 1)"


def test_lost_update_is_refused(store: LocalStateStore, store_dir: Path) -> None:
    store.commit(sample_state())
    first, second = store.load(), store.load()
    first.instances.pop("kind.dev")
    store.commit(first)
    second.instances.pop("argocd.main")
    with pytest.raises(RefusedError) as caught:
        store.commit(second)
    path = store_dir / "state.json"
    assert str(caught.value) == (
        f"state in {path} changed since it was loaded (serial 2 on disk, 1 loaded); "
        "not overwriting it"
    )
    assert caught.value.hint == "another dtm run committed without the lock; run the command again"
    assert caught.value.exit_code == 3
    assert second.serial == 1
    assert set(store.load().instances) == {"argocd.main"}


def test_a_fresh_state_cannot_overwrite_a_committed_one(store: LocalStateStore) -> None:
    store.commit(sample_state())
    with pytest.raises(RefusedError, match=r"\(serial 1 on disk, 0 loaded\)"):
        store.commit(State())


def test_the_lock_sweeps_temp_files_left_by_a_killed_commit(store: LocalStateStore,
                                                            store_dir: Path) -> None:
    store.commit(State())
    leftover = store_dir / ".state.json.0123456789ab.tmp"
    leftover.write_text("{")
    with store.lock(command="dtm list", timeout=0):
        assert not leftover.exists()


def paths_in(root: Path) -> DtmPaths:
    return DtmPaths(config_dir=root / "config", data_dir=root / "data", cache_dir=root / "cache")


def test_open_store_is_local_by_default(tmp_path: Path) -> None:
    store = open_store(paths_in(tmp_path), environ={})
    assert isinstance(store, LocalStateStore)
    assert store.description == f"local file {tmp_path / 'data' / 'state' / 'state.json'}"


def test_open_store_refuses_an_unknown_url_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        open_store(paths_in(tmp_path), environ={"DTM_STATE_URL": "postgresql://u:s3cret@db/dtm"})
    assert str(caught.value) == (
        "the state backend (scheme 'postgresql') is not available in this dtm"
    )
    assert caught.value.hint == (
        f"keep state locally in {tmp_path / 'data' / 'state'}: unset DTM_STATE_URL and use "
        "'state: {backend: local}' (or no state block) in the toolchain file"
    )


def test_open_store_uses_a_registered_remote_backend(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    remote = LocalStateStore(tmp_path / "remote")
    urls: list[str] = []

    def factory(url: str) -> LocalStateStore:
        urls.append(url)
        return remote

    monkeypatch.setitem(REMOTE_STORES, "memory", factory)
    assert open_store(paths_in(tmp_path), environ={"DTM_STATE_URL": "memory://x"}) is remote
    assert urls == ["memory://x"]


def test_local_store_schema_version_matches_the_model() -> None:
    from dtm_core.state import local, model

    assert local.STATE_SCHEMA_VERSION == model.STATE_SCHEMA_VERSION


def test_installed_tools_reads_names_without_the_model(tmp_path: Path) -> None:
    from dtm_core.state import InstanceRecord, LocalStateStore, State

    store = LocalStateStore(tmp_path)
    assert store.installed_tools() == set()
    state = State()
    state.instances["alpha.a"] = InstanceRecord(tool="alpha", instance="a", version="1")
    state.instances["alpha.b"] = InstanceRecord(tool="alpha", instance="b", version="1")
    store.commit(state)
    assert store.installed_tools() == {"alpha"}
