"""The one place where lightkube and httpx failures become dtm errors a user can act on.

    httpx.TransportError (refused, DNS, timeout, TLS) -> NetworkError   cannot reach the Kubernetes API at …
    401 Unauthorized                                   -> OperationError credentials rejected
    403 Forbidden                                      -> OperationError RBAC denies verb on resource
    404 NotFound (namespace / kind not served)         -> OperationError names what is missing
    409 Conflict (field managers, AlreadyExists)       -> OperationError with the server's words
    other 4xx                                          -> OperationError message from the Status body
    429, 5xx                                           -> NetworkError   the server failed; retry
    lightkube ConfigError (exec plugin, token file)    -> InvalidInputError

Every message starts with what dtm was doing (``cannot patch deployment argocd/web: …``), because
the server's own words rarely say which of many requests failed.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from lightkube import ApiError, ConfigError

from ..errors import DtmError, InvalidInputError, NetworkError, OperationError
from .manifests import ObjectRef

__all__ = ["ErrorMapper", "status_code"]

_UNREACHABLE_HINT = "is the cluster running? check 'kubectl cluster-info' and your kubeconfig context"
# The server's RBAC denial, e.g. 'User "u" cannot patch resource "deployments" in API group "apps" in
# the namespace "argocd"' (or 'at the cluster scope').
_RBAC_RE = re.compile(r'User "(?P<user>[^"]*)" cannot (?P<verb>\S+) resource '
                      r'"(?P<resource>[^"]+)" in API group "(?P<group>[^"]*)"'
                      r'(?: in the namespace "(?P<namespace>[^"]+)"| at the cluster scope)?')


def status_code(error: BaseException) -> int | None:
    """The HTTP status of an API error, or None for anything else."""
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code
    if isinstance(error, ApiError):  # raised from a watch stream, without a response
        return error.status.code
    return None


def _as_dict(model: Any) -> dict[str, Any]:
    """A lightkube model as a plain dict (lightkube leaves ``to_dict`` unannotated)."""
    result: dict[str, Any] = model.to_dict()
    return result


def _status_body(error: httpx.HTTPStatusError) -> dict[str, Any]:
    """The ``meta.v1.Status`` the server answered with, or a stand-in from the raw response."""
    try:
        body = error.response.json()
    except (ValueError, httpx.ResponseNotRead):
        body = None
    if isinstance(body, dict) and body.get("kind") == "Status":
        return body
    text = ""
    try:
        text = error.response.text.strip().splitlines()[0][:200] if error.response.text.strip() else ""
    except httpx.ResponseNotRead:
        pass
    return {"code": error.response.status_code, "message": text or error.response.reason_phrase}


def _cause_reason(error: BaseException) -> str:
    """Why a connection failed, in a few words, from the first OS or TLS error in the chain."""
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return "host name not resolved"
        if isinstance(current, ssl.SSLCertVerificationError):
            return f"TLS certificate not trusted ({current.verify_message})"
        if isinstance(current, ssl.SSLError):
            return "TLS handshake failed"
        if isinstance(current, ConnectionResetError):
            return "connection reset"
        if isinstance(current, TimeoutError):
            return "timed out"
        current = current.__cause__ or current.__context__
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class ErrorMapper:
    """Translates failures of requests to one API server; ``with mapper("patch", ref): …``."""

    def __init__(self, server: str, context: str) -> None:
        self.server = server
        self.context = context

    @contextmanager
    def __call__(self, verb: str, target: ObjectRef | str) -> Iterator[None]:
        try:
            yield
        except DtmError:
            raise
        except httpx.HTTPStatusError as error:
            raise self.from_status(verb, target, _status_body(error)) from error
        except ApiError as error:
            raise self.from_status(verb, target, _as_dict(error.status)) from error
        except httpx.TransportError as error:
            raise self.unreachable(error) from error
        except ConfigError as error:
            raise InvalidInputError(f"cannot authenticate to the Kubernetes API at {self.server} "
                                    f"(context {self.context!r}): {error}",
                                    hint="check the user of this context with 'kubectl config view --minify'"
                                    ) from error

    def unreachable(self, error: BaseException) -> NetworkError:
        return NetworkError(f"cannot reach the Kubernetes API at {self.server}: {_cause_reason(error)}",
                            hint=_UNREACHABLE_HINT)

    def from_status(self, verb: str, target: ObjectRef | str, status: dict[str, Any]) -> DtmError:
        """The dtm error for a failed request, from the Status body the server sent."""
        code = int(status.get("code") or 0)
        message = " ".join(str(status.get("message") or status.get("reason") or f"HTTP {code}").split())
        doing = f"cannot {verb} {target}"
        causes = (status.get("details") or {}).get("causes") or []
        if code == 401:
            return OperationError(
                f"the Kubernetes API at {self.server} rejected the credentials of context {self.context!r} "
                "(401 Unauthorized)",
                hint="log in to the cluster again (the token or certificate may have expired); "
                     "check with 'kubectl auth whoami'")
        if code == 403 and not any(cause.get("reason") == "NamespaceTerminating" for cause in causes):
            return self._forbidden(verb, target, message)
        if code == 404:
            return self._not_found(doing, target, message)
        if code == 409:
            if message.startswith("Apply failed with"):
                return OperationError(f"{doing}: {message}",
                                      hint="another field manager owns these fields: apply with force=True "
                                           "to take them over, or leave them out of the manifest")
            return OperationError(f"{doing}: {message}",
                                  hint="the object changed while dtm was writing it; run the command again")
        if code == 403:
            return OperationError(f"{doing}: {message}",
                                  hint="wait until the namespace has finished deleting, then run again")
        if code == 422 or code == 400:
            return OperationError(f"{doing}: {message}",
                                  hint="fix the manifest; the server's message says where")
        if code == 429 or code >= 500:
            return NetworkError(f"{doing}: the Kubernetes API at {self.server} answered {code}: {message}",
                                hint="the API server is overloaded or failing; run again, and check "
                                     "'kubectl get --raw /readyz?verbose'")
        return OperationError(f"{doing}: {message} ({code})",
                              hint="see the Kubernetes API server's message above")

    def _forbidden(self, verb: str, target: ObjectRef | str, message: str) -> OperationError:
        match = _RBAC_RE.search(message)
        resource = self._resource(target)
        namespace = target.namespace if isinstance(target, ObjectRef) else None
        user = None
        if match:
            verb, user, namespace = match["verb"], match["user"], match["namespace"]
            resource = f'{match["resource"]}.{match["group"]}' if match["group"] else match["resource"]
        scope = f'in namespace "{namespace}"' if namespace else "at the cluster scope"
        who = f'user "{user}"' if user else f"the user of context {self.context!r}"
        flag = f" -n {namespace}" if namespace else ""
        return OperationError(
            f"Kubernetes RBAC does not allow {who} to {verb} {resource} {scope}",
            hint=f"ask a cluster admin for a Role or ClusterRole that allows '{verb}' on {resource} "
                 f"(check with 'kubectl auth can-i {verb} {resource}{flag}')")

    @staticmethod
    def _resource(target: ObjectRef | str) -> str:
        if isinstance(target, ObjectRef):
            return f"{target.kind.lower()}.{target.group}" if target.group else target.kind.lower()
        return target

    @staticmethod
    def _not_found(doing: str, target: ObjectRef | str, message: str) -> OperationError:
        missing_namespace = re.fullmatch(r'namespaces "(?P<name>[^"]+)" not found', message)
        if missing_namespace:
            return OperationError(
                f'{doing}: namespace "{missing_namespace["name"]}" does not exist',
                hint="put a Namespace first in the manifests, or apply with create_namespace=True")
        if "could not find the requested resource" in message and isinstance(target, ObjectRef):
            return OperationError(
                f"{doing}: the cluster does not serve kind {target.kind} of {target.api_version}",
                hint="install the CustomResourceDefinition (or the API) that defines it first")
        return OperationError(f"{doing}: {message}", hint="it may have been deleted meanwhile; run again")
