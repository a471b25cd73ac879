"""A throwaway PostgreSQL server for tests (initdb and pg_ctl in a temporary directory), and
the state backends the state tests run against, PostgreSQL or local.

The server listens on loopback at a free port, trusts local connections, and lives for the
test session; every test gets a fresh database. Where PostgreSQL is not installed the tests
that need it are skipped with :data:`NOT_INSTALLED`, so the suite passes on any machine and
never depends on a server started by hand.

Use it from a conftest.py (the tests directory is on ``sys.path``)::

    from postgres import postgres_server, postgres_url  # noqa: F401 - fixtures

and ``StateBackend`` to run a test against either store. Set ``DTM_TEST_POSTGRES_BIN`` to a
directory holding initdb and pg_ctl to use another build.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from dtm_core.state import StateStore

NOT_INSTALLED = "PostgreSQL is not installed: the PostgreSQL state tests are skipped"

#: Defines ``open_store(location, workspace)`` for child scripts: a directory is a local store,
#: a ``postgresql://`` URL a PostgreSQL one.
OPEN_STORE = """
import sys
def open_store(location, workspace):
    if location.startswith("postgresql://"):
        from dtm_core.state import PostgresStateStore
        return PostgresStateStore(location, workspace)
    from dtm_core.state import LocalStateStore
    return LocalStateStore(location)
"""

#: Why the PostgreSQL tests were skipped in this session, for the end-of-run notice.
skipped_because: list[str] = []


def find_bindir() -> Path | None:
    """The newest PostgreSQL's bin directory: Debian keeps initdb off PATH, per major version."""
    override = os.environ.get("DTM_TEST_POSTGRES_BIN")
    if override:
        return Path(override)
    versions = glob.glob("/usr/lib/postgresql/*/bin/initdb")

    def major(path: str) -> tuple[int, ...]:
        name = Path(path).parent.parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    if versions:
        return Path(max(versions, key=major)).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One PostgreSQL cluster in ``root``, run as ``run_as`` (initdb refuses to run as root)."""

    def __init__(self, bindir: Path, root: Path, run_as: pwd.struct_passwd | None) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.run_as = run_as
        self.port = 0
        self._databases = itertools.count(1)

    def _run(self, *args: str, timeout: float = 60) -> None:
        identity: dict[str, Any] = {}
        if self.run_as is not None:
            identity = {"user": self.run_as.pw_uid, "group": self.run_as.pw_gid, "extra_groups": []}
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": str(self.root)}
        done = subprocess.run([str(self.bindir / args[0]), *args[1:]], capture_output=True, text=True,
                              env=env, cwd=self.root, timeout=timeout, check=False, **identity)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({done.returncode}):\n{done.stdout}{done.stderr}{log}")

    def start(self, *, durable: bool = False) -> None:
        """Create and start the cluster; ``durable`` keeps PostgreSQL's flushes to disk on."""
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        self.port = _free_port()
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": "200",
        }
        if not durable:
            # A test cluster is thrown away, and this halves its time; benchmarks keep them.
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self) -> str:
        """A new, empty database; returns its URL."""
        import psycopg

        name = f"test_{next(self._databases)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


class PostgresUnavailable(Exception):
    """No throwaway server can run here; the message says why."""


@contextlib.contextmanager
def throwaway_server(*, durable: bool = False) -> Iterator[PostgresServer]:
    """Start a server for the ``with`` block; raise :class:`PostgresUnavailable` when none can
    run. For scripts (the benchmarks); tests use :func:`running_server`."""
    bindir = find_bindir()
    if bindir is None or not (bindir / "initdb").exists():
        raise PostgresUnavailable("PostgreSQL is not installed")
    run_as = None
    if os.geteuid() == 0:
        try:
            run_as = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable(
                "PostgreSQL is installed but there is no 'postgres' user to run it as "
                "(initdb refuses root)") from None
    # Not pytest's tmp_path: its parents are private to the user running pytest, and the
    # server may run as another one.
    root = Path(tempfile.mkdtemp(prefix="dtm-pg-"))
    if run_as is not None:
        os.chown(root, run_as.pw_uid, run_as.pw_gid)
    server = PostgresServer(bindir, root, run_as)
    try:
        server.start(durable=durable)
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """Start a server for the ``with`` block, or skip (with the reason) when none can run."""
    try:
        with throwaway_server() as server:
            yield server
    except PostgresUnavailable as unavailable:
        reason = f"{unavailable}: the PostgreSQL state tests are skipped"
        skipped_because.append(reason)
        pytest.skip(reason)


