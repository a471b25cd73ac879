"""State surgery: list, show and forget recorded instances, and move state to another store.

Nothing here calls a plugin: forgetting a record leaves the real resource alone, and a
migration copies the document (instances, journal, serial) from one store to another under
both stores' locks, then verifies the copy by reading it back. The source is never deleted.
Nothing here prints or prompts either: the CLI passes ``show`` and ``confirm`` callbacks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import AbortedError, DtmError, InvalidInputError, RefusedError
from .local import LocalStateStore
from .model import InstanceRecord, State, Step, Transaction, now

if TYPE_CHECKING:
    from ..app import RunOptions
    from ..paths import DtmPaths
    from .store import StateStore

__all__ = ["ForgetPlan", "Location", "Migration", "forget_instances", "mask_url", "migrate_state",
           "open_location", "show_record", "state_listing"]

#: How ``--to`` / ``--from`` name the local store: ``local`` (dtm's data directory) or
#: ``local:DIR`` (a state directory elsewhere).
LOCAL = "local"

#: The step action a forgotten record is journaled with: a change to state alone that never
#: calls a plugin, so ``dtm history undo`` restores the record just as it forgets one.
FORGET_ACTION = "mark"


def _abort() -> AbortedError:
    return AbortedError("aborted; nothing was changed", hint="pass -y to proceed without asking")


def _refuse_interrupted(state: State) -> None:
    running = state.running_transaction()
    if running is not None:
        from ..transactions import interrupted_error

        raise interrupted_error(running)


# -- reading ---------------------------------------------------------------------------------


def state_listing(store: StateStore, state: State) -> dict[str, Any]:
    """Every recorded instance, with where the state lives and its serial (``state list``)."""
    running = state.running_transaction()
    return {
        "store": store.description,
        "workspace": _workspace(store),
        "serial": state.serial,
        "schema": state.schema,
        "transactions": len(state.transactions),
        "interrupted": running.id if running is not None else None,
        "in_progress": None,  # the CLI moves "interrupted" here while a live run holds the lock
        "instances": [
            {"address": r.address, "tool": r.tool, "instance": r.instance, "version": r.version,
             "reason": r.reason, "held": r.held, "requires": list(r.requires),
             "updated_at": r.updated_at}
            for _, r in sorted(state.instances.items())
        ],
    }


def show_record(state: State, address: str) -> dict[str, Any]:
    """The full record at ``address`` as stored: secret options stay references, never values."""
    record = _recorded(state, [address])[0]
    return {"address": record.address, **record.to_json(),
            "required_by": sorted(r.address for r in state.dependents_of(record.address))}


def _workspace(store: StateStore) -> str | None:
    workspace = getattr(store, "workspace", None)
    return str(workspace) if workspace else None


def _recorded(state: State, addresses: Sequence[str]) -> list[InstanceRecord]:
    """The records at exactly these addresses (``tool.instance``), each once, in order given."""
    found: dict[str, InstanceRecord] = {}
    for address in addresses:
        record = state.instances.get(address)
        if record is None:
            if "." not in address and state.instances_of(address):
                known = ", ".join(r.address for r in state.instances_of(address))
                hint = f"state commands take full addresses: {known}"
            else:
                hint = "'dtm state list' shows what is recorded"
            raise InvalidInputError(f"{address} is not recorded in state", hint=hint)
        found[address] = record
    return list(found.values())


# -- forgetting ------------------------------------------------------------------------------


@dataclass
class ForgetPlan:
    """Records ``state rm`` forgets, and the instances that keep naming them (with --force)."""

    records: list[InstanceRecord]
    #: Forgotten address -> recorded instances that still list it in ``requires``.
    still_required: dict[str, list[str]] = field(default_factory=dict)
    dry_run: bool = False
    transaction: Transaction | None = None

    @property
    def addresses(self) -> list[str]:
        return [r.address for r in self.records]

    def as_json(self) -> dict[str, Any]:
        return {
            "forgotten": [{"address": r.address, "tool": r.tool, "instance": r.instance,
                           "version": r.version} for r in self.records],
            "still_required_by": self.still_required,
            "dry_run": self.dry_run,
            "transaction": self.transaction.to_json() if self.transaction else None,
        }


def plan_forget(state: State, addresses: Sequence[str], *, force: bool) -> ForgetPlan:
    """What forgetting ``addresses`` means; refused while other instances require them."""
    records = _recorded(state, addresses)
    chosen = {r.address for r in records}
    still_required = {}
    for record in records:
        needing = sorted(r.address for r in state.dependents_of(record.address)
                         if r.address not in chosen)
        if needing:
            still_required[record.address] = needing
    if still_required and not force:
        address, needing = next(iter(still_required.items()))
        raise RefusedError(
            f"cannot forget {address}: {', '.join(needing)} require{'s' if len(needing) == 1 else ''}"
            " it",
            hint="forget those too (name them all), or pass --force to keep them recorded "
            "with a requirement on a forgotten instance",
        )
    return ForgetPlan(records=records, still_required=still_required)


def record_forget(state: State, plan: ForgetPlan, command: str) -> Transaction:
    """Drop the records from ``state`` and journal it as one finished transaction."""
    finished = now()
    steps = [Step(action=FORGET_ACTION, address=r.address, from_version=r.version, status="done",
                  before=r.to_json(), after=None) for r in plan.records]
    tx = Transaction(id=state.next_transaction_id(), command=command, steps=steps,
                     started_at=finished, finished_at=finished, outcome="ok")
    for record in plan.records:
        del state.instances[record.address]
    state.transactions.append(tx)
    return tx


def forget_instances(store: StateStore, addresses: Sequence[str], *, force: bool,
                     options: RunOptions, lock_command: str,
                     show: Callable[[ForgetPlan], None],
                     confirm: Callable[[ForgetPlan], bool]) -> ForgetPlan:
    """``state rm``: under the lock, forget records in one commit; no plugin is called."""
    with store.lock(command=lock_command, timeout=options.lock_timeout,
                    on_wait=options.on_lock_wait):
        state = store.load()
        _refuse_interrupted(state)
        plan = plan_forget(state, addresses, force=force)
        plan.dry_run = options.dry_run
        show(plan)
        if options.dry_run:
            return plan
        if not options.yes and not confirm(plan):
            raise _abort()
        plan.transaction = record_forget(state, plan, "state rm " + " ".join(plan.addresses))
        store.commit(state)
        return plan


# -- where state is --------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """A store named on the command line, and how to talk about it without leaking a password."""

    store: StateStore
    #: What the user gave, safe to print: ``local``, ``local:DIR``, ``env:NAME``, or a URL with
    #: its password masked.
    shown: str
    #: ``local`` or the remote URL scheme (``postgresql``).
    backend: str
    #: The secret reference the URL came from (``env:PG_URL``), if any.
    reference: str | None = None
    #: The URL exactly as given had a password (which ``shown`` masks).
    had_password: bool = False
    #: This is the local store in dtm's own data directory.
    default_local: bool = False

    @property
    def description(self) -> str:
        return self.store.description


_PASSWORD_PARAM = re.compile(r"(?i)(\bpassword=)[^&;]*")


def mask_url(url: str) -> str:
    """``url`` with any password (``user:pw@`` or ``?password=``) replaced by ``***``."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, host = netloc.rpartition("@")
            netloc = f"{userinfo.partition(':')[0]}:***@{host}"
        return _PASSWORD_PARAM.sub(r"\1***", urlunsplit(parts._replace(netloc=netloc)))
    except ValueError:  # a malformed netloc: show nothing after the scheme
        return url.partition("://")[0] + "://***"


