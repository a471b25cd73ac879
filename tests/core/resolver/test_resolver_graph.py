"""Resolution's ``order`` and ``required_by``, and resolving a deep chain on a large registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dtm_core.registry.model import Registry, ToolEntry
from dtm_core.resolver import REQUEST, resolve

RegistryFactory = Callable[[dict[str, Any]], Registry]


def test_order_and_required_by_on_a_diamond(make_registry: RegistryFactory) -> None:
    registry = make_registry(
        {
            "platform": {"versions": {"1.0": {"dependencies": ["argocd-app", "flux-app"]}}},
            "argocd-app": {"versions": {"1.0": {"dependencies": ["kubectl"]}}},
            "flux-app": {"versions": {"1.0": {"dependencies": ["kubectl"]}}},
            "kubectl": {"versions": {"1.30.0": {}}},
            "helm": {"versions": {"3.15.0": {}}},
        }
    )
    resolution = resolve(registry, ["platform", "kubectl"], installed={"helm": "3.15.0"})

    assert resolution.order == ["helm", "kubectl", "argocd-app", "flux-app", "platform"]
    assert resolution.required_by == {
        "argocd-app": ["platform"],
        "flux-app": ["platform"],
        "helm": [],
        "kubectl": [REQUEST, "argocd-app", "flux-app"],
        "platform": [REQUEST],
    }


def test_a_cycle_is_ordered_deterministically(make_registry: RegistryFactory) -> None:
    registry = make_registry(
        {
            "app": {"versions": {"1.0": {"dependencies": ["b"]}}},
            "b": {"versions": {"1.0": {"dependencies": ["c"]}}},
            "c": {"versions": {"1.0": {"dependencies": ["b", "base"]}}},
            "base": {"versions": {"1.0": {}}},
        }
    )
    first = resolve(registry, ["app"])
    again = resolve(registry, ["app"])

    # b and c wait on each other; the cycle is broken at b (fewest unmet dependencies).
    assert first.order == ["base", "b", "c", "app"]
    assert again.order == first.order
    assert first.required_by["b"] == ["app", "c"]
    assert first.required_by["c"] == ["b"]


def test_conflicts_do_not_count_as_requiring(make_registry: RegistryFactory) -> None:
    registry = make_registry(
        {
            "argocd": {"versions": {"3.5.1": {"conflicts": ["flux<2"]}}},
            "flux": {"versions": {"2.3.0": {}}},
        }
    )
    resolution = resolve(registry, ["argocd", "flux"])

    assert resolution.required_by == {"argocd": [REQUEST], "flux": [REQUEST]}
    assert resolution.order == ["argocd", "flux"]


def test_an_installed_version_the_index_dropped_is_kept(make_registry: RegistryFactory) -> None:
    registry = make_registry({"argocd": {"versions": {"3.5.1": {}}}, "flux": {"versions": {}}})
    resolution = resolve(registry, [], installed={"argocd": "3.4.2"})

    assert resolution.versions["argocd"].version_text == "3.4.2"


def _large_registry(tools: int, depth: int) -> Registry:
    """``tool-00000`` depends on ``tool-00001`` and so on ``depth`` deep; the rest are noise."""
    entries: dict[str, ToolEntry] = {}
    for index in range(tools):
        name = f"tool-{index:05d}"
        deps = [f"tool-{index + 1:05d}>=1.0"] if index < depth else []
        entries[name] = ToolEntry(
            name=name,
            description="generated",
            raw_versions={
                f"1.{minor}": {"dependencies": deps, "plugin": {"distribution": "d"}, "dtm": ">=0.1"}
                for minor in range(5)
            },
        )
    return Registry(entries)


def test_a_hundred_deep_chain_on_ten_thousand_tools_resolves() -> None:
    registry = _large_registry(tools=10_000, depth=100)

    resolution = resolve(registry, ["tool-00000"])

    assert len(resolution.versions) == 101
    assert {tv.version_text for tv in resolution.versions.values()} == {"1.4"}
    assert resolution.order[0] == "tool-00100"
    assert resolution.order[-1] == "tool-00000"


def test_a_cycle_comes_after_the_cycle_it_depends_on(make_registry: RegistryFactory) -> None:
    # The cycle a<->b needs the cycle y<->z: a sorts first by name yet must wait for y and z.
    registry = make_registry(
        {
            "a": {"versions": {"1.0": {"dependencies": ["b", "y"]}}},
            "b": {"versions": {"1.0": {"dependencies": ["a"]}}},
            "y": {"versions": {"1.0": {"dependencies": ["z"]}}},
            "z": {"versions": {"1.0": {"dependencies": ["y"]}}},
        }
    )
    assert resolve(registry, ["a"]).order == ["y", "z", "a", "b"]
