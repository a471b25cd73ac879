"""The plugin-author scaffold: ``dtm plugins new NAME`` writes a working plugin distribution with tests.

The template ships inside dtm (``plugin-template/``) and is rendered with :mod:`string.Template`, so it
needs no extra dependency, works offline and always matches the installed dtm's plugin API.
Imported only by that command, never by ``dtm search`` or the other commands.
"""

from __future__ import annotations

from .names import PluginNames, plugin_names
from .render import Scaffold, dtm_requirement, new_plugin, render_template, template_values

__all__ = ["PluginNames", "Scaffold", "dtm_requirement", "new_plugin", "plugin_names", "render_template",
           "template_values"]
