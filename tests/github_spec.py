"""GitHub's own OpenAPI description as a test oracle: every HTTP exchange checked against it.

``GitHubSpec`` loads ``github-rest.json`` (kept outside the repository, in ../shared/specs or
``$DTM_SPECS_DIR``) and validates a request and its response with openapi-core:

* ``check(request, response)`` takes an ``httpx.Request``/``httpx.Response`` pair;
* ``response_hook()`` returns an httpx event hook that checks every exchange of a client, so a test
  (of the emulator or of a plugin) gets the check by building its client with it — see ``client``;
* ``check_exchange(exchange)`` takes what the emulator recorded on the wire (``GitHubEmulator.exchanges``),
  which covers clients that do not use httpx, such as PyGithub.

Every check is appended to ``checked`` (operation, status, whether the spec documents the status),
so a test can assert which operations it exercised. A violation raises ``SpecViolation`` naming the
operation, the direction and openapi-core's reasons.

The spec documents only some error statuses per operation (401 appears on two of 31). An error
reply with a status its operation does not document is checked against GitHub's uniform
``basic-error`` shape instead and recorded with ``documented=False``; an undocumented success
status is a violation. ``strict`` (the default) treats undeclared properties as violations in
both directions, so neither an emulator nor a client can invent fields unnoticed.

A request sent with ``X-GitHub-Api-Version: 2026-03-10`` is judged by the description with that
version's ``x-github-breaking-changes`` applied. Two constructs of the file that no reply could
satisfy as written are read as they are meant (``_without_quirks`` says which and why).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
from jsonschema import Draft4Validator
from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import json_loads
from werkzeug.datastructures import Headers, ImmutableMultiDict

REPO = Path(__file__).resolve().parent.parent
SPECS = Path(os.environ.get("DTM_SPECS_DIR") or REPO.parent / "shared" / "specs")
SPEC_FILE = SPECS / "github-rest.json"
SERVER = "https://api.github.com"  # the spec's only server; exchanges are judged as if sent there
# Path parameters that GitHub lets span slashes (file paths, ref and branch names).
SPANNING = ("{path}", "{ref}", "{branch}")
BASIC_ERROR = {"type": "object", "required": ["message"],
               "properties": {"message": {"type": "string"}, "documentation_url": {"type": "string"},
                              "url": {"type": "string"}, "status": {"type": "string"},
                              "errors": {"type": "array"}}}


class SpecViolation(AssertionError):
    """An exchange that GitHub's description does not allow."""


class RecordedExchange(Protocol):
    """What ``GitHubEmulator.exchanges`` holds (duck-typed, so this module needs no emulator import)."""

    method: str
    target: str
    request_headers: Mapping[str, str]
    request_body: bytes
    status: int
    response_headers: Mapping[str, str]
    response_body: bytes


@dataclass(frozen=True)
class Checked:
    operation: str  # "GET /repos/{owner}/{repo}"
    status: int
    documented: bool  # False: an error status the operation does not list, checked as basic-error


@dataclass
class _Request:
    """openapi-core's request protocol, with the path template resolved by us (see ``find``)."""

    method: str
    path: str
    path_pattern: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str
    host_url: str = SERVER


@dataclass
class _Response:
    status_code: int
    headers: Headers
    data: bytes | None
    content_type: str


def load_document(path: Path | None = None) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((path or SPEC_FILE).read_text(encoding="utf-8"))
    return document


class GitHubSpec:
    """Validates GitHub REST exchanges against ``github-rest.json``."""

    def __init__(self, document: dict[str, Any], *, strict: bool = True) -> None:
        self.document = document = _without_quirks(document)
        # GitHub's own media types are JSON too (e.g. application/vnd.github.object for contents).
        self._config = Config(additional_properties_default_policy="forbid" if strict else "allow",
                              extra_media_type_deserializers={"application/vnd.github.object": json_loads})
        self.openapi = OpenAPI.from_dict(document, config=self._config)
        self._dated: dict[str, OpenAPI] = {}
        self.kept_operations: list[str] = list(document["x-dtm-source"]["kept_operations"])
        self.checked: list[Checked] = []
        self._templates = [(template, _pattern(template, spanning=False), _pattern(template, spanning=True))
                           for template in document["paths"]]

    def for_version(self, version: str | None) -> OpenAPI:
        """The description as of a dated API version (``X-GitHub-Api-Version``), breaking changes applied."""
        if not version or version <= "2022-11-28":
            return self.openapi
        if version not in self._dated:
            self._dated[version] = OpenAPI.from_dict(_as_of(self.document, version), config=self._config)
        return self._dated[version]

    @classmethod
    def load(cls, path: Path | None = None, *, strict: bool = True) -> GitHubSpec:
        return cls(load_document(path), strict=strict)

    # -- lookup --------------------------------------------------------------------------------------

    def find(self, method: str, raw_path: str) -> tuple[str, dict[str, str]] | None:
        """The spec path template for a (percent-encoded) request path, and its decoded parameters.

        openapi-core's own matcher stops parameters at "/", yet GitHub's file paths, refs and branch
        names carry slashes on the wire. Templates whose parameters need no slash win; among those,
        the one with fewer parameters (the most literal) wins, as openapi-core would choose.
        """
        for spanning in (False, True):
            found = []
            for template, strict, loose in self._templates:
                if method.lower() not in self.document["paths"][template]:
                    continue
                matched = (loose if spanning else strict).match(raw_path)
                if matched:
                    found.append((template.count("{"), template, matched.groupdict()))
            if found:
                _, template, params = min(found)
                return template, {key: unquote(value) for key, value in params.items()}
        return None

    def operation_for(self, method: str, raw_path: str) -> str | None:
        found = self.find(method, raw_path)
        return None if found is None else f"{method.upper()} {found[0]}"

    # -- checks --------------------------------------------------------------------------------------

    def check(self, request: httpx.Request, response: httpx.Response, *, request_too: bool = True) -> str:
        """Validate an httpx exchange; returns the operation ("GET /user"), raises ``SpecViolation``."""
        body = request.content if request.method not in ("GET", "HEAD") else b""
        return self.check_raw(request.method, request.url.raw_path.decode("ascii"), dict(request.headers),
                              body, response.status_code, dict(response.headers), response.read(),
                              request_too=request_too)

    def check_exchange(self, exchange: RecordedExchange, *, request_too: bool = True) -> str:
        """Validate an exchange the emulator recorded (any client, PyGithub included)."""
        return self.check_raw(exchange.method, exchange.target, dict(exchange.request_headers),
                              exchange.request_body, exchange.status, dict(exchange.response_headers),
                              exchange.response_body, request_too=request_too)

    def check_raw(self, method: str, target: str, request_headers: Mapping[str, str], request_body: bytes,
                  status: int, response_headers: Mapping[str, str], response_body: bytes, *,
                  request_too: bool = True) -> str:
        method = method.upper()
        split = urlsplit(target)
        found = self.find(method, split.path)
        if found is None:
            raise SpecViolation(f"{method} {split.path}: no operation of github-rest.json has this method "
                                "and path (the emulator and its clients use only the kept operations)")
        template, params = found
        operation = f"{method} {template}"
        headers = Headers(dict(request_headers))
        openapi = self.for_version(headers.get("X-GitHub-Api-Version"))
        query: ImmutableMultiDict[str, str] = ImmutableMultiDict(
            [(key, value) for key, values in parse_qs(split.query, keep_blank_values=True).items()
             for value in values])
        request = _Request(method.lower(), split.path, template,
                           RequestParameters(query=query, header=headers, cookie=ImmutableMultiDict({}),
                                             path=params),
                           request_body or None, headers.get("Content-Type", "application/json"))
        if request_too:
            self._raise(operation, "request", _request_errors(openapi, request))
        documented = str(status) in self.document["paths"][template][method.lower()]["responses"]
        out_headers = Headers(dict(response_headers))
        if documented:
            response = _Response(status, out_headers, response_body or None,
                                 out_headers.get("Content-Type", "application/json"))
            self._raise(operation, f"{status} response", _response_errors(openapi, request, response))
        elif status >= 400:
            self._check_basic_error(operation, status, response_body)
        else:
            raise SpecViolation(f"{operation}: status {status} is not a documented response")
        self.checked.append(Checked(operation, status, documented))
        return operation

    def _check_basic_error(self, operation: str, status: int, body: bytes) -> None:
        try:
            document = json.loads(body)
        except ValueError as error:
            raise SpecViolation(f"{operation}: {status} reply is not JSON: {body[:200]!r}") from error
        problems = [error.message for error in Draft4Validator(BASIC_ERROR).iter_errors(document)]
        if problems:
            raise SpecViolation(f"{operation}: {status} reply is not GitHub's basic-error: {problems}")

    @staticmethod
    def _raise(operation: str, what: str, problems: list[str]) -> None:
        if problems:
            raise SpecViolation(f"{operation}: {what} violates github-rest.json:\n  " + "\n  ".join(problems))

    # -- httpx integration ---------------------------------------------------------------------------

    def response_hook(self, *, request_too: bool = True) -> Callable[[httpx.Response], None]:
        """An httpx ``response`` event hook that checks each exchange as it completes."""

        def hook(response: httpx.Response) -> None:
            response.read()
            self.check(response.request, response, request_too=request_too)

        return hook

    def client(self, base_url: str, token: str | None = None, *, request_too: bool = True,
               **options: Any) -> httpx.Client:
        """An httpx client whose every exchange is checked (non-2xx answers do not raise)."""
        headers = dict(options.pop("headers", {}))
        if token is not None:
            headers.setdefault("Authorization", f"Bearer {token}")
        headers.setdefault("Accept", "application/vnd.github+json")
        hooks = {"response": [self.response_hook(request_too=request_too)]}
        return httpx.Client(base_url=base_url, headers=headers, timeout=options.pop("timeout", 10),
                            event_hooks=hooks, **options)

    # -- coverage ------------------------------------------------------------------------------------

    def covered(self, *, documented_only: bool = False) -> set[str]:
        return {entry.operation for entry in self.checked if entry.documented or not documented_only}

    def statuses(self, operation: str) -> set[int]:
        return {entry.status for entry in self.checked if entry.operation == operation}