def _has_password(url: str) -> bool:
    return mask_url(url) != url


def open_location(text: str | None, paths: DtmPaths, environ: Mapping[str, str]) -> Location:
    """The store ``text`` names (None: the store this run uses, as every command picks it).

    ``local`` is dtm's local store, ``local:DIR`` one in another directory, ``SCHEME://…`` a
    remote backend, and a secret reference (``env:NAME``, ``file:PATH``) holds either.
    """
    if text is None:
        from . import open_store

        url = environ.get("DTM_STATE_URL", "").strip()
        store = open_store(paths, environ)
        if not url:
            return Location(store, LOCAL, LOCAL, default_local=True)
        return Location(store, "DTM_STATE_URL", _scheme(url), reference="env:DTM_STATE_URL")
    text = text.strip()
    reference = None
    if _is_reference(text, environ):
        from ..secrets import SecretRef, builtin_resolvers, resolve_secret

        reference = text
        text = resolve_secret(SecretRef.parse(text), builtin_resolvers(environ)).reveal().strip()
        if _is_reference(text, environ):
            raise InvalidInputError(f"{reference} holds another secret reference, not a state URL",
                                    hint="it must hold postgresql://…, local or local:DIR")
    location = _open(text, paths, environ)
    if reference is None:
        return location
    return Location(location.store, reference, location.backend, reference=reference,
                    default_local=location.default_local)


