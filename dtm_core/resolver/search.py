"""resolvelib's backtracking search, corrected so that the pins it ends with form a consistent set."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from resolvelib import BaseReporter
from resolvelib.resolvers import Criterion, Resolution

from dtm_core.resolver.provider import Candidate, Need, ToolProvider

__all__ = ["search"]


class _Search(Resolution[Need, Candidate, str]):
    """resolvelib's ``Resolution`` with two of its hooks corrected.

    resolvelib (1.1 to at least 1.2.1) drops the needs of a pin the moment a new need makes
    that pin unsatisfied, expecting the tool to be re-pinned. But the need that made it
    unsatisfied can itself be dropped later (its own parent was invalidated), and the old pin
    then counts as satisfied again with its needs gone: resolvelib finishes with, say,
    ``a 3.0`` pinned while nothing enforces a 3.0's ``c<2.0``. The same dropping leaves
    criteria no need names ("orphans"), which resolvelib still pins, together with all their
    dependencies; its ``Resolver`` then walks those pins back to the roots recursively without
    a visited set, so orphans that depend on each other end in RecursionError.
    """

    def __init__(self, provider: ToolProvider) -> None:
        super().__init__(provider, BaseReporter())
        self._provider = provider

    def _is_current_pin_satisfying(self, name: str, criterion: Criterion[Need, Candidate]) -> bool:
        # Nothing needs an orphan any more: pinning it could only add constraints (and make a
        # solvable request fail). resolvelib's open PR #204 makes the same change.
        if not criterion.information:
            return True
        if not super()._is_current_pin_satisfying(name, criterion):
            return False
        # A pin is done only while its own needs are in force; once resolvelib has dropped
        # them it must be pinned again (possibly to the same candidate), which re-adds them.
        pin = self.state.mapping[name]
        criteria = self.state.criteria
        return all(
            need.name in criteria
            and any(info.requirement is need for info in criteria[need.name].information)
            for need in self._provider.get_dependencies(pin)
        )

    def _remove_information_from_criteria(
        self, criteria: dict[str, Criterion[Need, Candidate]], parents: Collection[str]
    ) -> None:
        before = {name: len(criterion.information) for name, criterion in criteria.items()}
        super()._remove_information_from_criteria(criteria, parents)
        # resolvelib keeps the candidates the dropped needs had narrowed down, so re-pinning
        # would never return to a newer version a dropped need had ruled out: widen them again.
        for name, criterion in criteria.items():
            if criterion.information and len(criterion.information) < before[name]:
                matches = self._provider.find_matches(
                    name, {name: criterion.iter_requirement()}, {name: iter(criterion.incompatibilities)}
                )
                if matches:
                    criteria[name] = Criterion(matches, criterion.information, criterion.incompatibilities)


def search(roots: Sequence[Need], provider: ToolProvider, max_rounds: int) -> dict[str, Candidate]:
    """The candidate of every tool to install; raises resolvelib's ResolutionImpossible or
    ResolutionTooDeep when there is none."""
    # Not ``Resolver.resolve``: its result (see _Search) recurses on orphans, and it keeps a
    # pin reachable only through a ``conflicts`` need, which would install a tool nobody needs.
    pins = _Search(provider).resolve(roots, max_rounds=max_rounds).mapping
    return _reachable(roots, pins, provider)


def _reachable(
    roots: Sequence[Need], pins: Mapping[str, Candidate], provider: ToolProvider
) -> dict[str, Candidate]:
    """The pins the roots reach through ``depends`` needs (every root is one; a ``conflicts``
    need never pulls a tool in), checked to be consistent so that a resolvelib change that
    breaks the correction above cannot install a broken set."""
    chosen: dict[str, Candidate] = {}
    todo = [need.name for need in roots]
    while todo:
        name = todo.pop()
        if name not in chosen and name in pins:
            chosen[name] = pins[name]
            todo += [need.name for need in provider.get_dependencies(pins[name]) if need.kind == "depends"]
    edges: list[tuple[Candidate | None, Need]] = [(None, need) for need in roots]
    edges += [(parent, need) for parent in chosen.values() for need in provider.get_dependencies(parent)]
    for parent, need in edges:
        pin = chosen.get(need.name)
        if pin is None:
            if need.kind == "conflicts":
                continue
        elif provider.is_satisfied_by(need, pin):
            continue
        raise RuntimeError(f"resolver bug: {parent or 'the request'} needs {need.text}, got {pin}")
    return chosen
