"""The registry: index format and validation, configured sources, the cache, and search.

Importing this package stays cheap (no httpx, jsonschema, packaging or pathlib): ``dtm search``
runs on it at every start.
"""

from __future__ import annotations

from .index import load_index_bytes, load_index_file, parse_index, validate_index
from .model import PluginRef, Registry, ToolEntry, ToolVersion, build_tool_version
from .search import search
from .sources import (
    Source,
    UpdateResult,
    add_source,
    list_sources,
    load_registry,
    remove_source,
    update_sources,
)

__all__ = [
    "PluginRef",
    "Registry",
    "Source",
    "ToolEntry",
    "ToolVersion",
    "UpdateResult",
    "add_source",
    "build_tool_version",
    "list_sources",
    "load_index_bytes",
    "load_index_file",
    "load_registry",
    "parse_index",
    "remove_source",
    "search",
    "update_sources",
    "validate_index",
]
