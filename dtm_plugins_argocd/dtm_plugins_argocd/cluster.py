"""The cluster options both Argo CD tools share, and the Kubernetes client they give."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from dtm_core import KubeClient, OperationError, Option, ToolContext, load_kube_client

T = TypeVar("T")

KUBECONFIG = Option("kubeconfig", description="kubeconfig file; KUBECONFIG or ~/.kube/config when unset")
CONTEXT = Option("context", description="kubeconfig context; the current one when unset")


def kube_client(ctx: ToolContext) -> KubeClient:
    """A client for the cluster the options (or the environment, as kubectl reads it) select."""
    return load_kube_client(ctx.environ, kubeconfig=ctx.options.get("kubeconfig"),
                            context=ctx.options.get("context"), progress=ctx.progress)


def wait_for(check: Callable[[], T | None], *, timeout: float, poll: float, waiting: Callable[[], str],
             hint: str) -> T:
    """Poll ``check`` until it returns something; after ``timeout`` seconds, fail naming what is awaited."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        if time.monotonic() >= deadline:
            raise OperationError(f"timed out after {timeout:g} s waiting for {waiting()}", hint=hint)
        time.sleep(max(0.0, min(poll, deadline - time.monotonic())))
