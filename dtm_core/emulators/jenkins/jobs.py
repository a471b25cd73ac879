"""What a folder or job URL does: create items, read and write config.xml, delete, enable, trigger builds."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .buildqueue import parse_delay
from .config import BLANK, with_disabled
from .exported import api_json
from .items import Build, Item, load
from .pages import HTML, Reply, failure, not_found, page, require_post, send_error

if TYPE_CHECKING:
    from .handler import Request
    from .state import ServerState

PERMALINKS = ("lastBuild", "lastCompletedBuild", "lastStableBuild", "lastSuccessfulBuild", "firstBuild")


def serve(state: ServerState, request: Request, item: Item, rest: list[str]) -> Reply:
    if not rest:
        if request.method == "DELETE":  # HttpDeletable: AbstractItem.delete -> 204
            _delete(state, item)
            return Reply(204)
        return Reply(200, page(f"{item.full_name} [Jenkins]", item.name), headers=state.advertised())
    if rest == ["api", "json"]:
        return api_json(state, request, lambda exporter: exporter.item(item))
    if rest == ["configure"]:  # where the form mode of createItem and copies redirect to
        return Reply(200, page(f"{item.full_name} Config [Jenkins]", "Configure"), headers=state.advertised())
    if rest == ["config.xml"]:
        return _config_xml(state, request, item)
    if rest == ["doDelete"]:
        if request.method != "POST":
            raise require_post(state.base_url + request.target.lstrip("/"))
        parent = item.parent
        assert parent is not None
        _delete(state, item)
        return Reply(302, headers=[("Location", state.base_url + parent.url_path)])
    if item.is_group:
        if rest == ["createItem"]:
            return create_item(state, request, item)
        raise not_found(request.path)
    if rest == ["build"]:
        return _build(state, request, item)
    if rest == ["buildWithParameters"]:
        return _build_with_parameters(state, request, item)
    if rest in (["enable"], ["disable"]):
        if request.method != "POST":
            raise require_post(state.base_url + request.target.lstrip("/"))
        assert item.config is not None
        item.config = load(with_disabled(item.config.text, rest == ["disable"]).encode(), "")
        return Reply(302, headers=[("Location", state.base_url + item.url_path)])
    if len(rest) == 3 and rest[1:] == ["api", "json"]:
        build = _find_build(item, rest[0])
        if build is not None:
            return api_json(state, request, lambda exporter: exporter.build(item, build))
    raise not_found(request.path)


def create_item(state: ServerState, request: Request, parent: Item) -> Reply:
    """``ItemGroupMixIn.createTopLevelItem``: its checks, in its order, with its messages."""
    if request.method != "POST":
        raise require_post(state.base_url + request.target.lstrip("/"))
    content_type = request.headers.get("Content-Type")
    mode = request.param("mode")
    if content_type is None and mode != "copy":
        raise failure("No Content-Type header set")
    is_xml = content_type is not None and content_type.startswith(("application/xml", "text/xml"))
    name = request.param("name")
    if name is None:
        raise failure("Query parameter 'name' is required")
    tree = state.tree
    name = tree.check_name(parent, name)
    if mode == "copy":
        source_name = request.param("from") or ""
        source = _resolve(state, parent, source_name)
        if source is None:
            raise failure("No such job: " + source_name if source_name else "Specify which job to copy")
        assert source.config is not None
        created = tree.create(parent, name, source.config)
    elif is_xml:
        tree.create(parent, name, load(request.body, "Failed to persist config.xml"))
        return Reply(200)  # no redirect for XML: the client asked for no page
    else:
        if mode is None:
            raise failure("No mode given")
        blank = BLANK.get(mode)
        if blank is None:
            raise failure(f"No item type ‘{mode}’ is known")
        created = tree.create(parent, name, load(blank.encode(), ""))
    return Reply(302, headers=[("Location", f"{state.base_url}{created.url_path}configure")])


def _resolve(state: ServerState, parent: Item, name: str) -> Item | None:
    """``Jenkins.getItem(name, context)``: absolute with a leading "/", else relative to the group."""
    if not name:
        return None
    if name.startswith("/"):
        return state.tree.find(name)
    prefix = parent.full_name
    return state.tree.find(f"{prefix}/{name}" if prefix else name) or state.tree.find(name)


def _config_xml(state: ServerState, request: Request, item: Item) -> Reply:
    assert item.config is not None
    if request.method in ("GET", "HEAD"):
        return Reply(200, item.config.text.encode(), "application/xml")
    if request.method == "POST":
        state.tree.update(item, load(request.body, "Failed to process config.xml"))
        return Reply(200)
    raise send_error(400, "Bad Request", request.path)  # doConfigDotXml: "huh?"


def _delete(state: ServerState, item: Item) -> None:
    state.queue.forget(item)  # before unlinking: it finds queued children through their parents
    state.tree.delete(item)


def _build(state: ServerState, request: Request, job: Item) -> Reply:
    """``ParameterizedJobMixIn.doBuild``."""
    config = job.config
    assert config is not None
    if config.disabled:
        raise send_error(409, f"{job.full_name} is not buildable", request.path)
    if config.parameters is not None and request.method != "POST":
        return Reply(200, page(f"{job.full_name} [Jenkins]", "This build requires parameters:"), HTML)
    _check_build_permission(state, request, job)
    params = None
    if config.parameters is not None:
        params = _submitted_form(request, job)
    return _schedule(state, request, job, params, created_status=201)


def _build_with_parameters(state: ServerState, request: Request, job: Item) -> Reply:
    """``ParameterizedJobMixIn.doBuildWithParameters``."""
    config = job.config
    assert config is not None
    _check_build_permission(state, request, job)
    if config.disabled:
        raise send_error(409, f"{job.full_name} is not buildable", request.path)
    if config.parameters is None:
        raise send_error(400, f"{job.full_name} is not parameterized", request.path)
    params: dict[str, str] = {}
    for parameter in config.parameters:
        value = request.param(parameter.name)
        params[parameter.name] = parameter.default if value is None else _value(parameter.kind, value)
    return _schedule(state, request, job, params, created_status=201, merged_status=303)


def _check_build_permission(state: ServerState, request: Request, job: Item) -> None:
    """``BuildAuthorizationToken.checkPermission``: a matching job token also allows GET."""
    assert job.config is not None
    token = request.param("token")
    if job.config.auth_token and token is not None:
        if token == job.config.auth_token:
            return
        raise send_error(403, "Invalid token provided.", request.path)
    if request.method != "POST":
        raise require_post(state.base_url + request.target.lstrip("/"))


def _submitted_form(request: Request, job: Item) -> dict[str, str]:
    """``ParametersDefinitionProperty._doBuild``: the ``json`` field of a submitted form."""
    assert job.config is not None and job.config.parameters is not None
    raw = request.param("json")
    if raw is None:
        raise send_error(500, "javax.servlet.ServletException: This page expects a form submission but had "
                              "only {}", request.path)
    try:
        submitted = json.loads(raw).get("parameter", [])
    except (ValueError, AttributeError) as error:
        raise send_error(400, f"malformed form submission: {error}", request.path) from error
    entries = submitted if isinstance(submitted, list) else [submitted]
    known = {parameter.name: parameter for parameter in job.config.parameters}
    params = {parameter.name: parameter.default for parameter in job.config.parameters}
    for entry in entries:
        name = str(entry.get("name", ""))
        if name not in known:
            raise send_error(500, f"java.lang.IllegalArgumentException: No such parameter definition: {name}",
                             request.path)
        params[name] = _value(known[name].kind, str(entry.get("value", "")))
    return params


def _value(kind: str, value: str) -> str:
    if kind.endswith("BooleanParameterDefinition"):
        return "true" if value.strip().lower() == "true" else "false"
    return value


def _schedule(state: ServerState, request: Request, job: Item, params: dict[str, str] | None, *,
              created_status: int, merged_status: int | None = None) -> Reply:
    entry, created = state.queue.schedule(job, params, parse_delay(request.param("delay")))
    status = created_status if created or merged_status is None else merged_status
    return Reply(status, headers=[("Location", f"{state.base_url}queue/item/{entry.id}/")])


def _find_build(job: Item, key: str) -> Build | None:
    started = job.started_builds()
    if key.isdigit():
        return next((build for build in started if build.number == int(key)), None)
    if key in PERMALINKS and started:
        return started[0] if key == "firstBuild" else started[-1]
    return None
