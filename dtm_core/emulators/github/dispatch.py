"""From raw request to response: API version, injected faults, authentication, rate limits, headers.

The order is GitHub's as far as a client can tell: a bad ``X-GitHub-Api-Version`` is refused
before anything else, credentials before routing, rate limits before the operation runs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
import os
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import errors
from .call import DEFAULT_VERSION, SUPPORTED_VERSIONS, Call, Reply
from .errors import ApiError
from .model import Token, World
from .ratelimit import Bucket
from .routes import Route, docs_url, match

JSON = "application/json; charset=utf-8"
EXPOSED = ("ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, "
           "X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, "
           "X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, "
           "X-GitHub-Request-Id, Deprecation, Sunset")


@dataclass
class Fault:
    """A test hook: answer the next ``times`` matching requests with ``status`` (``after`` doing them)."""

    method: str
    prefix: str
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    after: bool = False

    def error(self, docs: str) -> ApiError:
        error = errors.default_error(self.status, docs)
        error.headers.update(self.headers)
        if self.body is not None:
            error.body = dict(self.body)
        return error

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and path.startswith(self.prefix)


@dataclass(frozen=True)
class Exchange:
    """One request and its response as the emulator saw them (for conformance checks)."""

    method: str
    target: str  # path with query
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class ServerState:
    """The world plus what the HTTP layer keeps: test hooks, the request log, the root URL."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.exchanges: list[Exchange] = []
        self.root = "http://127.0.0.1"
        self._ids = itertools.count(1)

    def request_id(self) -> str:
        number = next(self._ids)
        # Shaped like GitHub's ids ("C3A4:2B8E:1A2B3C:1D4E5F:65F0A1B2"), unique per emulator process.
        parts = (number, os.getpid() & 0xFFFF, number * 7919, number * 104729, int(time.time()))
        return ":".join(f"{part:04X}" for part in parts)


def _token(world: World, authorization: str, docs: str) -> Token:
    scheme, _, credential = authorization.strip().partition(" ")
    value = credential.strip()
    if scheme.lower() == "basic":  # git and some clients send the token as a Basic password
        try:
            value = base64.b64decode(value).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            value = ""
    token = world.tokens.get(value) if scheme.lower() in ("bearer", "token", "basic") else None
    if token is None or world.account(token.login) is None:
        raise ApiError(401, "Bad credentials", docs=docs)
    return token


def _version(headers: Mapping[str, str]) -> str:
    version = headers.get("X-GitHub-Api-Version")
    if version is None:
        return DEFAULT_VERSION
    if version not in SUPPORTED_VERSIONS:
        listed = ", ".join(f'"{known}"' + (" (most recent)" if i == 0 else "")
                           for i, known in enumerate(SUPPORTED_VERSIONS))
        raise ApiError(400, f'The version you specified in the "X-GitHub-Api-Version" request header, '
                            f'"{version}", is not a supported version. The following versions are currently '
                            f"supported: {listed}.", docs=errors.DOCS + "rest/overview/api-versions")
    return version


def _fault(state: ServerState, method: str, path: str, docs: str) -> Fault | None:
    """Raise the matching fault's error, or return it when it strikes after the request is carried out."""
    for fault in state.faults:
        if fault.matches(method, path):
            fault.times -= 1
            if fault.after:
                return fault
            raise fault.error(docs)
    state.faults[:] = [fault for fault in state.faults if fault.times > 0]
    return None


def dispatch(state: ServerState, method: str, target: str, headers: Mapping[str, str],
             raw: bytes) -> Response:
    world = state.world
    url = urlsplit(target)
    query = {key: values[-1] for key, values in parse_qs(url.query, keep_blank_values=True).items()}
    request_id = state.request_id()
    found = match(method, url.path)
    route: Route | None = found[0] if found else None
    docs = docs_url(route)
    token: Token | None = None
    bucket: Bucket | None = None
    accepted: tuple[str, ...] = ()
    version = DEFAULT_VERSION
    with world.lock:
        try:
            version = _version(headers)
            after = _fault(state, method, url.path, docs)
            authorization = headers.get("Authorization")
            if not authorization:
                raise ApiError(401, "Requires authentication", docs=docs)
            token = _token(world, authorization, docs)
            user = world.account(token.login)
            assert user is not None
            if found is None:
                raise errors.not_found()  # unknown paths and unsupported methods alike, as on GitHub
            route, params = found
            bucket = world.limiter.bucket(user.key)
            if route.counts:
                bucket = world.limiter.take(user.key, user.id, request_id)
            call = Call(world, method, url.path, params, query, headers, raw, state.root, docs, token,
                        version)
            try:
                reply = route.handler(call)
            finally:
                accepted = call.accepted
            if after is not None:
                raise after.error(docs)
        except ApiError as error:
            reply = Reply(error.status, error.body, headers=dict(error.headers))
        except Exception as error:  # a bug must reach the client as GitHub's 500, not a dropped connection
            traceback.print_exc()
            reply = Reply(500, {"message": f"Server Error: {error!r}", "documentation_url": docs})
        if bucket is None:
            bucket = world.limiter.bucket(token.login if token else None)
        return _finish(reply, request_id, token, bucket, accepted, version, method, headers)


def _finish(reply: Reply, request_id: str, token: Token | None, bucket: Bucket, accepted: tuple[str, ...],
            version: str, method: str, request_headers: Mapping[str, str]) -> Response:
    if reply.body is None:
        body = b""
    elif isinstance(reply.body, bytes):
        body = reply.body
    else:
        body = json.dumps(reply.body, separators=(",", ":")).encode()
    out: dict[str, str] = {"Content-Type": reply.content_type if reply.body is not None else JSON,
                           "X-GitHub-Media-Type": "github.v3; format=json",
                           "X-GitHub-Api-Version-Selected": version, "X-GitHub-Request-Id": request_id,
                           "Access-Control-Expose-Headers": EXPOSED, "Access-Control-Allow-Origin": "*",
                           "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
                           "Cache-Control": "private, max-age=60"}
    out.update(bucket.headers())
    if token is not None:
        out["X-OAuth-Scopes"] = ", ".join(token.scopes)
        out["X-Accepted-OAuth-Scopes"] = ", ".join(accepted)
    status = reply.status
    if method == "GET" and status == 200:
        out["ETag"] = f'W/"{hashlib.sha256(body).hexdigest()[:40]}"'
        if out["ETag"] in request_headers.get("If-None-Match", ""):
            status, body = 304, b""
            bucket.used = max(bucket.used - 1, 0)  # conditional hits are free on GitHub
            out.update(bucket.headers())
    out.update(reply.headers)
    if status in (204, 304):
        out.pop("Content-Type", None)
    return Response(status, list(out.items()), body)
