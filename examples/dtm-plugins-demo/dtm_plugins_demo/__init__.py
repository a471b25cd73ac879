"""Demo tool kinds whose resources are JSON files: a database and an app that needs one."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dtm_core import GONE, Live, Option, OutputSpec, ToolContext, ToolKind, hookimpl

ROOT = Option("root", "string", "Directory holding the demo resources "
              "(default: $DTM_DEMO_ROOT or ./dtm-demo).")


class FileResourceKind(ToolKind):
    """A tool whose resource is ``<root>/<folder>/<instance>.json`` holding its settings."""

    folder = ""

    def _path(self, ctx: ToolContext) -> Path:
        root = ctx.options.get("root") or os.environ.get("DTM_DEMO_ROOT") or "dtm-demo"
        return Path(root).expanduser() / self.folder / f"{ctx.instance}.json"

    def settings(self, ctx: ToolContext) -> dict[str, Any]:
        raise NotImplementedError

    def outputs_for(self, ctx: ToolContext, path: Path) -> dict[str, Any]:
        return {"path": str(path)}

    def create(self, ctx: ToolContext) -> dict[str, Any]:
        path = self._path(ctx)
        path.parent.mkdir(parents=True, exist_ok=True)
        ctx.progress(f"writing {path}")
        path.write_text(json.dumps(self.settings(ctx), indent=2) + "\n")
        return self.outputs_for(ctx, path)

    def read(self, ctx: ToolContext) -> Live | Any:
        path = self._path(ctx)
        if not path.exists():
            return GONE
        return Live(observed=json.loads(path.read_text()), outputs=self.outputs_for(ctx, path))

    def update(self, ctx: ToolContext, live: Live) -> dict[str, Any]:
        # Writing the file again in place is this resource's "update"; nothing is deleted.
        return self.create(ctx)

    def delete(self, ctx: ToolContext) -> None:
        self._path(ctx).unlink(missing_ok=True)


class DemoDb(FileResourceKind):
    name = "demo-db"
    description = "A demo database kept as a JSON file."
    folder = "db"
    options = (ROOT, Option("size", "integer", "Storage size in GiB.", default=1))
    outputs = (OutputSpec("path", "The file holding this database."),
               OutputSpec("url", "Connection URL."))

    def settings(self, ctx: ToolContext) -> dict[str, Any]:
        return {"engine": "demo", "version": ctx.version, "size": ctx.options["size"]}

    def outputs_for(self, ctx: ToolContext, path: Path) -> dict[str, Any]:
        return {"path": str(path), "url": f"demo://{ctx.instance}.db.local"}


class DemoApp(FileResourceKind):
    name = "demo-app"
    description = "A demo application, deployed as a JSON file, that needs demo-db."
    folder = "app"
    options = (ROOT, Option("replicas", "integer", "How many replicas to run.", default=1))
    outputs = (OutputSpec("path", "The file holding this app."),)

    def settings(self, ctx: ToolContext) -> dict[str, Any]:
        return {"version": ctx.version, "replicas": ctx.options["replicas"]}


@hookimpl
def dtm_tool_kinds() -> list[ToolKind]:
    return [DemoDb(), DemoApp()]
