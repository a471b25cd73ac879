"""Fixtures for the load tests: one shared state per test, in each backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from postgres import (  # type: ignore[import-not-found,unused-ignore]  # noqa: F401 - fixtures
    StateBackend,
    postgres_server,
    postgres_url,
)


@pytest.fixture(params=["local", "postgresql"])
def shared_state(request: pytest.FixtureRequest, dtm_env: dict[str, str]) -> StateBackend:
    """The state every dtm run of a test shares: the home's local file, or a fresh database."""
    if request.param == "local":
        return StateBackend("local", str(Path(dtm_env["DTM_HOME"]) / "data" / "state"))
    return StateBackend("postgresql", request.getfixturevalue("postgres_url"))
