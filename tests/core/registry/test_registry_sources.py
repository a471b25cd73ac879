"""Configured indexes: add, remove, list, priority merge, DTM_REGISTRY, the cache and updates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtm_core.errors import (
    ConfigError,
    InvalidInputError,
    NetworkError,
    RefusedError,
    RegistryIndexError,
)
from dtm_core.paths import DtmPaths
from dtm_core.registry import (
    Source,
    add_source,
    list_sources,
    load_registry,
    remove_source,
    update_sources,
)
from dtm_core.registry.sources import BUNDLED_INDEX
from dtm_core.version import __version__

REMOTE = "https://index.example.test/index.json"
WriteIndex = Callable[..., Path]
MakeTool = Callable[..., dict[str, Any]]


def cache_files(paths: DtmPaths, name: str) -> list[Path]:
    """The commit record first, then the data files."""
    files = sorted(paths.index_cache_dir.glob(f"{name}.*"))
    return sorted(files, key=lambda path: not path.name.endswith(".index.json"))


def cached_meta(paths: DtmPaths, name: str) -> dict[str, Any]:
    return json.loads((paths.index_cache_dir / f"{name}.index.json").read_text())


def bump_mtime(path: Path, step: int) -> None:
    """Give a rewritten file an mtime that surely differs (coarse clocks, same-size edits)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + step * 1_000_000_000))


