"""The plugin loader: real entry points to real modules, each fault isolated to its own plugin."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import pytest

from dtm_core.plugins import PluginHost, PluginInfo, load_plugins
from dtm_core.version import __version__

DISABLED = "disabled by DTM_LOAD_PLUGINS/DTM_DISABLE_PLUGINS"
SEED_DISTRIBUTIONS = ("dtm-plugins-github", "dtm-plugins-argocd", "dtm-plugins-jenkins")


def good_source(*tools: str, resolvers: str = "") -> str:
    """A plugin module providing one ToolKind per name (and, optionally, secret resolvers)."""
    text = f"""
        from dtm_core import ToolKind, hookimpl

        @hookimpl
        def dtm_tool_kinds():
            return [type(name, (ToolKind,), {{"name": name}})() for name in {tools!r}]
    """
    if resolvers:
        text += f"""
        @hookimpl
        def dtm_secret_resolvers():
            return {resolvers}
    """
    return textwrap.dedent(text)


# Each side effect at import leaves a file, so a test can prove a module was never imported.
IMPORT_MARK = textwrap.dedent("""
    import pathlib
    pathlib.Path(__file__).with_suffix(".imported").touch()
""")

MakeModule = Callable[[str, str], Path]


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeModule]:
    """Write importable modules into a temporary sys.path entry; forget them afterwards."""
    folder = tmp_path / "modules"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    written: list[str] = []

    def make(name: str, source: str) -> Path:
        path = folder / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        written.append(name)
        return path

    yield make
    for name in written:
        sys.modules.pop(name, None)


def ep(name: str, module: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name, module, "dtm")


def make_distribution(site: Path, name: str, version: str, requires: list[str],
                      entry_points: dict[str, str]) -> list[metadata.EntryPoint]:
    """A real installed distribution (a ``.dist-info`` folder); its entry points carry ``.dist``."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
             *(f"Requires-Dist: {r}" for r in requires)]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    (info / "entry_points.txt").write_text(
        "[dtm]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))
    (dist,) = [d for d in metadata.distributions(path=[str(site)]) if d.metadata["Name"] == name]
    found = list(dist.entry_points.select(group="dtm"))
    assert all(e.dist is not None for e in found)
    return found


def by_name(host: PluginHost) -> dict[str, tuple[str, str | None]]:
    return {p.name: (p.status, p.error) for p in host.plugins}


def info(host: PluginHost, name: str) -> PluginInfo:
    (found,) = [p for p in host.plugins if p.name == name]
    return found


# -- loading and isolating faults ------------------------------------------------------------


def test_good_plugin_registers_its_tool_kinds(modules: MakeModule) -> None:
    modules("dtmt_good", good_source("zeta", "alpha"))
    host = load_plugins(environ={}, entry_points=[ep("good", "dtmt_good")])
    assert host.plugins == [PluginInfo("good", None, None, "ok", None, ["alpha", "zeta"])]
    assert sorted(host.tool_kinds()) == ["alpha", "zeta"]
    kind = host.tool_kind("alpha")
    assert kind is not None and kind.name == "alpha"
    assert host.tool_kind("missing") is None
    assert host.warnings == []
    assert host.manager.get_plugin("good") is sys.modules["dtmt_good"]


def test_plugin_that_raises_on_import_is_broken_in_one_line(modules: MakeModule) -> None:
    modules("dtmt_import", 'raise ImportError("No module named \'kubernetes\'\\nsecond line")')
    modules("dtmt_ok", good_source("alpha"))
    host = load_plugins(environ={}, entry_points=[ep("bad", "dtmt_import"), ep("ok", "dtmt_ok")])
    assert by_name(host) == {"bad": ("broken", "ImportError: No module named 'kubernetes' second line"),
                             "ok": ("ok", None)}
    assert info(host, "bad").tool_kinds == []
    assert list(host.tool_kinds()) == ["alpha"]
    assert host.warnings == ["plugin bad skipped: ImportError: No module named 'kubernetes' second line"]


def test_plugin_requiring_another_dtm_is_skipped_before_import(
        tmp_path: Path, modules: MakeModule) -> None:
    site = tmp_path / "site"
    old = make_distribution(site, "dtm-plugins-old", "1.0", ["dtm<0.1", "httpx>=0.27"],
                            {"old": "dtmt_old"})
    fine = make_distribution(site, "dtm-plugins-fine", "2.0",
                             ["dtm>=0.1,<1", 'dtm<0.1; extra == "legacy"'], {"fine": "dtmt_fine"})
    marker = modules("dtmt_old", IMPORT_MARK + good_source("old-tool")).with_suffix(".imported")
    modules("dtmt_fine", good_source("fine-tool"))
    host = load_plugins(environ={}, entry_points=[*old, *fine])
    assert host.plugins == [
        PluginInfo("fine", "dtm-plugins-fine", "2.0", "ok", None, ["fine-tool"]),
        PluginInfo("old", "dtm-plugins-old", "1.0", "broken",
                   f"requires dtm<0.1 but this is dtm {__version__}; upgrade dtm-plugins-old or dtm"),
    ]
    assert "dtmt_old" not in sys.modules
    assert not marker.exists()
    assert list(host.tool_kinds()) == ["fine-tool"]


def test_unknown_hook_is_broken_and_does_not_linger(modules: MakeModule) -> None:
    modules("dtmt_nohook", good_source("ghost") + textwrap.dedent("""
        @hookimpl
        def dtm_no_such_hook():
            return 1
    """))
    modules("dtmt_ok", good_source("alpha"))
    # "a-…" sorts first: a leftover registration would fail the next plugin's check_pending.
    host = load_plugins(environ={}, entry_points=[ep("a-nohook", "dtmt_nohook"), ep("ok", "dtmt_ok")])
    module = sys.modules["dtmt_nohook"]
    assert by_name(host) == {
        "a-nohook": ("broken",
                     f"PluginValidationError: unknown hook 'dtm_no_such_hook' in plugin {module!r}"),
        "ok": ("ok", None)}
    assert not host.manager.is_registered(module)
    assert host.manager.get_plugin("a-nohook") is None
    assert host.manager.hook.dtm_no_such_hook.get_hookimpls() == []
    host.manager.check_pending()
    assert list(host.tool_kinds()) == ["alpha"]
    assert [[k.name for k in kinds] for kinds in host.manager.hook.dtm_tool_kinds()] == [["alpha"]]


def test_hook_with_an_argument_the_spec_lacks_is_broken(modules: MakeModule) -> None:
    modules("dtmt_sig", """
        from dtm_core import hookimpl

        @hookimpl
        def dtm_tool_kinds(config):
            return []
    """)
    modules("dtmt_ok", good_source("alpha"))
    host = load_plugins(environ={}, entry_points=[ep("sig", "dtmt_sig"), ep("ok", "dtmt_ok")])
    # pluggy's message is several lines; dtm joins them so the explanation survives on one.
    assert by_name(host) == {
        "sig": ("broken", "PluginValidationError: Plugin 'sig' for hook 'dtm_tool_kinds' hookimpl "
                "definition: dtm_tool_kinds(config) Argument(s) {'config'} are declared in the "
                "hookimpl but can not be found in the hookspec"),
        "ok": ("ok", None)}
    assert not host.manager.is_registered(sys.modules["dtmt_sig"])
    assert list(host.tool_kinds()) == ["alpha"]


@pytest.mark.parametrize(("returned", "error"), [
    ('["argocd"]', "DtmError: dtm_tool_kinds returned 'argocd', not a named ToolKind"),
    ("[ToolKind()]", "DtmError: dtm_tool_kinds returned <dtm_core.toolkind.ToolKind object"),
    ("[Named]", "DtmError: dtm_tool_kinds returned <class 'dtmt_kinds.Named'>, not a named ToolKind"),
], ids=["string", "unnamed-instance", "class-not-instance"])
def test_tool_kinds_that_are_not_named_tool_kinds_break_the_plugin(
        modules: MakeModule, returned: str, error: str) -> None:
    modules("dtmt_kinds", f"""
        from dtm_core import ToolKind, hookimpl

        class Named(ToolKind):
            name = "named"

        @hookimpl
        def dtm_tool_kinds():
            return [Named(), *{returned}]

        @hookimpl
        def dtm_secret_resolvers():
            return {{"vault": str.upper}}
    """)
    modules("dtmt_ok", good_source("alpha"))
    host = load_plugins(environ={}, entry_points=[ep("kinds", "dtmt_kinds"), ep("ok", "dtmt_ok")])
    status, message = by_name(host)["kinds"]
    assert (status, message and message.startswith(error)) == ("broken", True), message
    assert info(host, "kinds").tool_kinds == []
    # Nothing of the broken plugin stays: neither its valid kind nor its other hooks.
    assert list(host.tool_kinds()) == ["alpha"]
    assert sorted(host.secret_resolvers({})) == ["env", "file", "k8s-secret"]


def test_tool_kinds_hook_that_raises_breaks_the_plugin(modules: MakeModule) -> None:
    modules("dtmt_raises", """
        from dtm_core import hookimpl

        @hookimpl
        def dtm_tool_kinds():
            raise KeyError("token")
    """)
    host = load_plugins(environ={}, entry_points=[ep("raises", "dtmt_raises")])
    assert by_name(host) == {"raises": ("broken", "KeyError: 'token'")}
    assert not host.manager.is_registered(sys.modules["dtmt_raises"])


def test_second_plugin_providing_the_same_tool_is_broken(modules: MakeModule) -> None:
    modules("dtmt_first", good_source("shared", "first-only"))
    modules("dtmt_second", good_source("second-only", "shared"))
    host = load_plugins(environ={}, entry_points=[ep("second", "dtmt_second"), ep("first", "dtmt_first")])
    assert host.plugins == [
        PluginInfo("first", None, None, "ok", None, ["first-only", "shared"]),
        PluginInfo("second", None, None, "broken",
                   "DtmError: tool 'shared' is already provided by plugin first"),
    ]
    assert sorted(host.tool_kinds()) == ["first-only", "shared"]
    assert type(host.tool_kind("shared")).__module__ == "dtmt_first"
    assert not host.manager.is_registered(sys.modules["dtmt_second"])


def test_module_loaded_twice_keeps_the_first_registration(modules: MakeModule) -> None:
    modules("dtmt_twice", good_source("alpha", resolvers='{"vault": str.upper}'))
    host = load_plugins(environ={"DTM_PLUGINS": "dtmt_twice"},
                        entry_points=[ep("twice", "dtmt_twice")])
    assert info(host, "twice").status == "ok"
    assert (info(host, "dtmt_twice").status, info(host, "dtmt_twice").error) == (
        "disabled", "already loaded as plugin twice")
    assert host.manager.get_plugin("twice") is sys.modules["dtmt_twice"]
    assert host.secret_resolvers({})["vault"]("x") == "X"


def test_plugin_exiting_at_import_is_broken_not_fatal(modules: MakeModule) -> None:
    modules("dtmt_exit", 'import sys\nsys.exit("dtmt_exit needs kubectl")')
    modules("dtmt_ok", good_source("alpha"))
    host = load_plugins(environ={}, entry_points=[ep("exit", "dtmt_exit"), ep("ok", "dtmt_ok")])
    assert by_name(host) == {"exit": ("broken", "SystemExit: dtmt_exit needs kubectl"),
                             "ok": ("ok", None)}


# -- choosing which plugins load -------------------------------------------------------------


@pytest.fixture
def three(tmp_path: Path, modules: MakeModule) -> list[metadata.EntryPoint]:
    """Entry points ``a``, ``b`` (distribution ``dtm-plugins-bee``) and ``c``; each marks its import."""
    site = tmp_path / "site"
    eps = [ep("a", "dtmt_a"), *make_distribution(site, "dtm-plugins-bee", "1.0", [], {"b": "dtmt_b"}),
           ep("c", "dtmt_c")]
    for letter in "abc":
        modules(f"dtmt_{letter}", IMPORT_MARK + good_source(f"tool-{letter}"))
    return eps


def imported(tmp_path: Path) -> list[str]:
    return sorted(p.stem for p in (tmp_path / "modules").glob("*.imported"))


@pytest.mark.parametrize(("environ", "loaded"), [
    ({}, "abc"),
    ({"DTM_LOAD_PLUGINS": "a,c"}, "ac"),
    ({"DTM_LOAD_PLUGINS": "dtm_plugins_bee"}, "b"),
    ({"DTM_LOAD_PLUGINS": "B"}, "b"),
    ({"DTM_LOAD_PLUGINS": ""}, ""),
    ({"DTM_DISABLE_PLUGINS": "a"}, "bc"),
    ({"DTM_DISABLE_PLUGINS": "dtm-plugins-bee,c"}, "a"),
    ({"DTM_LOAD_PLUGINS": "a,b", "DTM_DISABLE_PLUGINS": "b"}, "a"),
], ids=["default", "allow", "allow-by-distribution", "allow-case", "allow-none", "block",
        "block-by-distribution", "block-wins"])
def test_allow_and_block_lists(tmp_path: Path, three: list[metadata.EntryPoint],
                               environ: dict[str, str], loaded: str) -> None:
    host = load_plugins(environ=environ, entry_points=three)
    assert by_name(host) == {x: ("ok", None) if x in loaded else ("disabled", DISABLED) for x in "abc"}
    assert sorted(host.tool_kinds()) == [f"tool-{x}" for x in loaded]
    assert imported(tmp_path) == [f"dtmt_{x}" for x in loaded]
    assert host.warnings == []
    assert info(host, "b").distribution == "dtm-plugins-bee"


@pytest.mark.parametrize("variable", ["DTM_LOAD_PLUGINS", "DTM_DISABLE_PLUGINS"])
def test_lists_with_spaces_after_commas(tmp_path: Path, three: list[metadata.EntryPoint],
                                        variable: str) -> None:
    host = load_plugins(environ={variable: "a, c"}, entry_points=three)
    enabled = {"a", "c"} if variable == "DTM_LOAD_PLUGINS" else {"b"}
    assert by_name(host) == {x: ("ok", None) if x in enabled else ("disabled", DISABLED) for x in "abc"}


def test_dtm_plugins_loads_modules_by_import_path(modules: MakeModule) -> None:
    modules("dtmt_dev", good_source("dev-tool"))
    modules("dtmt_ep", good_source("ep-tool"))
    host = load_plugins(environ={"DTM_PLUGINS": " dtmt_dev ,dtmt_missing,"},
                        entry_points=[ep("ep", "dtmt_ep")])
    assert host.plugins == [
        PluginInfo("ep", None, None, "ok", None, ["ep-tool"]),
        PluginInfo("dtmt_dev", None, None, "ok", None, ["dev-tool"]),
        PluginInfo("dtmt_missing", None, None, "broken",
                   "ModuleNotFoundError: No module named 'dtmt_missing'"),
    ]
    assert host.warnings == ["plugin dtmt_missing skipped: ModuleNotFoundError: No module named "
                             "'dtmt_missing'"]


def test_dtm_plugins_modules_obey_the_allow_list(tmp_path: Path, modules: MakeModule) -> None:
    modules("dtmt_dev", IMPORT_MARK + good_source("dev-tool"))
    host = load_plugins(environ={"DTM_PLUGINS": "dtmt_dev", "DTM_LOAD_PLUGINS": ""}, entry_points=[])
    assert by_name(host) == {"dtmt_dev": ("disabled", DISABLED)}
    assert imported(tmp_path) == []


def test_warnings_name_broken_plugins_only(modules: MakeModule) -> None:
    modules("dtmt_boom", 'raise RuntimeError("boom")')
    modules("dtmt_ok", good_source("alpha"))
    host = load_plugins(environ={"DTM_DISABLE_PLUGINS": "off"}, entry_points=[
        ep("boom", "dtmt_boom"), ep("ok", "dtmt_ok"), ep("off", "dtmt_ok")])
    assert by_name(host) == {"boom": ("broken", "RuntimeError: boom"), "ok": ("ok", None),
                             "off": ("disabled", DISABLED)}
    assert host.warnings == ["plugin boom skipped: RuntimeError: boom"]


# -- what loaded plugins provide -------------------------------------------------------------


def test_secret_resolvers_merge_plugin_schemes_with_the_builtin_ones(
        tmp_path: Path, modules: MakeModule) -> None:
    modules("dtmt_vault", good_source("vault-tool", resolvers='{"vault": lambda path: "v:" + path}'))
    host = load_plugins(environ={}, entry_points=[ep("vault", "dtmt_vault")])
    resolvers = host.secret_resolvers({"TOKEN": "from-env"})
    assert sorted(resolvers) == ["env", "file", "k8s-secret", "vault"]
    assert resolvers["vault"]("kv/ci") == "v:kv/ci"
    assert resolvers["env"]("TOKEN") == "from-env"
    (tmp_path / "token").write_text("from-file\n")
    assert resolvers["file"](str(tmp_path / "token")) == "from-file"
    builtin = load_plugins(environ={}, entry_points=[]).secret_resolvers({})
    assert sorted(builtin) == ["env", "file", "k8s-secret"]


@pytest.mark.parametrize("distribution", SEED_DISTRIBUTIONS)
def test_every_entry_point_of_an_installed_seed_plugin_loads(distribution: str) -> None:
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        pytest.skip(f"{distribution} is not installed in this venv "
                    f"(pip install -e {distribution.replace('-', '_')}); e2e tests cover its wheel")
    eps = list(dist.entry_points.select(group="dtm"))
    assert eps, f"{distribution} declares no entry point in group 'dtm'"
    host = load_plugins(environ={}, entry_points=eps)
    assert [(p.name, p.status, p.error) for p in host.plugins] == [
        (e.name, "ok", None) for e in sorted(eps, key=lambda e: e.name)]
    assert all(p.tool_kinds for p in host.plugins)


def test_a_plugin_folder_shadowing_the_installed_package_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dtmt_shadowed").mkdir()  # a source folder without __init__.py
    monkeypatch.syspath_prepend(str(tmp_path))
    host = load_plugins(environ={}, entry_points=[ep("shadowed", "dtmt_shadowed")])
    status, error = by_name(host)["shadowed"]
    assert status == "broken"
    assert error == (f"dtmt_shadowed resolved to the folder {tmp_path / 'dtmt_shadowed'} (no "
                     "__init__.py), not the installed plugin; run dtm from another directory")
