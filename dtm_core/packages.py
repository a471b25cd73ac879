"""Planning the package-manager commands: install, remove, autoremove, upgrade, reinstall, undo.

Each planner reads the registry and the current state and returns a :class:`Plan` — the
steps of one transaction, in the order they must run — without touching anything. The
application layer shows the plan, asks, installs missing plugin distributions and runs it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import InvalidInputError, RefusedError
from .registry.model import Registry, ToolVersion
from .resolver import Resolution, resolve
from .state.model import InstanceRecord, State, Step, address_of, now


@dataclass
class Plan:
    """One transaction-to-be: its steps in execution order, and notes for the user."""

    command: str
    steps: list[Step] = field(default_factory=list)
    #: Tool versions the steps install or move to, by tool (to find plugin distributions).
    versions: dict[str, ToolVersion] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    undoes: int | None = None

    @property
    def empty(self) -> bool:
        return not self.steps

    def as_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "steps": [
                {"action": s.action, "address": s.address, "from_version": s.from_version,
                 "to_version": s.to_version,
                 "reason": (s.after or {}).get("reason") if s.after else None}
                for s in self.steps
            ],
            "notes": self.notes,
        }


def parse_address(text: str) -> tuple[str, str | None]:
    """``tool`` or ``tool.instance`` → (tool, instance or None)."""
    tool, _, instance = text.partition(".")
    if not tool or (instance == "" and text.endswith(".")):
        raise InvalidInputError(f"{text!r} is not a tool or instance",
                                hint="write TOOL or TOOL.INSTANCE, e.g. argocd.default")
    return tool, instance or None


def requirement_parts(spec: str) -> tuple[str, str]:
    """``argocd>=3.4`` → (``argocd``, ``>=3.4``)."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(spec)
    except InvalidRequirement:
        raise InvalidInputError(f"{spec!r} is not a tool requirement",
                                hint="write TOOL or TOOL<specifier>, e.g. argocd>=3.4") from None
    return req.name, str(req.specifier)


def _installed_versions(state: State) -> dict[str, str]:
    return {r.tool: r.version for r in state.instances.values()}


def _held(state: State) -> set[str]:
    return {r.tool for r in state.instances.values() if r.held}


def _constraints(state: State, skip: Collection[str] = ()) -> list[str]:
    """The specifiers users asked for at install time: upgrades must stay within them."""
    seen: dict[str, str] = {}
    for rec in state.instances.values():
        if rec.constraint and rec.tool not in skip:
            seen[rec.tool] = f"{rec.tool}{rec.constraint}"
    return list(seen.values())


def _requires(version: ToolVersion, state: State, new: Mapping[str, str]) -> list[str]:
    """Addresses satisfying ``version``'s dependencies: existing instances, else new ones."""
    addresses = []
    for dep in version.dependencies:
        existing = sorted(r.address for r in state.instances_of(dep.name))
        if existing:
            default = address_of(dep.name, "default")
            addresses.append(default if default in existing else existing[0])
        elif dep.name in new:
            addresses.append(new[dep.name])
    return addresses


def _move_steps(state: State, res: Resolution, plan: Plan, skip: Collection[str]) -> None:
    """Upgrade or downgrade every instance whose tool the resolution moved."""
    from packaging.version import Version

    for tool in res.order:
        if tool in skip:
            continue
        target = res.versions[tool]
        for rec in sorted(state.instances_of(tool), key=lambda r: r.address):
            if Version(rec.version) == target.version:
                continue
            action = "upgrade" if target.version > Version(rec.version) else "downgrade"
            after = InstanceRecord.from_json(rec.to_json())
            after.version = target.version_text
            plan.steps.append(Step(action=action, address=rec.address, from_version=rec.version,
                                   to_version=target.version_text, before=rec.to_json(),
                                   after=after.to_json()))
            plan.versions[tool] = target


def plan_install(registry: Registry, state: State, specs: Sequence[str], *,
                 instance: str = "default", options: Mapping[str, Any] | None = None,
                 command: str = "install") -> Plan:
    """Install the requested tools (manual) and whatever they need (auto)."""
    requested: dict[str, str] = dict(requirement_parts(spec) for spec in specs)
    if options and len(requested) > 1:
        raise InvalidInputError("--set and --values apply to one tool at a time",
                                hint="install the tools one by one, or describe them in a "
                                "toolchain file for 'dtm apply -f'")
    res = resolve(registry, [*specs, *_constraints(state, skip=requested)],
                  installed=_installed_versions(state), held=_held(state))
    plan = Plan(command=command)
    new_addresses: dict[str, str] = {}
    for tool in res.order:
        version = res.versions[tool]
        if tool in requested:
            address = address_of(tool, instance)
            current = state.instances.get(address)
            if current is not None:
                if current.version == version.version_text:
                    if current.reason == "auto":
                        marked = InstanceRecord.from_json(current.to_json())
                        marked.reason = "manual"
                        plan.steps.append(Step(action="mark", address=address,
                                               from_version=current.version,
                                               to_version=current.version,
                                               before=current.to_json(), after=marked.to_json()))
                        plan.notes.append(f"{address} is now marked as manually installed")
                    else:
                        plan.notes.append(f"{address} {current.version} is already installed")
                continue  # a version move is planned below with every instance of the tool
            record = InstanceRecord(tool=tool, instance=instance, version=version.version_text,
                                    options=dict(options or {}), reason="manual",
                                    constraint=requested[tool],
                                    requires=_requires(version, state, new_addresses))
        elif state.instances_of(tool):
            continue
        else:
            record = InstanceRecord(tool=tool, instance="default", version=version.version_text,
                                    reason="auto",
                                    requires=_requires(version, state, new_addresses))
        new_addresses[tool] = record.address
        plan.steps.append(Step(action="install", address=record.address,
                               to_version=record.version, after=record.to_json()))
        plan.versions[tool] = version
    moves = Plan(command=command)
    _move_steps(state, res, moves, skip=())
    # Moves of existing instances go before installs that may depend on the new versions.
    plan.steps = moves.steps + plan.steps
    plan.versions.update(moves.versions)
    return plan


