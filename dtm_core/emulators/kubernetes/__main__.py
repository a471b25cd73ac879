"""Run the Kubernetes emulator as a local sandbox: ``python -m dtm_core.emulators.kubernetes``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from .emulator import KubernetesEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dtm_core.emulators.kubernetes",
                                     description="A Kubernetes API emulator on 127.0.0.1, for offline work.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--kubeconfig", type=Path, help="write a kubeconfig for it to this path")
    parser.add_argument("--ready-delay", type=float, default=0.5,
                        help="seconds before workloads report ready (default: 0.5)")
    parser.add_argument("--token", help="require this bearer token (default: accept any)")
    parser.add_argument("--openapi-spec", type=Path,
                        help="a Kubernetes Swagger 2.0 description to serve and validate objects with "
                             "(default: $DTM_K8S_OPENAPI, else the emulator's own)")
    options = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with KubernetesEmulator(options.ready_delay, token=options.token, port=options.port,
                            openapi_spec=options.openapi_spec) as emulator:
        print(f"Kubernetes API emulator at {emulator.url}", flush=True)
        if options.kubeconfig:
            print(f"kubeconfig: {emulator.write_kubeconfig(options.kubeconfig)}", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
