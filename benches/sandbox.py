"""The benchmark venv: dtm installed from a wheel (not editable), as users get it, built offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Part of dtm, never a dependency: an editable finder alone adds ~13 ms to every start, and a
# plugin found here would make the benchmark measure plugin loading nobody asked for.
_DTM_OWN = re.compile(r"^(__editable__.*|dtm([-_.].*)?|dtm_plugins_.*)$", re.IGNORECASE)


class SandboxError(RuntimeError):
    """Building the benchmark venv failed; the message carries the command's output."""


@dataclass(frozen=True)
class Sandbox:
    """A venv under ``root`` with dtm installed; run everything from ``root`` (see ``env``)."""

    root: Path
    python: Path
    dtm: Path

    def env(self, home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """A clean environment: nothing from the caller that changes Python or dtm."""
        env = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("PYTHON", "DTM_", "VIRTUAL_ENV", "PIP_"))
        }
        env.update(DTM_HOME=str(home), DTM_LOAD_PLUGINS="")
        env.update(extra or {})
        return env


def build_sandbox(root: Path, repo: Path = REPO) -> Sandbox:
    """Create the venv, link the dev venv's dependencies in, build and install dtm's wheel."""
    root.mkdir(parents=True, exist_ok=True)
    farm = _dependency_farm(root / "dependencies")
    venv = root / "venv"
    # No pip of its own: the dev venv's pip is importable through the farm, and skipping
    # ensurepip saves seconds without changing what starting dtm costs.
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], root)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   root).strip()
    Path(purelib, "_dtm_bench_dependencies.pth").write_text(f"{farm}\n", encoding="utf-8")
    wheel = _build_wheel(repo, root)
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
         root)
    where = _run([str(python), "-c", "import dtm_core; print(dtm_core.__file__)"], root).strip()
    if not Path(where).is_relative_to(venv):
        raise SandboxError(f"dtm_core is imported from {where}, not from the benchmark venv")
    dtm = python.parent / ("dtm.exe" if sys.platform == "win32" else "dtm")
    return Sandbox(root, python, dtm)


def _dependency_farm(farm: Path) -> Path:
    """The dev venv's site-packages as symlinks, without dtm and its plugins."""
    farm.mkdir()
    paths = sysconfig.get_paths()
    for directory in dict.fromkeys((paths["purelib"], paths["platlib"])):
        for entry in Path(directory).iterdir():
            link = farm / entry.name
            if not _DTM_OWN.match(entry.name) and not link.exists():
                link.symlink_to(entry)
    return farm


def _build_wheel(repo: Path, root: Path) -> Path:
    """Build from a copy of what the wheel is made of, so the build never writes into the tree."""
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (repo / name).exists():
            shutil.copy2(repo / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist")
    shutil.copytree(repo / "dtm_core", source / "dtm_core", ignore=ignore)
    wheelhouse = root / "wheelhouse"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--quiet", str(source), "-w", str(wheelhouse)], root)
    wheels = sorted(wheelhouse.glob("dtm-*.whl"))
    if len(wheels) != 1:
        raise SandboxError(f"expected one dtm wheel in {wheelhouse}, found {len(wheels)}")
    return wheels[0]


def _run(command: list[str], cwd: Path) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        raise SandboxError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout
