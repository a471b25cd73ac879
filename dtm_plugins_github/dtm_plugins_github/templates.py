"""The files shipped under ``templates/``: workflow and starter-file templates, and how they are filled in.

Placeholders are written ``%%{name}``: GitHub Actions already owns ``${{ … }}`` and workflow
steps are full of ``@`` and ``$``, so :class:`string.Template`'s own delimiter would clash.
An unknown placeholder is an error, not a silent blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from string import Template


class FileTemplate(Template):
    delimiter = "%%"


def _root() -> Traversable:
    return files("dtm_plugins_github").joinpath("templates")


def render(text: str, values: Mapping[str, str]) -> str:
    return FileTemplate(text).substitute(values)


def template_text(*parts: str) -> str:
    """The text of ``templates/<parts...>``."""
    node = _root()
    for part in parts:
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


def render_tree(*parts: str, values: Mapping[str, str]) -> dict[str, bytes]:
    """Every file under ``templates/<parts...>``, filled in, by path relative to it.

    A name starting ``dot-`` is written with a dot instead (``dot-gitignore`` is ``.gitignore``):
    package-data globs skip dotfiles, and a real ``.gitignore`` would act on the plugin's own tree.
    ``_package_`` in a path becomes the ``package`` value, and a ``.tmpl`` suffix is dropped (it
    keeps linters and test collectors away from half-written Python files).
    """
    node = _root()
    for part in parts:
        node = node.joinpath(part)
    out: dict[str, bytes] = {}

    def walk(current: Traversable, prefix: str) -> None:
        for child in sorted(current.iterdir(), key=lambda c: c.name):
            name = child.name.removesuffix(".tmpl").replace("_package_", values.get("package", "app"))
            if name.startswith("dot-"):
                name = "." + name.removeprefix("dot-")
            if child.is_dir():
                walk(child, f"{prefix}{name}/")
            else:
                out[prefix + name] = render(child.read_text(encoding="utf-8"), values).encode()

    walk(node, "")
    return out
