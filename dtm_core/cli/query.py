"""Read-only commands: search, info and list."""

from __future__ import annotations

from typing import Any

import click

from .context import get_context
from .render import emit_json, notice, output_option, table


def _warn_registry() -> None:
    for warning in getattr(get_context().app.registry, "warnings", []):
        notice(f"warning: {warning}")


@click.command()
@click.argument("term", required=False)
@output_option
def search(term: str | None, output: str) -> None:
    """Search tools and stacks by name, tag and description (exact and prefix matches first)."""
    from ..queries import search_rows

    app = get_context().app
    installed = app.store.installed_tools()
    rows = search_rows(app.registry, term, installed)
    _warn_registry()
    if output == "json":
        emit_json(rows)
        return
    if not rows:
        notice(f"no tool matches {term!r}" if term else "the registry lists no tools")
        return
    table(["NAME", "VERSION", "KIND", "INSTALLED", "DESCRIPTION"],
          [[r["name"], r["version"] or "-", r["kind"], "yes" if r["installed"] else "",
            r["description"]] for r in rows])


@click.command()
@click.argument("tool")
@output_option
def info(tool: str, output: str) -> None:
    """Show TOOL's versions, dependencies, what needs it, its plugin and its index."""
    from ..queries import info_data

    app = get_context().app
    data = info_data(app.registry, app.read_state(), tool, app.plugins.tool_kind(tool))
    if output == "json":
        emit_json(data)
        return
    click.echo(f"{data['name']} ({data['kind']}) — {data['description']}")
    if data["homepage"]:
        click.echo(f"homepage:  {data['homepage']}")
    click.echo(f"index:     {data['source']}")
    if data["tags"]:
        click.echo(f"tags:      {', '.join(data['tags'])}")
    click.echo(f"needed by: {', '.join(data['needed_by']) or '-'}")
    for inst in data["installed"]:
        held = ", held" if inst["held"] else ""
        click.echo(f"installed: {inst['address']} {inst['version']} ({inst['reason']}{held})")
    if data["options"]:
        click.echo("options:")
        for opt in data["options"]:
            flags = ", ".join(f for f, on in (("required", opt["required"]), ("secret", opt["secret"])) if on)
            default = f" = {opt['default']!r}" if opt["default"] is not None else ""
            click.echo(f"  {opt['name']} ({opt['type']}{', ' + flags if flags else ''}){default}"
                       f"  {opt['description']}".rstrip())
    if data["outputs"]:
        click.echo("outputs:  " + ", ".join(o["name"] + (" (secret)" if o["secret"] else "")
                                            for o in data["outputs"]))
    elif not data["options"] and data["kind"] == "tool":
        click.echo("options:  (install its plugin to see them)")
    click.echo("versions:")
    table(["  VERSION", "DEPENDS ON", "PLUGIN", "VERIFIED", "DOWNLOADS"],
          [[f"  {v['version']}" + (" (yanked)" if v["yanked"] else ""),
            ", ".join(v["dependencies"]) or "-", v["plugin"] or "-",
            "yes" if v["verified"] else "no", _downloads(v)] for v in data["versions"]])


def _downloads(version: dict[str, Any]) -> str:
    """Whether the release files a version downloads are checked: ``unverified: ha_manifest``."""
    unverified = version["unverified_artifacts"]
    if not unverified:
        return "verified" if version["artifacts_verified"] and version.get("has_artifacts") else "-"
    return "unverified: " + ", ".join(unverified)


@click.command(name="list")
@click.option("--upgradable", is_flag=True, help="Only instances a newer allowed version exists for.")
@output_option
def list_(upgradable: bool, output: str) -> None:
    """List installed instances: version, manual/auto, held, status."""
    from ..queries import list_rows

    app = get_context().app
    state, in_progress = app.observe_state()
    running = state.running_transaction()
    rows = list_rows(state, app.registry, in_progress=in_progress)
    if upgradable:
        from ..packages import plan_upgrade

        moves = {s.address: s.to_version for s in plan_upgrade(app.registry, state, ()).steps
                 if s.action == "upgrade"}
        rows = [dict(r, upgrade_to=moves[r["address"]]) for r in rows if r["address"] in moves]
    if output == "json":
        emit_json(rows)
        return
    if not rows:
        notice("no upgradable instances" if upgradable else "nothing is installed")
        return
    headers = ["INSTANCE", "VERSION", "REASON", "HELD", "STATUS"]
    if upgradable:
        headers.append("UPGRADE TO")
    table(headers, [[r["address"], r["version"], r["reason"], "held" if r["held"] else "",
                     r["status"], *([r["upgrade_to"]] if upgradable else [])] for r in rows])
    if running is not None:
        notice(f"transaction {running.id} ({running.command}) is in progress in another dtm run"
               if in_progress else
               f"warning: transaction {running.id} was interrupted; run 'dtm recover'")
