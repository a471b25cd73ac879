"""Journaled transactions: run steps with a commit before and after each, recover and undo them.

The journal lives in the same state document as the instances, so one atomic commit moves a
step's status and its instance record together. If dtm is killed, the transaction stays
``running`` with each step ``done``, ``running`` (effect unknown) or ``pending``; ``recover``
finishes it (repeating the unknown step idempotently: an interrupted install calls ``create``
again with ``resuming_since`` so the plugin adopts what the killed run made; anything else
reads, then creates or updates) or rolls it back (reverting done steps in reverse order).
A rollback is recorded before it undoes anything, and each step becomes ``undone`` in the
commit that records its inverse's effect, so a rollback that is killed or fails is continued,
never finished forward.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn, Protocol

from .errors import DtmError, InterruptedTransactionError, OperationError, RefusedError
from .operations import Target, ToolRunner
from .references import contains_references, fill_references
from .state.model import InstanceRecord, State, Step, Transaction, now
from .state.store import StateStore
from .toolkind import GONE

RunnerFor = Callable[[str], ToolRunner]
"""Returns the runner of a tool kind by tool name (raises DtmError when it is unavailable)."""


class Reporter(Protocol):
    """Receives step progress so the CLI can render it; the core never prints."""

    def step_started(self, step: Step) -> None: ...

    def step_finished(self, step: Step) -> None: ...


class _Silent:
    def step_started(self, step: Step) -> None:
        pass

    def step_finished(self, step: Step) -> None:
        pass


def interrupted_error(tx: Transaction) -> InterruptedTransactionError:
    """The refusal every changing command gives while ``tx`` is unfinished."""
    if tx.rolling_back:
        undoing = next((s for s in reversed(tx.steps) if s.status in {"done", "running"}), None)
        where = f" at the undo of {undoing.action} {undoing.address}" if undoing else ""
        return InterruptedTransactionError(
            f"transaction {tx.id} ({tx.command}) was interrupted while rolling back{where}",
            hint="run 'dtm recover --rollback' to finish undoing it",
        )
    current = next((s for s in tx.steps if s.status in {"running", "pending"}), None)
    where = f" at {current.action} {current.address}" if current else ""
    return InterruptedTransactionError(
        f"transaction {tx.id} ({tx.command}) was interrupted{where}",
        hint="run 'dtm recover' to finish it, or 'dtm recover --rollback' to undo it",
    )


def _target(record: dict[str, object]) -> Target:
    rec = InstanceRecord.from_json(dict(record))
    return Target(rec.tool, rec.instance, rec.version, rec.options, rec.outputs)


@dataclass
class TransactionRunner:
    """Executes transactions against one store; the caller holds the store's lock."""

    store: StateStore
    state: State
    runner_for: RunnerFor
    reporter: Reporter = _Silent()

    def begin(self, command: str, steps: Sequence[Step], *, undoes: int | None = None) -> Transaction:
        """Journal a new transaction with all its steps pending, before anything runs."""
        running = self.state.running_transaction()
        if running is not None:
            raise interrupted_error(running)
        tx = Transaction(id=self.state.next_transaction_id(), command=command,
                         steps=list(steps), undoes=undoes)
        self.state.transactions.append(tx)
        self.store.commit(self.state)
        return tx

    def run(self, tx: Transaction, *, recovering: bool = False) -> Transaction:
        """Run pending steps in order; stop at the first failure and skip the rest."""
        for step in tx.steps:
            if step.status == "done":
                continue
            if step.status not in {"pending", "running"}:
                continue
            interrupted = step.status == "running"
            try:
                self._run_step(step, careful=recovering or interrupted,
                               resuming_since=_resuming_since(tx, step))
            except DtmError as exc:
                self._fail(tx, step, exc)
                # The step's own error, with its exit code and fix, plus what became of the others.
                exc.message = f"transaction {tx.id} failed: {exc.message}"
                exc.hint = _failure_hint(tx, exc.hint)
                raise
        tx.outcome = "recovered" if recovering else "ok"
        tx.finished_at = now()
        self.store.commit(self.state)
        return tx

    def _fail(self, tx: Transaction, step: Step, exc: DtmError) -> None:
        step.status, step.error = "failed", exc.message
        for later in tx.steps:
            if later.status == "pending":
                later.status = "skipped"
        tx.outcome, tx.finished_at = "failed", now()
        self.store.commit(self.state)
        self.reporter.step_finished(step)

    def _run_step(self, step: Step, *, careful: bool, resuming_since: str | None = None) -> None:
        self.start_step(step)
        self.finish_step(step, self.perform(step, careful=careful, resuming_since=resuming_since))

    def start_step(self, step: Step, *, commit: bool = True) -> None:
        """Mark ``step`` running and commit: the journal entry precedes the plugin's action.

        Options that refer to other instances' outputs are filled here, from what those
        instances recorded, and validated again now that their real values are known.
        """
        if step.after is not None and step.action not in {"mark", "remove"}:
            options = step.after.get("options", {})
            if contains_references(options):
                outputs = {a: r.outputs for a, r in self.state.instances.items()}
                options = fill_references(options, outputs)
            runner = self.runner_for(str(step.after["tool"]))
            step.after["options"] = runner.check_options(options, step.address)
        step.status = "running"
        if commit:
            self.store.commit(self.state)
        self.reporter.step_started(step)

    def finish_step(self, step: Step, outputs: dict[str, object] | None, *,
                    commit: bool = True) -> None:
        """Record the step's result and its instance record in one commit."""
        if step.after is None:
            self.state.instances.pop(step.address, None)
        else:
            record = InstanceRecord.from_json(dict(step.after))
            if outputs is not None:
                record.outputs = outputs
            record.updated_at = now()
            if step.before is not None:
                record.created_at = str(step.before.get("created_at", record.created_at))
            step.after = record.to_json()
            self.state.instances[step.address] = record
        step.status = "done"
        if commit:
            self.store.commit(self.state)
        self.reporter.step_finished(step)

    def perform(self, step: Step, *, careful: bool,
                resuming_since: str | None = None) -> dict[str, object] | None:
        """Do the step's work; returns new outputs, or None when outputs stay as they were.

        ``resuming_since`` (the interrupted transaction's start) is set when a killed run left
        this step ``running``: its create may have landed without being recorded.
        """
        if step.action == "mark":
            return None
        if step.action == "remove":
            assert step.before is not None
            target = _target(step.before)
            runner = self.runner_for(target.tool)
            if careful:
                runner.ensure_deleted(target, resuming_since=resuming_since)
            else:
                runner.delete(target)
            return None
        assert step.after is not None
        target = _target(step.after)
        runner = self.runner_for(target.tool)
        if step.action == "install" and resuming_since is not None:
            # Not read-then-update: only the plugin can tell its own half-made resource (to
            # adopt and finish, e.g. a repository still without its starter commit) from one
            # it must refuse, and the contract makes create look before it makes anything.
            return runner.create(target, resuming_since=resuming_since)
        if step.action == "install" and not careful:
            return runner.create(target)
        live = runner.read(target)
        if live is GONE:
            return runner.create(target)
        return runner.update(target, live)  # type: ignore[arg-type]

    # -- recovery ---------------------------------------------------------------------------

    def recover(self, *, rollback: bool) -> Transaction | None:
        """Finish (default) or roll back the interrupted transaction; None when there is none.

        A rollback once begun is continued whichever is asked: the steps it undid cannot be
        finished forward, and the user already chose to undo.
        """
        tx = self.state.running_transaction()
        if tx is None:
            return None
        if not (rollback or tx.rolling_back):
            return self.run(tx, recovering=True)
        return self._roll_back(tx)

    def _roll_back(self, tx: Transaction) -> Transaction:
        tx.rolling_back = True
        for step in tx.steps:
            if step.status == "pending":
                step.status = "skipped"
        self.store.commit(self.state)
        for step in reversed(tx.steps):
            if step.status not in {"done", "running"}:
                continue
            inverse = invert(step)
            try:
                # The inverse is not journaled: the original step's status says what is left.
                self.start_step(inverse, commit=False)
                # Undoing a create that was cut short: the plugin may find what it made
                # without any outputs recorded, and must still know it as its own.
                outputs = self.perform(inverse, careful=True,
                                       resuming_since=_resuming_since(tx, step))
            except DtmError as exc:
                self._rollback_failed(tx, step, inverse, exc)
            # Marked undone in the commit that records the inverse's effect: a kill between
            # two commits would leave the step done with its instance record already gone.
            step.status, step.error = "undone", None
            self.finish_step(inverse, outputs)
        tx.outcome, tx.finished_at, tx.rolling_back = "rolled back", now(), False
        self.store.commit(self.state)
        return tx

    def _rollback_failed(self, tx: Transaction, step: Step, inverse: Step,
                         exc: DtmError) -> NoReturn:
        # The transaction stays running: ``step`` is still applied, and only another recover
        # can undo it ('history undo' reverses the done steps of finished transactions).
        step.error = f"rollback failed: {exc.message}"
        self.store.commit(self.state)
        inverse.status, inverse.error = "failed", exc.message
        self.reporter.step_finished(inverse)
        raise OperationError(
            f"rollback of transaction {tx.id} failed: {exc.message}",
            hint=f"fix the cause and run 'dtm recover --rollback' again; "
                 f"'dtm history info {tx.id}' shows what is left to undo") from exc


