"""The Jenkins REST client: Basic auth, CSRF crumbs, start-up waits, folders, jobs, config.xml and builds.

Endpoints, statuses and headers follow ``shared/specs/jenkins-rest.md``. What the client
takes care of, so callers need not:

* **Auth and crumbs.** Every request carries HTTP Basic ``user:secret`` (an API token or a
  password). Before the first POST the client asks ``crumbIssuer/api/json`` for a crumb (404
  means the server has no issuer) and sends it back with the session cookie it came with —
  a password needs both; an API token needs neither but is not hurt by them.
* **Start-up.** Jenkins answers 503 to everything while it starts: the client waits, with a
  line of progress, until ``timeout`` seconds have passed since it was made.
* **Retries.** Through the core's ``RetryingTransport``: reads, config.xml updates and deletes
  are retried after a 429, a 5xx, a reset or a timeout. ``createItem`` and build triggers are
  not repeated blindly: after a failure that leaves their outcome unknown, dtm looks for the
  item or the build first (``dtm_core.create_once``) and adopts what the lost call made.
* **Errors.** One line and a hint each: unreachable, credentials rejected (401), permission
  or crumb refused (403), Jenkins' own message from ``X-Error`` (400), anything else by status.
  No message ever holds the secret.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from dtm_core import (
    OperationError,
    OptionError,
    RetryingTransport,
    RetryPolicy,
    UncertainWrite,
    create_once,
    is_uncertain,
)

#: Characters Jenkins.checkGoodName refuses in an item name.
UNSAFE = "?*/\\%!@#$^&|<>[]:;"
XML = "application/xml"
#: 503 is Jenkins starting up, waited for by the client itself (until ``timeout``), not retried below it.
TRANSPORT_RETRIES = frozenset({500, 502, 504})
_QUEUE_ITEM = re.compile(r"/queue/item/(\d+)/?$")


def job_name_parts(full_name: str) -> list[str]:
    """``team/app`` as ``["team", "app"]``; an OptionError for a name Jenkins would refuse."""
    parts = [part.strip() for part in full_name.strip().strip("/").split("/")]
    if not full_name.strip().strip("/") or any(not part for part in parts):
        raise OptionError(f"options.job_name: {full_name!r} is not a job name",
                          hint="name the job, with folders before it separated by '/': team/app")
    for part in parts:
        bad = next((ch for ch in part if ch in UNSAFE or ord(ch) < 0x20), None)
        if bad is not None:
            raise OptionError(f"options.job_name: {bad!r} is not allowed in a Jenkins item name ({part!r})",
                              hint=f"Jenkins refuses any of {UNSAFE} in names; '/' separates folders")
        if part in (".", "..") or part.endswith("."):
            raise OptionError(f"options.job_name: {part!r} is not allowed as a Jenkins item name",
                              hint="a name cannot be '.' or '..' nor end with '.'")
    return parts


def item_path(parts: list[str]) -> str:
    """The URL of an item below the root: ``job/team/job/app/`` (``""`` for the root)."""
    return "".join(f"job/{quote(part, safe='')}/" for part in parts)


def root_url(url: str) -> str:
    """A Jenkins root URL with exactly one trailing slash (``http://host/jenkins/``)."""
    return url.strip().rstrip("/") + "/"


def shown_url(url: str) -> str:
    """The URL for messages: without any ``user:password@`` in it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class JenkinsClient:
    """One session with a Jenkins controller; use it as a context manager so connections close."""

    #: Seconds between two looks at a starting Jenkins or a queued build (tests lower it).
    poll_interval: float = 0.5

    def __init__(self, url: str, user: str, secret: str, *, timeout: float = 300.0,
                 progress: Callable[[str], None] | None = None, request_timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = root_url(url)
        self.shown = shown_url(self.url)
        self.user = user
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.progress = progress or (lambda message: None)
        self._crumb: dict[str, str] | None = None
        self._crumb_fetched = False
        self._waited = False
        # Cookies are kept: a password's crumb is only valid with the session it was issued to.
        retrying = RetryingTransport(transport,
                                     service=f"Jenkins at {self.shown}", progress=self.progress,
                                     policy=RetryPolicy(statuses=TRANSPORT_RETRIES))
        self._http = httpx.Client(base_url=self.url, auth=(user, secret), timeout=request_timeout,
                                  transport=retrying, follow_redirects=False,
                                  headers={"User-Agent": "dtm-plugins-jenkins"})

    def __enter__(self) -> JenkinsClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- requests ----------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, content: bytes | None = None,
                params: Mapping[str, str] | None = None, allow: tuple[int, ...] = (),
                idempotent: bool | None = None) -> httpx.Response:
        """Send one call; return the answer if it succeeded (2xx/3xx) or its status is in ``allow``.

        ``idempotent`` marks a POST whose repeat changes nothing more (a config.xml, a delete).
        """
        method = method.upper()
        what = f"{method} {path.split('?', 1)[0] or '/'}"
        replayable = method != "POST" if idempotent is None else idempotent
        retried_crumb = False
        while True:
            headers = {"Content-Type": f"{XML}; charset=utf-8"} if content is not None else {}
            if method == "POST":
                headers.update(self.crumb())
            response = self._send(method, path, what, content, params, headers, replayable)
            status = response.status_code
            if status == 503 and replayable:
                self._wait_until_ready(what)
                continue
            if status == 403 and method == "POST" and "No valid crumb" in response.text \
                    and self._crumb and not retried_crumb:
                # Refused before Jenkins acted (CrumbFilter): an expired session; fetch anew, once.
                retried_crumb, self._crumb_fetched, self._crumb = True, False, None
                continue
            if status < 400 or status in allow:
                return response
            raise self._error(response, what)

    def _send(self, method: str, path: str, what: str, content: bytes | None,
              params: Mapping[str, str] | None, headers: dict[str, str], replayable: bool) -> httpx.Response:
        try:
            return self._http.request(method, path.lstrip("/"), content=content, params=params,
                                      headers=headers, extensions={"idempotent": replayable})
        except httpx.TransportError as error:
            # Lost after sending, Jenkins may have done it: UncertainWrite tells create_once to look.
            kind = UncertainWrite if is_uncertain(error) else OperationError
            if isinstance(error, httpx.TimeoutException):
                raise kind(f"Jenkins at {self.shown} did not answer {what} in time ({type(error).__name__})",
                           hint="check that Jenkins is running and not overloaded, then run the command "
                           "again") from None
            raise kind(
                f"cannot reach Jenkins at {self.shown}: {_one_line(str(error)) or type(error).__name__}",
                hint="check jenkins_url; an in-cluster address (*.svc) is reachable only from inside the "
                "cluster: use a port-forward, a NodePort or a LoadBalancer address") from None

    def _wait_until_ready(self, what: str) -> None:
        if time.monotonic() >= self.deadline:
            raise OperationError(
                f"Jenkins at {self.shown} is not ready after {self.timeout:g} s (503 to {what})",
                hint="Jenkins is still starting or stuck; look at its log, or raise the timeout option")
        if not self._waited:
            self._waited = True
            self.progress(f"Jenkins at {self.shown} is starting (503); waiting up to {self.timeout:g} s")
        time.sleep(min(self.poll_interval, max(0.0, self.deadline - time.monotonic())))

    def _error(self, response: httpx.Response, what: str) -> OperationError:
        status = response.status_code
        if status == 401:
            return OperationError(
                f"Jenkins at {self.shown} rejected the credentials of {self.user} (401 to {what})",
                hint=f"token must be an API token of {self.user} (Jenkins: {self.user} > Security > "
                "API Token) or its password; check user and token")
        if status == 403 and "No valid crumb" in response.text:
            return OperationError(
                f"Jenkins at {self.shown} refused the CSRF crumb dtm sent with {what} (403)",
                hint="a proxy may drop the session cookie the crumb belongs to; an API token of "
                f"{self.user} as token needs no crumb")
        if status == 403:
            return OperationError(
                f"Jenkins at {self.shown} denied {what} to {self.user} (403)",
                hint=f"give {self.user} the permission it needs (Overall/Read, Job/Create, Job/Configure, "
                "Job/Delete, Job/Build) or use an administrator's token")
        reason = response.headers.get("X-Error")
        if reason:
            return OperationError(f"Jenkins at {self.shown} refused {what}: {_one_line(reason)}",
                                  hint="correct the value Jenkins names and run the command again")
        if status == 404:
            return OperationError(f"Jenkins at {self.shown} has no {what.split(' ', 1)[1]} (404)",
                                  hint="check jenkins_url, and that the folders in job_name are folders")
        detail = ""
        if response.headers.get("Content-Type", "").startswith("text/plain"):
            detail = ": " + _one_line(response.text.splitlines()[0] if response.text else "")
        kind = UncertainWrite if status >= 500 else OperationError
        return kind(f"Jenkins at {self.shown} answered {status} to {what}{detail}",
                    hint="look at the Jenkins log for the cause, then run the command again")

    def crumb(self) -> dict[str, str]:
        """The crumb header to send with POSTs; empty when the server issues none (404)."""
        if not self._crumb_fetched:
            response = self.request("GET", "crumbIssuer/api/json", allow=(403, 404))
            if response.status_code == 403:
                raise OperationError(
                    f"Jenkins at {self.shown} refused {self.user} a CSRF crumb "
                    "(403 to GET crumbIssuer/api/json)",
                    hint=f"give {self.user} Overall/Read, or use an API token of {self.user} as token")
            self._crumb = {}
            if response.status_code == 200:
                body = _json(response)
                field, value = body.get("crumbRequestField"), body.get("crumb")
                if isinstance(field, str) and isinstance(value, str):
                    self._crumb = {field: value}
            self._crumb_fetched = True
        return dict(self._crumb or {})

    # -- items ---------------------------------------------------------------------------------------

    def job_url(self, parts: list[str]) -> str:
        return self.url + item_path(parts)

    def get_config(self, parts: list[str]) -> bytes | None:
        """An item's config.xml as stored, or None when there is no such item."""
        response = self.request("GET", item_path(parts) + "config.xml", allow=(404,))
        return None if response.status_code == 404 else response.content

    def is_folder(self, parts: list[str]) -> bool | None:
        """Whether the item holds items (a folder); None when there is no such item."""
        response = self.request("GET", item_path(parts) + "api/json", params={"tree": "jobs[name]"},
                                allow=(404,))
        return None if response.status_code == 404 else "jobs" in _json(response)

    def create_item(self, parts: list[str], config: bytes) -> None:
        """``POST <parent>/createItem?name=<name>`` with the item's config.xml, never twice.

        After a failure that leaves it unknown whether Jenkins created the item, the item is
        looked for, and taken as made when it is of the kind asked for (job or folder).
        """
        def create() -> bool:
            self.request("POST", item_path(parts[:-1]) + "createItem", params={"name": parts[-1]},
                         content=config)
            return True

        def look() -> bool | None:
            found = self.get_config(parts)
            return True if found is not None and _root_tag(found) == _root_tag(config) else None

        create_once(create, look, what=f"creating Jenkins item {'/'.join(parts)}", progress=self.progress)

    def update_config(self, parts: list[str], config: bytes) -> None:
        self.request("POST", item_path(parts) + "config.xml", content=config, idempotent=True)

    def delete_item(self, parts: list[str]) -> bool:
        """``POST doDelete`` (answered with a redirect, not followed); False when already gone."""
        response = self.request("POST", item_path(parts) + "doDelete", allow=(404,), idempotent=True)
        return response.status_code != 404

    def ensure_folders(self, parts: list[str], folder_config: bytes) -> list[str]:
        """Create the folders ``parts`` lies in that are missing; returns the full names created."""
        created = []
        for depth in range(1, len(parts)):
            folder = parts[:depth]
            found = self.is_folder(folder)
            if found is None:
                self.progress(f"creating folder {'/'.join(folder)}")
                try:
                    self.create_item(folder, folder_config)
                except OperationError:
                    # Two pipelines of one apply share their folders, and run in parallel: the
                    # other may have made it since we looked. Then it is theirs, and fine.
                    if self.is_folder(folder) is not True:
                        raise
                    continue
                created.append("/".join(folder))
            elif not found:
                raise OperationError(
                    f"Jenkins item {'/'.join(folder)} at {self.shown} is a job, not a folder",
                    hint="choose a job_name whose folders are folders (or do not exist yet)")
        return created

    # -- builds --------------------------------------------------------------------------------------

    def job_info(self, parts: list[str], tree: str) -> dict[str, Any] | None:
        response = self.request("GET", item_path(parts) + "api/json", params={"tree": tree}, allow=(404,))
        return None if response.status_code == 404 else _json(response)

    def build(self, parts: list[str]) -> int:
        """Queue a build; returns the queue item's id (from ``Location: <root>queue/item/<id>/``)."""
        response = self.request("POST", item_path(parts) + "build")
        found = _QUEUE_ITEM.search(urlsplit(response.headers.get("Location", "")).path)
        if response.status_code != 201 or found is None:
            raise OperationError(
                f"Jenkins at {self.shown} did not queue a build of {'/'.join(parts)} "
                f"({response.status_code})",
                hint="a job that has parameters cannot be built this way; start it from Jenkins")
        return int(found.group(1))

    def wait_for_build(self, queue_id: int, what: str) -> int:
        """Wait until the queue item left the queue as a build; returns the build's number."""
        while True:
            item = _json(self.request("GET", f"queue/item/{queue_id}/api/json"))
            executable = item.get("executable")
            if isinstance(executable, dict) and isinstance(executable.get("number"), int):
                return int(executable["number"])
            if item.get("cancelled"):
                raise OperationError(f"the first build of {what} was cancelled in the Jenkins queue",
                                     hint="start it again from Jenkins, or run the command again")
            if time.monotonic() >= self.deadline:
                why = item.get("why") or "waiting"
                raise OperationError(
                    f"the first build of {what} is still queued after {self.timeout:g} s "
                    f"({_one_line(str(why))})",
                    hint="Jenkins needs a free executor or agent for it; raise the timeout option")
            time.sleep(self.poll_interval)


def _root_tag(config: bytes) -> str | None:
    """The root element of a config.xml (``flow-definition``, a folder's class name), None if unreadable."""
    try:
        return ElementTree.fromstring(config).tag
    except ElementTree.ParseError:
        return None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise OperationError(f"Jenkins answered {response.request.method} {response.request.url.path} "
                             "with something that is not a JSON object",
                             hint="check that jenkins_url is the Jenkins root URL")
    return body