def select_instances(state: State, targets: Sequence[str]) -> list[InstanceRecord]:
    """Instances named by ``tool`` (all of its instances) or ``tool.instance``."""
    chosen: dict[str, InstanceRecord] = {}
    for text in targets:
        tool, instance = parse_address(text)
        matches = ([state.instances[address_of(tool, instance)]]
                   if instance and address_of(tool, instance) in state.instances
                   else [] if instance else state.instances_of(tool))
        if not matches:
            installed = ", ".join(sorted(state.instances)) or "nothing"
            raise InvalidInputError(f"{text} is not installed",
                                    hint=f"installed: {installed}")
        chosen.update((r.address, r) for r in matches)
    return list(chosen.values())


def _removal_order(state: State, addresses: set[str]) -> list[str]:
    """Dependents before what they depend on."""
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(address: str) -> None:
        if address in ordered or address in visiting:
            return
        visiting.add(address)
        for dependent in sorted(r.address for r in state.dependents_of(address)):
            if dependent in addresses:
                visit(dependent)
        visiting.discard(address)
        ordered.append(address)

    for address in sorted(addresses):
        visit(address)
    return ordered


def plan_remove(state: State, targets: Sequence[str], *, cascade: bool,
                command: str = "remove") -> Plan:
    """Remove instances; refuse when others need them unless ``cascade`` removes those too."""
    chosen = {r.address for r in select_instances(state, targets)}
    pending = list(chosen)
    while pending:
        address = pending.pop()
        for dependent in state.dependents_of(address):
            if dependent.address in chosen:
                continue
            if not cascade:
                raise RefusedError(
                    f"cannot remove {address}: {dependent.address} needs it",
                    hint=f"remove both with --cascade, or remove {dependent.address} first",
                )
            chosen.add(dependent.address)
            pending.append(dependent.address)
    for address in chosen:
        if state.instances[address].held:
            raise RefusedError(f"cannot remove {address}: it is held",
                               hint=f"unhold it first with 'dtm unhold {address}'")
    plan = Plan(command=command)
    for address in _removal_order(state, chosen):
        rec = state.instances[address]
        plan.steps.append(Step(action="remove", address=address, from_version=rec.version,
                               before=rec.to_json()))
    return plan


def unneeded_auto(state: State, removing: Collection[str] = ()) -> set[str]:
    """Auto-installed instances nothing else (that stays) needs, transitively."""
    gone = set(removing)
    while True:
        more = {
            r.address for r in state.instances.values()
            if r.reason == "auto" and r.address not in gone and not r.held
            and all(d.address in gone for d in state.dependents_of(r.address))
        }
        if not more:
            return gone - set(removing)
        gone |= more


def plan_autoremove(state: State) -> Plan:
    addresses = unneeded_auto(state)
    if not addresses:
        return Plan(command="autoremove", notes=["no auto-installed instance is unneeded"])
    return plan_remove(state, sorted(addresses), cascade=False, command="autoremove")


def plan_upgrade(registry: Registry, state: State, tools: Sequence[str]) -> Plan:
    """Move installed tools (all, or those named) to the newest versions constraints allow."""
    for tool in tools:
        if not state.instances_of(tool):
            raise InvalidInputError(f"{tool} is not installed",
                                    hint=f"install it with 'dtm install {tool}'")
    held = _held(state)
    upgrade: Collection[str] | Literal["all"] = [t for t in tools if t not in held] if tools else "all"
    res = resolve(registry, _constraints(state), installed=_installed_versions(state),
                  held=held, upgrade=upgrade)
    plan = Plan(command="upgrade")
    for tool in sorted(held & (set(tools) or held)):
        plan.notes.append(f"{tool} is held and was kept back")
    _move_steps(state, res, plan, skip=())
    new_addresses: dict[str, str] = {}
    for tool in res.order:
        if not state.instances_of(tool):
            version = res.versions[tool]
            record = InstanceRecord(tool=tool, instance="default", version=version.version_text,
                                    reason="auto",
                                    requires=_requires(version, state, new_addresses))
            new_addresses[tool] = record.address
            plan.steps.append(Step(action="install", address=record.address,
                                   to_version=record.version, after=record.to_json()))
            plan.versions[tool] = version
    return plan


def plan_reinstall(registry: Registry, state: State, targets: Sequence[str]) -> Plan:
    """Converge instances again with their recorded version and options (never deletes)."""
    plan = Plan(command="reinstall")
    for rec in sorted(select_instances(state, targets), key=lambda r: r.address):
        entry = registry.get(rec.tool)
        version = entry.get_version(rec.version) if entry else None
        if version is None:
            raise InvalidInputError(f"{rec.tool} {rec.version} is no longer listed by any index",
                                    hint=f"upgrade it with 'dtm upgrade {rec.tool}'")
        plan.steps.append(Step(action="reinstall", address=rec.address,
                               from_version=rec.version, to_version=rec.version,
                               before=rec.to_json(), after=rec.to_json()))
        plan.versions[rec.tool] = version
    return plan


def set_hold(state: State, targets: Sequence[str], held: bool) -> list[str]:
    """Hold or unhold instances in ``state`` (a mark, not a transaction); returns what changed."""
    changed = []
    for rec in select_instances(state, targets):
        if rec.held != held:
            rec.held = held
            rec.updated_at = now()
            changed.append(rec.address)
    return sorted(changed)
