"""Running a toolchain plan: one journaled transaction, independent instances in parallel.

Plugins act on worker threads; every state change (a step starting, finishing, failing)
happens on the calling thread, so commits are never concurrent. When a step fails, nothing
that depends on it is scheduled, independent steps still finish, and every finished step is
already in state: re-running ``apply`` resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from ..errors import DtmError
from ..references import OUTPUT_KEY, TEMPLATE_KEY
from ..state.model import State, Step, Transaction, now
from ..transactions import TransactionRunner
from .model import OutputRef, Template
from .planner import Change, ToolchainPlan, instance_record

DEFAULT_PARALLELISM = 10

_ACTIONS = {"create": "install", "update": "update", "delete": "remove"}


def journaled(value: Any) -> Any:
    """Options with output references in their journal form (see ``dtm_core.references``)."""
    if isinstance(value, OutputRef):
        return {OUTPUT_KEY: [value.address, value.output]}
    if isinstance(value, Template):
        return {TEMPLATE_KEY: [journaled(p) if isinstance(p, OutputRef) else p for p in value.parts]}
    if isinstance(value, dict):
        return {k: journaled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [journaled(v) for v in value]
    return value


def plan_steps(plan: ToolchainPlan, state: State) -> list[Step]:
    """The transaction steps of a plan: one per change that is not a no-op."""
    steps = []
    for change in plan.changes:
        if change.action == "no-op":
            continue
        before = state.instances.get(change.address)
        after = None
        if change.action != "delete":
            record = instance_record(change, state)
            record.options = journaled(change.options)
            after = record.to_json()
        steps.append(Step(action=_ACTIONS[change.action], address=change.address,
                          from_version=change.from_version,
                          to_version=change.to_version if change.action != "delete" else None,
                          before=before.to_json() if before else None, after=after))
    return steps


def step_dependencies(plan: ToolchainPlan, steps: list[Step]) -> dict[str, set[str]]:
    """For each step, the steps that must finish before it starts."""
    in_plan = {s.address: s for s in steps}
    by_address: Mapping[str, Change] = {c.address: c for c in plan.changes}
    deps: dict[str, set[str]] = {}
    for step in steps:
        change = by_address[step.address]
        if step.action == "remove":
            # Deleting waits for the deletion of everything that depends on it.
            deps[step.address] = {
                other.address for other in steps
                if other.action == "remove" and step.address in by_address[other.address].depends_on
            }
        else:
            deps[step.address] = {d for d in change.depends_on
                                  if d in in_plan and in_plan[d].action != "remove"}
    return deps


def run_parallel(runner: TransactionRunner, tx: Transaction, deps: Mapping[str, set[str]],
                 parallelism: int) -> Transaction:
    """Run the transaction's pending steps, at most ``parallelism`` at once, in dependency order."""
    steps = {s.address: s for s in tx.steps}
    done = {a for a, s in steps.items() if s.status == "done"}
    failed: dict[str, DtmError] = {}
    blocked: set[str] = set()
    running: dict[Future[Any], Step] = {}

    def ready() -> list[Step]:
        return [s for a, s in sorted(steps.items())
                if s.status == "pending" and a not in blocked and deps.get(a, set()) <= done]

    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        while True:
            # One commit per round journals the steps that finished and those about to start:
            # a commit (two fsyncs) costs ~10 ms, too much to pay twice per step.
            starting = ready()[:max(0, parallelism - len(running))]
            for step in starting:
                try:
                    runner.start_step(step, commit=False)
                except DtmError as exc:
                    _mark_failed(runner, step, exc, failed)
                    blocked |= _dependents(step.address, deps)
            runner.store.commit(runner.state)
            for step in starting:
                if step.status == "running":
                    running[pool.submit(runner.perform, step, careful=False)] = step
            if not running:
                if ready():
                    continue  # a start failed and freed its slot
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                step = running.pop(future)
                try:
                    outputs = future.result()
                except DtmError as exc:
                    _mark_failed(runner, step, exc, failed)
                    blocked |= _dependents(step.address, deps)
                else:
                    runner.finish_step(step, outputs, commit=False)
                    done.add(step.address)
    skipped = sorted(a for a, s in steps.items() if s.status == "pending")
    for address in skipped:
        steps[address].status = "skipped"
    tx.finished_at = now()
    tx.outcome = "failed" if failed else "ok"
    runner.store.commit(runner.state)
    if failed:
        first_address, first = next(iter(failed.items()))
        names = ", ".join(failed)
        skipped_text = f"; skipped because they depend on it: {', '.join(skipped)}" if skipped else ""
        # The first failure's own error (its exit code and fix), told for the whole apply.
        resume = "finished steps are recorded; fix the cause and run 'dtm apply' again to resume"
        first.message = f"apply failed for {names}: {first.message}{skipped_text}"
        first.hint = f"{first.hint}; {resume}" if first.hint else resume
        raise first
    return tx


def _mark_failed(runner: TransactionRunner, step: Step, exc: DtmError,
                 failed: dict[str, DtmError]) -> None:
    """Record the failure; it is committed with the rest of the round."""
    step.status, step.error = "failed", exc.message
    failed[step.address] = exc
    runner.reporter.step_finished(step)


def _dependents(address: str, deps: Mapping[str, set[str]]) -> set[str]:
    """Every step that (transitively) waits for ``address``."""
    found: set[str] = set()
    frontier = [address]
    while frontier:
        current = frontier.pop()
        for other, needs in deps.items():
            if current in needs and other not in found:
                found.add(other)
                frontier.append(other)
    return found