def replying(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


def test_only_the_bundled_index_by_default(paths: DtmPaths, environ: dict[str, str]) -> None:
    assert list_sources(paths, environ=environ) == [
        Source("default", str(BUNDLED_INDEX), 0, bundled=True)
    ]
    registry = load_registry(paths, environ=environ)
    assert registry.sources == ("default",)
    assert registry.warnings == []
    assert registry.get("argocd") is not None
    assert registry.get("argocd").source == "default"  # type: ignore[union-attr]


def test_add_list_and_remove(
    paths: DtmPaths, environ: dict[str, str], write_index: WriteIndex, make_tool: MakeTool
) -> None:
    index = write_index({"forge": make_tool("local forge")})
    added = add_source(paths, "corp", str(index), priority=70)
    assert added == Source("corp", str(index), 70)
    assert json.loads(paths.sources_file.read_text()) == [
        {"name": "corp", "url": str(index), "priority": 70}
    ]
    assert [path.name for path in cache_files(paths, "corp")] == [
        "corp.index.json",
        f"corp.{cached_meta(paths, 'corp')['data_sha256'][:16]}.jsonl",
    ]
    assert [s.name for s in list_sources(paths, environ=environ)] == ["corp", "default"]

    assert remove_source(paths, "corp") == added
    assert [s.name for s in list_sources(paths, environ=environ)] == ["default"]
    assert cache_files(paths, "corp") == []


def test_priority_merge_sets_the_source(
    paths: DtmPaths, environ: dict[str, str], write_index: WriteIndex, make_tool: MakeTool
) -> None:
    low = write_index({"forge": make_tool("low"), "argocd": make_tool("low argocd")}, filename="a")
    high = write_index({"forge": make_tool("high")}, filename="b")
    tie = write_index({"forge": make_tool("tie"), "only-tie": make_tool("tie")}, filename="c")
    add_source(paths, "low", str(low), priority=10)
    add_source(paths, "high", str(high), priority=60)
    add_source(paths, "tie", str(tie), priority=60)
    registry = load_registry(paths, environ=environ)
    assert registry.sources == ("high", "tie", "low", "default")
    found = {
        name: (registry.get(name).source, registry.get(name).description)  # type: ignore[union-attr]
        for name in ("forge", "only-tie", "argocd")
    }
    assert found == {
        "forge": ("high", "high"),  # equal priority: the index added first wins
        "only-tie": ("tie", "tie"),
        "argocd": ("low", "low argocd"),  # priority 10 beats the bundled index (0)
    }


def test_dtm_registry_replaces_the_bundled_index(
    paths: DtmPaths, environ: dict[str, str], write_index: WriteIndex, make_tool: MakeTool
) -> None:
    index = write_index({"forge": make_tool("replacement")})
    environ["DTM_REGISTRY"] = str(index)
    assert list_sources(paths, environ=environ) == [Source("default", str(index), 0)]
    registry = load_registry(paths, environ=environ)
    assert [entry.name for entry in registry] == ["forge"]
    assert registry.get("forge").source == "default"  # type: ignore[union-attr]


def test_dtm_registry_pointing_at_a_bad_index(
    paths: DtmPaths, environ: dict[str, str], write_index: WriteIndex
) -> None:
    environ["DTM_REGISTRY"] = str(write_index(document={"format": 1}))
    with pytest.raises(RegistryIndexError) as caught:
        load_registry(paths, environ=environ)
    assert caught.value.message == "index 'default': $: 'tools' is a required property"
    assert caught.value.hint == "fix the index at that path, or unset DTM_REGISTRY"


def test_dtm_registry_pointing_at_nothing(
    paths: DtmPaths, environ: dict[str, str], tmp_path: Path
) -> None:
    environ["DTM_REGISTRY"] = str(tmp_path / "missing.json")
    with pytest.raises(InvalidInputError) as caught:
        load_registry(paths, environ=environ)
    assert caught.value.message == (
        f"index 'default': cannot read {tmp_path / 'missing.json'}: No such file or directory"
    )
    assert caught.value.hint == "check DTM_REGISTRY, or unset it to use the bundled index"


@pytest.mark.parametrize(
    ("name", "url", "message", "hint"),
    [
        (
            "Corp Index",
            "x.json",
            "invalid index name 'Corp Index'",
            "use lowercase letters, digits, '-' and '_' (at most 64), starting with a letter "
            "or digit",
        ),
        (
            "corp\n",
            "x.json",
            "invalid index name 'corp\\n'",
            "use lowercase letters, digits, '-' and '_' (at most 64), starting with a letter "
            "or digit",
        ),
        (
            "default",
            "x.json",
            "'default' is the bundled index and cannot be added",
            "choose another name, or set DTM_REGISTRY to replace the bundled index",
        ),
        (
            "corp",
            "x.json",
            "an index named 'corp' is already configured",
            "choose another name, or remove it first with 'dtm registry remove corp'",
        ),
        (
            "other",
            "{first}",
            "{first} is already configured as index 'corp'",
            "see 'dtm registry list'",
        ),
        (
            "other",
            "ftp://example.test/index.json",
            "unsupported index URL scheme 'ftp' in ftp://example.test/index.json",
            "use an http(s):// or file:// URL, or a local path",
        ),
    ],
    ids=["bad-name", "final-newline", "reserved-name", "duplicate-name", "duplicate-url", "bad-scheme"],
)
def test_add_refuses(
    paths: DtmPaths,
    write_index: WriteIndex,
    make_tool: MakeTool,
    name: str,
    url: str,
    message: str,
    hint: str,
) -> None:
    first = str(write_index({"forge": make_tool()}))
    add_source(paths, "corp", first)
    with pytest.raises(InvalidInputError) as caught:
        add_source(paths, name, url.format(first=first))
    assert (caught.value.message, caught.value.hint) == (message.format(first=first), hint)
    assert caught.value.exit_code == 2


def test_add_refuses_a_bad_index_and_saves_nothing(
    paths: DtmPaths, write_index: WriteIndex, make_tool: MakeTool
) -> None:
    bad = make_tool()
    bad["versions"]["1.0.0"]["plugin"].pop("distribution")
    with pytest.raises(RegistryIndexError) as caught:
        add_source(paths, "corp", str(write_index({"forge": bad})))
    assert caught.value.message == (
        "index 'corp': $.tools.forge.versions['1.0.0'].plugin: "
        "'distribution' is a required property"
    )
    assert caught.value.hint == "fix the index at that path and add it again; nothing was added"
    assert not paths.sources_file.exists()
    assert cache_files(paths, "corp") == []


def test_remove_refuses(paths: DtmPaths, write_index: WriteIndex, make_tool: MakeTool) -> None:
    add_source(paths, "corp", str(write_index({"forge": make_tool()})))
    with pytest.raises(InvalidInputError) as caught:
        remove_source(paths, "nope")
    assert caught.value.message == "no index named 'nope'; configured: corp, default"
    assert caught.value.hint == "see 'dtm registry list'"
    with pytest.raises(InvalidInputError) as caught:
        remove_source(paths, "default")
    assert caught.value.message == "the default index cannot be removed"
    assert caught.value.hint == "set DTM_REGISTRY to a path or URL to replace it"


def test_a_broken_sources_file_is_a_config_error(paths: DtmPaths, environ: dict[str, str]) -> None:
    paths.ensure(paths.config_dir)
    paths.sources_file.write_text('[{"name": "corp",\n  "url": 3}]')
    with pytest.raises(ConfigError) as caught:
        list_sources(paths, environ=environ)
    assert caught.value.message == (
        f'{paths.sources_file}:1:2: entry 0: expected {{"name": text, "url": text, "priority": number, '
        '"key": text (optional)}'
    )
    paths.sources_file.write_text("[\n  {oops}\n]")
    with pytest.raises(ConfigError, match=r":2:4: not valid JSON: Expecting property name"):
        list_sources(paths, environ=environ)


@pytest.mark.parametrize(("text", "message"), [
    ('[\n  {"name": "../../escape", "url": "/x.json"}\n]',
     "2:12: entry 0: '../../escape' cannot name an index (lowercase letters, digits, '-' and '_')"),
    ('[{"name": "corp\\n", "url": "/x.json"}]',
     "1:11: entry 0: 'corp\\n' cannot name an index (lowercase letters, digits, '-' and '_')"),
    ('[{"name": "default", "url": "/x.json"}]',
     "1:11: entry 0: 'default' cannot name an index ('default' is the built-in one)"),
    ('[{"name": "a", "url": "/x.json"},\n {"name": "a", "url": "/y.json"}]',
     "2:11: entry 1: the name 'a' is used twice"),
    ('[{"name": "a", "url": "/x\\u0000.json"}]',
     "1:23: entry 0: '/x\\x00.json' is not a path or an http(s):// or file:// URL"),
    ('[{"name": "a", "url": "ftp://x/y.json"}]',
     "1:23: entry 0: 'ftp://x/y.json' is not a path or an http(s):// or file:// URL"),
    ('[{"name": "a", "name": "b", "url": "/x.json"}]',
     "1:11: key 'name' appears twice in this object (JSON would keep only the last)"),
    ("[" * 100_000, "1:500: not valid JSON: arrays and objects nest too deeply"),
    ('{"indexes": []}', "1:1: expected a list of indexes"),
])
def test_a_sources_file_entry_that_add_would_refuse_is_a_config_error_at_its_line(
        paths: DtmPaths, environ: dict[str, str], text: str, message: str) -> None:
    paths.ensure(paths.config_dir)
    paths.sources_file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        list_sources(paths, environ=environ)
    assert caught.value.message == f"{paths.sources_file}:{message}"


def test_update_uses_etag_and_keeps_the_cache_on_304(
    paths: DtmPaths,
    environ: dict[str, str],
    index_server: Any,
    make_tool: MakeTool,
) -> None:
    index_server.serve({"format": 1, "tools": {"forge": make_tool("v1")}}, etag='"v1"')
    add_source(paths, "corp", index_server.url)
    first = index_server.requests[0]
    assert first["user-agent"] == f"dtm/{__version__}"
    assert "if-none-match" not in first
    data_file = paths.index_cache_dir / cached_meta(paths, "corp")["data"]
    cached = data_file.read_bytes()

    [result] = [r for r in update_sources(paths, environ=environ) if r.source.name == "corp"]
    assert (result.status, result.tools, result.error) == ("unchanged", 1, None)
    assert index_server.requests[1]["if-none-match"] == '"v1"'
    assert index_server.replies == [200, 304]
    assert data_file.read_bytes() == cached
    assert cached_meta(paths, "corp")["data"] == data_file.name

    index_server.serve({"format": 1, "tools": {"forge": make_tool("v2")}}, etag='"v2"')
    [result] = update_sources(paths, environ=environ)
    assert (result.status, result.tools) == ("updated", 1)
    assert index_server.replies == [200, 304, 200]
    meta = cached_meta(paths, "corp")
    assert (meta["url"], meta["etag"], meta["tools"]) == (index_server.url, '"v2"', 1)
    assert meta["data"] != data_file.name
    assert meta["entries"]["forge"][:6] == ["v2", [], "tool", "", "", "1.0.0"]
    # The previous data file is kept for a concurrent reader; older ones go.
    assert len(cache_files(paths, "corp")) == 3
    assert load_registry(paths, environ=environ).get("forge").description == "v2"  # type: ignore[union-attr]


def test_update_uses_last_modified(
    paths: DtmPaths, environ: dict[str, str], index_server: Any, make_tool: MakeTool
) -> None:
    stamp = "Wed, 21 Oct 2026 07:28:00 GMT"
    index_server.serve({"format": 1, "tools": {"forge": make_tool()}}, last_modified=stamp)
    add_source(paths, "corp", index_server.url)
    [result] = update_sources(paths, environ=environ)
    assert result.status == "unchanged"
    assert index_server.requests[1]["if-modified-since"] == stamp
    assert index_server.replies == [200, 304]


def test_update_refuses_a_bad_index_and_keeps_the_cache(
    paths: DtmPaths, environ: dict[str, str], index_server: Any, make_tool: MakeTool
) -> None:
    index_server.serve({"format": 1, "tools": {"forge": make_tool("good")}}, etag='"1"')
    add_source(paths, "corp", index_server.url)
    index_server.serve({"format": 1, "tools": {"forge": {"versions": {}}}}, etag='"2"')
    [result] = update_sources(paths, environ=environ)
    assert result.status == "failed"
    assert isinstance(result.error, RegistryIndexError)
    assert (
        result.error.message == "index 'corp': $.tools.forge: 'description' is a required property"
    )
    assert result.error.hint == (
        "fix the index at that path, or remove it with 'dtm registry remove corp'; "
        "cached copy still used"
    )
    assert load_registry(paths, environ=environ).get("forge").description == "good"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("fail", "reason"),
    [
        (
            httpx.ConnectError("[Errno 111] Connection refused"),
            "cannot connect: [Errno 111] Connection refused",
        ),
        (httpx.ReadTimeout("The read operation timed out"), "timed out"),
        (httpx.Response(404), "HTTP 404 Not Found"),
        (httpx.Response(503), "HTTP 503 Service Unavailable"),
    ],
    ids=["refused", "timeout", "404", "503"],
)
def test_network_failures(
    paths: DtmPaths,
    environ: dict[str, str],
    make_tool: MakeTool,
    fail: Exception | httpx.Response,
    reason: str,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(fail, Exception):
            raise fail
        return fail

    message = f"could not fetch index 'corp' from {REMOTE}: {reason}"
    with pytest.raises(NetworkError) as caught:
        add_source(paths, "corp", REMOTE, transport=replying(handler))
    assert (caught.value.message, caught.value.exit_code) == (message, 1)
    assert caught.value.hint == "check the URL or your network; nothing was added"
    assert not paths.sources_file.exists()

    good = json.dumps({"format": 1, "tools": {"forge": make_tool()}}).encode()
    add_source(
        paths, "corp", REMOTE, transport=replying(lambda r: httpx.Response(200, content=good))
    )
    [result] = update_sources(paths, environ=environ, transport=replying(handler))
    assert result.status == "failed"
    assert isinstance(result.error, NetworkError)
    assert result.error.message == message
    assert result.error.hint == "check the URL or your network; cached copy still used"
    assert "forge" in load_registry(paths, environ=environ)


def test_a_remote_index_never_fetched_is_skipped_with_a_warning(
    paths: DtmPaths, environ: dict[str, str], make_tool: MakeTool
) -> None:
    body = json.dumps({"format": 1, "tools": {"forge": make_tool()}}).encode()
    add_source(
        paths, "corp", REMOTE, transport=replying(lambda r: httpx.Response(200, content=body))
    )
    for path in cache_files(paths, "corp"):
        path.unlink()
    registry = load_registry(paths, environ=environ)
    assert "forge" not in registry
    assert registry.sources == ("default",)
    assert registry.warnings == [
        f"index 'corp' ({REMOTE}) has not been fetched yet; run 'dtm update'"
    ]


def test_local_index_is_revalidated_when_it_changes(
    paths: DtmPaths, environ: dict[str, str], write_index: WriteIndex, make_tool: MakeTool
) -> None:
    index = write_index({"forge": make_tool("one")})
    add_source(paths, "corp", index.as_uri())  # a file:// URL
    [result] = update_sources(paths, environ=environ)
    assert result.status == "unchanged"

    write_index({"forge": make_tool("two")})
    bump_mtime(index, 1)
    assert load_registry(paths, environ=environ).get("forge").description == "two"  # type: ignore[union-attr]

    write_index({"forge": {"description": "broken"}})
    bump_mtime(index, 2)
    registry = load_registry(paths, environ=environ)
    assert registry.get("forge").description == "two"  # type: ignore[union-attr]
    [warning] = registry.warnings
    assert warning.startswith(
        "index 'corp': $.tools.forge: 'versions' is a required property; using the copy cached at "
    )
    [result] = update_sources(paths, environ=environ)
    assert (result.status, type(result.error)) == ("failed", RegistryIndexError)


def test_loading_the_bundled_index_imports_nothing_heavy(environ: dict[str, str]) -> None:
    script = (
        "import sys\n"
        "from dtm_core.paths import resolve_paths\n"
        "from dtm_core.registry import load_registry, search\n"
        f"registry = load_registry(resolve_paths({environ!r}), environ={environ!r})\n"
        "print([e.name for e in search(registry, 'argo')])\n"
        "print(sorted({'httpx', 'jsonschema', 'packaging', 'click'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == ["['argocd', 'argocd-app', 'gitops']", "[]"]


def test_cached_entries_read_their_versions_lazily(
    paths: DtmPaths, environ: dict[str, str], index_server: Any, make_tool: MakeTool
) -> None:
    index_server.serve({"format": 1, "tools": {"forge": make_tool(versions=("1.0", "2.0"))}})
    add_source(paths, "corp", index_server.url)
    forge = load_registry(paths, environ=environ).get("forge")
    assert forge is not None
    assert [v.version_text for v in forge.versions] == ["2.0", "1.0"]
    assert forge.versions[0].plugin.distribution == "dtm-plugins-test"

    # Damage that keeps the size is not worth a hash on every run: it shows when read.
    data_file = paths.index_cache_dir / cached_meta(paths, "corp")["data"]
    data_file.write_bytes(b" " * data_file.stat().st_size)
    forge = load_registry(paths, environ=environ).get("forge")
    assert forge is not None and forge.description == "a tool"
    with pytest.raises(RegistryIndexError) as caught:
        forge.versions  # noqa: B018 - the lazy read is what is tested
    assert caught.value.message == (
        f"index 'corp': the cached copy {data_file} is missing or damaged"
    )
    assert caught.value.hint == "run 'dtm update' to fetch the index again"


def test_a_cached_index_loads_from_its_summary_alone(
    paths: DtmPaths,
    environ: dict[str, str],
    write_index: WriteIndex,
    generated_index: Callable[[int], dict[str, Any]],
) -> None:
    add_source(paths, "bulk", str(write_index(document=generated_index(300))), priority=60)
    # A fresh interpreter, so that modules this test process imported hide nothing.
    script = (
        "import sys\n"
        "from dtm_core.paths import resolve_paths\n"
        "from dtm_core.registry import load_registry, search\n"
        f"registry = load_registry(resolve_paths({environ!r}), environ={environ!r})\n"
        "rows = [(e.name, e.source, e.latest_text) for e in search(registry, 'tool-29')]\n"
        "print(rows[:2], len(registry))\n"
        "print(sorted({'httpx', 'jsonschema', 'packaging'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == [
        "[('tool-29', 'bulk', '2.0.0'), ('tool-290', 'bulk', '2.0.0')] 308",
        "[]",
    ]


def test_a_redirect_from_https_to_plain_http_is_refused_without_any_policy(
    paths: DtmPaths, make_tool: MakeTool
) -> None:
    good = json.dumps({"format": 1, "tools": {"forge": make_tool()}}).encode()
    fetched: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        if request.url.host == "mirror.example.test":
            return httpx.Response(200, content=good)
        if request.url.path == "/old.json":
            return httpx.Response(302, headers={"Location": "https://mirror.example.test/index.json"})
        return httpx.Response(301, headers={"Location": "http://index.example.test/index.json"})

    with pytest.raises(RefusedError) as caught:
        add_source(paths, "corp", REMOTE, transport=replying(handler))
    assert (caught.value.message, caught.value.exit_code) == (
        f"index 'corp' ({REMOTE}) redirects from https to plain http "
        "(http://index.example.test/index.json)", 3)
    assert caught.value.hint == (
        "dtm never downgrades an index to plain http; ask its publisher to serve it over https, "
        "or add the index by an https URL that does not redirect; nothing was added"
    )
    assert fetched == [REMOTE]  # the plain http URL was never asked
    assert not paths.sources_file.exists()
    # A redirect that keeps https is followed (no policy: to any host).
    add_source(paths, "corp", "https://index.example.test/old.json", transport=replying(handler))
    assert load_registry(paths).get("forge") is not None
