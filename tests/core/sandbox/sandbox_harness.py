"""The sandbox tests' harness: the CLI against one dtm home, and what its sandbox left on disk."""

from __future__ import annotations

import json
from typing import Any

from dtm_harness import DtmHarness


class Sandbox:
    """The CLI against one dtm home, and what its sandbox left on disk."""

    def __init__(self, dtm: DtmHarness) -> None:
        self.dtm = dtm
        self.root = dtm.home / "data" / "sandbox"

    def run(self, *args: str) -> Any:
        return self.dtm.run("sandbox", *args)

    def up(self, *args: str) -> Any:
        result = self.run("up", *args)
        assert result.exit_code == 0, result.stderr
        return result

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.root / "state.json").read_text())
        return data

    def env(self) -> dict[str, str]:
        result = self.run("env", "-o", "json")
        assert result.exit_code == 0, result.stderr
        found: dict[str, str] = json.loads(result.stdout)
        return found
