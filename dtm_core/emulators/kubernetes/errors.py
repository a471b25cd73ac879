"""API errors of the Kubernetes emulator, rendered as ``meta.v1.Status`` bodies in the real server's words."""

from __future__ import annotations

from typing import Any

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    """A request the API server refuses; ``status()`` is the body it answers with."""

    def __init__(self, code: int, reason: str, message: str,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure", "message": self.message, "reason": self.reason}
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(name: str, group: str, kind: str, causes: list[dict[str, str]] | None = None
             ) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = kind
    if causes:
        details["causes"] = causes
    return details


def qualified(plural: str, group: str) -> str:
    """``deployments.apps`` or ``configmaps``: how the server names a resource in messages."""
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, group: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{qualified(plural, group)} "{name}" not found',
                    _details(name, group, plural))


def already_exists(plural: str, group: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{qualified(plural, group)} "{name}" already exists',
                    _details(name, group, plural))


def conflict(plural: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {qualified(plural, group)} "{name}": {why}',
                    _details(name, group, plural))


MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


def stale(plural: str, group: str, name: str) -> ApiError:
    return conflict(plural, group, name, MODIFIED)


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """422 Invalid; ``causes`` are (field, cause type, message) as the validators report them."""
    qualified_kind = f"{kind}.{group}" if group else kind
    text = ", ".join(f"{field}: {message}" for field, _, message in causes)
    if len(causes) > 1:
        text = "[" + text + "]"
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {text}',
                    _details(name, group, kind, [
                        {"reason": cause, "message": message, "field": field}
                        for field, cause, message in causes]))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(user: str, verb: str, plural: str, group: str, name: str, namespace: str,
              subresource: str = "") -> ApiError:
    resource = f"{plural}/{subresource}" if subresource else plural
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    subject = f'{qualified(plural, group)} "{name}"' if name else qualified(plural, group)
    return ApiError(403, "Forbidden",
                    f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
                    f'in API group "{group}" {scope}', _details(name, group, plural))


def namespace_terminating(plural: str, group: str, name: str, namespace: str) -> ApiError:
    why = f"unable to create new content in namespace {namespace} because it is being terminated"
    return ApiError(403, "Forbidden", f'{qualified(plural, group)} "{name}" is forbidden: {why}',
                    _details(name, group, plural, [
                        {"reason": "NamespaceTerminating", "message": why, "field": "metadata.namespace"}]))


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource")


def resource_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def unsupported_patch(accepted: list[str]) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    + ", ".join(accepted))


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    f'application/json, application/yaml (not "{content_type}")')


def gone(requested: int, oldest: int) -> ApiError:
    return ApiError(410, "Expired", f"too old resource version: {requested} ({oldest})")


def injected(code: int) -> ApiError:
    """The error a fault hook answers with, in the wording the server uses for that code."""
    messages = {
        500: "Internal error occurred: injected fault",
        503: "the server is currently unable to handle the request",
        429: "the server has received too many requests and has asked us to try again later",
        504: "the server was unable to return a response in the time allotted, but may still be "
             "processing the request",
    }
    reason = REASONS.get(code, "Unknown")
    return ApiError(code, reason, messages.get(code, f"injected fault ({code} {reason})"))
