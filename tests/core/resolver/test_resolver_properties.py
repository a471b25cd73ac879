"""Property test: on small random indexes, resolve() finds a valid set exactly when one exists."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement

from dtm_core.errors import ConflictError
from dtm_core.registry.model import Registry, ToolEntry
from dtm_core.resolver import resolve

TOOLS = ["a", "b", "c", "d"]
VERSIONS = ["1.0", "2.0", "3.0"]


@st.composite
def requirement(draw: st.DrawFn, exclude: str) -> str:
    name = draw(st.sampled_from([t for t in TOOLS if t != exclude]))
    spec = draw(st.sampled_from(["", ">=2.0", "<2.0", "==1.0", "==3.0", "!=2.0"]))
    return name + spec


@st.composite
def index(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    built: dict[str, dict[str, Any]] = {}
    for tool in TOOLS:
        versions = draw(st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=3, unique=True))
        built[tool] = {
            version: {
                "dependencies": draw(st.lists(requirement(tool), max_size=2)),
                "conflicts": draw(st.lists(requirement(tool), max_size=1)),
            }
            for version in versions
        }
    return built


def _valid(index: dict[str, dict[str, Any]], chosen: dict[str, str], roots: list[str]) -> bool:
    for text in roots:
        req = Requirement(text)
        if req.name not in chosen or not req.specifier.contains(chosen[req.name]):
            return False
    for tool, version in chosen.items():
        raw = index[tool][version]
        for text in raw["dependencies"]:
            req = Requirement(text)
            if req.name not in chosen or not req.specifier.contains(chosen[req.name]):
                return False
        for text in raw["conflicts"]:
            req = Requirement(text)
            if req.name in chosen and req.specifier.contains(chosen[req.name]):
                return False
    return True


def _any_solution(index: dict[str, dict[str, Any]], roots: list[str]) -> bool:
    options = [[None, *index[tool]] for tool in TOOLS]
    for picks in itertools.product(*options):
        chosen = {tool: v for tool, v in zip(TOOLS, picks, strict=True) if v is not None}
        if _valid(index, chosen, roots):
            return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=index(), requests=st.lists(requirement(""), min_size=1, max_size=2))
def test_resolve_is_sound_and_complete(data: dict[str, dict[str, Any]], requests: list[str]) -> None:
    registry = Registry(
        {
            name: ToolEntry(name=name, description="", raw_versions=versions)
            for name, versions in data.items()
        }
    )
    # Only requests some listed version satisfies reach the resolver proper.
    for text in requests:
        req = Requirement(text)
        if not any(req.specifier.contains(v) for v in data[req.name]):
            return
    try:
        resolution = resolve(registry, requests)
    except ConflictError:
        assert not _any_solution(data, requests)
        return
    chosen = {name: tv.version_text for name, tv in resolution.versions.items()}
    assert _valid(data, chosen, requests)
