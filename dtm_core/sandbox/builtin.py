"""The core's own sandbox services, contributed through the same hook a third-party plugin uses.

The background process registers :class:`CoreServices` as the plugin ``dtm`` before asking for
services, so the emulators dtm ships with and a plugin's own service start the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..emulators.faults import FaultRates
from ..hookspecs import hookimpl
from .github import GitHubService
from .jenkins import JenkinsService
from .kubernetes import KubernetesService
from .mirror import ReleaseMirror
from .service import SandboxService

#: The plugin name the core's services are listed under (and come first as).
PLUGIN_NAME = "dtm"


class CoreServices:
    """Hook implementation object: Kubernetes, GitHub and Jenkins emulators, and the release mirror.

    ``faults`` (``dtm sandbox up --faults``) makes the three emulators inject random faults.
    """

    def __init__(self, mirror_dir: Path | None = None, faults: FaultRates | None = None,
                 fault_seed: int = 0) -> None:
        self.mirror_dir = mirror_dir
        self.faults = faults
        self.fault_seed = fault_seed

    @hookimpl
    def dtm_sandbox_services(self) -> Sequence[SandboxService]:
        faults, seed = self.faults, self.fault_seed
        return [KubernetesService(faults=faults, fault_seed=seed), GitHubService(faults, seed),
                JenkinsService(faults, seed), ReleaseMirror(self.mirror_dir)]
