"""What the emulator answers with: the reply type, the error that carries one, and Jenkins' error pages."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from typing import Any

HTML = "text/html;charset=utf-8"
JSON = "application/json;charset=utf-8"
TEXT = "text/plain;charset=utf-8"
JETTY_VERSION = "12.0.25"  # the servlet container that writes Jenkins' plain error pages


@dataclass
class Reply:
    """One HTTP answer: status, body and headers (Content-Type and Content-Length are added on sending)."""

    status: int
    body: bytes = b""
    content_type: str = HTML
    headers: list[tuple[str, str]] = field(default_factory=list)


class HttpError(Exception):
    """Raised anywhere below the handler to answer with ``reply`` instead of going on."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def json_reply(data: Any, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(200, json.dumps(data, separators=(",", ":")).encode(), JSON, list(headers or []))


def header_value(text: str) -> str:
    """A header value as Jetty writes it: characters beyond Latin-1, CR and LF become spaces.

    Jenkins' messages quote names with ‘curly quotes’; Jetty's HttpGenerator cannot put them on the wire
    and writes a space instead, so a client reads ``X-Error`` with spaces where the quotes were. The page
    body keeps them (it is UTF-8).
    """
    return "".join(" " if ord(ch) > 0xFF or ch in "\r\n" else ch for ch in text)


def jetty_error(status: int, message: str, uri: str) -> Reply:
    """The page Jetty writes for ``sendError(status, message)`` (the servlet layer's plain errors)."""
    text = escape(message)
    body = ("<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=ISO-8859-1\"/>\n"
            f"<title>Error {status} {text}</title>\n</head>\n<body><h2>HTTP ERROR {status} {text}</h2>\n"
            f"<table>\n<tr><th>URI:</th><td>{escape(uri)}</td></tr>\n"
            f"<tr><th>STATUS:</th><td>{status}</td></tr>\n<tr><th>MESSAGE:</th><td>{text}</td></tr>\n"
            "<tr><th>SERVLET:</th><td>Stapler</td></tr>\n</table>\n"
            f"<hr/><a href=\"https://jetty.org/\">Powered by Jetty:// {JETTY_VERSION}</a><hr/>\n\n"
            "</body>\n</html>\n")
    return Reply(status, body.encode("latin-1", "replace"), "text/html;charset=iso-8859-1")


def not_found(uri: str) -> HttpError:
    return HttpError(jetty_error(404, "Not Found", uri))


def send_error(status: int, message: str, uri: str) -> HttpError:
    return HttpError(jetty_error(status, message, uri))


def failure(message: str) -> HttpError:
    """A ``hudson.model.Failure``: 400, the message in ``X-Error`` and on an HTML page (error.jelly)."""
    body = ("<!DOCTYPE html><html><head><title>Jenkins</title></head><body>"
            f"<h1>Error</h1><p>{escape(message)}</p></body></html>")
    return HttpError(Reply(400, body.encode(), HTML, [("X-Error", header_value(message))]))


def require_post(url: str) -> HttpError:
    """Stapler's answer to another method on a ``@RequirePOST`` action (CrumbFilter/retry.jelly)."""
    body = ("<!DOCTYPE html><html><head><title>Method Not Allowed</title></head><body>"
            "<h1>This URL requires POST</h1><p>The URL you're trying to access requires that requests be "
            f"sent using POST (like a form submission).</p><p><code>{escape(url)}</code></p>"
            "</body></html>")
    return HttpError(Reply(405, body.encode(), HTML, [("Allow", "POST")]))


def unauthorized(uri: str) -> HttpError:
    """Wrong Basic credentials: Spring Security's BasicAuthenticationEntryPoint with realm ``Jenkins``."""
    reply = jetty_error(401, "Unauthorized", uri)
    reply.headers.append(("WWW-Authenticate", 'Basic realm="Jenkins"'))
    return HttpError(reply)


def authentication_required(uri: str, advertised: list[tuple[str, str]]) -> HttpError:
    """Anonymous without Overall/Read: HudsonAuthenticationEntryPoint's 403, with its diagnosis headers."""
    login = "/login?from=" + uri.replace("/", "%2F")
    body = (f"<html><head><meta http-equiv='refresh' content='1;url={escape(login)}'/>"
            "<script id='redirect' data-redirect-url='" + escape(login) + "'></script></head>"
            "<body style='background-color:white; color:white;'>\nAuthentication required\n<!--\n-->\n\n"
            "</body></html>")
    headers = [*advertised,
               ("X-You-Are-Authenticated-As", "anonymous"),
               ("X-You-Are-In-Group-Disabled", "JENKINS-39402: use -Dhudson.security.AccessDeniedException2."
                                               "REPORT_GROUP_HEADERS=true or use /whoAmI to diagnose"),
               ("X-Required-Permission", "hudson.model.Hudson.Read"),
               ("X-Permission-Implied-By", "hudson.security.Permission.GenericRead"),
               ("X-Permission-Implied-By", "hudson.model.Hudson.Administer")]
    return HttpError(Reply(403, body.encode(), HTML, headers))


def getting_ready() -> Reply:
    """What Jenkins serves on every URL while it starts (hudson/util/HudsonIsLoading): 503."""
    body = ("<!DOCTYPE html><html><head><title>Starting Jenkins</title>"
            "<meta http-equiv='refresh' content='5'/></head><body>"
            "<h1>Please wait while Jenkins is getting ready to work...</h1>"
            "<p>Your browser will reload automatically when Jenkins is ready.</p></body></html>")
    return Reply(503, body.encode(), HTML)


def page(title: str, heading: str) -> bytes:
    """A plain HTML page for the views the emulator only needs to acknowledge (dashboard, job page)."""
    return (f"<!DOCTYPE html><html><head><title>{escape(title)}</title></head>"
            f"<body><h1>{escape(heading)}</h1></body></html>").encode()
