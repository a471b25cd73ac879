"""The index cache: tools read line by line, reverse dependencies, upgrades and damaged copies."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtm_core.errors import RegistryIndexError
from dtm_core.paths import DtmPaths
from dtm_core.registry import Registry, add_source, load_registry, parse_index, update_sources
from dtm_core.registry.cache import CACHE_FORMAT

WriteIndex = Callable[..., Path]
MakeTool = Callable[..., dict[str, Any]]


def meta_of(paths: DtmPaths, name: str) -> dict[str, Any]:
    return json.loads((paths.index_cache_dir / f"{name}.index.json").read_text())


def data_of(paths: DtmPaths, name: str) -> Path:
    return paths.index_cache_dir / meta_of(paths, name)["data"]


def blank_lines(paths: DtmPaths, name: str, *, keep: set[str]) -> None:
    """Overwrite, size unchanged, the line of every tool not in ``keep``."""
    data = data_of(paths, name)
    raw = bytearray(data.read_bytes())
    for tool, row in meta_of(paths, name)["entries"].items():
        if tool not in keep:
            offset, length = row[6], row[7]
            raw[offset : offset + length] = b" " * length
    data.write_bytes(bytes(raw))


def brute_needed_by(registry: Registry, name: str) -> list[str]:
    """What ``dtm info`` computed before the cache knew: every winning entry's newest version."""
    return sorted(
        e.name
        for e in registry
        if e.latest and any(d.name == name for d in e.latest.dependencies)
    )


def random_index(seed: int, count: int = 60) -> dict[str, Any]:
    """Tools with yanked and pre-release newest versions, spaced and repeated requirements."""
    rng = random.Random(seed)
    names = [f"t{i}" for i in range(count)]
    plugin = {"distribution": "dtm-plugins-test", "version": ">=0.1"}
    tools: dict[str, Any] = {}
    for name in names:
        versions: dict[str, Any] = {}
        for text in rng.sample(["0.9", "1.0", "1.1.0", "2.0rc1", "2.0", "10.0"], rng.randint(1, 4)):
            others = rng.sample([n for n in names if n != name] + ["elsewhere"], rng.randint(0, 3))
            needs = [rng.choice(["{}", "{}>=1", " {} >= 0.5, <20", "{}~=1.0", "{}!=3"]).format(n)
                     for n in others]
            if others and rng.random() < 0.2:
                needs.append(f"{others[0]}<99")  # the same tool twice
            versions[text] = {"plugin": plugin, "dependencies": needs,
                              "yanked": rng.random() < 0.25}
        tools[name] = {"description": f"tool {name}", "versions": versions}
    return {"format": 1, "tools": tools}


