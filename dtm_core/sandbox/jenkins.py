"""The sandbox's Jenkins: the remote-API emulator with a generated admin password and API token.

With ``--persist`` folders and jobs are saved on stop as their ``config.xml`` and created
again on the next start through Jenkins' own ``createItem`` API; builds are not kept.
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .service import RunningService, SandboxService

if TYPE_CHECKING:
    from ..emulators.faults import FaultRates
    from ..emulators.jenkins import JenkinsEmulator

ADMIN = "admin"
SNAPSHOT = "items.json"


class JenkinsService(SandboxService):
    name = "jenkins"
    description = f"Jenkins remote-API emulator (user {ADMIN}; dtm's Jenkins tools)"

    def __init__(self, faults: FaultRates | None = None, fault_seed: int = 0) -> None:
        self.faults = faults
        self.fault_seed = fault_seed

    def start(self, workdir: Path, persist: bool) -> RunningService:
        from ..emulators.jenkins import JenkinsEmulator
        from ..secrets import Secret

        password = secrets.token_urlsafe(18)
        emulator = JenkinsEmulator(admin_user=ADMIN, admin_password=password).start()
        token = emulator.api_token(ADMIN)
        snapshot = workdir / SNAPSHOT
        if persist and snapshot.exists():
            restore(emulator, token, json.loads(snapshot.read_text(encoding="utf-8")))
        emulator.faults.set(self.faults, seed=self.fault_seed)  # after the restore, which is a client too
        # The names Jenkins' own CLI reads (jenkins-cli.jar: JENKINS_URL, JENKINS_USER_ID,
        # JENKINS_API_TOKEN); the password is for the web UI.
        env = {"JENKINS_URL": emulator.url, "JENKINS_USER_ID": ADMIN, "JENKINS_API_TOKEN": Secret(token),
               "JENKINS_PASSWORD": Secret(password)}
        return RunningJenkins(emulator, snapshot if persist else None, env)


class RunningJenkins(RunningService):
    def __init__(self, emulator: JenkinsEmulator, snapshot: Path | None, env: dict[str, Any]) -> None:
        super().__init__({"url": emulator.url}, env)
        self.emulator = emulator
        self.snapshot = snapshot

    def summary(self) -> dict[str, Any]:
        return {"user": ADMIN, "folders": [f for f in self.emulator.folders() if f],
                "jobs": sorted(self.emulator.jobs()), **self.emulator.faults.summary()}

    def stop(self) -> None:
        if self.snapshot is not None:
            names = [f for f in self.emulator.folders() if f] + list(self.emulator.jobs())
            items = {name: self.emulator.job_config(name) for name in names}
            self.snapshot.write_text(json.dumps({"format": 1, "items": items}), encoding="utf-8")
        self.emulator.stop()


def restore(emulator: JenkinsEmulator, token: str, data: dict[str, Any]) -> None:
    """Create each saved item again, parents first, as a client would: ``POST createItem``."""
    from urllib.request import Request, urlopen

    auth = base64.b64encode(f"{ADMIN}:{token}".encode()).decode()
    items: dict[str, str | None] = data.get("items") or {}
    for full_name in sorted(items, key=lambda name: name.count("/")):
        config = items[full_name]
        if config is None:
            continue
        *parents, leaf = full_name.split("/")
        where = "".join(f"job/{quote(part, safe='')}/" for part in parents)
        request = Request(f"{emulator.url}{where}createItem?name={quote(leaf, safe='')}",
                          data=config.encode("utf-8"), method="POST",
                          headers={"Authorization": f"Basic {auth}", "Content-Type": "application/xml"})
        with urlopen(request, timeout=10) as reply:
            reply.read()
