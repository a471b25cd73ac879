"""The versions dtm declares: the core's release and the plugin API's contract version."""

from __future__ import annotations

__version__ = "0.2.0"

#: The plugin API (hooks, ToolKind, Option, ToolContext) contract. A major bump breaks plugins;
#: plugins state compatibility through their distribution's requirement on ``dtm``.
PLUGIN_API_VERSION = "1.4"
