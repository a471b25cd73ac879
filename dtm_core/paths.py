"""Where dtm keeps its files: config, state and cache in the platform's usual places.

``DTM_HOME`` puts everything under one directory instead (tests, CI, several sandboxes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DtmPaths:
    """The three directories dtm writes to; created on first use with owner-only access."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path

    @property
    def sources_file(self) -> Path:
        """The user's list of remote registry indexes."""
        return self.config_dir / "registries.json"

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"

    @property
    def index_cache_dir(self) -> Path:
        return self.cache_dir / "indexes"

    def ensure(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        return directory


def resolve_paths(environ: dict[str, str] | None = None) -> DtmPaths:
    """Return dtm's directories, honouring ``DTM_HOME`` before the platform defaults."""
    env = os.environ if environ is None else environ
    home = env.get("DTM_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return DtmPaths(config_dir=root / "config", data_dir=root / "data", cache_dir=root / "cache")
    # Imported here: platformdirs is cheap, but `dtm --version` should not pay even that.
    import platformdirs

    return DtmPaths(
        config_dir=Path(platformdirs.user_config_dir("dtm", appauthor=False)),
        data_dir=Path(platformdirs.user_data_dir("dtm", appauthor=False)),
        cache_dir=Path(platformdirs.user_cache_dir("dtm", appauthor=False)),
    )
