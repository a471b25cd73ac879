"""The remote API's JSON: root, folders, jobs, builds, queue items as @Exported, and the ``tree`` filter."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .buildqueue import BuildQueue, QueueItem
from .config import RUN_CLASSES, WORKFLOW_JOB
from .items import Build, Item
from .pages import Reply, json_reply, send_error

if TYPE_CHECKING:
    from .handler import Request
    from .state import ServerState

# A parsed ``tree`` spec: field name -> (nested spec or None, optional (start, end) range).
Tree = dict[str, tuple["Tree | None", "tuple[int | None, int | None] | None"]]


class TreeError(ValueError):
    """A ``tree`` parameter that cannot be parsed."""


# -- the tree filter ----------------------------------------------------------------------------------


def parse_tree(spec: str) -> Tree:
    """``a,b[c,d]{0,5}`` into ``{"a": (None, None), "b": ({"c": ..., "d": ...}, (0, 5))}``."""
    tree, end = _parse_fields(spec, 0)
    if end != len(spec):
        raise TreeError(f"unexpected {spec[end]!r} at {end} in tree={spec}")
    return tree


def _parse_fields(spec: str, at: int) -> tuple[Tree, int]:
    fields: Tree = {}
    while at < len(spec) and spec[at] != "]":
        start = at
        while at < len(spec) and spec[at] not in ",[]{":
            at += 1
        name = spec[start:at].strip()
        nested: Tree | None = None
        span: tuple[int | None, int | None] | None = None
        if at < len(spec) and spec[at] == "[":
            nested, at = _parse_fields(spec, at + 1)
            if at >= len(spec) or spec[at] != "]":
                raise TreeError(f"unclosed '[' in tree={spec}")
            at += 1
        if at < len(spec) and spec[at] == "{":
            close = spec.find("}", at)
            if close < 0:
                raise TreeError(f"unclosed '{{' in tree={spec}")
            span = _span(spec[at + 1:close])
            at = close + 1
        if name:
            fields[name] = (nested, span)
        if at < len(spec) and spec[at] == ",":
            at += 1
    return fields, at


def _span(text: str) -> tuple[int | None, int | None]:
    try:
        if "," not in text:  # {n}: just the n-th element
            index = int(text)
            return index, index + 1
        low, high = text.split(",", 1)
        return (int(low) if low.strip() else None), (int(high) if high.strip() else None)
    except ValueError as error:
        raise TreeError(f"bad range {{{text}}}") from error


def apply_tree(data: Any, tree: Tree) -> Any:
    """Keep only the named fields (and ``_class``), as Stapler's ``TreePruner`` does."""
    if isinstance(data, list):
        return [apply_tree(element, tree) for element in data]
    if not isinstance(data, dict):
        return data
    pruned: dict[str, Any] = {"_class": data["_class"]} if "_class" in data else {}
    for name, (nested, span) in tree.items():
        if name not in data:
            continue
        value = data[name]
        if isinstance(value, list) and span is not None:
            value = value[span[0]:span[1]]
        if nested is not None:
            value = apply_tree(value, nested)
        elif isinstance(value, (dict, list)):
            value = apply_tree(value, {})  # an object named without sub-fields shows only its class
        pruned[name] = value
    return pruned


# -- renderers ----------------------------------------------------------------------------------------


