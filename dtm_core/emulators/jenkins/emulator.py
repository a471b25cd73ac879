"""``JenkinsEmulator``: a Jenkins controller's remote API on a loopback port, with hooks for tests."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..faults import FaultPlan, FaultRates
from ..serving import Emulator, Serving
from .handler import EmulatorServer
from .items import Item
from .state import Fault, ServerState

JENKINS_VERSION = "2.541.3"  # the LTS line whose remote API the emulator follows


class JenkinsEmulator(Emulator):
    """A Jenkins remote API for tests and the offline sandbox.

    Security is that of a default installation: every request must authenticate with HTTP Basic, as
    ``admin_user`` (or a user from ``add_user``) with a password or an API token; anonymous callers get
    403, wrong credentials 401. With ``crumbs`` (the default) a POST authenticated by password needs the
    crumb from ``/crumbIssuer/api/json`` and the session cookie that came with it; API tokens need neither.
    For ``ready_after`` seconds after ``start`` every URL answers 503, as Jenkins does while it starts.
    """

    def __init__(self, *, version: str = JENKINS_VERSION, admin_user: str = "admin",
                 admin_password: str = "admin", crumbs: bool = True, ready_after: float = 0.0,
                 port: int = 0,
                 faults: FaultRates | None = None, fault_seed: int = 0) -> None:
        self.faults = FaultPlan(faults, seed=fault_seed)
        self._state = ServerState(version=version, crumbs=crumbs, ready_after=ready_after)
        self._state.security.add_user(admin_user, admin_password, None)
        self._address = ("127.0.0.1", port)
        self._serving: Serving | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> JenkinsEmulator:
        server = EmulatorServer(self._address, self._state)
        host, port = server.server_address[:2]
        with self._state.lock:
            self._state.base_url = f"http://{host!s}:{port}/"
            self._state.started_at = time.monotonic()
        self._serving = Serving(server, "jenkins-emulator-http", self.faults)
        return self

    @property
    def url(self) -> str:
        """The root URL, with a trailing slash: ``http://127.0.0.1:<port>/``."""
        if self._serving is None:
            raise RuntimeError("the emulator is not started")
        return self._state.base_url

    # -- users -------------------------------------------------------------------------------------

    def add_user(self, user: str, *, password: str | None = None, api_token: str | None = None) -> None:
        """Add a user (or give an existing one a new password or another API token)."""
        with self._state.lock:
            self._state.security.add_user(user, password, api_token)

    def api_token(self, user: str) -> str:
        """The user's API token, generating one if the user has none (KeyError for an unknown user)."""
        with self._state.lock:
            return self._state.security.api_token(user)

    # -- in-process access for tests ---------------------------------------------------------------

    def jobs(self) -> dict[str, str]:
        """Every job's full name ("team/app") and config.xml text; folders are not jobs."""
        with self._state.lock:
            return self._state.tree.jobs()

    def folders(self) -> list[str]:
        with self._state.lock:
            return self._state.tree.folders()

    def job_config(self, full_name: str) -> str | None:
        """The config.xml of a job or folder, or None."""
        with self._state.lock:
            item = self._state.tree.find(full_name)
            return None if item is None or item.config is None else item.config.text

    def builds(self, full_name: str) -> list[dict[str, Any]]:
        """The builds triggered on a job, oldest first: ``{"number", "queue_id", "params"}``.

        ``params`` is None for a job without parameters. A build is listed from its trigger on, while
        its queue item still waits; triggers folded into a waiting item add none. KeyError if there is
        no such job.
        """
        with self._state.lock:
            item = self._job(full_name)
            return [{"number": build.number, "queue_id": build.queue_id,
                     "params": None if build.params is None else dict(build.params)} for build in item.builds]

    def delete_job(self, full_name: str) -> None:
        """Delete a job or folder behind the client's back (KeyError if there is none)."""
        with self._state.lock:
            item = self._state.tree.find(full_name)
            if item is None or item.parent is None:
                raise KeyError(f"no such Jenkins item: {full_name!r}")
            self._state.queue.forget(item)
            self._state.tree.delete(item)

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path with query) of every request, oldest first (the last 10,000)."""
        with self._state.lock:
            return list(self._state.requests)

    def writes(self) -> list[tuple[str, str]]:
        """The POST and DELETE requests among ``requests``."""
        return [request for request in self.requests if request[0] in ("POST", "DELETE")]

    # -- fault hooks -------------------------------------------------------------------------------

    def fail_next(self, method: str, path_prefix: str, status: int, *, times: int = 1,
                  headers: Mapping[str, str] | None = None, after: bool = False) -> None:
        """Answer the next ``times`` requests whose path starts with ``path_prefix`` with ``status``.

        ``method`` ``*`` matches any method. The answer is the servlet container's error page, with
        ``headers`` added (a ``Retry-After``, say). Faults apply before start-up and security checks;
        with ``after`` the request is carried out first (a proxy's 502 for a job that was created).
        Random faults: ``faults``.
        """
        prefix = path_prefix if path_prefix.startswith("/") else "/" + path_prefix
        with self._state.lock:
            self._state.faults.append(Fault(method.upper(), prefix, status, times,
                                            list((headers or {}).items()), after))

    def _job(self, full_name: str) -> Item:
        item = self._state.tree.find(full_name)
        if item is None or item.is_group:
            raise KeyError(f"no such Jenkins job: {full_name!r}")
        return item
