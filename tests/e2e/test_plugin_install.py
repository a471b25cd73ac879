"""End to end: seed plugins load from their folders and install, hash-checked, from a real index."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dtm_core.errors import InstallerError
from dtm_core.installer import install_distributions
from dtm_core.plugins import load_plugins
from dtm_core.registry.model import PluginRef

REPO = Path(__file__).resolve().parents[2]

#: The registry tool names each seed distribution must provide.
SEED_TOOLS = {
    "dtm_plugins_github": ["github-actions", "github-repo"],
    "dtm_plugins_argocd": ["argocd", "argocd-app"],
    "dtm_plugins_jenkins": ["jenkins", "jenkins-pipeline"],
}

HASH_MISMATCH = (
    "hash mismatch for dtm-plugins-argocd: "
    "the file on the package index differs from the registry's sha256"
)

# Run inside the throwaway venv: what is installed there and what dtm's loader makes of it.
PROBE = """
import importlib.metadata as m, json, sys
from dtm_core.plugins import load_plugins
try:
    dist = m.distribution(sys.argv[1])
except m.PackageNotFoundError:
    print(json.dumps(None)); raise SystemExit
host = load_plugins(environ={})
print(json.dumps({
    "version": dist.version,
    "location": str(dist.locate_file("")),
    "entry_points": sorted([e.name, e.value] for e in m.entry_points(group="dtm")),
    "plugins": {p.name: [p.status, p.error] for p in host.plugins},
    "tools": sorted(host.tool_kinds()),
}))
"""


def _entry_point(folder: str) -> tuple[str, str]:
    project = tomllib.loads((REPO / folder / "pyproject.toml").read_text())["project"]
    ((name, target),) = project["entry-points"]["dtm"].items()
    return name, target


def _load_from_folder(folder: str) -> tuple[str, ModuleType]:
    """Import a plugin's entry-point module from its folder, as if it were installed."""
    name, target = _entry_point(folder)
    module_name = target.partition(":")[0]
    package = REPO / folder / module_name
    spec = importlib.util.spec_from_file_location(
        module_name, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return name, module


@pytest.mark.parametrize("folder", sorted(SEED_TOOLS))
def test_seed_plugin_registers_its_registry_tools(folder: str) -> None:
    name, module = _load_from_folder(folder)

    host = load_plugins(environ={}, entry_points=[], extra_plugins=[(name, module)])

    assert [(p.name, p.status, p.error) for p in host.plugins] == [(name, "ok", None)]
    assert sorted(host.tool_kinds()) == SEED_TOOLS[folder]


@pytest.mark.parametrize("folder", sorted(SEED_TOOLS))
def test_seed_plugin_distribution_is_declared_consistently(folder: str) -> None:
    project = tomllib.loads((REPO / folder / "pyproject.toml").read_text())["project"]
    _, module = _load_from_folder(folder)
    readme = (REPO / folder / "README.md").read_text()

    assert project["name"] == folder.replace("_", "-")
    assert project["dependencies"][0] == "dtm>=0.2,<1"  # what dtm checks before importing it
    assert _entry_point(folder)[1] == folder
    assert module.__version__ == "0.1.0"
    assert (REPO / folder / folder / "py.typed").exists()
    assert all(f"`{tool}`" in readme for tool in SEED_TOOLS[folder])


def _probe(python: Path, distribution: str) -> dict[str, object] | None:
    done = subprocess.run(
        [str(python), "-c", PROBE, distribution],
        capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL,
    )
    result: dict[str, object] | None = json.loads(done.stdout)
    return result


def test_hash_pinned_plugin_installs_from_the_index(
    throwaway_venv: Path, local_pypi: str, plugin_wheelhouse: dict[str, Any]
) -> None:
    wheel = plugin_wheelhouse["dtm-plugins-argocd"]
    progress: list[str] = []

    install_distributions(
        [PluginRef("dtm-plugins-argocd", "==0.1.0", (wheel.hash,))],
        python=str(throwaway_venv),
        index_url=local_pypi,
        progress=progress.append,
    )

    found = _probe(throwaway_venv, "dtm-plugins-argocd")
    assert found is not None
    assert found["version"] == "0.1.0"
    assert Path(str(found["location"])).is_relative_to(throwaway_venv.parent.parent)
    assert ["argocd", "dtm_plugins_argocd"] in found["entry_points"]  # type: ignore[operator]
    assert found["plugins"] == {"argocd": ["ok", None]}
    assert found["tools"] == ["argocd", "argocd-app"]
    assert progress[0] == "installing dtm-plugins-argocd with pip"
    assert any(line.startswith("Successfully installed dtm-plugins-argocd") for line in progress)


def test_hash_mismatch_installs_nothing_and_hides_credentials(
    throwaway_venv: Path, local_pypi: str, caplog: pytest.LogCaptureFixture
) -> None:
    # pypiserver runs without authentication and ignores these; dtm must still not show them.
    url = local_pypi.replace("http://", "http://alice:s3cret-token@")
    wrong = "sha256:" + "0" * 64

    with caplog.at_level("DEBUG", logger="dtm_core.installer"):
        with pytest.raises(InstallerError) as caught:
            install_distributions(
                [PluginRef("dtm-plugins-argocd", "==0.1.0", (wrong,))],
                python=str(throwaway_venv),
                index_url=url,
            )

    assert caught.value.message == HASH_MISMATCH
    assert caught.value.hint is not None and "--debug" in caught.value.hint
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    assert "0" * 64 in notes
    assert "s3cret-token" not in notes + caplog.text + str(caught.value.hint)
    assert _probe(throwaway_venv, "dtm-plugins-argocd") is None
