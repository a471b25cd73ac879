"""Where dtm keeps its files: config, state and cache in the platform's usual places.

``DTM_HOME`` puts everything under one directory instead (tests, CI, several sandboxes).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .records import Frozen

if TYPE_CHECKING:
    from pathlib import Path


class DtmPaths(Frozen):
    """The three directories dtm writes to; created on first use with owner-only access.

    Kept as text and handed out as :class:`~pathlib.Path`: importing pathlib (with the
    urllib.parse and ipaddress it imports) would be a third of what a cold ``dtm search`` adds
    to starting click, and search only reads two files, by their ``*_text`` names.
    """

    __slots__ = ("_config", "_data", "_cache")
    _fields = ("config_dir", "data_dir", "cache_dir")
    _config: str
    _data: str
    _cache: str

    def __init__(self, config_dir: str | os.PathLike[str], data_dir: str | os.PathLike[str],
                 cache_dir: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "_config", os.fspath(config_dir))
        object.__setattr__(self, "_data", os.fspath(data_dir))
        object.__setattr__(self, "_cache", os.fspath(cache_dir))

    @property
    def config_dir(self) -> Path:
        return _path(self._config)

    @property
    def data_dir(self) -> Path:
        return _path(self._data)

    @property
    def cache_dir(self) -> Path:
        return _path(self._cache)

    @property
    def sources_file(self) -> Path:
        """The user's list of remote registry indexes."""
        return _path(self.sources_file_text)

    @property
    def sources_file_text(self) -> str:
        """:attr:`sources_file` as text, to read without importing pathlib."""
        return os.path.join(self._config, "registries.json")

    @property
    def settings_file_text(self) -> str:
        """dtm's settings file (``config.toml``), as text: read on every run, often absent."""
        return os.path.join(self._config, "config.toml")

    @property
    def state_dir(self) -> Path:
        return _path(self.state_dir_text)

    @property
    def state_dir_text(self) -> str:
        """:attr:`state_dir` as text, to read state without importing pathlib."""
        return os.path.join(self._data, "state")

    @property
    def index_cache_dir(self) -> Path:
        return _path(os.path.join(self._cache, "indexes"))

    def ensure(self, directory: Path) -> Path:
        return make_private_dirs(directory)


def make_private_dirs(directory: Path) -> Path:
    """Create ``directory`` and every missing parent with owner-only access (0700); return it.

    ``mkdir(parents=True, mode=0o700)`` gives the mode to the last directory only: dtm's own
    data and cache roots, made on the way to ``state/`` or ``artifacts/``, would be 0755 under
    the usual umask. The XDG base directory spec asks for 0700 for the parents too.
    """
    missing = []
    current = directory
    while not current.is_dir() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:  # another dtm run made it first
            pass
    return directory


def _path(text: str) -> Path:
    from pathlib import Path

    return Path(text)


def resolve_paths(environ: dict[str, str] | None = None) -> DtmPaths:
    """Return dtm's directories, honouring ``DTM_HOME`` before the platform defaults."""
    env = os.environ if environ is None else environ
    home = env.get("DTM_HOME")
    if home:
        # Path(home).expanduser().resolve(), in os.path terms (see DtmPaths on pathlib).
        root = os.path.realpath(os.path.expanduser(home))
        return DtmPaths(config_dir=os.path.join(root, "config"), data_dir=os.path.join(root, "data"),
                        cache_dir=os.path.join(root, "cache"))
    # Imported here: platformdirs is cheap, but `dtm --version` should not pay even that.
    import platformdirs

    return DtmPaths(
        config_dir=platformdirs.user_config_dir("dtm", appauthor=False),
        data_dir=platformdirs.user_data_dir("dtm", appauthor=False),
        cache_dir=platformdirs.user_cache_dir("dtm", appauthor=False),
    )