def test_a_tool_is_read_from_its_own_line_alone(
    paths: DtmPaths,
    environ: dict[str, str],
    write_index: WriteIndex,
    generated_index: Callable[[int], dict[str, Any]],
) -> None:
    add_source(paths, "bulk", str(write_index(document=generated_index(300))), priority=60)
    # Every other tool's line unreadable: the ones used still load, and so does "needed by".
    blank_lines(paths, "bulk", keep={"tool-7"})
    registry = load_registry(paths, environ=environ)
    tool = registry.get("tool-7")
    assert tool is not None and [v.version_text for v in tool.versions] == ["2.0.0", "1.1.0", "1.0.0"]
    assert tool.get_version("1.1.0") is not None
    assert registry.needed_by("bulk-base") == sorted(f"tool-{i}" for i in range(300))
    other = registry.get("tool-8")
    assert other is not None and other.latest_text == "2.0.0"  # from the summary
    with pytest.raises(RegistryIndexError) as caught:
        other.versions  # noqa: B018 - the lazy read is what is tested
    assert caught.value.message == (
        f"index 'bulk': the cached copy {data_of(paths, 'bulk')} is missing or damaged"
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_needed_by_agrees_with_the_newest_versions(
    paths: DtmPaths, environ: dict[str, str], write_index: WriteIndex, seed: int
) -> None:
    document = random_index(seed)
    environ["DTM_REGISTRY"] = str(write_index(document=document))
    cached = load_registry(paths, environ=environ)  # validates and writes the cache
    again = load_registry(paths, environ=environ)  # reads it back
    in_memory = Registry(parse_index(document, name="default"))
    for name in [*document["tools"], "elsewhere", "nothing"]:
        expected = brute_needed_by(in_memory, name)
        assert cached.needed_by(name) == expected
        assert again.needed_by(name) == expected
        assert in_memory.needed_by(name) == expected


def test_needed_by_counts_only_entries_that_won_their_name(
    paths: DtmPaths, environ: dict[str, str], write_index: WriteIndex, make_tool: MakeTool
) -> None:
    def needing(*requirements: str) -> dict[str, Any]:
        tool = make_tool()
        tool["versions"]["1.0.0"]["dependencies"] = list(requirements)
        return tool

    low = {"shared": needing("base"), "low-only": needing("base", "argocd>=3")}
    high = {"shared": make_tool(), "high-only": needing("base>=1")}
    add_source(paths, "low", str(write_index(low, filename="low.json")), priority=10)
    add_source(paths, "high", str(write_index(high, filename="high.json")), priority=60)
    registry = load_registry(paths, environ=environ)
    # "shared" from the high index needs nothing, whatever the low one said about it.
    assert registry.needed_by("base") == ["high-only", "low-only"]
    assert registry.needed_by("argocd") == ["argocd-app", "gitops", "low-only"]  # with bundled


def test_needed_by_on_the_bundled_index(paths: DtmPaths, environ: dict[str, str]) -> None:
    registry = load_registry(paths, environ=environ)
    assert registry.needed_by("github-repo") == ["gitops", "jenkins-ci"]
    assert registry.needed_by("argocd") == brute_needed_by(registry, "argocd")
    assert not paths.index_cache_dir.exists()  # the bundled index is read in place


@pytest.mark.parametrize(
    "requirement", ["forge", "forge>=1", " forge >= 1, <2", "forge==1.*", "forge~=1.2", "forge!=3",
                    "forge-2>=1", "f"]
)
def test_dependency_names_are_read_as_packaging_reads_them(
    paths: DtmPaths, environ: dict[str, str], write_index: WriteIndex, make_tool: MakeTool,
    requirement: str,
) -> None:
    from packaging.requirements import Requirement

    user = make_tool()
    user["versions"]["1.0.0"]["dependencies"] = [requirement]
    environ["DTM_REGISTRY"] = str(write_index({"user": user}))
    load_registry(paths, environ=environ)
    assert load_registry(paths, environ=environ).needed_by(Requirement(requirement).name) == ["user"]


def test_an_update_brings_new_versions_and_dependents(
    paths: DtmPaths, environ: dict[str, str], index_server: Any, make_tool: MakeTool
) -> None:
    index_server.serve({"format": 1, "tools": {"forge": make_tool()}}, etag='"1"')
    add_source(paths, "corp", index_server.url)
    forge = load_registry(paths, environ=environ).get("forge")
    assert forge is not None and forge.latest_text == "1.0.0"

    newer = make_tool(versions=("1.0.0", "2.0.0"))
    newer["versions"]["2.0.0"]["dependencies"] = ["argocd>=3"]
    index_server.serve({"format": 1, "tools": {"forge": newer}}, etag='"2"')
    [result] = update_sources(paths, environ=environ)
    assert result.status == "updated"
    registry = load_registry(paths, environ=environ)
    forge = registry.get("forge")
    assert forge is not None and forge.latest is not None
    assert forge.latest.version_text == "2.0.0"
    assert "forge" in registry.needed_by("argocd")
    assert not list(paths.index_cache_dir.glob(".*"))  # no temporary file left behind


def test_a_cache_of_the_previous_layout_is_upgraded_offline(
    paths: DtmPaths, environ: dict[str, str], index_server: Any, make_tool: MakeTool
) -> None:
    index_server.serve({"format": 1, "tools": {"forge": make_tool()}}, etag='"v1"')
    add_source(paths, "corp", index_server.url)
    for path in paths.index_cache_dir.iterdir():
        path.unlink()
    # What dtm wrote before JSON Lines: the body as fetched, and a summary without offsets.
    body = index_server.body
    digest = hashlib.sha256(body).hexdigest()
    (paths.index_cache_dir / f"corp.{digest[:16]}.json").write_bytes(body)
    old = {"cache": 1, "url": index_server.url, "etag": '"v1"', "last_modified": None,
           "sha256": digest, "fetched_at": "2026-01-02T03:04:05Z", "tools": 1,
           "data": f"corp.{digest[:16]}.json",
           "entries": {"forge": ["a tool", [], "tool", "", "", "1.0.0"]}}
    (paths.index_cache_dir / "corp.index.json").write_text(json.dumps(old))

    registry = load_registry(paths, environ=environ)
    forge = registry.get("forge")
    assert forge is not None and [v.version_text for v in forge.versions] == ["1.0.0"]
    assert registry.warnings == []
    assert len(index_server.requests) == 1  # the add; the upgrade used no network
    meta = meta_of(paths, "corp")
    assert (meta["cache"], meta["etag"], meta["fetched_at"]) == (CACHE_FORMAT, '"v1"', old["fetched_at"])
    # The old data file stays one update longer, for a dtm run still reading it.
    assert (paths.index_cache_dir / old["data"]).exists()

    [result] = update_sources(paths, environ=environ)
    assert (result.status, index_server.requests[-1]["if-none-match"]) == ("unchanged", '"v1"')


def test_a_cache_of_an_unknown_format_is_rebuilt(
    paths: DtmPaths, environ: dict[str, str], write_index: WriteIndex, make_tool: MakeTool
) -> None:
    add_source(paths, "corp", str(write_index({"forge": make_tool("mine")})))
    record = paths.index_cache_dir / "corp.index.json"
    record.write_text(json.dumps({**meta_of(paths, "corp"), "cache": 99}))
    registry = load_registry(paths, environ=environ)
    assert registry.get("forge").description == "mine"  # type: ignore[union-attr]
    assert meta_of(paths, "corp")["cache"] == CACHE_FORMAT


def _garbage_record(paths: DtmPaths) -> None:
    (paths.index_cache_dir / "corp.index.json").write_text('{"cache": 2, "url": ')


def _truncated_data(paths: DtmPaths) -> None:
    data = data_of(paths, "corp")
    data.write_bytes(data.read_bytes()[:-10])


def _missing_data(paths: DtmPaths) -> None:
    data_of(paths, "corp").unlink()


DAMAGE = [_garbage_record, _truncated_data, _missing_data]


@pytest.mark.parametrize("damage", DAMAGE, ids=["garbage-record", "truncated-data", "missing-data"])
def test_a_damaged_cache_of_a_local_index_is_rebuilt(
    paths: DtmPaths,
    environ: dict[str, str],
    write_index: WriteIndex,
    make_tool: MakeTool,
    damage: Callable[[DtmPaths], None],
) -> None:
    add_source(paths, "corp", str(write_index({"forge": make_tool(versions=("1.0", "2.0"))})))
    damage(paths)
    registry = load_registry(paths, environ=environ)
    assert registry.warnings == []
    forge = registry.get("forge")
    assert forge is not None and [v.version_text for v in forge.versions] == ["2.0", "1.0"]
    assert data_of(paths, "corp").exists()


@pytest.mark.parametrize("damage", DAMAGE, ids=["garbage-record", "truncated-data", "missing-data"])
def test_a_damaged_cache_of_a_remote_index_asks_for_an_update(
    paths: DtmPaths,
    environ: dict[str, str],
    index_server: Any,
    make_tool: MakeTool,
    damage: Callable[[DtmPaths], None],
) -> None:
    index_server.serve({"format": 1, "tools": {"forge": make_tool()}}, etag='"1"')
    add_source(paths, "corp", index_server.url)
    damage(paths)
    registry = load_registry(paths, environ=environ)
    assert "forge" not in registry
    assert registry.warnings == [
        f"index 'corp' ({index_server.url}): the cached copy is damaged; run 'dtm update'"
    ]
    [result] = update_sources(paths, environ=environ)
    assert result.status == "updated"
    assert "if-none-match" not in index_server.requests[-1]  # fetched in full, not a 304
    assert "forge" in load_registry(paths, environ=environ)


def test_damage_that_keeps_the_size_is_repaired_by_an_update(
    paths: DtmPaths, environ: dict[str, str], index_server: Any, make_tool: MakeTool
) -> None:
    index_server.serve({"format": 1, "tools": {"forge": make_tool()}}, etag='"1"')
    add_source(paths, "corp", index_server.url)
    blank_lines(paths, "corp", keep=set())
    with pytest.raises(RegistryIndexError, match="is missing or damaged$"):
        load_registry(paths, environ=environ).get("forge").versions  # type: ignore[union-attr]  # noqa: B018
    update_sources(paths, environ=environ)
    assert index_server.replies == [200, 200]  # the digest check skipped the 304
    assert load_registry(paths, environ=environ).get("forge").versions  # type: ignore[union-attr]


def test_a_hand_edited_summary_row_names_the_record_and_an_update_repairs_it(
    paths: DtmPaths, environ: dict[str, str], write_index: WriteIndex, make_tool: MakeTool
) -> None:
    add_source(paths, "corp", str(write_index({"forge": make_tool(), "other": make_tool()})))
    record = paths.index_cache_dir / "corp.index.json"
    meta = meta_of(paths, "corp")
    meta["entries"]["forge"] = ["a tool", [], "tool"]
    record.write_text(json.dumps(meta))
    registry = load_registry(paths, environ=environ)
    assert registry.get("other") is not None  # the other rows still serve
    with pytest.raises(RegistryIndexError) as caught:
        registry.get("forge")
    assert caught.value.message == f"index 'corp': the cached copy {record} is missing or damaged"
    [result] = update_sources(paths, environ=environ)
    assert result.status == "updated"
    assert load_registry(paths, environ=environ).get("forge") is not None


def test_urls_that_mask_alike_never_share_a_cached_copy(
    paths: DtmPaths, environ: dict[str, str], make_tool: MakeTool
) -> None:
    from dtm_core.masking import mask_credentials

    def serving(description: str) -> httpx.MockTransport:
        body = json.dumps({"format": 1, "tools": {"forge": make_tool(description)}}).encode()
        return httpx.MockTransport(lambda request: httpx.Response(200, content=body))

    add_source(paths, "corp", "https://TOKEN@index.example.test/index.json",
               transport=serving("the real index"))
    assert "TOKEN" not in json.dumps(meta_of(paths, "corp"))
    # A token changed by hand still names the same index: its copy is kept.
    set_url(paths, "https://NEWTOKEN@index.example.test/index.json")
    assert load_registry(paths, environ=environ).get("forge").description == "the real index"  # type: ignore[union-attr]

    # Another host, whose URL the old masking rule showed as the first one's.
    hostile = "https://evil.example?@index.example.test/index.json"
    assert mask_credentials(hostile) == hostile
    set_url(paths, hostile)
    registry = load_registry(paths, environ=environ)
    assert registry.get("forge") is None
    assert registry.warnings == [
        f"index 'corp' ({hostile}) has not been fetched yet; run 'dtm update'"
    ]


def set_url(paths: DtmPaths, url: str) -> None:
    """Point the configured index at ``url`` by hand, as an edit of registries.json would."""
    config = json.loads(paths.sources_file.read_text())
    config[0]["url"] = url
    paths.sources_file.write_text(json.dumps(config))
