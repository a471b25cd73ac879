"""Planning a toolchain: compare what the configuration asks for with state and the live world.

For every instance the plan says create, update, delete or no change, and why: not in
state; options changed (which keys; secrets masked); drifted (what ``read`` found
different); gone (deleted outside dtm, so re-created); version moved. Versions are resolved
exactly as ``dtm install`` resolves them; dependencies the configuration does not list are
pulled in as auto instances.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, DtmError, InvalidInputError, OptionError, UnknownToolError
from ..operations import Target, ToolRunner
from ..options import KNOWN_AFTER_APPLY, secret_paths
from ..state.model import InstanceRecord, State, address_of
from ..toolkind import GONE, Live
from .model import InstanceSpec, Toolchain

if TYPE_CHECKING:
    from ..registry.model import Registry, ToolVersion
    from ..resolver import Resolution

#: Reads of live resources run concurrently: a no-op plan over many instances is I/O-bound.
READ_CONCURRENCY = 16

PLAN_FORMAT_VERSION = 1


@dataclass
class Change:
    """What the plan will do to one instance, and why."""

    address: str
    tool: str
    instance: str
    action: str  # create | update | delete | no-op
    reasons: list[str] = field(default_factory=list)
    from_version: str | None = None
    to_version: str | None = None
    auto: bool = False
    depends_on: list[str] = field(default_factory=list)
    #: The desired options as configured (output references still symbolic).
    options: dict[str, Any] = field(default_factory=dict)
    #: The same, validated with defaults applied; references not yet known are KNOWN_AFTER_APPLY.
    checked: dict[str, Any] = field(default_factory=dict, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {"address": self.address, "tool": self.tool, "instance": self.instance,
                "action": self.action, "reasons": self.reasons,
                "from_version": self.from_version, "to_version": self.to_version,
                "auto": self.auto, "depends_on": self.depends_on}


@dataclass
class ToolchainPlan:
    """Every instance's change, dependencies before dependents (deletions: dependents first)."""

    changes: list[Change]
    #: The resolved tool versions (for plugins and the lock file).
    versions: dict[str, ToolVersion]
    resolution: Resolution | None = None
    #: The state serial the plan was made against; a saved plan refuses to run on newer state.
    serial: int = 0

    @property
    def has_changes(self) -> bool:
        return any(c.action != "no-op" for c in self.changes)

    def summary(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "delete": 0, "no-op": 0}
        for change in self.changes:
            counts[change.action] += 1
        return counts

    def as_json(self) -> dict[str, Any]:
        return {"format_version": PLAN_FORMAT_VERSION, "serial": self.serial,
                "summary": self.summary(), "changes": [c.as_json() for c in self.changes]}


def _fail_at(spec: InstanceSpec, exc: DtmError, option_path: str | None = None) -> ConfigError:
    from .config import locate_option_error

    where = spec.location
    if option_path:
        # An unknown key is best pointed at by the key; a bad value by the value.
        where = locate_option_error(spec, option_path, key="unknown option" in exc.message)
    # Option paths can hold any key a variable brought in; escaped, the message stays one line.
    message = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                      for c in exc.message)
    return ConfigError(f"{where}: {message}", hint=exc.hint)


def _option_path(message: str) -> str | None:
    """``options.a.b: …`` → ``a.b``: to point the error at the line that wrote it."""
    if message.startswith("options."):
        return message.split(":", 1)[0].split(" ", 1)[0][len("options."):].split("[", 1)[0]
    return None


