"""Run the Jenkins emulator as a local sandbox: ``python -m dtm_core.emulators.jenkins``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .emulator import JenkinsEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dtm_core.emulators.jenkins",
                                     description="A Jenkins remote-API emulator on 127.0.0.1, offline.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--user", default="admin", help="the administrator's user name (default: admin)")
    parser.add_argument("--password", default="admin", help="the administrator's password (default: admin)")
    parser.add_argument("--no-crumbs", action="store_true",
                        help="run without a crumb issuer (no CSRF protection)")
    options = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with JenkinsEmulator(admin_user=options.user, admin_password=options.password,
                         crumbs=not options.no_crumbs, port=options.port) as emulator:
        print(f"Jenkins emulator at {emulator.url}", flush=True)
        print(f"user {options.user}, API token {emulator.api_token(options.user)}", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
