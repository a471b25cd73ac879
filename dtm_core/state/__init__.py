"""dtm's state: the model, the store interface, its backends and the choice between them."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from ..errors import InvalidInputError
from ..paths import DtmPaths
from .local import LocalStateStore
from .model import InstanceRecord, State, Step, Transaction
from .store import LockHolder, StateStore

__all__ = [
    "InstanceRecord",
    "LocalStateStore",
    "LockHolder",
    "State",
    "StateStore",
    "Step",
    "Transaction",
    "open_store",
]

#: Remote backends by URL scheme, each built from the full ``DTM_STATE_URL``. This is the seam
#: for the PostgreSQL store (``postgresql://…``); none is registered yet.
REMOTE_STORES: dict[str, Callable[[str], StateStore]] = {}


def open_store(paths: DtmPaths, environ: Mapping[str, str] | None = None) -> StateStore:
    """The store this run uses: ``DTM_STATE_URL`` when set, else the local file in the data dir."""
    env = os.environ if environ is None else environ
    url = env.get("DTM_STATE_URL", "").strip()
    if not url:
        return LocalStateStore(paths.state_dir)
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
    return factory(url)
