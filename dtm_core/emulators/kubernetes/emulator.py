"""``KubernetesEmulator``: the API server, its store and controllers on a loopback port, with test hooks."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..faults import FaultPlan, FaultRates
from ..serving import Emulator, Serving
from .api import Api, WriteOptions
from .controller import Controller
from .handler import EmulatorServer
from .openapi import openapi_for
from .resources import Registry
from .routing import Rule, ServerState
from .store import Store, clone

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
SERVER_VERSION = "v1.36.0"  # the release whose behaviour the emulator follows
OPENAPI_ENV = "DTM_K8S_OPENAPI"


def openapi_spec_path(given: str | Path | None) -> Path | None:
    """The vendor OpenAPI description to use: ``given``, else ``$DTM_K8S_OPENAPI``, else none."""
    if given is None:
        given = os.environ.get(OPENAPI_ENV) or None
    return None if given is None else Path(given).expanduser().resolve()


class KubernetesEmulator(Emulator):
    """A Kubernetes API server for tests and the offline sandbox.

    ``token``: when set, requests must carry ``Authorization: Bearer <token>`` (others get 401);
    by default any caller is accepted. ``ready_delay``: seconds after each spec change before
    Deployments, StatefulSets and Argo CD Applications report ready.

    ``openapi_spec``: a Kubernetes Swagger 2.0 description (a real server's ``/openapi/v2``), by
    default the file ``$DTM_K8S_OPENAPI`` names. With one, the emulator serves it and judges
    objects by its schemas (unknown fields, list merge keys); without, it serves a description
    it writes itself from the kinds it knows, whose objects keep any field they are sent.
    """

    def __init__(self, ready_delay: float = 0.5, *, token: str | None = None, username: str = "dtm-sandbox",
                 host: str = "127.0.0.1", port: int = 0, version: str = SERVER_VERSION,
                 openapi_spec: Path | None = None,
                 faults: FaultRates | None = None, fault_seed: int = 0) -> None:
        self.faults = FaultPlan(faults, seed=fault_seed)
        self.openapi_spec = openapi_spec_path(openapi_spec)
        openapi = openapi_for(self.openapi_spec)
        self.store = Store()
        self.registry = Registry()
        self.api = Api(self.store, self.registry, openapi.schemas)
        self._state = ServerState(api=self.api, openapi=openapi, version=version, token=token,
                                  username=username)
        self._address = (host, port)
        self._serving: Serving | None = None
        self._controller = Controller(self.api, ready_delay)
        namespaces = self.registry.lookup("", "v1", "namespaces")
        assert namespaces is not None
        for name in DEFAULT_NAMESPACES:
            self.api.create(namespaces, "", {"metadata": {"name": name}},
                            WriteOptions(manager="kube-apiserver"))

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def ready_delay(self) -> float:
        """Seconds after each spec change before a workload reports ready; settable while running."""
        return self._controller.ready_delay

    @ready_delay.setter
    def ready_delay(self, seconds: float) -> None:
        self._controller.ready_delay = seconds

    def start(self) -> KubernetesEmulator:
        self._serving = Serving(EmulatorServer(self._address, self._state), "k8s-emulator-http",
                                self.faults)
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
        self.store.close()  # ends open watches
        super().stop()

    @property
    def url(self) -> str:
        if self._serving is None:
            raise RuntimeError("the emulator is not started")
        return self._serving.root

    @property
    def token(self) -> str:
        """The token clients should send (any token passes when none was required)."""
        return self._state.token or "dtm-sandbox-token"

    def write_kubeconfig(self, path: str | Path, *, context: str = "dtm-sandbox",
                         namespace: str = "default") -> Path:
        """Write a kubeconfig whose current context talks to this emulator with a bearer token."""
        config = {
            "apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": context,
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": self._state.username, "user": {"token": self.token}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": self._state.username,
                                                        "namespace": namespace}}],
        }
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")  # JSON is valid YAML
        target.chmod(0o600)
        return target

    # -- in-process access for tests ---------------------------------------------------------------

    def objects(self, kind: str | None = None, namespace: str | None = None) -> list[dict[str, Any]]:
        """Copies of stored objects, of one kind (Kind, plural or short name) or all of them."""
        with self.store.lock:
            if kind is None:
                pairs = self.store.group_resources()
            else:
                rtype = self.registry.find(kind)
                pairs = [] if rtype is None else [(rtype.group, rtype.plural)]
            found = []
            for group, plural in pairs:
                served = self.registry.served(group, plural)
                for obj in self.store.items(group, plural, namespace):
                    found.append(self.api.render(served[0], obj) if served else clone(obj))
            return found

    def get(self, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        """A copy of one stored object, or None."""
        found = [obj for obj in self.objects(kind, namespace or None) if obj["metadata"]["name"] == name]
        return found[0] if found else None

    @property
    def requests(self) -> list[tuple[str, str]]:
        """The (method, path with query) of recent requests, oldest first."""
        return list(self._state.requests)

    # -- fault hooks -------------------------------------------------------------------------------

    def fail_next(self, method: str, path_prefix: str, status: int, *, times: int = 1) -> None:
        """Answer the next ``times`` requests matching with a Status of ``status`` (method ``*``: any)."""
        self._state.faults.append(Rule(method.upper(), path_prefix, status, times=times))

    def forbid(self, verb: str, resource: str, *, namespace: str | None = None) -> None:
        """Deny ``verb`` (``*``: all) on a resource plural (``*``: all) with the real 403 Status."""
        self._state.denials.append(Rule(verb, resource, 403, namespace))

    def clear_hooks(self) -> None:
        self._state.faults.clear()
        self._state.denials.clear()
