"""The PostgreSQL state backend's tables: their definition, version and migrations.

dtm creates its tables itself, in the connection's current schema (the first existing one
on ``search_path``), and records every migration it applied in ``dtm_schema``. A database
whose tables are newer than this dtm knows is refused, never written.

    dtm_schema        version, applied_at, applied_by        one row per applied migration
    dtm_state         workspace, serial, schema, document    one state document per workspace
    dtm_lock_holders  workspace, backend_pid, pid, host …    who holds a workspace's lock

The document is stored as ``json``, not ``jsonb``: ``json`` keeps the text dtm wrote, so a
document reads back key for key as the local store's would; dtm never queries inside it.
``serial`` and ``schema`` copy the document's, so that a commit can compare-and-set and
check the version without parsing the document.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["MIGRATIONS", "TABLES_VERSION", "advisory_key", "prepare"]

#: ``MIGRATIONS[n - 1]`` brings the tables from version ``n - 1`` to ``n``; append, never edit.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE dtm_state (
            workspace  text PRIMARY KEY,
            serial     bigint NOT NULL,
            schema     integer NOT NULL,
            document   json NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        )""",
        # backend_pid ties a row to the session holding the advisory lock: a row left by a
        # killed run names a session that no longer holds it, and waiters ignore it.
        """CREATE TABLE dtm_lock_holders (
            workspace   text PRIMARY KEY,
            backend_pid integer NOT NULL,
            pid         integer NOT NULL,
            host        text NOT NULL,
            username    text NOT NULL,
            command     text NOT NULL,
            since       timestamptz NOT NULL
        )""",
    ),
]

#: The version of the tables this dtm reads and writes.
TABLES_VERSION = len(MIGRATIONS)


def advisory_key(schema: str, name: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name`` in ``schema``.

    ``tables`` serializes migrations, ``workspace:NAME`` the runs on a workspace (workspace
    names hold no colon, so the two never meet). Derived from SHA-256 rather than
    PostgreSQL's ``hashtext``, whose values are not promised across releases; the schema
    keeps two dtm installations in one database apart, and the ``dtm`` prefix keeps clear
    of other programs' keys.
    """
    digest = hashlib.sha256(f"dtm\0{schema}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def prepare(conn: Connection[Any], *, create: bool, where: str) -> str | None:
    """Check (and with ``create``, bring up to date) dtm's tables; return the schema they live in.

    Returns None when the tables do not exist and ``create`` is false: read-only commands
    see an empty state and never write to a database nothing was stored in yet.
    """
    row = conn.execute("SELECT current_schema(), to_regclass('dtm_schema') IS NOT NULL").fetchone()
    schema, exists = (row[0], bool(row[1])) if row is not None else (None, False)
    if schema is None:
        raise InvalidInputError(
            f"the state database {where} has no schema to keep dtm's tables in",
            hint="create one the dtm role may use and put it on search_path "
            "(for example ?options=-csearch_path%3Ddtm in the URL)",
        )
    version = _version(conn) if exists else 0
    _refuse_newer(version, where)
    if version == TABLES_VERSION or (version == 0 and not create):
        return str(schema) if version else None
    with conn.transaction():
        # Two first runs at once would both try to create the tables; one waits here.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(schema, "tables"),))
        conn.execute(
            """CREATE TABLE IF NOT EXISTS dtm_schema (
                version    integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now(),
                applied_by text NOT NULL
            )"""
        )
        version = _version(conn)
        _refuse_newer(version, where)
        from ..version import __version__

        for target in range(version + 1, TABLES_VERSION + 1):
            for statement in MIGRATIONS[target - 1]:
                conn.execute(statement)
            conn.execute("INSERT INTO dtm_schema (version, applied_by) VALUES (%s, %s)",
                         (target, f"dtm {__version__}"))
    return str(schema)


def _version(conn: Connection[Any]) -> int:
    row = conn.execute("SELECT coalesce(max(version), 0) FROM dtm_schema").fetchone()
    return int(row[0]) if row is not None else 0


def _refuse_newer(version: int, where: str) -> None:
    if version > TABLES_VERSION:
        raise InvalidInputError(
            f"the state tables in {where} were set up by a newer dtm (tables version {version}); "
            "upgrade dtm",
            hint=f"this dtm knows tables up to version {TABLES_VERSION}; every run sharing this "
            "state needs a dtm at least as new as the newest one that used it",
        )
