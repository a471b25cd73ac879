"""Run the GitHub emulator as a local sandbox: ``python -m dtm_core.emulators.github``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .emulator import GitHubEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dtm_core.emulators.github",
                                     description="A GitHub REST API emulator on 127.0.0.1, for offline work.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--user", default="dtm-sandbox",
                        help="login of the user to create (default: %(default)s)")
    parser.add_argument("--token", help="that user's token (default: a generated one, printed)")
    parser.add_argument("--scopes", default="repo,workflow,delete_repo,admin:repo_hook",
                        help="comma-separated scopes of the token (default: %(default)s)")
    parser.add_argument("--org", action="append", default=[],
                        help="an organisation the user administers (repeatable)")
    parser.add_argument("--rate-limit", type=int, default=5000,
                        help="requests per hour and user (default: %(default)s)")
    options = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with GitHubEmulator(rate_limit=options.rate_limit, port=options.port) as emulator:
        scopes = [scope.strip() for scope in options.scopes.split(",") if scope.strip()]
        token = emulator.add_user(options.user, token=options.token, scopes=scopes)
        for org in options.org:
            emulator.add_org(org, admins=[options.user])
        print(f"GitHub API emulator at {emulator.url}", flush=True)
        print(f"user: {options.user}  token: {token}  scopes: {', '.join(scopes)}", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
