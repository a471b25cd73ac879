"""The PostgreSQL state store: its tables and their version, workspaces, how it is chosen,
credentials kept out of messages, and a run that loses its connection losing its lock.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from postgres import StateBackend  # type: ignore[import-not-found,unused-ignore]

from dtm_core.app import Dtm
from dtm_core.errors import InvalidInputError, LockTimeoutError, NetworkError
from dtm_core.paths import DtmPaths
from dtm_core.state import InstanceRecord, LockHolder, PostgresStateStore, State, open_store
from dtm_core.state.pgschema import TABLES_VERSION
from dtm_core.version import __version__

psycopg = pytest.importorskip("psycopg")


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql, params or None)
        return cursor.fetchall() if cursor.description else []


def one_instance(tool: str) -> State:
    record = InstanceRecord(tool=tool, instance="main", version="1.0")
    return State(instances={record.address: record})


def paths_in(root: Path) -> DtmPaths:
    return DtmPaths(config_dir=root / "config", data_dir=root / "data", cache_dir=root / "cache")


def test_the_first_commit_creates_the_tables_and_records_their_version(postgres_url: str) -> None:
    PostgresStateStore(postgres_url).commit(one_instance("alpha"))
    assert query(postgres_url, "SELECT version, applied_by FROM dtm_schema") == [
        (TABLES_VERSION, f"dtm {__version__}")]
    tables = query(postgres_url, "SELECT tablename FROM pg_tables WHERE tablename LIKE 'dtm%' "
                                 "ORDER BY 1")
    assert tables == [("dtm_lock_holders",), ("dtm_schema",), ("dtm_state",)]
    [(serial, schema, document)] = query(postgres_url,
                                         "SELECT serial, schema, document::text FROM dtm_state")
    assert (serial, schema) == (1, 1)
    assert json.loads(document)["instances"]["alpha.main"]["version"] == "1.0"


def test_tables_of_a_newer_dtm_are_refused_and_left_alone(postgres_url: str) -> None:
    store = PostgresStateStore(postgres_url, "prod")
    store.commit(one_instance("alpha"))
    query(postgres_url, "INSERT INTO dtm_schema (version, applied_by) VALUES (%s, 'dtm 9.0')",
          TABLES_VERSION + 1)
    where = postgres_url
    for action in (store.load, lambda: store.commit(State(serial=1)),
                   lambda: store.lock(command="dtm list", timeout=0).__enter__()):
        with pytest.raises(InvalidInputError) as caught:
            action()
        assert str(caught.value) == (
            f"the state tables in {where} were set up by a newer dtm "
            f"(tables version {TABLES_VERSION + 1}); upgrade dtm"
        )
        assert caught.value.hint == (
            f"this dtm knows tables up to version {TABLES_VERSION}; every run sharing this state "
            "needs a dtm at least as new as the newest one that used it"
        )
    assert query(postgres_url, "SELECT serial FROM dtm_state") == [(1,)]


def test_workspaces_keep_separate_states_and_locks(postgres_url: str) -> None:
    staging, prod = PostgresStateStore(postgres_url, "staging"), PostgresStateStore(postgres_url, "prod")
    assert staging.workspaces() == []
    staging.commit(one_instance("alpha"))
    prod.commit(one_instance("beta"))
    prod.commit(prod.load())
    assert (staging.installed_tools(), prod.installed_tools()) == ({"alpha"}, {"beta"})
    assert (staging.load().serial, prod.load().serial) == (1, 2)
    assert prod.workspaces() == ["prod", "staging"]
    assert prod.description == f"PostgreSQL {postgres_url} (workspace prod)"
    seen: list[LockHolder | None] = []
    with staging.lock(command="dtm install alpha", timeout=0):
        with prod.lock(command="dtm install beta", timeout=0, on_wait=seen.append):
            with pytest.raises(LockTimeoutError, match=r"\(dtm install alpha\)"):
                with PostgresStateStore(postgres_url, "staging").lock(command="dtm list", timeout=0):
                    pass  # pragma: no cover
    assert seen == []


@pytest.mark.parametrize("name", ["", "-prod", "prod/eu", "x" * 64, "prod eu"])
def test_a_bad_workspace_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        PostgresStateStore("postgresql://db/dtm", name)
    assert str(caught.value) == f"invalid state workspace name {name!r}"


def test_dtm_state_url_and_dtm_workspace_choose_the_store(postgres_url: str, tmp_path: Path) -> None:
    for scheme in ("postgresql", "postgres"):
        url = postgres_url.replace("postgresql://", f"{scheme}://")
        store = open_store(paths_in(tmp_path), {"DTM_STATE_URL": url, "DTM_WORKSPACE": "prod"})
        assert isinstance(store, PostgresStateStore)
        assert store.workspace == "prod"
        store.commit(store.load())
    store = open_store(paths_in(tmp_path), {"DTM_STATE_URL": postgres_url})
    assert isinstance(store, PostgresStateStore) and store.workspace == "default"
    assert store.load().serial == 0
    assert PostgresStateStore(postgres_url, "prod").load().serial == 2


def test_what_the_url_leaves_out_comes_from_the_pg_variables(postgres_url: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # postgresql://postgres@127.0.0.1:PORT/DB, given only as PG* variables, as CI would.
    host_port, _, dbname = postgres_url.split("@", 1)[1].partition("/")
    host, _, port = host_port.partition(":")
    for name, value in {"PGHOST": host, "PGPORT": port, "PGUSER": "postgres",
                        "PGDATABASE": dbname}.items():
        monkeypatch.setenv(name, value)
    bare = PostgresStateStore("postgresql://", "ci")
    assert bare.description == "PostgreSQL postgresql:// (workspace ci)"
    bare.commit(one_instance("alpha"))
    assert PostgresStateStore(postgres_url, "ci").installed_tools() == {"alpha"}


def test_the_state_block_takes_the_url_from_a_secret_reference(postgres_url: str,
                                                               tmp_path: Path) -> None:
    PostgresStateStore(postgres_url, "team").commit(one_instance("alpha"))
    app = Dtm({"TEAM_STATE_URL": postgres_url}, paths=paths_in(tmp_path))
    app.use_state_block({"backend": "postgresql", "url": "env:TEAM_STATE_URL", "workspace": "team"})
    assert isinstance(app.store, PostgresStateStore)
    assert app.store.workspace == "team"
    assert app.read_state().serial == 1


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://postgres:s3cret@127.0.0.1:1/dtm", "postgresql://postgres@127.0.0.1:1/dtm"),
        ("postgresql://127.0.0.1:1/dtm?user=postgres&password=s3cret",
         "postgresql://127.0.0.1:1/dtm"),
        ("postgresql://postgres:s3%20cret@127.0.0.1:1/dtm", "postgresql://postgres@127.0.0.1:1/dtm"),
    ],
)
def test_an_unreachable_server_is_one_line_without_the_password(url: str, shown: str) -> None:
    store = PostgresStateStore(url)
    assert "s3" not in store.description
    with pytest.raises(NetworkError) as caught:
        store.load()
    assert str(caught.value) == (
        f"cannot connect to the state database {shown}: connection to server at \"127.0.0.1\", port 1 "
        "failed: Connection refused"
    )
    assert caught.value.hint == (
        "check DTM_STATE_URL (or the state block's url) and the PG* environment variables; "
        "give a password through PGPASSWORD or ~/.pgpass, never in the toolchain file"
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("url", ["postgresql://postgres:s3 cret@127.0.0.1/dtm",
                                 "postgresql://postgres:s3cret@127.0.0.1/dtm?bogus=s3cret"])
def test_a_malformed_url_is_refused_without_the_password(url: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        PostgresStateStore(url).load()
    assert "s3" not in str(caught.value)
    shown = "postgresql://postgres@127.0.0.1/dtm"
    assert str(caught.value).startswith(f"cannot connect to the state database {shown}: ")


def test_a_corrupt_document_names_the_workspace(postgres_url: str) -> None:
    StateBackend("postgresql", postgres_url, "prod").put_document({"instances": []})
    with pytest.raises(InvalidInputError) as caught:
        PostgresStateStore(postgres_url, "prod").load()
    assert str(caught.value) == (
        f"state in PostgreSQL {postgres_url} (workspace prod) is corrupt: "
        "not a dtm state document (instances is not a mapping)"
    )
    assert caught.value.hint == "restore workspace prod's row of table dtm_state from a database backup"


def test_a_holder_row_whose_session_does_not_hold_the_lock_is_not_reported(
    postgres_url: str, hold_store_lock: Any
) -> None:
    backend = StateBackend("postgresql", postgres_url)
    hold_store_lock(backend, "dtm install argocd")
    # As if the row were left by a killed run, and its holder had not yet written its own.
    query(postgres_url, "UPDATE dtm_lock_holders SET backend_pid = 0")
    seen: list[LockHolder | None] = []
    with pytest.raises(LockTimeoutError) as caught:
        with backend.store().lock(command="dtm list", timeout=0, on_wait=seen.append):
            pass  # pragma: no cover
    assert seen == [None]
    assert str(caught.value) == "another dtm run holds the state lock: holder unknown"


def test_a_run_that_lost_its_session_cannot_commit(postgres_url: str) -> None:
    store = PostgresStateStore(postgres_url)
    store.commit(one_instance("alpha"))
    with pytest.raises(NetworkError) as caught:
        with store.lock(command="dtm install beta", timeout=0):
            state = store.load()
            # The server ends the session (a restart, a network cut, a DBA): the lock is gone.
            query(postgres_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE application_name = 'dtm' AND datname = current_database()")
            with PostgresStateStore(postgres_url).lock(command="dtm install gamma", timeout=5):
                pass  # another run may take the lock at once
            state.instances.clear()
            store.commit(state)
    assert str(caught.value).startswith(f"cannot use the state database {postgres_url}: ")
    assert store.installed_tools() == {"alpha"}


def test_the_holder_row_lives_only_while_the_lock_is_held(postgres_url: str) -> None:
    with PostgresStateStore(postgres_url, "prod").lock(command="dtm install argocd", timeout=0):
        assert query(postgres_url, "SELECT workspace, pid, command FROM dtm_lock_holders") == [
            ("prod", os.getpid(), "dtm install argocd")]
    assert query(postgres_url, "SELECT count(*) FROM dtm_lock_holders") == [(0,)]


def test_the_lock_session_has_the_server_probe_a_vanished_client(postgres_url: str) -> None:
    store = PostgresStateStore(postgres_url)
    with store.lock(command="dtm install argocd", timeout=0):
        session = store._session  # what the server itself will do with this connection
        assert session is not None
        settings = [session.execute(f"SHOW {name}").fetchone() for name in
                    ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count")]
    assert settings == [("30",), ("10",), ("3",)]


def test_a_statement_timeout_does_not_cut_the_lock_wait_short(postgres_url: str,
                                                              hold_store_lock: Any) -> None:
    dbname = postgres_url.rsplit("/", 1)[1]
    query(postgres_url, f"ALTER DATABASE {dbname} SET statement_timeout = '100ms'")
    backend = StateBackend("postgresql", postgres_url)
    hold_store_lock(backend, "dtm install argocd")
    started = time.monotonic()
    with pytest.raises(LockTimeoutError, match=r"\(dtm install argocd\)"):
        with backend.store().lock(command="dtm list", timeout=0.5):
            pass  # pragma: no cover
    assert time.monotonic() - started >= 0.5
