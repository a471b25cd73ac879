"""Where a URL goes: walking ``job/<name>/`` segments to an item, and the root's own pages and APIs."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote

from . import jobs
from .exported import api_json
from .pages import TEXT, HttpError, Reply, json_reply, not_found, page
from .security import CRUMB_FIELD

if TYPE_CHECKING:
    from .handler import Request
    from .state import ServerState

# The xpath forms CrumbIssuer.RestrictedApi answers itself; any other goes to the generic XML API.
CRUMB_XPATHS = {
    "/*/crumbRequestField/text()": "{field}",
    "/*/crumb/text()": "{crumb}",
    'concat(//crumbRequestField,":",//crumb)': "{field}:{crumb}",
    "concat(//crumbRequestField,'=',//crumb)": "{field}={crumb}",
}


def dispatch(state: ServerState, request: Request) -> Reply:
    segments = [unquote(part) for part in request.path.split("/") if part]
    item = state.tree.root
    at = 0
    while at + 1 < len(segments) and segments[at] == "job":
        child = item.child(segments[at + 1]) if item.is_group else None
        if child is None:
            raise not_found(request.path)
        item, at = child, at + 2
    rest = segments[at:]
    if item is state.tree.root:
        return _root(state, request, rest)
    return jobs.serve(state, request, item, rest)


def _root(state: ServerState, request: Request, rest: list[str]) -> Reply:
    if not rest:
        if request.method == "DELETE":
            raise not_found(request.path)
        return Reply(200, page("Dashboard [Jenkins]", "Welcome to Jenkins!"), headers=state.advertised())
    if rest == ["api", "json"]:
        return api_json(state, request, lambda exporter: exporter.root(state.tree.root,
                                                                          use_crumbs=state.security.crumbs))
    if rest == ["createItem"]:
        return jobs.create_item(state, request, state.tree.root)
    if rest[0] == "crumbIssuer":
        return _crumb(state, request, rest[1:])
    if rest == ["queue", "api", "json"]:
        return api_json(state, request, lambda exporter: exporter.queue())
    if len(rest) == 5 and rest[:2] == ["queue", "item"] and rest[3:] == ["api", "json"] and rest[2].isdigit():
        entry = state.queue.items.get(int(rest[2]))
        if entry is None:
            raise not_found(request.path)
        return api_json(state, request, lambda exporter: exporter.queue_item(entry))
    if rest == ["me", "api", "json"]:
        user = request.identity.user
        return api_json(state, request, lambda _: {
            "_class": "hudson.model.User", "absoluteUrl": f"{state.base_url}user/{user}", "description": None,
            "fullName": user, "id": user, "property": []})
    raise not_found(request.path)


def _crumb(state: ServerState, request: Request, rest: list[str]) -> Reply:
    security = state.security
    if not security.crumbs or rest not in (["api", "json"], ["api", "xml"]):
        raise not_found(request.path)
    headers = state.api_headers()
    session = request.session
    if session is None:  # issueCrumb calls getSession(): a fresh session, announced by its cookie
        session = security.new_session()
        headers.append(("Set-Cookie", security.set_cookie(session)))
    crumb = security.crumb(request.identity.user, session)
    if rest == ["api", "json"]:
        return json_reply({"_class": "hudson.security.csrf.DefaultCrumbIssuer", "crumb": crumb,
                           "crumbRequestField": CRUMB_FIELD}, headers)
    xpath = request.param("xpath")
    if xpath is None:
        body = (f'<defaultCrumbIssuer _class="hudson.security.csrf.DefaultCrumbIssuer"><crumb>{crumb}</crumb>'
                f"<crumbRequestField>{CRUMB_FIELD}</crumbRequestField></defaultCrumbIssuer>")
        return Reply(200, body.encode(), "application/xml;charset=utf-8", headers)
    form = CRUMB_XPATHS.get(xpath)
    if form is None:
        # Jenkins would evaluate any XPath against the XML; the emulator knows only the fixed forms.
        raise HttpError(Reply(400, f"the emulator answers only these xpath forms: {sorted(CRUMB_XPATHS)}\n"
                                   .encode(), TEXT, headers))
    return Reply(200, form.format(field=CRUMB_FIELD, crumb=crumb).encode(), TEXT, headers)

