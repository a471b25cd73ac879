"""Stacks: registry entries naming a set of tools, installed like an apt metapackage.

A stack has no plugin. Its instance records what was asked for; its members are pulled in
as dependencies, so removing the stack leaves them to ``autoremove``.
"""

from __future__ import annotations

from .toolkind import Live, Outputs, ToolContext, ToolKind, _Gone


class StackKind(ToolKind):
    """The built-in kind behind every stack: nothing to create, always present once recorded."""

    def __init__(self, name: str) -> None:
        self.stack_name = name

    def create(self, ctx: ToolContext) -> Outputs:
        return {}

    def read(self, ctx: ToolContext) -> Live | _Gone:
        return Live()

    def update(self, ctx: ToolContext, live: Live) -> Outputs:
        return dict(ctx.outputs)

    def delete(self, ctx: ToolContext) -> None:
        return None
