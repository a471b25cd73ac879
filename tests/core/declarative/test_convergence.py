"""Property: for any toolchain, apply converges — a second plan is all no-op and writes nothing."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from dtm_harness import TEST_REGISTRY, DtmHarness
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

INSTANCE = st.fixed_dictionaries({
    "tool": st.sampled_from(["alpha", "beta", "gamma"]),
    "name": st.sampled_from(["default", "one", "two"]),
    "size": st.integers(min_value=0, max_value=9),
    "tier": st.sampled_from(["free", "pro"]),
})


def render(instances: list[dict]) -> str:
    seen, lines = set(), ["version: 1", "tools:"]
    for item in instances:
        address = f"{item['tool']}.{item['name']}"
        if address in seen:
            continue
        seen.add(address)
        lines += [f"  - tool: {item['tool']}", f"    name: {item['name']}", "    options:",
                  f"      size: {item['size']}", f"      tier: {item['tier']}"]
    return "\n".join(lines) + "\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(INSTANCE, min_size=1, max_size=5), second=st.lists(INSTANCE, max_size=5))
def test_apply_then_plan_is_a_no_op(first: list[dict], second: list[dict]) -> None:
    root = Path(tempfile.mkdtemp(prefix="dtm-prop-"))
    # The test plugin finds its world through the process environment; restore it after.
    saved_world = os.environ.get("DTM_TEST_WORLD")
    try:
        dtm = DtmHarness(home=root / "home", env={
            "DTM_HOME": str(root / "home"), "DTM_REGISTRY": str(TEST_REGISTRY),
            "DTM_PLUGINS": "testplugin", "DTM_LOAD_PLUGINS": "testplugin",
            "DTM_TEST_WORLD": str(root / "world.json")})
        config = root / "toolchain.yaml"
        os.environ["DTM_TEST_WORLD"] = dtm.env["DTM_TEST_WORLD"]
        for instances in (first, second):
            if not instances:
                continue
            config.write_text(render(instances))
            assert dtm.run("apply", "-f", str(config), "-y").exit_code == 0
            writes = len([c for c in dtm.calls() if c[0] in {"create", "update", "delete"}])
            plan = json.loads(dtm.run("plan", "-f", str(config), "-o", "json").stdout)
            assert {c["action"] for c in plan["changes"]} == {"no-op"}
            assert dtm.run("apply", "-f", str(config), "-y").exit_code == 0
            assert len([c for c in dtm.calls() if c[0] in {"create", "update", "delete"}]) == writes
            live = dtm.world()["resources"]
            assert set(live) == set(dtm.state()["instances"])
    finally:
        if saved_world is None:
            os.environ.pop("DTM_TEST_WORLD", None)
        else:
            os.environ["DTM_TEST_WORLD"] = saved_world
        shutil.rmtree(root, ignore_errors=True)
