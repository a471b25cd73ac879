"""Installation order: dependencies before dependents, each dependency cycle placed as one unit."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

__all__ = ["topological"]


def topological(depends_on: Mapping[str, Sequence[str]]) -> list[str]:
    """Dependencies first, ties by name. Each cycle (strongly connected component) is placed as
    one unit, so a cycle never jumps ahead of what it depends on; inside it, the member with the
    fewest unmet dependencies (then the smallest name) goes first, the same on every run."""
    components = _cycles(depends_on)
    unit = {name: i for i, members in enumerate(components) for name in members}
    waiting: dict[int, set[int]] = {i: set() for i in range(len(components))}
    dependents: dict[int, set[int]] = {i: set() for i in range(len(components))}
    for name, deps in depends_on.items():
        for dep in deps:
            if unit[dep] != unit[name]:
                waiting[unit[name]].add(unit[dep])
                dependents[unit[dep]].add(unit[name])
    ready = [(components[i][0], i) for i, unmet in waiting.items() if not unmet]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, i = heapq.heappop(ready)
        inside = set(components[i])
        unmet_in = {n: {d for d in depends_on[n] if d in inside} for n in components[i]}
        while unmet_in:
            name = min(unmet_in, key=lambda n: (len(unmet_in[n]), n))
            del unmet_in[name]
            order.append(name)
            for unmet in unmet_in.values():
                unmet.discard(name)
        for j in dependents[i]:
            waiting[j].discard(i)
            if not waiting[j]:
                heapq.heappush(ready, (components[j][0], j))
    return order


def _cycles(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, each sorted; iterative, as chains can be deep."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        work = [(root, iter(graph[root]))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(graph[child])))
                    break
                if child in stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    cut = len(stack) - stack[::-1].index(node) - 1
                    components.append(sorted(stack[cut:]))
                    del stack[cut:]
    return components
