"""The local state store: its files, their modes, damaged files, and the choice of store.

What every backend must do is tested over all of them in test_state_store.py.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from dtm_core.errors import InvalidInputError
from dtm_core.paths import DtmPaths
from dtm_core.state import (
    REMOTE_STORES,
    InstanceRecord,
    LocalStateStore,
    State,
    open_store,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_load_without_a_file_is_empty_and_creates_nothing(store: LocalStateStore,
                                                          store_dir: Path) -> None:
    state = store.load()
    assert state == State()
    assert state.serial == 0
    assert not store_dir.exists()
    assert store.description == f"local file {store_dir / 'state.json'}"


def test_backup_is_the_previous_commit(store: LocalStateStore, store_dir: Path,
                                       sample_state: State) -> None:
    state = sample_state
    store.commit(state)
    assert not (store_dir / "state.json.bak").exists()
    del state.instances["kind.dev"]
    store.commit(state)
    backup = json.loads((store_dir / "state.json.bak").read_text())
    assert backup["serial"] == 1
    assert set(backup["instances"]) == {"argocd.main", "kind.dev"}


def test_a_backup_left_linked_to_the_state_by_a_killed_commit_stays_and_leaves_no_litter(
        store: LocalStateStore, store_dir: Path, sample_state: State) -> None:
    state = sample_state
    store.commit(state)
    # What a run killed after its backup and before its rename leaves: one file, two names.
    os.link(store_dir / "state.json", store_dir / "state.json.bak")
    del state.instances["kind.dev"]
    store.commit(state)
    assert sorted(p.name for p in store_dir.iterdir()) == ["state.json", "state.json.bak"]
    assert set(json.loads((store_dir / "state.json.bak").read_text())["instances"]) == {
        "argocd.main", "kind.dev"}
    assert set(store.load().instances) == {"argocd.main"}


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
                                                              store_dir: Path,
                                                              sample_state: State) -> None:
    state = sample_state
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
                                                                 store_dir: Path,
                                                                 sample_state: State) -> None:
    state = sample_state
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
        open_store(paths_in(tmp_path), environ={"DTM_STATE_URL": "mysql://u:s3cret@db/dtm"})
    assert str(caught.value) == "the state backend (scheme 'mysql') is not available in this dtm"
    assert caught.value.hint == (
        f"keep state locally in {tmp_path / 'data' / 'state'}: unset DTM_STATE_URL and use "
        "'state: {backend: local}' (or no state block) in the toolchain file"
    )


def test_open_store_uses_a_registered_remote_backend(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    remote = LocalStateStore(tmp_path / "remote")
    urls: list[tuple[str, str]] = []

    def factory(url: str, workspace: str) -> LocalStateStore:
        urls.append((url, workspace))
        return remote

    monkeypatch.setitem(REMOTE_STORES, "memory", factory)
    assert open_store(paths_in(tmp_path), environ={"DTM_STATE_URL": "memory://x"}) is remote
    environ = {"DTM_STATE_URL": "memory://y", "DTM_WORKSPACE": "prod"}
    assert open_store(paths_in(tmp_path), environ=environ) is remote
    assert urls == [("memory://x", "default"), ("memory://y", "prod")]


def test_local_store_schema_version_matches_the_model() -> None:
    from dtm_core.state import local, model

    assert local.STATE_SCHEMA_VERSION == model.STATE_SCHEMA_VERSION


def test_installed_tools_reads_names_without_the_model(tmp_path: Path) -> None:
    from dtm_core.state import LocalStateStore, State

    store = LocalStateStore(tmp_path)
    assert store.installed_tools() == set()
    state = State()
    state.instances["alpha.a"] = InstanceRecord(tool="alpha", instance="a", version="1")
    state.instances["alpha.b"] = InstanceRecord(tool="alpha", instance="b", version="1")
    store.commit(state)
    assert store.installed_tools() == {"alpha"}
