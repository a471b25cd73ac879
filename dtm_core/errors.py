"""The one exception family of dtm: every error a user can act on, with its fix and exit code.

Rendered in exactly one place (``dtm_core.cli.main``) as one line: ``error: <message>`` and,
when there is one, ``hint: <fix>``. A traceback is shown only with ``--debug``.

    DtmError                       exit 1  an operation failed
    ├── OperationError             exit 1  a plugin operation (create/read/update/delete) failed
    ├── InstallerError             exit 1  installing or removing a plugin distribution failed
    ├── NetworkError               exit 1  a remote index or API could not be reached
    ├── InvalidInputError          exit 2  usage or invalid input (bad option, version, file)
    │   ├── ConfigError            exit 2  a configuration file is wrong (names file:line:col)
    │   ├── RegistryIndexError     exit 2  a registry index is malformed (names the JSON path)
    │   ├── OptionError            exit 2  a tool option fails its schema (names the option path)
    │   └── UnknownToolError       exit 2  no index lists the tool
    ├── RefusedError               exit 3  dtm refuses: a dependent needs it, it is held, an
    │                                      index's signature fails, the index policy forbids …
    │   └── ConflictError          exit 3  the resolver found no consistent set of versions
    ├── LockTimeoutError           exit 4  another dtm run holds the state lock
    ├── InterruptedTransactionError exit 5 an earlier run was interrupted; run `dtm recover`
    └── AbortedError               exit 6  the user declined the confirmation prompt
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AbortedError",
    "ConfigError",
    "ConflictError",
    "DtmError",
    "RegistryIndexError",
    "InstallerError",
    "InterruptedTransactionError",
    "InvalidInputError",
    "LockTimeoutError",
    "NetworkError",
    "OperationError",
    "OptionError",
    "RefusedError",
    "UnknownToolError",
    "EXIT_CODES",
]


class DtmError(Exception):
    """Base of every error dtm reports to a user: a message, an optional hint, an exit code."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: Secret values the traceback behind this error may quote: ``--debug`` masks them.
        self.masked: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.message


class OperationError(DtmError):
    """A tool's create, read, update or delete failed."""


class InstallerError(DtmError):
    """Installing or uninstalling a plugin distribution failed."""


class NetworkError(DtmError):
    """A remote index or API was unreachable or answered with an error."""


class InvalidInputError(DtmError):
    """The user gave dtm something it cannot use: a bad option, version, file or argument."""

    exit_code = 2


class ConfigError(InvalidInputError):
    """A configuration file is wrong; the message starts with ``file:line:column``."""


class RegistryIndexError(InvalidInputError):
    """A registry index is malformed; the message names the index and the JSON path."""


class OptionError(InvalidInputError):
    """A tool's options fail their declared schema; the message names the option path."""


class UnknownToolError(InvalidInputError):
    """No configured index lists the requested tool."""


class RefusedError(DtmError):
    """dtm refuses to do what was asked because it would break something (dependents, holds)."""

    exit_code = 3


class ConflictError(RefusedError):
    """No set of versions satisfies every requirement; the message explains the chains."""


class LockTimeoutError(DtmError):
    """Another dtm run held the state lock for longer than ``--lock-timeout``."""

    exit_code = 4


class InterruptedTransactionError(DtmError):
    """An earlier transaction was interrupted; it must be recovered before new work starts."""

    exit_code = 5


class AbortedError(DtmError):
    """The user answered no at a confirmation prompt (or none could be asked without ``-y``)."""

    exit_code = 6


#: Exit codes, as documented in the README. 0 is success; click's own usage errors are 2.
EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "an operation failed (plugin call, network, installer)",
    2: "usage error or invalid input (option, version, config, index)",
    3: "refused or conflict (dependents, holds, unsatisfiable versions, index signature or policy)",
    4: "timed out waiting for the state lock",
    5: "an interrupted transaction must be recovered first (`dtm recover`)",
    6: "aborted at the confirmation prompt",
}