def _validation_view(value: Any) -> Any:
    """Options with unresolved output references replaced by KNOWN_AFTER_APPLY."""
    from .expressions import has_unresolved

    if isinstance(value, dict):
        return {k: _validation_view(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_validation_view(v) for v in value]
    return KNOWN_AFTER_APPLY if has_unresolved(value) else value


def _resolve(registry: Registry, toolchain: Toolchain, state: State,
             pins: list[str]) -> Resolution:
    from ..resolver import resolve

    specs: dict[str, list[str]] = {}
    for spec in toolchain.instances.values():
        if registry.get(spec.tool) is None:
            try:
                resolve(registry, [spec.tool])
            except UnknownToolError as exc:
                raise _fail_at(spec, exc) from None
        specs.setdefault(spec.tool, [])
        if spec.version:
            _refuse_unmatched_version(registry, spec)
            specs[spec.tool].append(spec.version)
    requests = [tool + ",".join(parts) for tool, parts in specs.items()] + pins
    installed = {r.tool: r.version for r in state.instances.values() if r.tool in specs}
    held = {r.tool for r in state.instances.values() if r.held}
    return resolve(registry, requests, installed=installed, held=held)


def _refuse_unmatched_version(registry: Registry, spec: InstanceSpec) -> None:
    """Fail at the tool item when no version of its tool matches its ``version:``."""
    from packaging.specifiers import SpecifierSet

    from ..resolver import resolve

    entry = registry.get(spec.tool)
    wanted = SpecifierSet(spec.version)
    if entry is not None and not any(wanted.contains(v.version, prereleases=True) for v in entry.versions):
        try:
            resolve(registry, [spec.tool + spec.version])  # only for the resolver's own wording
        except InvalidInputError as exc:
            raise _fail_at(spec, exc) from None


def desired_instances(toolchain: Toolchain, resolution: Resolution,
                      state: State) -> dict[str, InstanceSpec]:
    """The configuration's instances plus a default instance for each dependency it omits."""
    desired = dict(toolchain.instances)
    declared_tools = {s.tool for s in desired.values()}
    for tool in resolution.order:
        if tool not in declared_tools:
            spec = InstanceSpec(tool=tool, name="default")
            existing = state.instances.get(spec.address)
            if existing is not None:
                spec.options = dict(existing.options)
            desired[spec.address] = spec
    return desired


def _dependency_addresses(spec: InstanceSpec, version: ToolVersion,
                          desired: Mapping[str, InstanceSpec]) -> list[str]:
    found = list(spec.depends_on)
    for dep in version.dependencies:
        candidates = sorted(a for a, s in desired.items() if s.tool == dep.name)
        default = address_of(dep.name, "default")
        chosen = default if default in candidates else (candidates[0] if candidates else None)
        if chosen and chosen not in found:
            found.append(chosen)
    return found


def _diff(desired: Mapping[str, Any], recorded: Mapping[str, Any], secrets: set[str],
          prefix: str = "") -> list[str]:
    """Dotted keys whose values differ; unknown-after-apply values count as unchanged here."""
    keys = []
    for key in sorted(set(desired) | set(recorded)):
        path = f"{prefix}{key}"
        mine, theirs = desired.get(key), recorded.get(key)
        if mine is KNOWN_AFTER_APPLY:
            continue
        if isinstance(mine, dict) and isinstance(theirs, dict):
            keys.extend(_diff(mine, theirs, secrets, path + "."))
        elif mine != theirs:
            keys.append(f"{path} (secret)" if path in secrets else path)
    return keys


def plan_toolchain(registry: Registry, toolchain: Toolchain, state: State, *,
                   runner_for: Callable[[str], ToolRunner], refresh: bool = True,
                   pins: list[str] | None = None) -> ToolchainPlan:
    """Plan the changes that converge ``state`` (and the live world) to ``toolchain``."""
    from .expressions import fill_outputs

    resolution = _resolve(registry, toolchain, state, pins or [])
    desired = desired_instances(toolchain, resolution, state)
    recorded_outputs = {a: r.outputs for a, r in state.instances.items()}
    changes: dict[str, Change] = {}
    reads: list[tuple[Change, ToolRunner, Target]] = []
    for address, spec in desired.items():
        version = resolution.versions[spec.tool]
        runner = runner_for(spec.tool)
        options = _known_now(spec.options, recorded_outputs, fill_outputs)
        try:
            checked = runner.check_options(_validation_view(options), address)
        except OptionError as exc:
            message = exc.message.split(": ", 1)[1] if exc.message.startswith(address) else exc.message
            raise _fail_at(spec, OptionError(f"{address}: {message}", hint=exc.hint),
                           _option_path(message)) from None
        change = Change(address=address, tool=spec.tool, instance=spec.name, action="no-op",
                        to_version=version.version_text, auto=address not in toolchain.instances,
                        depends_on=_dependency_addresses(spec, version, desired),
                        options=options, checked=checked)
        changes[address] = change
        record = state.instances.get(address)
        if record is None:
            change.action, change.reasons = "create", ["not in state"]
            continue
        change.from_version = record.version
        if record.version != version.version_text:
            change.action = "update"
            change.reasons.append(f"version {record.version} -> {version.version_text}")
        changed = _diff(checked, record.options, set(secret_paths(runner.kind.options)))
        if changed:
            change.action = "update"
            change.reasons.append("options changed: " + ", ".join(changed))
        if refresh:
            reads.append((change, runner, Target(record.tool, record.instance, record.version,
                                                 record.options, record.outputs)))
    refresh_changes(reads)
    _defer_changing_outputs(changes, desired, recorded_outputs)
    for address, record in state.instances.items():
        if address not in desired:
            changes[address] = Change(address=address, tool=record.tool, instance=record.instance,
                                      action="delete", reasons=["not in the configuration"],
                                      from_version=record.version, depends_on=list(record.requires))
    return ToolchainPlan(changes=_ordered(changes), versions=dict(resolution.versions),
                         resolution=resolution, serial=state.serial)


def _defer_changing_outputs(changes: dict[str, Change], desired: Mapping[str, InstanceSpec],
                            recorded: Mapping[str, Mapping[str, Any]]) -> None:
    """A reference to an instance this plan creates or updates takes the value it will have.

    Filled from state, it would read the outputs from before this apply (a renamed repository's
    old name), and the dependent would only catch up on the next apply. So such references stay
    symbolic until the step runs, and a dependent with nothing else to do is updated too.
    Repairing drift restores what was recorded, so it does not count as a change here.
    """
    from .expressions import fill_outputs, references_in

    changing = {a for a, c in changes.items() if c.action == "create" or (
        c.action == "update" and not all(r.startswith("drifted") for r in c.reasons))}
    deferred: set[str] = set()
    moved = True
    while moved:
        moved = False
        for address, spec in desired.items():
            upstream = sorted({ref.address for ref in references_in(spec.options)} & changing - {address})
            if not upstream or address in deferred:
                continue
            deferred.add(address)
            change = changes[address]
            stable = {a: o for a, o in recorded.items() if a not in changing}
            change.options = _known_now(spec.options, stable, fill_outputs)
            if change.action == "no-op":
                change.action = "update"
                change.reasons.append(f"uses outputs of {', '.join(upstream)}, which this plan changes")
                changing.add(address)
                moved = True


def _known_now(options: Any, outputs: Mapping[str, Mapping[str, Any]], fill: Any) -> Any:
    """Fill output references whose instance already recorded them; leave the rest symbolic."""
    from .expressions import has_unresolved

    if isinstance(options, dict):
        return {k: _known_now(v, outputs, fill) for k, v in options.items()}
    if isinstance(options, list):
        return [_known_now(v, outputs, fill) for v in options]
    if has_unresolved(options):
        try:
            return fill(options, outputs)
        except DtmError:
            return options  # produced later in this apply
    return options


def refresh_changes(reads: list[tuple[Change, ToolRunner, Target]]) -> None:
    """Read every recorded instance's live resource, concurrently, and note gone or drift."""
    if not reads:
        return

    def one(item: tuple[Change, ToolRunner, Target]) -> None:
        change, runner, target = item
        live = runner.read(target)
        if live is GONE:
            change.action = "create"
            change.reasons = ["gone: deleted outside dtm; will re-create"]
            return
        assert isinstance(live, Live)
        secrets = set(secret_paths(runner.kind.options))
        drifted = [
            f"{key} (secret)" if key in secrets else
            f"{key} (live {live.observed[key]!r}, want {change.checked[key]!r})"
            # Drift is the world moving behind dtm's back: compare with what dtm recorded.
            for key in sorted(live.observed)
            if key in target.options and key in change.checked
            and live.observed[key] != target.options[key]
        ]
        drifted.extend(live.drift)
        if drifted:
            change.action = "update"
            change.reasons.append("drifted: " + ", ".join(drifted))

    with ThreadPoolExecutor(max_workers=min(READ_CONCURRENCY, len(reads))) as pool:
        for future in [pool.submit(one, item) for item in reads]:
            future.result()


def _ordered(changes: dict[str, Change]) -> list[Change]:
    """Creates and updates with dependencies first; deletions after, dependents first."""
    keep = {a: c for a, c in changes.items() if c.action != "delete"}
    order: list[str] = []
    seen: set[str] = set()

    def visit(address: str, trail: tuple[str, ...]) -> None:
        if address in seen or address not in keep:
            return
        if address in trail:
            return  # cycles are refused when the configuration loads
        for dep in keep[address].depends_on:
            visit(dep, (*trail, address))
        seen.add(address)
        order.append(address)

    for address in sorted(keep):
        visit(address, ())
    deletes = {a: c for a, c in changes.items() if c.action == "delete"}
    delete_order: list[str] = []

    def visit_delete(address: str) -> None:
        if address in delete_order:
            return
        for other, change in sorted(deletes.items()):
            if address in change.depends_on and other != address:
                visit_delete(other)
        delete_order.append(address)

    for address in sorted(deletes):
        visit_delete(address)
    return [keep[a] for a in order] + [deletes[a] for a in delete_order]


def instance_record(change: Change, state: State) -> InstanceRecord:
    """The record a create/update should leave (outputs are filled in after the plugin runs)."""
    before = state.instances.get(change.address)
    record = InstanceRecord(tool=change.tool, instance=change.instance,
                            version=change.to_version or "", options=dict(change.options),
                            reason="auto" if change.auto else "manual",
                            requires=list(change.depends_on))
    if before is not None:
        record.outputs = dict(before.outputs)
        record.created_at = before.created_at
        record.held = before.held
    return record