def _without_quirks(document: dict[str, Any]) -> dict[str, Any]:
    """A copy with the one construct openapi-core cannot apply removed (README "Known quirks" style).

    GET .../contents/{path} answers ``oneOf`` a directory (an array) or a file, symlink or submodule
    (objects), with a ``discriminator`` on ``type``, mapping "array" to the directory. A discriminator
    reads a property, which an array does not have, so openapi-core rejects every directory listing.
    The alternatives exclude each other anyway (array versus objects whose ``type`` enums differ), so
    the ``oneOf`` without its discriminator means the same.

    Error replies of two operations (409 of PUT .../contents/{path}, 422 of POST .../git/blobs) are
    ``oneOf`` GitHub's usual error and ``repository-rule-violation-error``, whose properties are all
    optional: every plain error is valid under both, which ``oneOf`` forbids, so no reply could ever
    conform. They are read as ``anyOf``, which is what they mean.
    """
    copy: dict[str, Any] = json.loads(json.dumps(document))
    content = copy["paths"]["/repos/{owner}/{repo}/contents/{path}"]["get"]["responses"]["200"]["content"]
    content["application/json"]["schema"].pop("discriminator", None)
    for operations in copy["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                for media in response.get("content", {}).values():
                    schema = media.get("schema", {})
                    refs = [choice.get("$ref", "") for choice in schema.get("oneOf", [])]
                    overlapping = any(ref.endswith("/repository-rule-violation-error") for ref in refs)
                    if int(status) >= 400 and overlapping:
                        schema["anyOf"] = schema.pop("oneOf")
    return copy


def _as_of(document: dict[str, Any], version: str) -> dict[str, Any]:
    """Apply every ``x-github-breaking-changes`` entry dated ``version`` or earlier.

    GitHub writes them as JSON merge patches (RFC 7386: ``null`` removes) or as JSON Patch lists
    (RFC 6902, only ``remove`` occurs), each relative to the object that carries the entry.
    """
    copy: dict[str, Any] = json.loads(json.dumps(document))

    def merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
        for key, value in patch.items():
            if value is None:
                target.pop(key, None)
            elif isinstance(value, dict) and isinstance(target.get(key), dict):
                merge(target[key], value)
            else:
                target[key] = value

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for change in node.pop("x-github-breaking-changes", []):
                if change["version"] > version:
                    continue
                if isinstance(change["patch"], dict):
                    merge(node, change["patch"])
                for operation in change["patch"] if isinstance(change["patch"], list) else []:
                    *parents, last = [part.replace("~1", "/").replace("~0", "~")
                                      for part in operation["path"].strip("/").split("/")]
                    holder = node
                    for part in parents:
                        holder = holder[int(part)] if isinstance(holder, list) else holder[part]
                    if operation["op"] == "remove" and isinstance(holder, list):
                        del holder[int(last)]
                    elif operation["op"] == "remove":
                        holder.pop(last, None)
            for child in list(node.values()):
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(copy)
    return copy


def _pattern(template: str, *, spanning: bool) -> re.Pattern[str]:
    regex = re.escape(template)
    for name in re.findall(r"\{(\w+)\}", template):
        wide = spanning and f"{{{name}}}" in SPANNING and template.endswith(f"{{{name}}}")
        regex = regex.replace(re.escape(f"{{{name}}}"), f"(?P<{name}>{'.+' if wide else '[^/]+'})")
    return re.compile(f"^{regex}$")


def _reasons(error: BaseException) -> Iterable[str]:
    """openapi-core's error and the schema errors it wraps, as short lines."""
    yield f"{type(error).__name__}: {error}"
    for inner in (getattr(error, "schema_errors", None) or ()):
        path = "/".join(map(str, getattr(inner, "absolute_path", ()))) or "<root>"
        yield f"  at {path}: {getattr(inner, 'message', inner)}"
    cause = error.__cause__
    if cause is not None and cause is not error:
        yield from _reasons(cause)


def _request_errors(openapi: OpenAPI, request: _Request) -> list[str]:
    return [line for error in openapi.iter_request_errors(request) for line in _reasons(error)]


def _response_errors(openapi: OpenAPI, request: _Request, response: _Response) -> list[str]:
    return [line for error in openapi.iter_response_errors(request, response) for line in _reasons(error)]
