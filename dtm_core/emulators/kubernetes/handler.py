"""The HTTP layer: the threaded server, responses, discovery and resource dispatch, chunked watches."""

from __future__ import annotations

import json
import select
import socket
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..serving import LoopbackServer, QuietHandler
from . import discovery, errors
from .api import PATCH_TYPES, WriteOptions
from .bodies import decode
from .errors import ApiError
from .lifecycle import delete
from .resources import ResourceType
from .routing import (
    PUBLIC_PATHS,
    ServerState,
    Target,
    authenticate,
    authorize,
    inject_fault,
    parse_target,
    verb_of,
)
from .scale import get_scale, write_scale
from .selectors import field_selector, label_selector
from .tables import TABLE_MEDIA, table
from .watch import DEFAULT_TIMEOUT, WatchRequest, stream


class EmulatorServer(LoopbackServer):
    """One thread per connection; watches hold theirs for as long as they stream."""

    def __init__(self, address: tuple[str, int], state: ServerState) -> None:
        super().__init__(address, Handler)
        self.state = state


class Handler(QuietHandler):
    server: EmulatorServer

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # -- plumbing ------------------------------------------------------------------------------------

    def _fault_exempt(self) -> bool:
        # A watch streams for minutes; clients re-list and re-watch on their own when one ends, and
        # buffering a stream's answer (a fault after the work) would hold the thread for good.
        url = urlsplit(self.path)
        return "watch=true" in url.query or "/watch/" in url.path

    def _fault_reply(self, status: int, retry_after: int) -> tuple[dict[str, str], bytes]:
        headers = {"Content-Type": "application/json", "Cache-Control": "no-cache, private"}
        if status == 429:
            headers["Retry-After"] = str(retry_after)
        return headers, json.dumps(errors.injected(status).status(), separators=(",", ":")).encode()

    def _send(self, code: int, body: Any, content_type: str = "application/json",
              warnings: list[str] | None = None, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for warning in warnings or []:
            self.send_header("Warning", "299 - " + json.dumps(warning))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, error: ApiError) -> None:
        headers = {"Retry-After": "1"} if error.code == 429 else None
        self._send(error.code, error.status(), headers=headers)

    def _alive(self) -> bool:
        """False once the client has closed its end (a readable socket with nothing to read)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return not readable or self.connection.recv(1, socket.MSG_PEEK) != b""
        except OSError:
            return False

    # -- dispatch ------------------------------------------------------------------------------------

    def _serve(self) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        state.requests.append((self.command, self.path))
        try:
            raw = self._body()
            authenticate(state, path, self.headers.get("Authorization", ""))
            inject_fault(state, self.command, path)
            if self.command == "GET" and self._serve_static(state, path):
                return
            target = parse_target(state.api.registry, path)
            if target is None:
                raise errors.resource_not_found()
            self._serve_resource(state, target, query, raw)
        except ApiError as error:
            self._error(error)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as error:  # a bug here must reach the client as the server's 500, not a reset
            traceback.print_exc()
            self._error(ApiError(500, "InternalError", f"Internal error occurred: {error!r}"))

    def _serve_static(self, state: ServerState, path: str) -> bool:
        registry = state.api.registry
        parts = path.strip("/").split("/")
        body: Any = None
        if path in PUBLIC_PATHS:
            self._send(200, b"ok", "text/plain; charset=utf-8")
            return True
        if path == "/version":
            body = discovery.version_info(state.version)
        elif path == "/api":
            host, port = self.server.server_address[:2]
            body = discovery.api_versions(f"{host!s}:{port}")
        elif path == "/apis":
            body = discovery.api_group_list(registry)
        elif parts[0] == "api" and len(parts) == 2:
            body = discovery.resource_list(registry, "", parts[1])
        elif parts[0] == "apis" and len(parts) == 2:
            body = discovery.api_group(registry, parts[1])
        elif parts[0] == "apis" and len(parts) == 3:
            body = discovery.resource_list(registry, parts[1], parts[2])
        elif path == "/openapi/v2":
            accept = self.headers.get("Accept", "")
            if "protobuf" in accept and "json" not in accept and "*/*" not in accept:
                raise ApiError(406, "NotAcceptable", "only the following media types are accepted: "
                                                     "application/json")
            self._send(200, state.openapi.v2_document)
            return True
        elif path == "/openapi/v3":
            body = state.openapi.v3_root()
        elif path.startswith("/openapi/v3/"):
            document = state.openapi.v3_documents.get(path[len("/openapi/v3/"):])
            if document is None:
                raise errors.resource_not_found()
            self._send(200, document)
            return True
        else:
            return False
        if body is None:
            raise errors.resource_not_found()
        self._send(200, body)
        return True

    def _options(self, query: dict[str, str], apply: bool = False) -> WriteOptions:
        dry_run = query.get("dryRun", "")
        if dry_run not in ("", "All"):
            raise errors.bad_request(f'Invalid dryRun value: "{dry_run}"; supported values: "All"')
        manager = query.get("fieldManager", "")
        if not manager and not apply:
            # Like the real server: an unnamed writer is known by its user agent's program name.
            manager = self.headers.get("User-Agent", "unknown").split("/")[0][:128]
        return WriteOptions(manager=manager, dry_run=dry_run == "All",
                            validation=query.get("fieldValidation") or "Warn",
                            force=query.get("force") == "true")

    def _serve_resource(self, state: ServerState, target: Target, query: dict[str, str], raw: bytes) -> None:
        api, rtype = state.api, target.rtype
        verb = verb_of(self.command, target, query)
        if not verb or verb not in rtype.verbs and not target.subresource:
            raise errors.method_not_allowed()
        authorize(state, target, verb)
        namespace, name = target.namespace or "", target.name
        content_type = self.headers.get("Content-Type", "application/json").split(";")[0].strip()
        if verb in ("list", "watch", "deletecollection"):
            match_labels = label_selector(query.get("labelSelector"))
            match_fields = field_selector(query.get("fieldSelector"), rtype.plural, rtype.custom)

            def match(obj: dict[str, Any]) -> bool:
                return match_labels(obj) and match_fields(obj)

        if target.subresource == "scale":
            self._serve_scale(state, target, verb, query, raw, content_type)
        elif verb == "get":
            obj = api.get(rtype, namespace, name or "")
            if TABLE_MEDIA in self.headers.get("Accept", ""):
                self._send(200, table(rtype, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]}))
            else:
                self._send(200, obj)
        elif verb == "list":
            listed = api.list(rtype, target.namespace, match, int(query.get("limit") or 0),
                              query.get("continue", ""))
            if TABLE_MEDIA in self.headers.get("Accept", ""):
                listed = table(rtype, listed["items"], listed["metadata"])
            self._send(200, listed)
        elif verb == "watch":
            version = query.get("resourceVersion", "")
            if version and not version.isdigit():
                raise errors.invalid("ListOptions", "meta.k8s.io", "", [(
                    "resourceVersion", "FieldValueInvalid", f'Invalid value: "{version}": must be a number')])
            self._watch(WatchRequest(
                rtype, target.namespace, match, query.get("resourceVersion", ""),
                min(float(query.get("timeoutSeconds") or DEFAULT_TIMEOUT), DEFAULT_TIMEOUT),
                query.get("sendInitialEvents") == "true", query.get("allowWatchBookmarks") == "true",
                self._table_rows(rtype) if TABLE_MEDIA in self.headers.get("Accept", "") else None))
        elif verb == "create":
            options = self._options(query)
            self._send(201, api.create(rtype, namespace, decode(raw, content_type), options),
                       warnings=options.warnings)
        elif verb == "update":
            options = self._options(query)
            self._send(200, api.update(rtype, namespace, name or "", decode(raw, content_type),
                                       target.subresource, options), warnings=options.warnings)
        elif verb == "patch":
            patch_type = PATCH_TYPES.get(content_type)
            if patch_type is None:
                raise errors.unsupported_patch(list(PATCH_TYPES))
            options = self._options(query, apply=patch_type == "apply")
            body = decode(raw, content_type)
            obj, created = api.patch(rtype, namespace, name or "", patch_type, body, target.subresource,
                                     options)
            self._send(201 if created else 200, obj, warnings=options.warnings)
        elif verb == "delete":
            self._send(200, delete(api, rtype, namespace, name or "", self._delete_options(query, raw),
                                   dry_run=query.get("dryRun") == "All"))
        elif verb == "deletecollection":
            delete_options = self._delete_options(query, raw)
            listed = api.list(rtype, target.namespace, match)
            for item in listed["items"]:
                item_meta = item["metadata"]
                delete(api, rtype, item_meta.get("namespace", ""), item_meta["name"], delete_options)
            self._send(200, listed)

    @staticmethod
    def _table_rows(rtype: ResourceType) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """Watch events as one-row Tables; like the server, only the first carries the columns."""
        first = [True]

        def present(obj: dict[str, Any]) -> dict[str, Any]:
            shown = table(rtype, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]})
            if not first[0]:
                shown["columnDefinitions"] = []
            first[0] = False
            return shown

        return present

    def _serve_scale(self, state: ServerState, target: Target, verb: str, query: dict[str, str], raw: bytes,
                     content_type: str) -> None:
        api, rtype, namespace, name = state.api, target.rtype, target.namespace or "", target.name or ""
        if verb == "get":
            self._send(200, get_scale(api, rtype, namespace, name))
        elif verb in ("update", "patch"):
            patch_type = PATCH_TYPES.get(content_type) if verb == "patch" else None
            if verb == "patch" and patch_type is None:
                raise errors.unsupported_patch(list(PATCH_TYPES))
            body = decode(raw, content_type)
            self._send(200, write_scale(api, rtype, namespace, name, patch_type, body, self._options(query)))
        else:
            raise errors.method_not_allowed()

    def _delete_options(self, query: dict[str, str], raw: bytes) -> dict[str, Any]:
        try:
            options: dict[str, Any] = json.loads(raw) if raw.strip() else {}
        except ValueError as error:
            raise errors.bad_request(f"couldn't decode DeleteOptions: {error}") from error
        if "propagationPolicy" in query:
            options["propagationPolicy"] = query["propagationPolicy"]
        if "orphanDependents" in query:
            options["orphanDependents"] = query["orphanDependents"] == "true"
        return options

    def _watch(self, request: WatchRequest) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()

        def write(data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        stream(self.server.state.api, request, write, self._alive)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True