class Exporter:
    """Renders items for one root URL; ``deep`` adds the fields a ``tree`` may reach below depth 0."""

    def __init__(self, base_url: str, queue: BuildQueue, *, deep: bool = False) -> None:
        self.base = base_url
        self.build_queue = queue
        self.deep = deep

    def url(self, item: Item) -> str:
        return self.base + item.url_path

    def root(self, root: Item, *, use_crumbs: bool) -> dict[str, Any]:
        view = {"_class": "hudson.model.AllView", "name": "all", "url": self.base}
        return {"_class": "hudson.model.Hudson", "assignedLabels": [{"name": "built-in"}], "mode": "NORMAL",
                "nodeDescription": "the Jenkins controller's built-in node", "nodeName": "",
                "numExecutors": 2, "description": None, "jobs": self.summaries(root),
                "overallLoad": {}, "primaryView": view, "quietDownReason": None, "quietingDown": False,
                "slaveAgentPort": -1, "unlabeledLoad": {"_class": "jenkins.model.UnlabeledLoadStatistics"},
                "url": self.base, "useCrumbs": use_crumbs, "useSecurity": True, "views": [view]}

    def summaries(self, group: Item) -> list[dict[str, Any]]:
        return [self.summary(child) for child in group.sorted_children()]

    def summary(self, item: Item) -> dict[str, Any]:
        """An item inside a ``jobs`` list: class, name, URL and (for jobs) color."""
        entry: dict[str, Any] = {"_class": item.item_class, "name": item.name, "url": self.url(item)}
        if not item.is_group:
            entry["color"] = self.color(item)
        if self.deep:
            entry.update(fullName=item.full_name, displayName=item.name, fullDisplayName=self._display(item))
            if item.is_group:
                entry["jobs"] = self.summaries(item)
            else:
                entry.update(self._build_fields(item))
        return entry

    def item(self, item: Item) -> dict[str, Any]:
        return self.folder(item) if item.is_group else self.job(item)

    def folder(self, item: Item) -> dict[str, Any]:
        assert item.config is not None
        view = {"_class": "hudson.model.AllView", "name": "All", "url": self.url(item)}
        return {"_class": item.item_class, "actions": [], "description": item.config.description,
                "displayName": item.name, "displayNameOrNull": None, "fullDisplayName": self._display(item),
                "fullName": item.full_name, "name": item.name, "url": self.url(item), "healthReport": [],
                "jobs": self.summaries(item), "primaryView": view, "views": [view]}

    def job(self, item: Item) -> dict[str, Any]:
        config = item.config
        assert config is not None
        waiting = self.build_queue.waiting_for(item)
        data: dict[str, Any] = {
            "_class": item.item_class, "actions": [], "description": config.description,
            "displayName": item.name, "displayNameOrNull": None, "fullDisplayName": self._display(item),
            "fullName": item.full_name, "name": item.name, "url": self.url(item),
            "buildable": not config.disabled, "color": self.color(item), "healthReport": [],
            "inQueue": waiting is not None, "keepDependencies": config.keep_dependencies,
            "nextBuildNumber": item.next_build_number, "property": self._properties(item),
            "queueItem": None if waiting is None else self.queue_item(waiting, with_actions=False),
            "concurrentBuild": config.concurrent, "disabled": config.disabled,
        }
        data.update(self._build_fields(item))
        if item.item_class == WORKFLOW_JOB:
            data["resumeBlocked"] = False
        return data

    def _build_fields(self, item: Item) -> dict[str, Any]:
        started = item.started_builds()
        newest = self.build_ref(item, started[-1]) if started else None
        return {"builds": [self.build_ref(item, build) for build in reversed(started[-100:])],
                "firstBuild": self.build_ref(item, started[0]) if started else None,
                "lastBuild": newest, "lastCompletedBuild": newest, "lastStableBuild": newest,
                "lastSuccessfulBuild": newest, "lastFailedBuild": None, "lastUnstableBuild": None,
                "lastUnsuccessfulBuild": None}

    def _properties(self, item: Item) -> list[dict[str, Any]]:
        assert item.config is not None
        parameters = item.config.parameters
        if parameters is None:
            return []
        definitions = [{"_class": p.kind,
                        "defaultParameterValue": {"_class": p.kind.replace("Definition", "Value"),
                                                  "name": p.name, "value": p.default},
                        "description": p.description or None, "name": p.name,
                        "type": p.kind.rsplit(".", 1)[-1]} for p in parameters]
        return [{"_class": "hudson.model.ParametersDefinitionProperty", "parameterDefinitions": definitions}]

    def color(self, item: Item) -> str:
        assert item.config is not None
        if item.config.disabled:
            return "disabled"
        anime = "_anime" if self.build_queue.waiting_for(item) is not None else ""
        return ("blue" if item.started_builds() else "notbuilt") + anime

    def build_ref(self, item: Item, build: Build) -> dict[str, Any]:
        ref: dict[str, Any] = {"_class": self.run_class(item), "number": build.number,
                               "url": f"{self.url(item)}{build.number}/"}
        if self.deep:
            ref.update(self.build(item, build))
        return ref

    @staticmethod
    def run_class(item: Item) -> str:
        return RUN_CLASSES.get(item.item_class, "hudson.model.Run")

    def build(self, item: Item, build: Build) -> dict[str, Any]:
        """A build that ran: it started when its queue item left and passed at once."""
        actions: list[dict[str, Any]] = []
        if build.params is not None:
            actions.append({"_class": "hudson.model.ParametersAction", "parameters": [
                {"_class": "hudson.model.StringParameterValue", "name": name, "value": value}
                for name, value in build.params.items()]})
        return {"_class": self.run_class(item), "actions": actions, "artifacts": [], "building": False,
                "description": None, "displayName": f"#{build.number}", "duration": 0,
                "estimatedDuration": 0, "executor": None, "fullDisplayName": f"{self._display(item)} #"
                f"{build.number}", "id": str(build.number), "inProgress": False, "keepLog": False,
                "number": build.number, "queueId": build.queue_id, "result": "SUCCESS",
                "timestamp": build.started_ms, "url": f"{self.url(item)}{build.number}/",
                "changeSets": [], "culprits": [], "nextBuild": None, "previousBuild": None}

    def queue_item(self, entry: QueueItem, *, with_actions: bool = True) -> dict[str, Any]:
        job = entry.job
        params = "".join(f"\n{name}={value}" for name, value in (entry.params or {}).items())
        data: dict[str, Any] = {
            "_class": "hudson.model.Queue$LeftItem" if entry.left else "hudson.model.Queue$WaitingItem",
            "blocked": False, "buildable": False, "id": entry.id, "inQueueSince": entry.in_queue_since_ms,
            "params": params, "stuck": False,
            "task": {"_class": job.item_class, "name": job.name, "url": self.url(job),
                     "color": self.color(job) if job.config is not None else "notbuilt"},
            "url": f"queue/item/{entry.id}/", "why": None}
        if with_actions:
            cause = {"_class": "hudson.model.Cause$UserIdCause", "shortDescription": "Started by user",
                     "userId": None, "userName": None}
            data = {"_class": data["_class"], "actions": [{"_class": "hudson.model.CauseAction",
                                                           "causes": [cause]}], **data}
        if entry.left:
            data["cancelled"] = False
            data["executable"] = {"_class": self.run_class(job), "number": entry.build.number,
                                  "url": f"{self.url(job)}{entry.build.number}/"}
        else:
            remaining = max(0.0, entry.due - time.monotonic())
            data["why"] = f"In the quiet period. Expires in {_time_span(remaining)}"
            data["timestamp"] = entry.in_queue_since_ms + int(entry.wait * 1000)
        return data

    def queue(self) -> dict[str, Any]:
        return {"_class": "hudson.model.Queue", "discoverableItems": [],
                "items": [self.queue_item(entry) for entry in self.build_queue.waiting()]}

    @staticmethod
    def _display(item: Item) -> str:
        return " » ".join(item.full_name.split("/"))


def _time_span(seconds: float) -> str:
    """Roughly ``Util.getTimeSpanString``: milliseconds below a second, else tenths of seconds."""
    if seconds < 1:
        return f"{int(seconds * 1000)} ms"
    return f"{seconds:.1f} sec"


def api_json(state: ServerState, request: Request, render: Callable[[Exporter], Any]) -> Reply:
    """An ``api/json`` answer: ``render(exporter)``, pruned by ``tree``, with ``Api.setHeaders``."""
    spec = request.param("tree")
    try:
        tree = parse_tree(spec) if spec else None
    except TreeError as error:
        raise send_error(400, str(error), request.path) from error
    data = render(Exporter(state.base_url, state.queue, deep=tree is not None))
    return json_reply(data if tree is None else apply_tree(data, tree), state.api_headers())
