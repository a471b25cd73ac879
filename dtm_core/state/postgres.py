"""The PostgreSQL state store: one document per workspace, one session advisory lock per run.

The state model and journal are the local store's, as one document per workspace in
``dtm_state`` (tables in :mod:`.pgschema`). A run's lock is a session-level advisory lock
held by a connection opened for the ``with`` block: the server drops it with the session, so
a killed run, a crashed host (TCP keepalives) or a lost network can never leave it stale.
Commits made under the lock go through that same connection, so a run that lost its lock
cannot commit at all; each commit is also a compare-and-set on the serial.

psycopg is imported on first use only, and passwords in the URL are never shown: messages
name the URL without its password and scrub it from the driver's own messages.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import DtmError, InvalidInputError, NetworkError, RefusedError
from . import pgschema
from .local import STATE_SCHEMA_VERSION, migrate
from .waiting import lock_timeout_error, start_waiting

if TYPE_CHECKING:
    from psycopg import Connection

    from .model import State
    from .store import LockHolder

__all__ = ["DEFAULT_WORKSPACE", "PostgresStateStore"]

DEFAULT_WORKSPACE = "default"
WORKSPACE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")

#: Let the server notice within about a minute that a lock holder's host vanished (its
#: default is the kernel's: two hours), so that a dead CI runner frees the lock soon.
KEEPALIVES = {"tcp_keepalives_idle": "30", "tcp_keepalives_interval": "10",
              "tcp_keepalives_count": "3"}

HOLDER_QUERY = """
    SELECT h.pid, h.host, h.username, h.command,
           to_char(h.since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    FROM dtm_lock_holders h
    JOIN pg_locks l ON l.pid = h.backend_pid
    WHERE h.workspace = %s AND l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid::bigint = %s AND l.objid::bigint = %s
"""

CONNECTION_HINT = ("check DTM_STATE_URL (or the state block's url) and the PG* environment variables; "
                   "give a password through PGPASSWORD or ~/.pgpass, never in the toolchain file")


class PostgresStateStore:
    """Keeps the state of workspace ``workspace`` in the PostgreSQL database at ``url``.

    ``url`` is a libpq URL (``postgresql://user@host:port/dbname?sslmode=require``); whatever
    it leaves out comes from the ``PG*`` environment variables and ``~/.pgpass`` as in psql.
    """

    def __init__(self, url: str, workspace: str = DEFAULT_WORKSPACE) -> None:
        if not WORKSPACE_NAME.fullmatch(workspace):
            raise InvalidInputError(
                f"invalid state workspace name {workspace!r}",
                hint="use up to 63 letters, digits, '.', '_' and '-', such as staging or prod",
            )
        self._url = url
        self._secrets = _secrets_in(url)
        self.workspace = workspace
        #: The URL without its password or parameters, for messages.
        self.location = _without_secrets(url)
        self.description = f"PostgreSQL {self.location} (workspace {workspace})"
        #: The connection holding the lock while a ``with store.lock()`` block runs.
        self._session: Connection[Any] | None = None

    def load(self) -> State:
        from .model import State

        data = self._document()
        if data is None:
            return State()
        try:
            return State.from_json(data)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise self._corrupt(f"not a dtm state document ({error})") from error

    def installed_tools(self) -> set[str]:
        document = self._document()
        instances = document.get("instances", {}) if document else {}
        return {str(record.get("tool")) for record in instances.values()}

    def workspaces(self) -> list[str]:
        """The workspaces with a committed state in this database, sorted."""
        with self._connection(create=False) as conn:
            if conn is None:
                return []
            return [str(row[0]) for row in conn.execute(
                "SELECT workspace FROM dtm_state ORDER BY workspace")]

    def commit(self, state: State) -> None:
        serial = state.serial + 1
        document = dict(state.to_json(), schema=STATE_SCHEMA_VERSION, serial=serial)
        # Sorted keys and a json column: the text reads back exactly as the local store's.
        payload = json.dumps(document, sort_keys=True)
        with self._connection(create=True) as conn:
            assert conn is not None  # create=True always yields one
            with conn.transaction():
                # A row to lock even for the first commit: a second first commit waits on
                # the key, then sees this one's serial (the row never shows while empty).
                conn.execute("INSERT INTO dtm_state (workspace, serial, schema, document) "
                             "VALUES (%s, 0, %s, '{}') ON CONFLICT (workspace) DO NOTHING",
                             (self.workspace, STATE_SCHEMA_VERSION))
                row = conn.execute("SELECT serial, schema FROM dtm_state WHERE workspace = %s "
                                   "FOR UPDATE", (self.workspace,)).fetchone()
                assert row is not None
                stored, schema = int(row[0]), int(row[1])
                if schema > STATE_SCHEMA_VERSION:
                    migrate({"schema": schema}, where=self.description)  # raises: newer dtm
                if stored > state.serial:
                    raise RefusedError(
                        f"state in {self.description} changed since it was loaded "
                        f"(serial {stored} stored, {state.serial} loaded); not overwriting it",
                        hint="another dtm run committed without the lock; run the command again",
                    )
                conn.execute("UPDATE dtm_state SET serial = %s, schema = %s, document = %s::json, "
                             "updated_at = now() WHERE workspace = %s",
                             (serial, STATE_SCHEMA_VERSION, payload, self.workspace))
        state.serial = serial
        state.schema = STATE_SCHEMA_VERSION

    @contextlib.contextmanager
    def lock(self, *, command: str, timeout: float,
             on_wait: Callable[[LockHolder | None], None] | None = None) -> Iterator[None]:
        import psycopg

        conn = self._connect()
        try:
            with self._errors("take the lock in"):
                schema = pgschema.prepare(conn, create=True, where=self.location)
                assert schema is not None
                key = pgschema.advisory_key(schema, f"workspace:{self.workspace}")
                for name, value in KEEPALIVES.items():
                    conn.execute("SELECT set_config(%s, %s, false)", (name, value))
                self._acquire(conn, key, command, timeout, on_wait)
            self._session = conn
            try:
                yield
            finally:
                self._session = None
                # Closing the session below would release it anyway; this only keeps a healthy
                # connection tidy, and must not hide the error that ended the block.
                with contextlib.suppress(psycopg.Error):
                    conn.execute("DELETE FROM dtm_lock_holders WHERE workspace = %s "
                                 "AND backend_pid = pg_backend_pid()", (self.workspace,))
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
        finally:
            conn.close()

    def lock_taken(self) -> bool:
        conn = self._connect()
        try:
            with self._errors("look at the lock in"):
                schema = pgschema.prepare(conn, create=False, where=self.location)
                if schema is None:
                    return False
                key = pgschema.advisory_key(schema, f"workspace:{self.workspace}")
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                if not (row and row[0]):
                    return True
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
                return False
        finally:
            conn.close()

    # -- internals ----------------------------------------------------------------------------

    def _acquire(self, conn: Connection[Any], key: int, command: str, timeout: float,
                 on_wait: Callable[[LockHolder | None], None] | None) -> None:
        import psycopg

        def try_lock() -> bool:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            return bool(row and row[0])

        waiting = None if try_lock() else start_waiting(
            try_lock, lambda: self._holder(conn, key), timeout, on_wait)
        if waiting is not None:
            remaining, holder = waiting
            # Waiting in the server rather than polling: it wakes us the moment the holder
            # lets go or dies, and lock_timeout (0: none) bounds the wait -- alone, so that a
            # statement_timeout set for the role cannot cut --lock-timeout short.
            millis = 0 if remaining < 0 else max(1, math.ceil(remaining * 1000))
            conn.execute("SELECT set_config('lock_timeout', %s, false), "
                         "set_config('statement_timeout', '0', false)", (str(millis),))
            try:
                conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            except psycopg.errors.LockNotAvailable:
                # Name whoever holds it now: the first holder may have finished meanwhile.
                raise lock_timeout_error(self._holder(conn, key) or holder) from None
            finally:
                conn.execute("RESET lock_timeout")
                conn.execute("RESET statement_timeout")
        conn.execute(
            "INSERT INTO dtm_lock_holders AS h (workspace, backend_pid, pid, host, username, "
            "command, since) VALUES (%s, pg_backend_pid(), %s, %s, %s, %s, date_trunc('second', now())) "
            "ON CONFLICT (workspace) DO UPDATE SET backend_pid = excluded.backend_pid, "
            "pid = excluded.pid, host = excluded.host, username = excluded.username, "
            "command = excluded.command, since = excluded.since",
            (self.workspace, os.getpid(), _host(), _user(), command),
        )

    def _holder(self, conn: Connection[Any], key: int) -> LockHolder | None:
        """The run holding ``key``, from its row, if that row's session really holds the lock.

        A row left behind by a killed run names a session that is gone, and the new holder
        may not have written its own yet: both read as an unknown holder, never a wrong one.
        """
        from .store import LockHolder

        unsigned = key & 0xFFFF_FFFF_FFFF_FFFF  # pg_locks splits a bigint key into two oids
        row = conn.execute(HOLDER_QUERY, (self.workspace, unsigned >> 32,
                                          unsigned & 0xFFFF_FFFF)).fetchone()
        if row is None:
            return None
        return LockHolder(pid=int(row[0]), host=str(row[1]), user=str(row[2]),
                          command=str(row[3]), since=str(row[4]))

    def _document(self) -> dict[str, Any] | None:
        """The stored document, migrated to the current schema; None when there is none."""
        with self._connection(create=False) as conn:
            if conn is None:
                return None
            row = conn.execute("SELECT serial, document::text FROM dtm_state WHERE workspace = %s",
                               (self.workspace,)).fetchone()
        if row is None:
            return None
        try:
            data = json.loads(row[1])
            if not isinstance(data, dict):
                raise ValueError("the document is not a JSON object")
            data = migrate(data, where=self.description)
            if not isinstance(data.get("instances", {}), dict):
                raise ValueError("instances is not a mapping")
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise self._corrupt(f"not a dtm state document ({error})") from error
        data["serial"] = int(row[0])  # the column is what commits compare against
        return data

    @contextlib.contextmanager
    def _connection(self, *, create: bool) -> Iterator[Connection[Any] | None]:
        """The lock's connection when held, else a new one; None when no tables exist yet."""
        if self._session is not None:
            with self._errors("use"):
                yield self._session
            return
        conn = self._connect()
        try:
            with self._errors("use"):
                ready = pgschema.prepare(conn, create=create, where=self.location) is not None
                yield conn if ready else None
        finally:
            conn.close()

    def _connect(self) -> Connection[Any]:
        try:
            import psycopg
        except ImportError as error:
            raise InvalidInputError(
                "the postgresql state backend needs psycopg, which is not installed",
                hint="install it into dtm's environment: pip install 'psycopg[binary]>=3.1'",
            ) from error
        with self._errors("connect to"):
            given = psycopg.conninfo.conninfo_to_dict(self._url)
            params: dict[str, Any] = {"fallback_application_name": "dtm"}
            if "connect_timeout" not in given and not os.environ.get("PGCONNECT_TIMEOUT"):
                params["connect_timeout"] = 10  # libpq would wait forever for a dead host
            return psycopg.connect(self._url, autocommit=True, **params)

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn driver errors into one-line DtmErrors that never show a password."""
        import psycopg

        try:
            yield
        # `from None`: the driver's own exception may quote the URL, password and all.
        except psycopg.errors.InsufficientPrivilege as error:
            raise InvalidInputError(
                f"cannot {action} the state database {self.location}: {self._reason(error)}",
                hint="let the role dtm connects as own the database (or a schema on its "
                "search_path), or grant it use of the dtm_* tables",
            ) from None
        except (psycopg.OperationalError, psycopg.InterfaceError) as error:
            raise NetworkError(
                f"cannot {action} the state database {self.location}: {self._reason(error)}",
                hint=CONNECTION_HINT,
            ) from None
        except psycopg.ProgrammingError as error:
            raise InvalidInputError(
                f"cannot {action} the state database {self.location}: {self._reason(error)}",
                hint=CONNECTION_HINT,
            ) from None
        except psycopg.Error as error:
            raise DtmError(
                f"cannot {action} the state database {self.location}: {self._reason(error)}",
                hint="see the server's log; run the command again once it is resolved",
            ) from None

    def _reason(self, error: Exception) -> str:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        text = lines[0] if lines else type(error).__name__
        for prefix in ("connection failed: ", "connection is bad: "):
            text = text.removeprefix(prefix)
        text = text.replace(self._url, self.location)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _corrupt(self, reason: str) -> InvalidInputError:
        return InvalidInputError(
            f"state in {self.description} is corrupt: {reason}",
            hint=f"restore workspace {self.workspace}'s row of table dtm_state from a database backup",
        )


def _without_secrets(url: str) -> str:
    """``scheme://user@hosts/dbname``: what a message may show of a connection URL."""
    scheme, _, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    userinfo, at, hosts = authority.rpartition("@")
    user = userinfo.partition(":")[0]
    dbname = path.partition("?")[0]
    return f"{scheme}://{user}{at}{hosts}{slash}{dbname}"


def _secrets_in(url: str) -> list[str]:
    """The password (and TLS key password) a URL carries, raw and decoded, longest first."""
    from urllib.parse import parse_qsl, unquote

    rest = url.partition("://")[2]
    authority, _, path = rest.partition("/")
    userinfo = authority.rpartition("@")[0]
    found = [userinfo.partition(":")[2]] if ":" in userinfo else []
    query = path.partition("?")[2]
    found += [value for name, value in parse_qsl(query, keep_blank_values=True)
              if name in {"password", "sslpassword"}]
    found += [part for part in query.split("&") if part.startswith(("password=", "sslpassword="))]
    every = {text for text in found + [unquote(text) for text in found] if text}
    return sorted(every, key=len, reverse=True)


def _host() -> str:
    import socket

    return socket.gethostname()


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "unknown"
