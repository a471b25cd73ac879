"""Search ranking: exact name, name prefix, name substring, tags, then description."""

from __future__ import annotations

from typing import Any

import pytest

from dtm_core.registry import Registry, parse_index, search


@pytest.fixture
def registry(small_index: dict[str, Any]) -> Registry:
    return Registry(parse_index(small_index, name="small"))


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        # exact, prefix, substring of name, tag ("Git-Hooks"), description ("Hosts Git …")
        ("git", ["git", "gitea", "legit", "pipeline", "forge"]),
        ("GIT", ["git", "gitea", "legit", "pipeline", "forge"]),
        ("  forge ", ["forge", "gitea", "code-stack"]),  # gitea by tag, the stack by description
        ("pipe", ["pipeline", "code-stack"]),
        ("stack", ["code-stack"]),
        ("nothing-like-it", []),
    ],
)
def test_ranking(registry: Registry, term: str, expected: list[str]) -> None:
    assert [entry.name for entry in search(registry, term)] == expected


@pytest.mark.parametrize("term", [None, "", "   "])
def test_no_term_lists_everything_by_name(registry: Registry, term: str | None) -> None:
    assert [entry.name for entry in search(registry, term)] == [
        "code-stack",
        "forge",
        "git",
        "gitea",
        "legit",
        "pipeline",
        "unrelated",
    ]
