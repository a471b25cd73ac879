"""End-to-end fixtures: built wheels, a real package index on loopback, a throwaway venv.

Everything is offline: wheels are built from the working tree without build isolation, and
the index and installers talk to 127.0.0.1 only. Tests that use these fixtures are marked
``slow`` automatically (``pytest -m "not slow"`` leaves them out).

``plugin_wheelhouse`` (session) -> ``dict[str, BuiltWheel]``
    Wheels of ``dtm`` and of the seed plugin distributions, keyed by distribution name
    (``"dtm"``, ``"dtm-plugins-argocd"`` …). A :class:`BuiltWheel` has ``distribution``,
    ``version``, ``path``, ``sha256`` (hex) and ``hash`` (``sha256:<hex>``, as a registry
    lists it). All wheels sit in one directory, ``wheel.path.parent``.
``local_pypi`` (session) -> ``str``
    The ``/simple/`` URL of a pypiserver on 127.0.0.1 serving the wheelhouse, with no
    fallback to pypi.org. Pass it as ``index_url=`` or ``DTM_PACKAGE_INDEX_URL``.
``tampered_pypi`` (session) -> ``str``
    The same for a compromised mirror: every wheel of the wheelhouse under its own name and
    version, but with other bytes (so another sha256) than the one ``plugin_wheelhouse`` lists.
``throwaway_venv`` (per test) -> ``Path``
    The python of a fresh venv that has pip, the built ``dtm`` wheel (so its ``dtm`` console
    script is ``throwaway_venv.parent / "dtm"``) and no plugin. dtm's dependencies come from
    the dev venv through a ``.pth`` file pointing at a copy of its site-packages made of
    symlinks that leaves out dtm and every ``dtm-plugins-*``: plugins installed in the dev
    venv can never make a test here pass by accident.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN_FOLDERS = (
    "dtm_plugins_github", "dtm_plugins_argocd", "dtm_plugins_jenkins", "examples/dtm-plugins-demo",
)
E2E_FIXTURES = frozenset({"plugin_wheelhouse", "local_pypi", "tampered_pypi", "throwaway_venv"})
# Built without isolation, so the build backend comes from the dev venv; setuptools ships
# bdist_wheel itself from 70.1 on (earlier ones need the separate wheel package).
_BUILD_HINT = "the dev venv needs setuptools>=70.1 (pip install 'setuptools>=70.1')"


class BuiltWheel(NamedTuple):
    distribution: str
    version: str
    path: Path
    sha256: str

    @property
    def hash(self) -> str:
        return f"sha256:{self.sha256}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.path.is_relative_to(here) and fixtures & E2E_FIXTURES:
            item.add_marker(pytest.mark.slow)


def _offline_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    # Loopback must never go through a proxy configured for the outside world.
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _copy_sources(folder: Path, target: Path) -> Path:
    """Copy a distribution's sources so the build never writes into the shared working tree."""
    ignore = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".*")
    if folder == REPO:
        # The root is also the workspace: take only what the dtm wheel is made of.
        target.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (REPO / name).exists():
                shutil.copy2(REPO / name, target / name)
        shutil.copytree(REPO / "dtm_core", target / "dtm_core", ignore=ignore)
    else:
        shutil.copytree(folder, target, ignore=ignore)
    return target


def _wheel_of(path: Path) -> BuiltWheel:
    name, version = path.name.split("-")[:2]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return BuiltWheel(re.sub(r"[-_.]+", "-", name).lower(), version, path, digest)


@pytest.fixture(scope="session")
def plugin_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuiltWheel]:
    """Wheels of dtm and the seed plugins, built in parallel from copies of their folders."""
    sources = tmp_path_factory.mktemp("sources")
    wheelhouse = tmp_path_factory.mktemp("wheelhouse")
    logs = tmp_path_factory.mktemp("build-logs")
    builds: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    for folder in (REPO, *(REPO / name for name in PLUGIN_FOLDERS)):
        label = "dtm" if folder == REPO else folder.name
        source = _copy_sources(folder, sources / label)
        log_path = logs / f"{label}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "--no-index", str(source), "-w", str(wheelhouse)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=_offline_env(),
            )
        builds.append((label, proc, log_path))
    failed = [(label, log) for label, proc, log in builds if proc.wait(timeout=180) != 0]
    if failed:
        label, log_path = failed[0]
        output = log_path.read_text(errors="replace")
        hint = f"\n{_BUILD_HINT}" if "bdist_wheel" in output else ""
        pytest.fail(f"building the {label} wheel failed:\n{output[-3000:]}{hint}")
    wheels = [_wheel_of(path) for path in sorted(wheelhouse.glob("*.whl"))]
    return {wheel.distribution: wheel for wheel in wheels}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def local_pypi(
    plugin_wheelhouse: dict[str, BuiltWheel], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A pypiserver on 127.0.0.1 serving the wheelhouse; yields its ``/simple/`` URL."""
    directory = next(iter(plugin_wheelhouse.values())).path.parent
    with _pypiserver(directory, tmp_path_factory.mktemp("pypiserver")) as url:
        yield url


@pytest.fixture(scope="session")
def tampered_pypi(
    plugin_wheelhouse: dict[str, BuiltWheel], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A pypiserver serving a tampered copy of every wheel; yields its ``/simple/`` URL."""
    directory = tmp_path_factory.mktemp("tampered-wheelhouse")
    for wheel in plugin_wheelhouse.values():
        copy = directory / wheel.path.name
        shutil.copyfile(wheel.path, copy)
        # Still a valid wheel that installs (an attacker's would), only its bytes differ.
        with zipfile.ZipFile(copy, "a") as archive:
            archive.comment = b"tampered on the mirror"
    with _pypiserver(directory, tmp_path_factory.mktemp("tampered-pypiserver")) as url:
        yield url


@contextmanager
def _pypiserver(directory: Path, log_dir: Path) -> Iterator[str]:
    port = _free_port()
    log_path = log_dir / "pypiserver.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "pypiserver", "run", "-p", str(port), "-i", "127.0.0.1",
             "-a", ".", "-P", ".", "--disable-fallback", "--hash-algo", "sha256",
             str(directory)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}/simple/"
    try:
        deadline = time.monotonic() + 30
        while not _answers(url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"pypiserver did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _is_dtm_own(entry: str) -> bool:
    name = entry.lower()
    return name.startswith("__editable__") or re.match(r"dtm([-_.]|$)", name) is not None


@pytest.fixture(scope="session")
def _dev_dependencies_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dev venv's site-packages as symlinks, without dtm and plugin distributions."""
    farm = tmp_path_factory.mktemp("dev-site-packages")
    paths = sysconfig.get_paths()
    for directory in dict.fromkeys((paths["purelib"], paths["platlib"])):
        for entry in Path(directory).iterdir():
            link = farm / entry.name
            if not _is_dtm_own(entry.name) and not link.exists():
                link.symlink_to(entry)
    return farm


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, env=_offline_env(),
                          stdin=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@pytest.fixture
def throwaway_venv(
    tmp_path: Path, plugin_wheelhouse: dict[str, BuiltWheel], _dev_dependencies_site: Path
) -> Path:
    """A fresh venv with pip and the built dtm wheel; yields its python."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = _venv_python(venv)
    site = Path(_run([str(python), "-c",
                      "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    (site / "_dtm_dev_dependencies.pth").write_text(f"{_dev_dependencies_site}\n")
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
          str(plugin_wheelhouse["dtm"].path)])
    return python
