"""dtm's state: the model, the store interface, its backends and the choice between them."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError
from .local import LocalStateStore

if TYPE_CHECKING:
    from ..paths import DtmPaths
    from .model import InstanceRecord as InstanceRecord
    from .model import State as State
    from .model import Step as Step
    from .model import Transaction as Transaction
    from .postgres import PostgresStateStore as PostgresStateStore
    from .store import LockHolder as LockHolder
    from .store import StateStore

# Imported on first use: `dtm search` reads state without building the model.
_LAZY = {"InstanceRecord": "model", "State": "model", "Step": "model", "Transaction": "model",
         "LockHolder": "store", "StateStore": "store", "PostgresStateStore": "postgres"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dtm_core.state' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value

__all__ = [
    "InstanceRecord",
    "LocalStateStore",
    "LockHolder",
    "PostgresStateStore",
    "State",
    "StateStore",
    "Step",
    "Transaction",
    "open_store",
]

def _postgres(url: str, workspace: str) -> StateStore:
    # Imported here: psycopg is loaded only by runs that use this backend.
    from .postgres import PostgresStateStore

    return PostgresStateStore(url, workspace=workspace)


#: Remote backends by URL scheme, each built from the full ``DTM_STATE_URL`` and the
#: workspace (``DTM_WORKSPACE``, else ``default``): several named states in one backend.
REMOTE_STORES: dict[str, Callable[[str, str], StateStore]] = {
    "postgresql": _postgres,
    "postgres": _postgres,
}


def open_store(paths: DtmPaths, environ: Mapping[str, str] | None = None) -> StateStore:
    """The store this run uses: ``DTM_STATE_URL`` when set, else the local file in the data dir."""
    env = os.environ if environ is None else environ
    url = env.get("DTM_STATE_URL", "").strip()
    if not url:
        return LocalStateStore(paths.state_dir_text)
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    factory = REMOTE_STORES.get(scheme)
    if factory is None:
        # Name only the scheme: the rest of a database URL often carries a password.
        shown = f"scheme {scheme!r}" if scheme else "a value without a scheme"
        raise InvalidInputError(
            f"the state backend ({shown}) is not available in this dtm",
            hint=f"keep state locally in {paths.state_dir}: unset DTM_STATE_URL and use "
            "'state: {backend: local}' (or no state block) in the toolchain file",
        )
    return factory(url, env.get("DTM_WORKSPACE", "").strip() or "default")
