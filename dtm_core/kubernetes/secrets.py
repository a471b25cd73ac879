"""The ``k8s-secret:`` secret scheme: a value held in a Kubernetes Secret, read only when needed.

Tools installed into a cluster often generate credentials there (Argo CD's initial admin
password). Their plugins return a reference instead of the value, so state and output never
hold it::

    k8s-secret:argocd/argocd-initial-admin-secret/password?context=kind-dev

``namespace/name/key``, then optionally ``context`` and ``kubeconfig`` as a query, because
context names may contain ``/`` or ``@`` (``kubernetes-admin@kubernetes``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import parse_qs, quote, unquote, urlencode

from ..errors import InvalidInputError, OperationError
from ..secrets import SecretRef, SecretResolver

SCHEME = "k8s-secret"


def kube_secret_ref(namespace: str, name: str, key: str, *, context: str | None = None,
                    kubeconfig: str | None = None) -> SecretRef:
    """A reference to ``key`` of Secret ``namespace/name``, on the given cluster context."""
    target = "/".join(quote(part, safe="") for part in (namespace, name, key))
    query = {k: v for k, v in (("context", context), ("kubeconfig", kubeconfig)) if v}
    return SecretRef(SCHEME, target + (f"?{urlencode(query)}" if query else ""))


def _parse(target: str) -> tuple[list[str], dict[str, str]]:
    path, _, query = target.partition("?")
    parts = [unquote(p) for p in path.split("/")]
    if len(parts) != 3 or not all(parts):
        raise InvalidInputError(
            f"{SCHEME}:{target} is not a Kubernetes secret reference",
            hint=f"write {SCHEME}:NAMESPACE/SECRET/KEY, optionally followed by ?context=NAME",
        )
    # Keep blank values: parse_qs would drop a bare "?kind-dev" or "?context=" without a word, and
    # the secret would then be read silently from the current context's cluster.
    extra = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    unknown = sorted(set(extra) - {"context", "kubeconfig"})
    if unknown:
        raise InvalidInputError(f"{SCHEME}:{target}: unknown parameter {unknown[0]!r}",
                                hint="only context and kubeconfig may follow '?'")
    empty = sorted(k for k, v in extra.items() if not v)
    if empty:
        raise InvalidInputError(f"{SCHEME}:{target}: parameter {empty[0]!r} has no value",
                                hint="write ?context=NAME or ?kubeconfig=PATH, or leave the parameter out")
    return parts, extra


def kube_secret_resolver(environ: Mapping[str, str]) -> SecretResolver:
    """Resolve ``k8s-secret:`` references against the cluster the environment selects."""

    def resolve(target: str) -> str:
        from .client import load_kube_client
        from .manifests import ObjectRef

        (namespace, name, key), extra = _parse(target)
        ref = ObjectRef("v1", "Secret", name, namespace)
        with load_kube_client(environ, context=extra.get("context"),
                              kubeconfig=extra.get("kubeconfig")) as kube:
            secret = kube.get(ref)
        if secret is None:
            raise OperationError(
                f"secret {namespace}/{name} does not exist (for {SCHEME}:{target})",
                hint="it may have been deleted after first use (Argo CD advises deleting its "
                "initial admin secret); set a new password and refer to it instead",
            )
        data = secret.get("data") or {}
        if key not in data:
            have = ", ".join(sorted(data)) or "none"
            raise OperationError(f"secret {namespace}/{name} has no key {key!r} (keys: {have})",
                                 hint=f"fix the key in {SCHEME}:{target}")
        try:
            return base64.b64decode(data[key], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise OperationError(f"secret {namespace}/{name} key {key!r} is not base64 text",
                                 hint="check the Secret's data") from None

    return resolve