def _resuming_since(tx: Transaction, step: Step) -> str | None:
    """When ``step`` is a create a killed run began, since when its resource may exist."""
    return tx.started_at if step.status == "running" and step.action == "install" else None


def _failure_hint(tx: Transaction, cause: str | None) -> str:
    done = sum(1 for s in tx.steps if s.status == "done")
    if done:
        kept = (f"{done} completed step(s) were kept; see 'dtm history info {tx.id}', "
                f"undo them with 'dtm history undo {tx.id}'")
        return f"{cause}; {kept}" if cause else kept
    # The failed step may have done part of its work; running again converges it.
    return cause or "no step completed; fix the cause and run the command again"


_INVERSE_ACTION = {"install": "remove", "remove": "install", "upgrade": "downgrade",
                   "downgrade": "upgrade", "reinstall": "reinstall", "mark": "mark",
                   "update": "update"}


def invert(step: Step) -> Step:
    """The step that reverses ``step`` (its before and after swapped)."""
    return Step(action=_INVERSE_ACTION[step.action], address=step.address,
                from_version=step.to_version, to_version=step.from_version,
                before=step.after, after=step.before)


def undo_steps(state: State, tx_id: int) -> list[Step]:
    """Steps that reverse transaction ``tx_id``, refusing when later changes would be lost."""
    tx = state.transaction(tx_id)
    if tx is None:
        known = ", ".join(str(t.id) for t in state.transactions[-5:]) or "none"
        raise RefusedError(f"no transaction {tx_id} in history",
                           hint=f"'dtm history' lists them (latest: {known})")
    if tx.outcome == "running":
        raise interrupted_error(tx)
    steps = []
    for step in reversed([s for s in tx.steps if s.status == "done"]):
        current = state.instances.get(step.address)
        expected_version = step.after.get("version") if step.after else None
        current_version = current.version if current else None
        if expected_version != current_version:
            now_text = f"now {current_version}" if current_version else "now removed"
            raise RefusedError(
                f"cannot undo transaction {tx_id}: {step.address} changed since ({now_text})",
                hint="undo the later transactions first; 'dtm history' lists them",
            )
        inverse = invert(step)
        if current is not None:
            inverse.before = current.to_json()
        steps.append(inverse)
    removed = {s.address for s in steps if s.after is None}
    for address in removed:
        needing = [r.address for r in state.dependents_of(address) if r.address not in removed]
        if needing:
            raise RefusedError(
                f"cannot undo transaction {tx_id}: {address} is needed by {', '.join(needing)}",
                hint="remove those first, or undo the transactions that installed them",
            )
    return steps
