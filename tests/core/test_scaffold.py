"""``dtm plugins new``: the names it derives, the distribution it writes, and that it works as written.

The generated plugin's own tests run in a subprocess with this venv's pytest (the plugin is
loaded in place through ``DTM_PLUGINS``, as its conftest arranges); the end-to-end test in
``tests/e2e/test_plugin_template.py`` builds, publishes and installs it instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from dtm_core.errors import InvalidInputError
from dtm_core.scaffold import dtm_requirement, new_plugin, plugin_names, render_template, template_values
from dtm_core.version import PLUGIN_API_VERSION, __version__

REPO = Path(__file__).resolve().parents[2]
FILES = [".gitignore", "README.md", "dtm_plugins_bucket/__init__.py", "dtm_plugins_bucket/py.typed",
         "dtm_plugins_bucket/tool.py", "pyproject.toml", "registry.json", "tests/conftest.py",
         "tests/test_tool.py", "tests/test_with_dtm.py"]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DTM_", "PYTEST_"))}
    env.update(PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


@pytest.mark.parametrize(("given", "tool", "expected"), [
    ("bucket", None, ("bucket", "bucket", "dtm-plugins-bucket", "dtm_plugins_bucket", "Bucket")),
    ("dtm-plugins-object-store", None,
     ("object-store", "object-store", "dtm-plugins-object-store", "dtm_plugins_object_store", "ObjectStore")),
    ("acme", "3d-printer", ("acme", "3d-printer", "dtm-plugins-acme", "dtm_plugins_acme", "Tool3dPrinter")),
])
def test_one_name_gives_every_name(given: str, tool: str | None, expected: tuple[str, ...]) -> None:
    names = plugin_names(given, tool)
    assert (names.name, names.tool, names.distribution, names.module, names.class_name) == expected
    assert names.entry_point == names.name


@pytest.mark.parametrize("bad", ["", "Bucket", "my_tool", "a--b", "-a", "a-", "dtm-plugins-", "a.b"])
def test_a_name_that_fits_nowhere_is_refused_with_a_hint(bad: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        plugin_names(bad)
    assert caught.value.message == f"{bad.removeprefix('dtm-plugins-')!r} is not a valid plugin name"
    assert caught.value.hint is not None and "e.g. 'bucket'" in caught.value.hint
    with pytest.raises(InvalidInputError, match="not a valid tool name"):
        plugin_names("fine", tool=bad or "UPPER")


def test_the_dtm_requirement_is_this_minor_up_to_the_next_major() -> None:
    assert dtm_requirement("0.1.0") == "dtm>=0.1,<1"
    assert dtm_requirement("1.4.2") == "dtm>=1.4,<2"
    assert dtm_requirement("2.0.0.dev3") == "dtm>=2.0,<3"
    demo = tomllib.loads((REPO / "examples" / "dtm-plugins-demo" / "pyproject.toml").read_text())
    assert demo["project"]["dependencies"] == [dtm_requirement(__version__)]  # as the seed plugins say


def test_the_template_renders_every_file_filled_in() -> None:
    names = plugin_names("bucket")
    files = render_template(template_values(names))

    assert sorted(files) == FILES
    for path, data in files.items():
        text = data.decode()
        assert "${" not in text and "_module_" not in text, path
    project = tomllib.loads(files["pyproject.toml"].decode())
    assert project["project"]["name"] == "dtm-plugins-bucket"
    assert project["project"]["dependencies"] == [dtm_requirement()]
    assert project["project"]["entry-points"] == {"dtm": {"bucket": "dtm_plugins_bucket"}}
    assert project["tool"]["setuptools"]["packages"] == ["dtm_plugins_bucket"]
    assert f"plugin API {PLUGIN_API_VERSION}" in files["pyproject.toml"].decode()
    index = json.loads(files["registry.json"])
    assert index["tools"]["bucket"]["versions"]["0.1.0"]["plugin"]["distribution"] == "dtm-plugins-bucket"
    assert 'name = "bucket"' in files["dtm_plugins_bucket/tool.py"].decode()
    assert files["dtm_plugins_bucket/py.typed"] == b""


def test_the_cli_writes_the_distribution_and_lists_its_files(dtm_cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "out"
    result = dtm_cli("plugins", "new", "bucket", "--tool", "object-store", "--dir", str(target))

    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [str(target / name) for name in FILES]
    assert "wrote dtm-plugins-bucket (tool object-store) in" in result.stderr
    assert sorted(str(p.relative_to(target).as_posix()) for p in target.rglob("*") if p.is_file()) == FILES
    assert 'name = "object-store"' in (target / "dtm_plugins_bucket" / "tool.py").read_text()
    assert "class ObjectStore(ToolKind):" in (target / "dtm_plugins_bucket" / "tool.py").read_text()


def test_the_default_folder_is_named_after_the_distribution_and_plugin_is_an_alias(
        dtm_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = dtm_cli("plugin", "new", "dtm-plugins-bucket")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "dtm-plugins-bucket" / "dtm_plugins_bucket" / "__init__.py").is_file()


def test_an_occupied_folder_is_refused_and_left_alone(dtm_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    result = dtm_cli("plugins", "new", "bucket", "--dir", str(tmp_path))
    assert result.exit_code == 3
    assert result.stderr == (f"error: {tmp_path} already exists and is not an empty directory\n"
                             "hint: choose another folder with --dir, or remove it first\n")
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
    (tmp_path / "empty").mkdir()
    assert new_plugin("bucket", directory=tmp_path / "empty").files == FILES  # an empty one is fine


def test_a_bad_name_is_a_usage_error(dtm_cli: Any, tmp_path: Path) -> None:
    result = dtm_cli("plugins", "new", "My_Bucket", "--dir", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: 'My_Bucket' is not a valid plugin name\n")
    assert not (tmp_path / "x").exists()


def test_the_generated_plugin_passes_its_own_tests_out_of_the_box(tmp_path: Path) -> None:
    made = new_plugin("bucket", directory=tmp_path / "dtm-plugins-bucket", tool="object-store")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=made.directory, env=_clean_env(), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 passed" in done.stdout


def test_the_generated_code_passes_ruff_and_mypy_strict(tmp_path: Path) -> None:
    tools = [shutil.which(name, path=str(Path(sys.executable).parent)) for name in ("ruff", "mypy")]
    if None in tools:
        pytest.skip("ruff and mypy come with the 'test' extra")
    made = new_plugin("object-store", directory=tmp_path / "plugin")
    # The generated pyproject.toml configures both; MYPYPATH finds this checkout's dtm_core even
    # where it is installed in editable mode (an import hook mypy cannot follow).
    for command in ([tools[0], "check", "--no-cache", "."],
                    [tools[1], "--no-incremental", "--cache-dir", os.devnull,
                     "dtm_plugins_object_store", "tests"]):
        done = subprocess.run(command, cwd=made.directory, env=_clean_env(MYPYPATH=str(REPO)),
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_a_cold_search_never_imports_the_scaffold(tmp_path: Path) -> None:
    env = _clean_env(DTM_HOME=str(tmp_path), DTM_LOAD_PLUGINS="")
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "dtm_core", "search", "argocd"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "argocd" in done.stdout
    assert "dtm_core.scaffold" not in done.stderr
    assert "dtm_core.cli.plugins" not in done.stderr
