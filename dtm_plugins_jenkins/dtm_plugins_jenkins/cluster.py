"""The cluster options Jenkins tools share, the Kubernetes client they give, and resource quantities."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from dtm_core import KubeClient, Option, ToolContext, load_kube_client

KUBECONFIG = Option("kubeconfig", description="kubeconfig file; KUBECONFIG or ~/.kube/config when unset")
CONTEXT = Option("context", description="kubeconfig context; the current one when unset")

# A Kubernetes resource quantity (k8s.io/apimachinery resource.Quantity): a decimal number, then a
# binary suffix (Ki … Ei), a decimal suffix (n u m k M G T P E) or a decimal exponent (e3).
_QUANTITY = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
                       r"(?P<suffix>[KMGTPE]i|[numkMGTPE]|[eE][-+]?[0-9]+)?")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def kube_client(ctx: ToolContext) -> KubeClient:
    """A client for the cluster the options (or the environment, as kubectl reads it) select."""
    return load_kube_client(ctx.environ, kubeconfig=ctx.options.get("kubeconfig"),
                            context=ctx.options.get("context"), progress=ctx.progress)


def quantity(text: str) -> Decimal | None:
    """The value of a Kubernetes quantity (``8Gi``, ``500m``, ``1.5``), or None when it is not one."""
    match = _QUANTITY.fullmatch(text.strip())
    if match is None:
        return None
    try:
        number = Decimal(match["number"])
    except InvalidOperation:
        return None
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * Decimal(1024 ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    return number.scaleb(int(suffix[1:])) if suffix else number


def same_quantity(live: object, wanted: object) -> bool:
    """Whether two quantities are equal in value: the API server rewrites ``0.5`` as ``500m``."""
    if live is None or wanted is None:
        return live is wanted
    parsed = quantity(str(live)), quantity(str(wanted))
    return parsed[0] is not None and parsed[0] == parsed[1]
