"""The CLI harness the core's tests use: run dtm in-process against an isolated home."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

TESTS = Path(__file__).parent
TEST_REGISTRY = TESTS / "data" / "test-registry.json"


@dataclass
class DtmHarness:
    """Runs the dtm CLI in-process against an isolated home, registry and test world."""

    home: Path
    env: dict[str, str]

    def run(self, *args: str, input: str | None = None) -> Result:
        from dtm_core.cli import cli
        from dtm_core.cli.context import CliContext

        runner = CliRunner()
        return runner.invoke(cli, list(args), input=input, obj=CliContext(environ=dict(self.env)),
                             catch_exceptions=False)

    @property
    def world_file(self) -> Path:
        return Path(self.env["DTM_TEST_WORLD"])

    def world(self) -> dict[str, Any]:
        if not self.world_file.exists():
            return {"resources": {}, "calls": [], "faults": {}}
        return json.loads(self.world_file.read_text())

    def set_fault(self, key: str, value: Any) -> None:
        data = self.world()
        data.setdefault("faults", {})[key] = value
        self.world_file.write_text(json.dumps(data))

    def calls(self, verb: str | None = None) -> list[tuple[str, str]]:
        return [(c["verb"], c["address"]) for c in self.world()["calls"]
                if verb is None or c["verb"] == verb]

    def state(self) -> dict[str, Any]:
        path = self.home / "data" / "state" / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}
