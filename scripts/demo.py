"""The package-manager flow end to end, offline: a demo plugin served from a local package index.

Builds the demo plugin's wheel, lists it (with its sha256) in a demo registry, serves it with
pypiserver on loopback, and runs dtm against a throwaway home: search, info, install (which
installs the plugin distribution itself, hash-checked), list, a refused remove, a cascading
remove, history and undo. Run through ``bash scripts/demo.sh``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "examples" / "dtm-plugins-demo"
DTM = [sys.executable, "-m", "dtm_core"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_wheel(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", str(PLUGIN), "-w", str(out)], check=True)
    return next(out.glob("dtm_plugins_demo-*.whl"))


def write_registry(path: Path, wheel: Path) -> None:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    plugin = {"distribution": "dtm-plugins-demo", "version": "==0.1.0",
              "hashes": [f"sha256:{digest}"]}
    version = {"dependencies": [], "conflicts": [], "plugin": plugin, "dtm": ">=0.2,<1"}
    registry = {"format": 1, "name": "demo", "tools": {
        "demo-db": {"description": "A demo database kept as a JSON file", "kind": "tool",
                    "tags": ["database", "demo"], "homepage": "",
                    "versions": {"15.0": version, "16.1": version}},
        "demo-app": {"description": "A demo application that needs demo-db", "kind": "tool",
                     "tags": ["app", "demo"], "homepage": "",
                     "versions": {"1.0.0": dict(version, dependencies=["demo-db>=16"])}},
    }}
    path.write_text(json.dumps(registry, indent=2))


def serve(wheelhouse: Path, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port),
         "-a", ".", "-P", ".", str(wheelhouse)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/simple/", timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("the local package index did not start")


def dtm(env: dict[str, str], *args: str, expect: int = 0) -> None:
    print(f"\n$ dtm {shlex.join(args)}", flush=True)
    code = subprocess.run([*DTM, *args], env=env).returncode
    if code != expect:
        raise SystemExit(f"demo failed: 'dtm {shlex.join(args)}' exited {code}, expected {expect}")
    if expect:
        print(f"(exit code {code}, as expected)", flush=True)


def main() -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dtm-demo-") as tmp:
        root = Path(tmp)
        wheelhouse = root / "wheels"
        wheel = build_wheel(wheelhouse)
        write_registry(root / "registry.json", wheel)
        port = free_port()
        server = serve(wheelhouse, port)
        env = dict(os.environ, DTM_HOME=str(root / "home"), DTM_REGISTRY=str(root / "registry.json"),
                   DTM_PACKAGE_INDEX_URL=f"http://127.0.0.1:{port}/simple/",
                   DTM_DEMO_ROOT=str(root / "resources"))
        try:
            dtm(env, "search", "demo")
            dtm(env, "info", "demo-app")
            dtm(env, "install", "demo-app", "--set", "replicas=2", "-y")
            print(f"\n$ ls -R {root / 'resources'}")
            for file in sorted((root / "resources").rglob("*.json")):
                print(f"  {file.relative_to(root)}: {file.read_text().strip()}")
            dtm(env, "list")
            dtm(env, "remove", "demo-db", "-y", expect=3)
            dtm(env, "remove", "demo-db", "--cascade", "-y")
            dtm(env, "history")
            dtm(env, "history", "undo", "2", "-y")
            dtm(env, "list", "-o", "json")
            dtm(env, "plugins", "uninstall", "dtm-plugins-demo", "--force", "-y")
        finally:
            server.terminate()
            server.wait()
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
