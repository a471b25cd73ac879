"""Rendering the plugin template shipped inside dtm (``plugin-template/``) into a new distribution's folder.

Files ending ``.tmpl`` are filled in with :class:`string.Template` (``${module}``; ``$$`` is a
literal dollar sign) and written without the suffix, which keeps linters, type checkers and
test collectors away from half-written Python. Other files are copied as they are. In a path,
``_module_`` becomes the import package's name, and a leading ``dot-`` becomes a dot
(``dot-gitignore`` is ``.gitignore``): package-data globs skip dotfiles. An unknown placeholder
is an error, never a silent blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from ..errors import RefusedError
from ..version import PLUGIN_API_VERSION, __version__
from .names import PluginNames, plugin_names

#: Not an identifier, so neither an import nor setuptools takes the folder for a package.
TEMPLATE_FOLDER = "plugin-template"
TEMPLATE_SUFFIX = ".tmpl"


@dataclass(frozen=True)
class Scaffold:
    """A plugin distribution written by :func:`new_plugin`: its names, folder and files."""

    names: PluginNames
    directory: Path
    #: Paths relative to ``directory``, with ``/`` separators, sorted.
    files: list[str] = field(default_factory=list)


def dtm_requirement(version: str = __version__) -> str:
    """The requirement on ``dtm`` a new plugin declares: this release's minor up to the next major.

    The plugin API breaks only with a major release, so ``dtm 0.2.0`` gives ``dtm>=0.2,<1``.
    """
    major, minor = (int(part) for part in version.split(".")[:2])
    return f"dtm>={major}.{minor},<{major + 1}"


def template_values(names: PluginNames) -> dict[str, str]:
    """Every placeholder the template uses, for one plugin."""
    return {
        "name": names.name,
        "distribution": names.distribution,
        "module": names.module,
        "entry_point": names.entry_point,
        "tool": names.tool,
        "class_name": names.class_name,
        "dtm_requirement": dtm_requirement(),
        "dtm_specifier": dtm_requirement().removeprefix("dtm"),
        "dtm_version": __version__,
        "plugin_api_version": PLUGIN_API_VERSION,
    }


def _template_root() -> Traversable:
    return files(__package__ or "dtm_core.scaffold").joinpath(TEMPLATE_FOLDER)


def _target_name(name: str, values: Mapping[str, str]) -> str:
    name = name.replace("_module_", values["module"])
    if name.startswith("dot-"):
        name = "." + name.removeprefix("dot-")
    return name


def render_template(values: Mapping[str, str]) -> dict[str, bytes]:
    """Every file of the template, filled in, by its path in the new distribution."""
    out: dict[str, bytes] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.name == "__pycache__":
                continue
            if child.is_dir():
                walk(child, f"{prefix}{_target_name(child.name, values)}/")
            elif child.name.endswith(TEMPLATE_SUFFIX):
                text = child.read_text(encoding="utf-8")
                name = _target_name(child.name.removesuffix(TEMPLATE_SUFFIX), values)
                out[prefix + name] = Template(text).substitute(values).encode("utf-8")
            else:
                out[prefix + _target_name(child.name, values)] = child.read_bytes()

    walk(_template_root(), "")
    return out


def new_plugin(name: str, *, directory: str | Path | None = None, tool: str | None = None) -> Scaffold:
    """Write the distribution ``dtm-plugins-NAME`` into ``directory`` (default ``./dtm-plugins-NAME``).

    Refuses a ``directory`` that exists and is not an empty folder: nothing is overwritten.
    """
    names = plugin_names(name, tool)
    target = Path(directory) if directory is not None else Path(names.distribution)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise RefusedError(f"{target} already exists and is not an empty directory",
                           hint="choose another folder with --dir, or remove it first")
    rendered = render_template(template_values(names))
    for relative, data in rendered.items():
        path = target.joinpath(*relative.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return Scaffold(names=names, directory=target, files=sorted(rendered))