def _is_reference(text: str, environ: Mapping[str, str]) -> bool:
    from ..secrets import builtin_resolvers

    scheme, colon, rest = text.partition(":")
    return bool(colon) and not rest.startswith("//") and scheme in builtin_resolvers(environ)


def _scheme(url: str) -> str:
    return url.partition("://")[0].lower() if "://" in url else ""


def _open(text: str, paths: DtmPaths, environ: Mapping[str, str]) -> Location:
    if text == LOCAL:
        return Location(LocalStateStore(paths.state_dir_text), LOCAL, LOCAL, default_local=True)
    if text.startswith(LOCAL + ":"):
        directory = os.path.abspath(os.path.expanduser(text[len(LOCAL) + 1:]))
        default = os.path.realpath(directory) == os.path.realpath(paths.state_dir_text)
        return Location(LocalStateStore(directory), f"{LOCAL}:{directory}", LOCAL,
                        default_local=default)
    from . import REMOTE_STORES, open_store

    scheme = _scheme(text)
    if scheme not in REMOTE_STORES:
        # Name only the scheme: the rest of a database URL often carries a password.
        shown = f"scheme {scheme!r}" if scheme else "a value without a scheme"
        remote = ", ".join(f"{s}://…" for s in sorted(REMOTE_STORES))
        raise InvalidInputError(
            f"no state backend for {shown} in this dtm",
            hint=f"name a store as local, local:DIR{', ' + remote if remote else ''}, or a secret "
            "reference (env:NAME) holding one",
        )
    store = open_store(paths, dict(environ, DTM_STATE_URL=text))
    return Location(store, mask_url(text), scheme, had_password=_has_password(text))


# -- migrating -------------------------------------------------------------------------------


@dataclass
class Migration:
    """One copy of the whole state from ``source`` to ``target``, and how it went."""

    source: Location
    target: Location
    addresses: list[str]
    transactions: int
    source_serial: int
    #: The target's instances and transactions that ``--force`` replaces (None: it was empty).
    replaces: tuple[int, int] | None = None
    dry_run: bool = False
    #: The target's serial after the copy landed and was read back.
    serial: int | None = None
    verified: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.source.description,
            "to": self.target.description,
            "instances": len(self.addresses),
            "transactions": self.transactions,
            "addresses": self.addresses,
            "source_serial": self.source_serial,
            "serial": self.serial,
            "replaced": ({"instances": self.replaces[0], "transactions": self.replaces[1]}
                         if self.replaces else None),
            "dry_run": self.dry_run,
            "verified": self.verified,
            "next_steps": next_steps(self),
        }


def migrate_state(source: Location, target: Location, *, force: bool, options: RunOptions,
                  lock_command: str, show: Callable[[Migration], None],
                  confirm: Callable[[Migration], bool]) -> Migration:
    """Copy the whole state to ``target`` in one atomic commit under both locks, then verify it.

    Refused while the source has an interrupted transaction or holds nothing, and when the
    target already holds state unless ``force``. The source is only read, whatever happens.
    """
    if _same_store(source.store, target.store):
        raise InvalidInputError(f"the source and the target are the same store ({source.description})",
                                hint="name another store with --to (or the source with --from)")
    if isinstance(source.store, LocalStateStore) and not source.store.path.exists():
        raise _nothing_to_migrate(source)  # before its lock would create the directory
    with ExitStack() as locks:
        # Always in the same order, so two opposite migrations cannot wait for each other.
        for store in sorted((source.store, target.store), key=lambda s: s.description):
            locks.enter_context(store.lock(command=lock_command, timeout=options.lock_timeout,
                                           on_wait=options.on_lock_wait))
        state = source.store.load()
        _refuse_interrupted(state)
        if not state.instances and not state.transactions:
            raise _nothing_to_migrate(source)
        existing = target.store.load()
        migration = Migration(source, target, sorted(state.instances), len(state.transactions),
                              state.serial, dry_run=options.dry_run)
        if existing.instances or existing.transactions:
            migration.replaces = (len(existing.instances), len(existing.transactions))
            if not force:
                raise RefusedError(
                    f"the target already holds state ({len(existing.instances)} instances, "
                    f"{len(existing.transactions)} transactions): {target.description}",
                    hint="migrate into an empty store, or pass --force to replace what it holds",
                )
        show(migration)
        if options.dry_run:
            return migration
        if not options.yes and not confirm(migration):
            raise _abort()
        copy = State.from_json(state.to_json())
        # Continue the serial: a commit bumps it, so the copy lands above both stores' serials.
        copy.serial = max(state.serial, existing.serial)
        target.store.commit(copy)
        migration.serial = verify_copy(state, target)
        migration.verified = True
        return migration


