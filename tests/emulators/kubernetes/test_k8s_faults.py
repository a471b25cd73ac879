"""The real kubectl meets injected faults: Status errors in the server's words, resets, 429 waits."""

from __future__ import annotations

from kubectl import Kubectl

from dtm_core.emulators.faults import FaultRates
from dtm_core.emulators.kubernetes import KubernetesEmulator


def test_kubectl_shows_the_status_of_an_injected_server_error(kubectl: Kubectl,
                                                              emulator: KubernetesEmulator) -> None:
    kubectl.ok("get", "namespaces")  # discovery is cached before the faults start
    emulator.faults.set(FaultRates(server_error=1.0), seed=0)  # this seed draws a 500
    failed = kubectl("get", "configmaps", "-n", "default")
    assert failed.returncode == 1
    assert failed.stderr == "Error from server (InternalError): Internal error occurred: injected fault\n"


def test_kubectl_sees_a_reset_connection(kubectl: Kubectl, emulator: KubernetesEmulator) -> None:
    kubectl.ok("get", "namespaces")
    emulator.faults.set(FaultRates(reset=1.0, after=0.0))
    failed = kubectl("create", "configmap", "app", "-n", "default")
    assert failed.returncode == 1 and failed.stderr.endswith("read: connection reset by peer\n")
    assert emulator.get("ConfigMap", "app", "default") is None
    assert emulator.faults.counts()["reset"] >= 1


def test_kubectl_waits_out_a_429_as_retry_after_asks_and_succeeds(kubectl: Kubectl,
                                                                  emulator: KubernetesEmulator) -> None:
    kubectl.ok("get", "namespaces")
    emulator.faults.set(FaultRates(throttle=0.5), seed=1)  # this seed throttles the first two requests
    kubectl.ok("create", "configmap", "app", "-n", "default")
    assert emulator.get("ConfigMap", "app", "default") is not None
    assert emulator.faults.counts()["throttle"] >= 1
