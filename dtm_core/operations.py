"""Calling a tool kind's operations safely: options in, secrets resolved, outputs checked.

Every plugin call goes through :class:`ToolRunner`, so validation, secret handling and error
wrapping are the same for ``install`` and for ``apply``. Options are stored with secret
references as ``scheme:target`` strings and turned into :class:`Secret` values only here,
just before the call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DtmError, OperationError, OptionError
from .options import Option, validate_options
from .secrets import MASK, Secret, SecretRef, SecretResolver, resolve_secret
from .sourcecontrol import SourceControl
from .toolkind import GONE, Live, ToolContext, ToolKind, _Gone

ProgressFn = Callable[[str, str], None]
"""Receives ``(address, message)`` for a line of progress."""


def storable(value: Any) -> Any:
    """Options or outputs as JSON-safe data: secret references become ``scheme:target``."""
    if isinstance(value, SecretRef):
        return str(value)
    if isinstance(value, Secret):
        # A plugin handed back a resolved secret: storing it would leak it.
        raise OperationError("refusing to store a secret value; plugins must return SecretRef")
    if isinstance(value, Mapping):
        return {k: storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def _reveal(options: Sequence[Option], values: Mapping[str, Any],
            resolvers: Mapping[str, SecretResolver]) -> dict[str, Any]:
    result = dict(values)
    for opt in options:
        value = values.get(opt.name)
        if opt.secret and isinstance(value, SecretRef):
            result[opt.name] = resolve_secret(value, resolvers)
        elif opt.type == "object" and isinstance(value, Mapping):
            result[opt.name] = _reveal(opt.fields, value, resolvers)
    return result


def _unresolvable_secret(value: Any, path: str, resolvers: Mapping[str, SecretResolver]) -> str | None:
    """The path of the first secret reference in ``value`` whose scheme no resolver knows."""
    if isinstance(value, SecretRef):
        return None if value.scheme in resolvers else path
    if isinstance(value, Mapping):
        children = [(f"{path}.{key}", child) for key, child in value.items()]
    elif isinstance(value, list):
        children = [(f"{path}[{index}]", child) for index, child in enumerate(value)]
    else:
        return None
    for where, child in children:
        found = _unresolvable_secret(child, where, resolvers)
        if found:
            return found
    return None


@dataclass(frozen=True)
class Target:
    """One instance to act on: which kind, which version, with which (stored) options."""

    tool: str
    instance: str
    version: str
    options: Mapping[str, Any]
    outputs: Mapping[str, Any]

    @property
    def address(self) -> str:
        return f"{self.tool}.{self.instance}"


class ToolRunner:
    """Runs create/read/update/delete of one kind for one target, wrapping plugin faults."""

    def __init__(self, kind: ToolKind, resolvers: Mapping[str, SecretResolver],
                 progress: ProgressFn | None = None, environ: Mapping[str, str] | None = None,
                 artifacts: Callable[[str], Mapping[str, Any]] | None = None, *,
                 allow_unverified: bool = False, cache_dir: Path | None = None,
                 source_controls: Sequence[SourceControl] = ()) -> None:
        self.kind = kind
        self.source_controls = source_controls
        self.allow_unverified = allow_unverified
        self.cache_dir = cache_dir
        #: The registry's artifacts of a version of this tool, by version.
        self.artifacts = artifacts or (lambda version: {})
        self.resolvers = resolvers
        self.progress = progress
        self.environ = environ if environ is not None else {}

    def check_options(self, options: Mapping[str, Any], address: str) -> dict[str, Any]:
        """Validate user options; the result is storable (secret references as strings)."""
        try:
            validated = validate_options(self.kind.options, options)
            unresolvable = _unresolvable_secret(validated, "options", self.resolvers)
            if unresolvable:
                # "admin:<token>" parses as a reference of scheme "admin": a pasted secret must be
                # refused before it is stored or shown, and never quoted in the message.
                raise OptionError(
                    f"{unresolvable}: not a secret reference dtm can resolve (unknown scheme)",
                    hint="give the secret as a reference: " + ", ".join(f"{scheme}:..." for scheme
                                                                      in sorted(self.resolvers))
                    + "; a secret itself belongs in an environment variable or a file")
            checked: dict[str, Any] = storable(validated)
            return checked
        except DtmError as exc:
            exc.message = f"{address}: {exc.message}"
            raise

    def _context(self, target: Target, resuming_since: str | None = None) -> ToolContext:
        checked = validate_options(self.kind.options, target.options)
        report = self.progress
        return ToolContext(
            tool=target.tool,
            instance=target.instance,
            version=target.version,
            options=_reveal(self.kind.options, checked, self.resolvers),
            outputs=dict(target.outputs),
            progress=(lambda message: report(target.address, message)) if report else
            (lambda message: None),
            resolve_secret=lambda ref: resolve_secret(ref, self.resolvers),
            environ=self.environ,
            artifacts=self.artifacts(target.version),
            allow_unverified=self.allow_unverified,
            cache_dir=self.cache_dir,
            source_controls=self.source_controls,
            resuming_since=resuming_since,
        )

    def _call(self, verb: str, target: Target, fn: Callable[[ToolContext], Any], *,
              resuming_since: str | None = None) -> Any:
        ctx = self._context(target, resuming_since)
        try:
            return fn(ctx)
        except DtmError as exc:
            if not exc.message.startswith(target.address):
                exc.message = f"{target.address}: {exc.message}"
            _masked(exc, ctx.options)
            raise
        except NotImplementedError as exc:
            raise OperationError(f"{target.address}: {exc}",
                                 hint="the plugin does not implement this operation") from exc
        except Exception as exc:  # a plugin bug must become one line, not a traceback
            raise _masked(OperationError(
                f"{target.address}: {verb} failed: {type(exc).__name__}: {exc}",
                hint="run again with --debug for the plugin's traceback",
            ), ctx.options) from exc

    def _outputs(self, target: Target, outputs: Any) -> dict[str, Any]:
        if outputs is None:
            return {}
        if not isinstance(outputs, Mapping):
            raise OperationError(f"{target.address}: plugin returned {type(outputs).__name__} "
                                 "as outputs, expected a mapping")
        secret_names = {o.name for o in self.kind.outputs if o.secret}
        for name in secret_names & set(outputs):
            if not isinstance(outputs[name], SecretRef):
                raise OperationError(
                    f"{target.address}: secret output {name!r} was returned as a value",
                    hint="the plugin must return a SecretRef for secret outputs; report it",
                )
        stored: dict[str, Any] = storable(dict(outputs))
        return stored

    def create(self, target: Target, *, resuming_since: str | None = None) -> dict[str, Any]:
        return self._outputs(target, self._call("create", target, self.kind.create,
                                                resuming_since=resuming_since))

    def read(self, target: Target, *, resuming_since: str | None = None) -> Live | _Gone:
        result = self._call("read", target, self.kind.read, resuming_since=resuming_since)
        if result is GONE or isinstance(result, Live):
            return result
        raise OperationError(f"{target.address}: read returned {result!r}, expected Live or GONE")

    def update(self, target: Target, live: Live) -> dict[str, Any]:
        return self._outputs(target, self._call("update", target,
                                                lambda ctx: self.kind.update(ctx, live)))

    def delete(self, target: Target, *, resuming_since: str | None = None) -> None:
        self._call("delete", target, self.kind.delete, resuming_since=resuming_since)

    def converge(self, target: Target) -> dict[str, Any]:
        """Create, or update in place if it already exists: safe to repeat after a crash."""
        live = self.read(target)
        if isinstance(live, Live):
            return self.update(target, live)
        return self.create(target)

    def ensure_deleted(self, target: Target, *, resuming_since: str | None = None) -> None:
        """Delete if it still exists; a resource already gone is not an error.

        ``resuming_since`` is set when this undoes a create a killed run began (see ToolContext).
        """
        if self.read(target, resuming_since=resuming_since) is not GONE:
            self.delete(target, resuming_since=resuming_since)


def _masked(error: DtmError, options: Mapping[str, Any]) -> DtmError:
    """``error`` with the value of every secret option masked in its message and hint, and
    named for ``--debug`` to mask in the traceback: a plugin's message goes to the terminal and
    the journal, and a careless one may quote what it was given."""
    values = tuple(sorted(set(_revealed(options)), key=len, reverse=True))
    for value in values:
        error.message = error.message.replace(value, MASK)
        error.hint = error.hint.replace(value, MASK) if error.hint else error.hint
    error.args = (error.message,)
    error.masked = (*values, *error.masked)
    return error


def _revealed(value: Any) -> Iterator[str]:
    if isinstance(value, Secret):
        # Very short values would mask ordinary words; they are no credential worth the name.
        if len(value.reveal()) >= 4:
            yield value.reveal()
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _revealed(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _revealed(item)