def _nothing_to_migrate(source: Location) -> RefusedError:
    # Most likely a mistyped --from; with --force it would empty a good target.
    return RefusedError(f"the source holds no state, so there is nothing to migrate: "
                        f"{source.description}",
                        hint="check --from (or DTM_STATE_URL, which names the source when "
                        "--from is not given)")


def _same_store(a: StateStore, b: StateStore) -> bool:
    if isinstance(a, LocalStateStore) and isinstance(b, LocalStateStore):
        return os.path.realpath(a.directory) == os.path.realpath(b.directory)
    return a.description == b.description


def verify_copy(source: State, target: Location) -> int:
    """Read the target back and compare it with ``source``; returns the target's serial."""
    landed = target.store.load()
    problems = []
    if len(landed.instances) != len(source.instances):
        problems.append(f"{len(landed.instances)} instances, expected {len(source.instances)}")
    elif set(landed.instances) != set(source.instances):
        differ = sorted(set(landed.instances) ^ set(source.instances))
        problems.append(f"different instances ({', '.join(differ[:5])})")
    if len(landed.transactions) != len(source.transactions):
        problems.append(f"{len(landed.transactions)} transactions, expected "
                        f"{len(source.transactions)}")
    elif [t.id for t in landed.transactions] != [t.id for t in source.transactions]:
        problems.append("different transaction ids")
    if problems:
        raise DtmError(
            f"the copy in {target.description} does not match the source: {'; '.join(problems)}",
            hint="the source was not changed and is still the state in use; do not switch to "
            "the target: check it, then migrate again with --force",
        )
    return landed.serial


def next_steps(migration: Migration) -> list[str]:
    """How to start using the target, and how to remove the source once that works."""
    if migration.dry_run or not migration.verified:
        return []
    steps = _use_target(migration.target)
    steps.append(_remove_source(migration.source))
    return steps


def _use_target(target: Location) -> list[str]:
    if target.backend == LOCAL and isinstance(target.store, LocalStateStore):
        if target.default_local:
            return ["use it: unset DTM_STATE_URL, and use 'state: {backend: local}' (or no state "
                    "block) in toolchain files"]
        directory = target.store.directory
        if directory.name == "state" and directory.parent.name == "data":
            return [f"use it: export DTM_HOME={directory.parent.parent}"]
        return [f"dtm reads local state only from its data directory; {directory} holds a copy"]
    backend = "postgresql" if target.backend.startswith("postgres") else target.backend
    ref = target.reference
    if ref is not None and ref.startswith("env:"):
        export = f'export DTM_STATE_URL="${ref[4:]}"'
    elif ref is not None and ref.startswith("file:"):
        export = f'export DTM_STATE_URL="$(cat {ref[5:]})"'
    elif ref is None:
        export = f"export DTM_STATE_URL='{target.shown}'"
        if target.had_password:
            export += " (with the password in place of ***)"
    else:
        export = "set DTM_STATE_URL to the URL it holds"
    workspace = _workspace(target.store)
    named = workspace not in (None, "default")
    if named:
        export += f" DTM_WORKSPACE={workspace}" if export.startswith("export") else (
            f", and DTM_WORKSPACE={workspace}")
    block = (f"state: {{backend: {backend}, url: {ref or 'env:DTM_STATE_URL'}"
             f"{f', workspace: {workspace}' if named else ''}}}")
    return [f"use it: {export}", f"in toolchain files: '{block}'"]


def _remove_source(source: Location) -> str:
    if source.backend == LOCAL and isinstance(source.store, LocalStateStore):
        path = source.store.path
        return (f"the source was kept; once the target works, remove it: "
                f"rm {path} {source.store.backup_path}")
    return (f"the source was kept in {source.description}; dtm never deletes it: drop it by hand "
            "once the target works")
