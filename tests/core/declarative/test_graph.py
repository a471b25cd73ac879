"""dtm graph's DOT and Mermaid text: exact, sorted, and syntactically sound."""

from __future__ import annotations

import re

from dtm_core.declarative.graph import to_dot, to_mermaid

NODES = {
    "github-repo.app": {"tool": "github-repo", "version": "0.1.0", "auto": False, "action": "update"},
    "argocd-app.web": {"tool": "argocd-app", "version": "0.1.0", "auto": False, "action": "create"},
    "argocd.default": {"tool": "argocd", "version": "3.5.1", "auto": True, "action": "no-op"},
}
EDGES = [("argocd-app.web", "github-repo.app"), ("argocd-app.web", "argocd.default")]


def test_dot_output_is_exact() -> None:
    assert to_dot(NODES, EDGES) == """\
digraph toolchain {
  rankdir=LR;
  node [shape=box, style="rounded,filled", fontname="Helvetica"];
  "argocd-app.web" [label="argocd-app.web\\n0.1.0\\ncreate", fillcolor="#d4edda", color="#2e7d32"];
  "argocd.default" [label="argocd.default\\n3.5.1 (auto)\\nno-op", fillcolor="#ffffff", color="#6c757d", \
style="rounded,filled,dashed"];
  "github-repo.app" [label="github-repo.app\\n0.1.0\\nupdate", fillcolor="#fff3cd", color="#b7791f"];
  "argocd-app.web" -> "argocd.default" [style=dashed];
  "argocd-app.web" -> "github-repo.app";
}
"""


def test_mermaid_output_is_exact() -> None:
    assert to_mermaid(NODES, EDGES) == """\
flowchart LR
  argocd_app_web["argocd-app.web<br/>0.1.0<br/>create"]
  argocd_default["argocd.default<br/>3.5.1 (auto)<br/>no-op"]
  github_repo_app["github-repo.app<br/>0.1.0<br/>update"]
  argocd_app_web -.-> argocd_default
  argocd_app_web --> github_repo_app
  classDef create fill:#d4edda,stroke:#2e7d32
  class argocd_app_web create
  classDef update fill:#fff3cd,stroke:#b7791f
  class github_repo_app update
  classDef no_op fill:#ffffff,stroke:#6c757d
  class argocd_default no_op
  classDef auto stroke-dasharray:5 5
  class argocd_default auto
"""


def test_output_does_not_depend_on_input_order() -> None:
    shuffled = dict(reversed(list(NODES.items())))
    assert to_dot(shuffled, EDGES[::-1] + EDGES) == to_dot(NODES, EDGES)
    assert to_mermaid(shuffled, EDGES[::-1]) == to_mermaid(NODES, EDGES)


def test_empty_graph() -> None:
    assert to_dot({}, []).endswith('fontname="Helvetica"];\n}\n')
    assert to_mermaid({}, []) == "flowchart LR\n"


# Every DOT statement we write, as a pattern: a quoted id, attributes of key=value pairs.
_ID = r'"(?:[^"\\]|\\.)*"'
_VALUE = r'(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9_.#-]+)'
_ATTRS = rf"\[\w+={_VALUE}(?:, \w+={_VALUE})*\]"
_DOT_STATEMENT = re.compile(rf"^  (?:{_ID}(?: -> {_ID})?(?: {_ATTRS})?|rankdir=LR|node {_ATTRS});$")


def check_dot(text: str) -> list[str]:
    """Structural check standing in for Graphviz (not installed): one digraph, each line a
    node, edge or attribute statement with balanced quotes; returns the quoted ids."""
    lines = text.splitlines()
    assert lines[0] == "digraph toolchain {" and lines[-1] == "}"
    for line in lines[1:-1]:
        assert _DOT_STATEMENT.match(line), line
    return re.findall(_ID + r"(?= \[label| ->|;)", text)


def test_dot_quotes_awkward_addresses_and_stays_well_formed() -> None:
    nodes = {'we"ird\\name.x': {"version": "1", "action": "delete", "auto": True},
             "plain.default": {"action": "replace"}}
    text = to_dot(nodes, [("plain.default", 'we"ird\\name.x'), ("plain.default", "undeclared.one")])
    ids = check_dot(text)
    assert '"we\\"ird\\\\name.x"' in ids
    assert '"undeclared.one" [label="undeclared.one", fillcolor="#ffffff", color="#6c757d"];' in text
    assert '"plain.default" [label="plain.default\\nreplace", fillcolor="#ffffff", color="#6c757d"];' in text
    check_dot(to_dot(NODES, EDGES))


def test_mermaid_ids_are_sanitised_unique_and_labels_escaped() -> None:
    nodes = {"a-b.c": {}, "a.b-c": {}, "end": {}, "1x.y": {}, 'q.<"x">': {"action": "create"}}
    text = to_mermaid(nodes, [("a-b.c", "a.b-c")])
    assert '  a_b_c["a-b.c"]' in text
    assert '  a_b_c_2["a.b-c"]' in text
    assert '  n_end["end"]' in text
    assert '  n_1x_y["1x.y"]' in text
    assert '  q___x__["q.#lt;#quot;x#quot;#gt;<br/>create"]' in text
    assert "  a_b_c --> a_b_c_2" in text
    statement = re.compile(r'^  (?:\w+\["[^"]*"\]|\w+ -\.?-> \w+|classDef \w+ \S+|class [\w,]+ \w+)$')
    for line in text.splitlines()[1:]:
        assert statement.match(line), line
