"""Where a request goes: resource URLs taken apart, their verbs, and the rules that refuse requests first."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from . import errors
from .api import Api
from .openapi import OpenApi
from .resources import Registry, ResourceType

PUBLIC_PATHS = ("/healthz", "/livez", "/readyz")
VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass
class Rule:
    """A refusal applied before anything else (RBAC denials and injected faults)."""

    method_or_verb: str
    match: str  # a path prefix for faults, a resource plural for denials
    status: int = 403
    namespace: str | None = None
    times: int = 1


@dataclass
class ServerState:
    """What request handlers share: the API, who may call, and the hooks tests set."""

    api: Api
    openapi: OpenApi
    version: str
    token: str | None = None
    username: str = "dtm-sandbox"
    denials: list[Rule] = field(default_factory=list)
    faults: list[Rule] = field(default_factory=list)
    requests: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=2000))


@dataclass
class Target:
    """A resource URL taken apart."""

    rtype: ResourceType
    namespace: str | None
    name: str | None
    subresource: str
    watch_path: bool


def parse_target(registry: Registry, path: str) -> Target | None:
    """``/apis/<group>/<version>[/watch][/namespaces/<ns>]/<plural>[/<name>[/<sub>]]``, or None."""
    parts = path.strip("/").split("/")
    if parts[0] == "api" and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis" and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    watch_path = rest[0] == "watch"
    if watch_path:
        rest = rest[1:]
    namespace = None
    # /api/v1/namespaces/<name>/status is a namespace's own subresource, not a resource in it.
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    rtype = registry.lookup(group, version, rest[0])
    if rtype is None or (namespace is not None and not rtype.namespaced):
        return None
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else ""
    if name is not None and rtype.namespaced and namespace is None:
        return None
    if subresource and not (subresource == "status" and rtype.status
                            or subresource == "scale" and rtype.scalable):
        return None
    return Target(rtype, namespace, name, subresource, watch_path)


def verb_of(method: str, target: Target, query: dict[str, str]) -> str:
    """The RBAC verb of a request ("" for methods the API does not serve)."""
    if method == "GET":
        if target.watch_path or query.get("watch") in ("true", "1"):
            return "watch"
        return "get" if target.name else "list"
    if method == "DELETE" and not target.name:
        return "deletecollection"
    return VERBS.get(method, "")


def authenticate(state: ServerState, path: str, authorization: str) -> None:
    if state.token is None or path in PUBLIC_PATHS:
        return
    if authorization != f"Bearer {state.token}":
        raise errors.unauthorized()


def inject_fault(state: ServerState, method: str, path: str) -> None:
    for rule in list(state.faults):
        if rule.method_or_verb in ("*", method) and path.startswith(rule.match.rstrip("/") or "/"):
            rule.times -= 1
            if rule.times <= 0:
                state.faults.remove(rule)
            raise errors.injected(rule.status)


def authorize(state: ServerState, target: Target, verb: str) -> None:
    rtype = target.rtype
    for rule in state.denials:
        if (rule.method_or_verb in ("*", verb) and rule.match in ("*", rtype.plural)
                and rule.namespace in (None, target.namespace)):
            raise errors.forbidden(state.username, verb, rtype.plural, rtype.group, target.name or "",
                                   target.namespace or "", target.subresource)
