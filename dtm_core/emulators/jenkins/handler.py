"""The HTTP layer: the threaded server, request parsing, and the filters Jenkins runs before any page."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from ..serving import LoopbackServer, QuietHandler
from . import routes
from .pages import (
    JETTY_VERSION,
    HttpError,
    Reply,
    authentication_required,
    getting_ready,
    jetty_error,
    send_error,
    unauthorized,
)
from .security import CRUMB_FIELD, BadCredentials, Identity
from .state import Fault, ServerState

FORM = "application/x-www-form-urlencoded"


class EmulatorServer(LoopbackServer):
    """One thread per connection."""

    def __init__(self, address: tuple[str, int], state: ServerState) -> None:
        super().__init__(address, Handler)
        self.state = state


@dataclass
class Request:
    """A request taken apart, with the caller the security filters found."""

    method: str
    path: str  # without the query
    target: str  # as sent: path and query
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: Message
    body: bytes
    identity: Identity
    session: str | None

    def param(self, name: str) -> str | None:
        """``ServletRequest.getParameter``: the query string first, then a urlencoded form body."""
        values = self.query.get(name) or self.form.get(name)
        return values[0] if values else None


class Handler(QuietHandler):
    server: EmulatorServer

    def version_string(self) -> str:
        return f"Jetty({JETTY_VERSION})"

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # -- plumbing ------------------------------------------------------------------------------------

    def _fault_reply(self, status: int, retry_after: int) -> tuple[dict[str, str], bytes]:
        reply = jetty_error(status, _phrase(status), urlsplit(self.path).path or "/")
        headers = {"Content-Type": reply.content_type}
        if status == 429:
            headers["Retry-After"] = str(retry_after)
        return headers, reply.body

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        if reply.status not in (204, 304):
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
        for key, value in reply.headers:
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD" and reply.status not in (204, 304):
            self.wfile.write(reply.body)

    # -- the filter chain ------------------------------------------------------------------------------

    def _serve(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append((self.command, self.path))
        try:
            body = self._body()
            with state.lock:
                reply = self._respond(state, body)
        except HttpError as error:
            reply = error.reply
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        except Exception:  # a bug here must reach the client as the server's 500, not a reset
            traceback.print_exc()
            reply = Reply(500, traceback.format_exc().encode(), "text/plain;charset=utf-8")
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _respond(self, state: ServerState, body: bytes) -> Reply:
        url = urlsplit(self.path)
        path = url.path or "/"
        fault = state.take_fault(self.command, path)
        if fault is not None and not fault.after:
            return _fault_page(fault, path)
        if not state.is_ready():
            return getting_ready()
        security = state.security
        try:
            identity = security.authenticate(self.headers.get("Authorization", ""))
        except BadCredentials as error:
            raise unauthorized(path) from error
        content_type = self.headers.get("Content-Type", "")
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True) \
            if content_type.split(";")[0].strip().lower() == FORM else {}
        request = Request(method=self.command, path=path, target=self.path,
                          query=parse_qs(url.query, keep_blank_values=True), form=form, headers=self.headers,
                          body=body, identity=identity or Identity("anonymous", by_token=False),
                          session=security.session_of(self.headers.get("Cookie", "")))
        # CrumbFilter runs after authentication and before any permission check, on POST only; an API
        # token skips it (ApiCrumbExclusion).
        if self.command == "POST" and security.crumbs and not request.identity.by_token:
            crumb = self.headers.get(CRUMB_FIELD) or request.param(CRUMB_FIELD)
            if not security.crumb_valid(request.identity.user, request.session, crumb):
                raise send_error(403, "No valid crumb was included in the request", path)
        if identity is None:  # anonymous has no Overall/Read on a default (secured) Jenkins
            raise authentication_required(path, state.advertised())
        state.queue.advance()
        reply = routes.dispatch(state, request)
        return reply if fault is None else _fault_page(fault, path)


def _fault_page(fault: Fault, path: str) -> Reply:
    reply = jetty_error(fault.status, _phrase(fault.status), path)
    reply.headers.extend(fault.headers)
    return reply


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
