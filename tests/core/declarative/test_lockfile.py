"""dtm.lock: writing, reading, pinning a resolve to it, refusing a stale one and diffing two."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from dtm_harness import DtmHarness

from dtm_core.declarative.lockfile import (
    LockedTool,
    LockFile,
    check_locked,
    diff_locks,
    lock_from_resolution,
    pinned_requests,
    read_lock,
    write_lock,
)
from dtm_core.errors import ConfigError, InvalidInputError, RefusedError
from dtm_core.registry.model import Registry, ToolEntry
from dtm_core.resolver import resolve

HASH_A = "sha256:" + "a" * 64
HASH_B = "sha256:" + "b" * 64
UPDATE_HINT = "run 'dtm apply --upgrade' (or 'dtm plan --upgrade') to update the lock file, then commit it"
RECREATE_HINT = "delete it and run 'dtm apply --upgrade' to re-create it"


def version(plugin: str | None = "dtm-plugins-argocd", spec: str = ">=0.1,<1", *,
            hashes: tuple[str, ...] = (), dependencies: tuple[str, ...] = ()) -> dict[str, Any]:
    raw: dict[str, Any] = {"dependencies": list(dependencies)}
    if plugin:
        raw["plugin"] = {"distribution": plugin, "version": spec, "hashes": list(hashes)}
    return raw


def make_registry(argocd_versions: tuple[str, ...] = ("3.4.5", "3.5.1")) -> Registry:
    entries = {
        "argocd": ToolEntry("argocd", "Argo CD", source="main", raw_versions={
            v: version(hashes=(HASH_B, HASH_A) if v == "3.5.1" else ()) for v in argocd_versions}),
        "argocd-app": ToolEntry("argocd-app", "An Argo CD app", source="main", raw_versions={
            "0.1.0": version(dependencies=("argocd>=3.3",))}),
        "github-repo": ToolEntry("github-repo", "A repository", source="team", raw_versions={
            "0.1.0": version("dtm-plugins-github", "==0.1.0", hashes=(HASH_A,))}),
        "gitops": ToolEntry("gitops", "GitOps stack", kind="stack", source="main", raw_versions={
            "0.1.0": version(None, dependencies=("github-repo>=0.1", "argocd-app>=0.1"))}),
    }
    return Registry(entries, sources=("main", "team"))


@pytest.fixture
def registry() -> Registry:
    return make_registry()


def locked(registry: Registry, specs: dict[str, str]) -> LockFile:
    requests = [tool + spec for tool, spec in specs.items()]
    return lock_from_resolution(resolve(registry, requests), specs, registry)


# --- the file ----------------------------------------------------------------------------------


def test_lock_file_is_stable_readable_json(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "dtm.lock"
    write_lock(path, locked(registry, {"argocd-app": "", "argocd": ">=3.4", "github-repo": ""}))
    assert path.read_text() == """\
{
  "format": 1,
  "_readme": "Written by dtm: commit it. 'dtm apply --upgrade' moves it to newer versions.",
  "tools": {
    "argocd": {
      "version": "3.5.1",
      "requested": ">=3.4",
      "required_by": [
        "<request>",
        "argocd-app"
      ],
      "source": "main",
      "plugin": {
        "distribution": "dtm-plugins-argocd",
        "specifier": ">=0.1,<1",
        "hashes": [
          "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
        ]
      }
    },
    "argocd-app": {
      "version": "0.1.0",
      "requested": "",
      "required_by": [
        "<request>"
      ],
      "source": "main",
      "plugin": {
        "distribution": "dtm-plugins-argocd",
        "specifier": ">=0.1,<1",
        "hashes": []
      }
    },
    "github-repo": {
      "version": "0.1.0",
      "requested": "",
      "required_by": [
        "<request>"
      ],
      "source": "team",
      "plugin": {
        "distribution": "dtm-plugins-github",
        "specifier": "==0.1.0",
        "hashes": [
          "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        ]
      }
    }
  }
}
"""


def test_written_lock_reads_back_equal_and_rewrites_byte_for_byte(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "dtm.lock"
    lock = locked(registry, {"gitops": ""})
    write_lock(path, lock)
    first = path.read_bytes()
    again = read_lock(path)
    assert again == lock
    assert again is not None
    write_lock(path, again)
    assert path.read_bytes() == first


def test_stack_and_dependencies_are_locked_without_a_request(registry: Registry) -> None:
    lock = locked(registry, {"gitops": ""})
    assert sorted(lock.tools) == ["argocd", "argocd-app", "github-repo", "gitops"]
    assert lock.tools["gitops"] == LockedTool(version="0.1.0", requested="", source="main",
                                              required_by=("<request>",))
    assert lock.tools["argocd"].requested is None
    assert lock.tools["argocd"].required_by == ("argocd-app",)
    assert lock.to_json()["tools"]["gitops"]["plugin"] is None


def test_lock_is_0644_and_holds_no_secrets_or_options(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "dtm.lock"
    old_umask = os.umask(0o077)  # a strict umask must not make the team's file private
    try:
        write_lock(path, locked(registry, {"github-repo": "", "argocd": ""}))
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    document = json.loads(path.read_text())
    assert set(document) == {"format", "_readme", "tools"}
    for entry in document["tools"].values():
        assert set(entry) == {"version", "requested", "required_by", "source", "plugin"}
        assert set(entry["plugin"]) == {"distribution", "specifier", "hashes"}
    assert "token" not in path.read_text().lower()


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path, registry: Registry,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "dtm.lock"
    write_lock(path, locked(registry, {"argocd": "==3.4.5"}))
    before = path.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_lock(path, locked(registry, {"argocd": ""}))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dtm.lock"]


def test_missing_lock_reads_as_none(tmp_path: Path) -> None:
    assert read_lock(tmp_path / "dtm.lock") is None


@pytest.mark.parametrize(("text", "message"), [
    ('{\n  "format": 1,\n  "tools": {,}\n}\n',
     "dtm.lock:3:13: the lock file is not valid JSON: Expecting property name enclosed in double quotes"),
    ("[]", "dtm.lock:1:1: (top level): expected a JSON object"),
    ('{\n  "format": 1,\n  "tools": {\n    "argocd": {"version": "3.5.1"},\n'
     '    "argocd": {"version": "3.5.2"}\n  }\n}',
     "dtm.lock:4:15: tools.argocd: key 'argocd' appears twice in this object "
     "(JSON would keep only the last)"),
    ("[" * 100_000, "dtm.lock:1:500: the lock file is not valid JSON: arrays and objects nest too deeply"),
    ('{"format": 1, "tools": {"\\r": null}}', "dtm.lock:1:31: tools['\\r']: expected an object"),
    ('{"format": ' + "9" * 5000 + "}",
     "dtm.lock:1:1: the lock file is not valid JSON: Exceeds the limit (4300 digits) for integer string "
     "conversion: value has 5000 digits"),
    ('{"format": "1", "tools": {}}', "dtm.lock:1:12: format: expected an integer"),
    ('{"format": 1}', "dtm.lock:1:1: tools: expected an object of tools"),
    ('{"format": 1, "tools": {"argocd": {"version": 3}}}',
     "dtm.lock:1:47: tools.argocd.version: expected a string"),
    ('{"format": 1, "tools": {"argocd": {"version": "three"}}}',
     "dtm.lock:1:47: tools.argocd.version: 'three' is not a valid version"),
    ('{"format": 1, "tools": {"argocd": {"version": "3.5.1", "plugin": {"hashes": "x"}}}}',
     "dtm.lock:1:66: tools.argocd.plugin: expected null or {distribution, specifier, hashes}"),
])
def test_malformed_lock_names_file_and_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               text: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    Path("dtm.lock").write_text(text)
    with pytest.raises(ConfigError) as caught:
        read_lock(Path("dtm.lock"))
    assert caught.value.message == message
    assert caught.value.hint == RECREATE_HINT
    assert caught.value.exit_code == 2


def test_lock_from_a_newer_dtm_asks_for_an_upgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("dtm.lock").write_text('{"format": 2, "tools": {}}')
    with pytest.raises(ConfigError) as caught:
        read_lock("dtm.lock")
    assert caught.value.message == "dtm.lock:1:12: lock file format 2 is newer than this dtm reads (1)"
    assert caught.value.hint == "upgrade dtm, or " + RECREATE_HINT


# --- honouring the lock ------------------------------------------------------------------------


def test_pins_reproduce_the_locked_set_after_the_index_moves(registry: Registry) -> None:
    old = make_registry(("3.4.5",))
    specs = {"argocd-app": ""}
    lock = locked(old, specs)
    assert lock.tools["argocd"].version == "3.4.5"
    pins = pinned_requests(lock, specs)
    assert pins == ["argocd==3.4.5", "argocd-app==0.1.0"]
    # The newer argocd in the index is not taken while the lock pins the old one …
    assert resolve(registry, ["argocd-app", *pins]).versions["argocd"].version_text == "3.4.5"
    # … and --upgrade (no pins) moves it.
    assert resolve(registry, ["argocd-app"]).versions["argocd"].version_text == "3.5.1"


def test_a_tool_whose_locked_version_left_the_specifier_is_not_pinned(registry: Registry) -> None:
    lock = locked(registry, {"argocd": "==3.4.5"})
    assert pinned_requests(lock, {"argocd": "==3.4.5"}) == ["argocd==3.4.5"]
    assert pinned_requests(lock, {"argocd": ">=3.5"}) == []


def test_a_dependency_is_pinned_only_while_every_parent_is(registry: Registry) -> None:
    lock = locked(registry, {"argocd-app": ""})
    # argocd-app left the configuration: its dependency must not be kept alive by a pin.
    assert pinned_requests(lock, {"github-repo": ""}) == []
    lock = locked(registry, {"gitops": ""})
    assert pinned_requests(lock, {"gitops": ""}) == [
        "argocd==3.5.1", "argocd-app==0.1.0", "github-repo==0.1.0", "gitops==0.1.0"]
    assert pinned_requests(lock, {"gitops": ">=1"}) == []


def test_with_a_registry_a_version_no_longer_listed_is_left_to_the_resolver(registry: Registry) -> None:
    lock = locked(registry, {"argocd": ""})
    shrunk = make_registry(("3.4.5",))
    assert pinned_requests(lock, {"argocd": ""}) == ["argocd==3.5.1"]
    assert pinned_requests(lock, {"argocd": ""}, shrunk) == []


def test_check_locked_accepts_a_lock_that_covers_the_configuration(registry: Registry) -> None:
    lock = locked(registry, {"argocd": ">=3.4", "github-repo": ""})
    check_locked(lock, {"argocd": ">=3.0", "github-repo": ""})
    check_locked(lock, {"argocd": ""})  # tools the configuration dropped do not matter


@pytest.mark.parametrize(("specs", "message"), [
    ({"argocd": "", "github-repo": ""},
     "dtm.lock does not match the configuration: github-repo is not locked"),
    ({"argocd": "<3.5"},
     "dtm.lock does not match the configuration: argocd is locked at 3.5.1, outside '<3.5'"),
    ({"argocd-app": "", "argocd": "==3.4.5", "github-repo": ""},
     "dtm.lock does not match the configuration: argocd is locked at 3.5.1, outside '==3.4.5'; "
     "argocd-app is not locked; github-repo is not locked"),
])
def test_check_locked_refuses_a_stale_lock(registry: Registry, specs: dict[str, str], message: str) -> None:
    lock = locked(registry, {"argocd": ""})
    with pytest.raises(RefusedError) as caught:
        check_locked(lock, specs)
    assert caught.value.message == message
    assert caught.value.hint == UPDATE_HINT
    assert caught.value.exit_code == 3


def test_check_locked_refuses_when_there_is_no_lock() -> None:
    with pytest.raises(RefusedError) as caught:
        check_locked(None, {"argocd": ""})
    assert caught.value.message == "dtm.lock does not match the configuration: there is no lock file"
    assert caught.value.hint == UPDATE_HINT
    assert caught.value.exit_code == 3


def test_an_invalid_specifier_is_invalid_input(registry: Registry) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_locked(locked(registry, {"argocd": ""}), {"argocd": ">>3"})
    assert caught.value.message == "invalid version specifier '>>3' for argocd"
    assert caught.value.exit_code == 2


# --- what --upgrade moved ----------------------------------------------------------------------


def tool(version: str, distribution: str = "dtm-plugins-argocd", spec: str = ">=0.1,<1",
         hashes: tuple[str, ...] = ()) -> LockedTool:
    return LockedTool(version=version, distribution=distribution, plugin_specifier=spec, hashes=hashes)


def test_diff_locks_lists_every_move_by_tool() -> None:
    old = LockFile({"argocd": tool("3.4.2"), "jenkins": tool("2.516.3"), "github-repo": tool("0.1.0"),
                    "argocd-app": tool("0.1.0", hashes=(HASH_A,)), "same": tool("1.0")})
    new = LockFile({"argocd": tool("3.5.1"), "argocd-app": tool("0.1.0", hashes=(HASH_B,)),
                    "github-repo": tool("0.1.0", spec=">=0.2,<1"), "gitops": tool("0.1.0", ""),
                    "same": tool("1.0")})
    assert diff_locks(old, new) == [
        "argocd 3.4.2 -> 3.5.1",
        "argocd-app 0.1.0: plugin hashes changed",
        "github-repo 0.1.0: plugin dtm-plugins-argocd>=0.1,<1 -> dtm-plugins-argocd>=0.2,<1",
        "gitops added at 0.1.0",
        "jenkins 2.516.3 removed",
    ]
    assert diff_locks(new, new) == []
    assert diff_locks(None, LockFile({"argocd": tool("3.5.1")})) == ["argocd added at 3.5.1"]


def test_a_locked_version_the_index_no_longer_lists_is_resolved_afresh(dtm: DtmHarness,
                                                                      tmp_path: Path) -> None:
    # Found by tests/fuzz: plan pinned alpha==9.9 anyway and failed with "no version matches".
    (tmp_path / "toolchain.yaml").write_text("version: 1\ntools:\n  - tool: alpha\n")
    (tmp_path / "dtm.lock").write_text(json.dumps(
        {"format": 1, "tools": {"alpha": {"version": "9.9", "requested": "", "required_by": ["<request>"]}}}))
    result = dtm.run("plan", "-f", str(tmp_path / "toolchain.yaml"))
    assert result.exit_code == 0, result.stderr
    assert "+ create  alpha.default 2.0" in result.stderr
    assert "lock: alpha 9.9 -> 2.0" in result.stderr
