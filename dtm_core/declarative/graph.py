"""Drawing a toolchain's dependency graph (``dtm graph``) as Graphviz DOT or Mermaid text.

Nodes are instance addresses with their tool, version, whether dtm pulled them in (``auto``)
and the planned action; edges point from a dependent to what it depends on. Output is
sorted, so the same toolchain always draws the same text (and diffs cleanly in a README).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ACTION_COLOURS", "to_dot", "to_mermaid"]

#: Planned action -> (fill, border). Any other action is drawn white.
ACTION_COLOURS: dict[str, tuple[str, str]] = {
    "create": ("#d4edda", "#2e7d32"),
    "update": ("#fff3cd", "#b7791f"),
    "delete": ("#f8d7da", "#c62828"),
    "no-op": ("#ffffff", "#6c757d"),
}
_DEFAULT_COLOURS = ("#ffffff", "#6c757d")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_]")


def _lines(node: Mapping[str, Any], address: str) -> list[str]:
    version = str(node.get("version") or "")
    if version and node.get("auto"):
        version += " (auto)"
    elif node.get("auto"):
        version = "(auto)"
    return [address] + [part for part in (version, str(node.get("action") or "")) if part]


def _graph(nodes: Mapping[str, Mapping[str, Any]],
           edges: Sequence[tuple[str, str]]) -> tuple[dict[str, Mapping[str, Any]], list[tuple[str, str]]]:
    # An edge may name an address the caller did not describe; draw it as a plain node.
    every: dict[str, Mapping[str, Any]] = {address: {} for pair in edges for address in pair}
    every.update(nodes)
    return dict(sorted(every.items())), sorted(set(edges))


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(nodes: Mapping[str, Mapping[str, Any]], edges: Sequence[tuple[str, str]]) -> str:
    """Graphviz DOT: ``dtm graph | dot -Tsvg > toolchain.svg``."""
    every, pairs = _graph(nodes, edges)
    out = [
        "digraph toolchain {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for address, node in every.items():
        fill, border = ACTION_COLOURS.get(str(node.get("action")), _DEFAULT_COLOURS)
        # DOT reads "\n" inside a quoted label as a line break; escape the parts, not the joins.
        label = "\\n".join(_dot_string(line)[1:-1] for line in _lines(node, address))
        style = ', style="rounded,filled,dashed"' if node.get("auto") else ""
        out.append(f'  {_dot_string(address)} [label="{label}", fillcolor="{fill}", '
                   f'color="{border}"{style}];')
    for dependent, dependency in pairs:
        dashed = " [style=dashed]" if every[dependency].get("auto") else ""
        out.append(f"  {_dot_string(dependent)} -> {_dot_string(dependency)}{dashed};")
    out.append("}")
    return "\n".join(out) + "\n"


def _mermaid_ids(addresses: Sequence[str]) -> dict[str, str]:
    """Mermaid ids must be plain words: ``argocd-app.web`` -> ``argocd_app_web``, made unique."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for address in addresses:
        base = _UNSAFE_ID.sub("_", address) or "node"
        if base[0].isdigit() or base.lower() == "end":  # "end" closes a subgraph in Mermaid
            base = "n_" + base
        candidate, counter = base, 2
        while candidate in taken:
            candidate, counter = f"{base}_{counter}", counter + 1
        ids[address] = candidate
        taken.add(candidate)
    return ids


def _mermaid_label(text: str) -> str:
    # Mermaid's entity codes; a raw quote would end the label.
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def to_mermaid(nodes: Mapping[str, Mapping[str, Any]], edges: Sequence[tuple[str, str]]) -> str:
    """A Mermaid flowchart, for a ```` ```mermaid ```` block in Markdown."""
    every, pairs = _graph(nodes, edges)
    ids = _mermaid_ids(list(every))
    out = ["flowchart LR"]
    for address, node in every.items():
        label = "<br/>".join(_mermaid_label(line) for line in _lines(node, address))
        out.append(f'  {ids[address]}["{label}"]')
    for dependent, dependency in pairs:
        arrow = "-.->" if every[dependency].get("auto") else "-->"
        out.append(f"  {ids[dependent]} {arrow} {ids[dependency]}")
    classes: dict[str, list[str]] = {}
    for address, node in every.items():
        if str(node.get("action")) in ACTION_COLOURS:
            classes.setdefault(str(node.get("action")), []).append(ids[address])
    for action, (fill, border) in ACTION_COLOURS.items():
        if action in classes:
            out.append(f"  classDef {_UNSAFE_ID.sub('_', action)} fill:{fill},stroke:{border}")
            out.append(f"  class {','.join(classes[action])} {_UNSAFE_ID.sub('_', action)}")
    auto = [ids[address] for address, node in every.items() if node.get("auto")]
    if auto:
        out.append("  classDef auto stroke-dasharray:5 5")
        out.append(f"  class {','.join(auto)} auto")
    return "\n".join(out) + "\n"
