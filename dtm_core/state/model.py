"""The state model: installed instances and the transaction journal, as one versioned document.

Instances and the journal live in one document so that a single atomic commit moves both:
a step is marked running, the plugin acts, then the step's result and the instance record
land together. Secret options are stored as their references (``env:NAME``), never values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

#: Bumped on any incompatible change; stores migrate older documents on load.
STATE_SCHEMA_VERSION = 1


def now() -> str:
    """The current time as ISO 8601 UTC, second precision: how state records time."""
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _shallow(obj: Any) -> dict[str, Any]:
    """Fields as a dict without dataclasses.asdict's deep copy (10x slower on every commit)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def address_of(tool: str, instance: str) -> str:
    return f"{tool}.{instance}"


@dataclass
class InstanceRecord:
    """One installed tool instance."""

    tool: str
    instance: str
    version: str
    options: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    reason: str = "manual"  # manual | auto (installed only to satisfy a dependency)
    held: bool = False
    #: The version specifier the user asked for (``>=3,<4``); upgrades stay within it.
    constraint: str = ""
    #: Addresses of the instances this one depends on.
    requires: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)

    @property
    def address(self) -> str:
        return address_of(self.tool, self.instance)

    def to_json(self) -> dict[str, Any]:
        return _shallow(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InstanceRecord:
        return cls(**data)


@dataclass
class Step:
    """One change inside a transaction, journaled before it runs."""

    action: str  # install | remove | upgrade | downgrade | reinstall
    address: str
    from_version: str | None = None
    to_version: str | None = None
    status: str = "pending"  # pending | running | done | failed | skipped | undone
    error: str | None = None
    #: The instance record before this step (None when it did not exist): used to undo it.
    before: dict[str, Any] | None = None
    #: The instance record the step should leave (None for a removal).
    after: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return _shallow(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Step:
        return cls(**data)


@dataclass
class Transaction:
    """A journaled unit of work: what was asked, by whom, when, its steps and outcome."""

    id: int
    command: str
    steps: list[Step] = field(default_factory=list)
    user: str = field(default_factory=lambda: _safe("getpass", "getuser"))
    host: str = field(default_factory=lambda: _safe("socket", "gethostname"))
    started_at: str = field(default_factory=now)
    finished_at: str | None = None
    #: running | ok | failed | rolled back | recovered
    outcome: str = "running"
    #: The id of the transaction this one undoes, for ``history undo``.
    undoes: int | None = None
    #: Set, and committed, before ``recover --rollback`` undoes anything: from then on the
    #: transaction can only be rolled back (some steps may already be undone).
    rolling_back: bool = False

    def to_json(self) -> dict[str, Any]:
        data = _shallow(self)
        data["steps"] = [s.to_json() for s in self.steps]
        if not self.rolling_back:
            # Left out unless a rollback is under way, so the document keeps the shape older
            # dtm versions read (schema 1, no migration).
            del data["rolling_back"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transaction:
        data = dict(data)
        data["steps"] = [Step.from_json(s) for s in data.get("steps", [])]
        return cls(**data)


def _safe(module: str, function: str) -> str:
    """Who and where, looked up lazily: read-only commands never pay for these imports."""
    import importlib

    try:
        return str(getattr(importlib.import_module(module), function)())
    except Exception:  # getpass fails in containers without a passwd entry
        return "unknown"


@dataclass
class State:
    """Everything a store holds: instances by address and the transaction journal."""

    instances: dict[str, InstanceRecord] = field(default_factory=dict)
    transactions: list[Transaction] = field(default_factory=list)
    schema: int = STATE_SCHEMA_VERSION
    #: Incremented by every commit; lets a store detect a lost update.
    serial: int = 0

    def running_transaction(self) -> Transaction | None:
        """The transaction an interrupted run left unfinished, if any."""
        return next((t for t in reversed(self.transactions) if t.outcome == "running"), None)

    def next_transaction_id(self) -> int:
        return max((t.id for t in self.transactions), default=0) + 1

    def transaction(self, tx_id: int) -> Transaction | None:
        return next((t for t in self.transactions if t.id == tx_id), None)

    def instances_of(self, tool: str) -> list[InstanceRecord]:
        return [r for r in self.instances.values() if r.tool == tool]

    def dependents_of(self, address: str) -> list[InstanceRecord]:
        return [r for r in self.instances.values() if address in r.requires]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "serial": self.serial,
            "instances": {a: r.to_json() for a, r in sorted(self.instances.items())},
            "transactions": [t.to_json() for t in self.transactions],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        return cls(
            instances={a: InstanceRecord.from_json(r) for a, r in data.get("instances", {}).items()},
            transactions=[Transaction.from_json(t) for t in data.get("transactions", [])],
            schema=data.get("schema", STATE_SCHEMA_VERSION),
            serial=data.get("serial", 0),
        )
