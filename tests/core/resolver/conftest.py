"""Fixtures for resolver tests: registries built directly from index-shaped dicts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from dtm_core.registry.model import Registry, ToolEntry

RegistryFactory = Callable[[Mapping[str, Mapping[str, Any]]], Registry]


def build_registry(index: Mapping[str, Mapping[str, Any]]) -> Registry:
    """A Registry from ``{tool: {"kind"?: ..., "versions": {version: {...}}}}``."""
    return Registry(
        {
            name: ToolEntry(
                name=name,
                description=f"{name} (test)",
                kind=tool.get("kind", "tool"),
                raw_versions={
                    version: {"plugin": {"distribution": f"dtm-plugins-{name}"}, **raw}
                    for version, raw in tool["versions"].items()
                },
            )
            for name, tool in index.items()
        }
    )


@pytest.fixture
def make_registry() -> RegistryFactory:
    return build_registry