#: The session's one server, shared by every conftest that imports the fixture (each import
#: registers a fixture of its own), and how many of them are using it.
_shared: list[Any] = []


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session (started on first use)."""
    pytest.importorskip("psycopg", reason="psycopg is not installed: the PostgreSQL tests are skipped")
    if not _shared:
        stack = contextlib.ExitStack()
        _shared[:] = [stack, stack.enter_context(running_server()), 0]
    _shared[2] += 1
    try:
        yield _shared[1]
    finally:
        _shared[2] -= 1
        if _shared[2] == 0:
            _shared.pop(0).close()
            _shared.clear()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh database on the session's server, for this test alone."""
    return postgres_server.create_database()


class StateBackend:
    """A state backend under test, ``local`` or ``postgresql``.

    Hands out new store objects on one state, and raw access to what it stores.
    """

    def __init__(self, name: str, location: str, workspace: str = "default") -> None:
        self.name = name
        #: The state directory, or the database URL.
        self.location = location
        self.workspace = workspace

    def store(self) -> StateStore:
        from dtm_core.state import LocalStateStore, PostgresStateStore

        if self.name == "local":
            return LocalStateStore(self.location)
        return PostgresStateStore(self.location, self.workspace)

    @property
    def where(self) -> str:
        """How the backend's messages name the state."""
        if self.name == "local":
            return str(Path(self.location) / "state.json")
        return self.store().description

    @property
    def args(self) -> tuple[str, str]:
        """The arguments of a child script's ``open_store``."""
        return self.location, self.workspace

    def dtm_env(self) -> dict[str, str]:
        """What a dtm run needs in its environment to use this state (local: DTM_HOME's)."""
        if self.name == "local":
            return {}
        return {"DTM_STATE_URL": self.location, "DTM_WORKSPACE": self.workspace}

    def created_anything(self) -> bool:
        if self.name == "local":
            return Path(self.location).exists()
        import psycopg

        with psycopg.connect(self.location) as conn:
            row = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'dtm%'").fetchone()
        return bool(row and row[0])

    def document(self) -> dict[str, Any] | None:
        """The stored document as written, without the store's checks or migrations."""
        if self.name == "local":
            path = Path(self.location) / "state.json"
            return json.loads(path.read_text()) if path.exists() else None
        import psycopg

        with psycopg.connect(self.location) as conn:
            row = conn.execute("SELECT document::text FROM dtm_state WHERE workspace = %s",
                               (self.workspace,)).fetchone()
        return json.loads(row[0]) if row else None

    def put_document(self, document: Any) -> None:
        """Store ``document`` as is, as an older or newer dtm (or a broken one) would have."""
        if self.name == "local":
            path = Path(self.location) / "state.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document))
            return
        import psycopg

        from dtm_core.state.pgschema import prepare

        with psycopg.connect(self.location, autocommit=True) as conn:
            prepare(conn, create=True, where=self.location)
            fields = document if isinstance(document, dict) else {}
            conn.execute(
                "INSERT INTO dtm_state (workspace, serial, schema, document) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (workspace) DO UPDATE SET serial = excluded.serial, "
                "schema = excluded.schema, document = excluded.document",
                (self.workspace, fields.get("serial", 0), fields.get("schema", 1), json.dumps(document)),
            )
