"""The application facade the CLI calls: registry, plugins and state, loaded lazily, and
the run of a planned transaction (lock, show, confirm, install plugins, execute).

Nothing here prints or prompts: the CLI passes callbacks (``confirm``, ``show``, a reporter),
so the core stays usable as a library and testable without a terminal.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .errors import AbortedError, DtmError, InstallerError, RefusedError
from .paths import DtmPaths, resolve_paths
from .records import Record

if TYPE_CHECKING:
    from .operations import ProgressFn, ToolRunner
    from .packages import Plan
    from .plugins import PluginHost
    from .registry.model import PluginRef, Registry, ToolVersion
    from .state.model import State, Transaction
    from .state.store import LockHolder, StateStore
    from .transactions import Reporter


class RunOptions(Record):
    """How a changing command runs: prompts, dry run, lock wait, progress."""

    __slots__ = _fields = ("yes", "dry_run", "lock_timeout", "progress", "on_lock_wait",
                           "allow_unverified", "command")

    def __init__(self, yes: bool = False, dry_run: bool = False, lock_timeout: float = 60.0,
                 progress: ProgressFn | None = None,
                 on_lock_wait: Callable[[LockHolder | None], None] | None = None,
                 allow_unverified: bool = False, command: str = "dtm") -> None:
        self.yes = yes
        self.dry_run = dry_run
        self.lock_timeout = lock_timeout
        self.progress = progress
        self.on_lock_wait = on_lock_wait
        #: Install versions whose release artifacts the registry lists without a sha256.
        self.allow_unverified = allow_unverified
        #: What a run waiting for the lock is told this run is doing (``dtm install argocd``).
        self.command = command


class Dtm:
    """One dtm session: where files are, and the registry, plugins and state store on demand."""

    def __init__(self, environ: Mapping[str, str], paths: DtmPaths | None = None,
                 plugin_loader: Callable[[], PluginHost] | None = None, transport: Any = None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.environ = environ
        #: Receives one line per skipped plugin when plugins load (the CLI prints it).
        self.warn = warn
        self.paths = paths if paths is not None else resolve_paths(dict(environ))
        self.plugin_loader = plugin_loader
        #: An httpx transport for index downloads; tests inject one.
        self.transport = transport

    @cached_property
    def registry(self) -> Registry:
        from .registry import load_registry

        return load_registry(self.paths, environ=dict(self.environ))

    @cached_property
    def plugins(self) -> PluginHost:
        if self.plugin_loader is not None:
            host = self.plugin_loader()
        else:
            from .plugins import load_plugins

            host = load_plugins(self.environ)
        if self.warn is not None:
            for warning in host.warnings:
                self.warn(f"warning: {warning}")
        return host

    def reload_plugins(self) -> PluginHost:
        """Discover plugins again, after plugin distributions were installed."""
        importlib.invalidate_caches()
        self.__dict__.pop("plugins", None)
        return self.plugins

    @cached_property
    def store(self) -> StateStore:
        from .state import open_store

        return open_store(self.paths, self.environ)

    def use_state_block(self, block: Mapping[str, Any]) -> None:
        """Select the state backend a toolchain file's ``state:`` block names."""
        if not block or block.get("backend", "local") == "local":
            return
        from .secrets import SecretRef, builtin_resolvers, resolve_secret
        from .state import open_store

        url = str(block.get("url") or self.environ.get("DTM_STATE_URL", ""))
        if url.startswith(("env:", "file:")):
            url = resolve_secret(SecretRef.parse(url), builtin_resolvers(self.environ)).reveal()
        environ = dict(self.environ, DTM_STATE_URL=url or f"{block['backend']}://")
        if block.get("workspace"):
            environ["DTM_WORKSPACE"] = str(block["workspace"])
        self.__dict__["store"] = open_store(self.paths, environ)

    def read_state(self) -> State:
        """The state without taking the lock: for read-only commands."""
        return self.store.load()

    def observe_state(self) -> tuple[State, bool]:
        """The state without the lock, and whether its running transaction is a live run's.

        Read without the lock, a run at work and a run killed mid-way look alike: both leave a
        transaction recorded as running. Only when there is one is the lock probed; when it is
        free, state is read again, since the run may have finished between the two looks.
        """
        state = self.store.load()
        if state.running_transaction() is None:
            return state, False
        if self.store.lock_taken():
            return state, True
        return self.store.load(), False

    # -- plugins ----------------------------------------------------------------------------

    def runner_for(self, tool: str, progress: ProgressFn | None = None, *,
                   allow_unverified: bool = False) -> ToolRunner:
        from .operations import ToolRunner
        from .stacks import StackKind

        entry = self.registry.get(tool)
        if entry is not None and entry.kind == "stack":
            return ToolRunner(StackKind(tool), {}, progress)
        kind = self.plugins.tool_kind(tool)
        if kind is None:
            raise self._missing_kind(tool)
        def artifacts(version: str) -> Mapping[str, Any]:
            found = entry.get_version(version) if entry is not None else None
            return found.artifacts if found is not None else {}

        return ToolRunner(kind, self.plugins.secret_resolvers(self.environ), progress, self.environ,
                          artifacts, allow_unverified=allow_unverified,
                          cache_dir=self.paths.cache_dir,
                          source_controls=self.plugins.source_controls())

    def _missing_kind(self, tool: str) -> DtmError:
        entry = self.registry.get(tool)
        latest = entry.latest if entry else None
        if latest is None:
            return RefusedError(f"no installed plugin provides {tool}",
                                hint="install the plugin distribution that provides it")
        info = self.plugins.plugin_for_distribution(latest.plugin.distribution)
        if info is not None and info.status != "ok":
            return RefusedError(
                f"{latest.plugin.distribution} provides {tool} but is {info.status}: {info.error}",
                hint=f"reinstall it with 'dtm plugins install {latest.plugin.distribution}'",
            )
        return RefusedError(
            f"no installed plugin provides {tool} (expected from {latest.plugin.distribution})",
            hint=f"install it with 'dtm plugins install {latest.plugin.distribution}'",
        )

    def missing_distributions(self, versions: Mapping[str, ToolVersion]) -> list[PluginRef]:
        """Plugin distributions these tool versions need that are not installed (or too old)."""
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version

        from .installer import installed_version

        needed: dict[str, PluginRef] = {}
        for tool, version in versions.items():
            entry = self.registry.get(tool)
            if entry is None or entry.kind == "stack" or self.plugins.tool_kind(tool):
                continue
            ref = version.plugin
            have = installed_version(ref.distribution)
            # Installed at an acceptable version yet providing nothing means broken: the
            # missing-kind error explains that better than reinstalling blindly would.
            if have is None or (ref.specifier and not SpecifierSet(ref.specifier).contains(
                    Version(have), prereleases=True)):
                needed[ref.distribution] = ref
        return list(needed.values())

    # -- running a transaction -------------------------------------------------------------

    def execute(self, make_plan: Callable[[State], Plan], *, options: RunOptions,
                show: Callable[[Plan, list[PluginRef]], None],
                confirm: Callable[[Plan], bool], reporter: Reporter | None = None,
                index_url: str | None = None) -> tuple[Plan, Transaction | None]:
        """Plan under the lock, show it, ask, install missing plugins, then run it."""
        from .transactions import TransactionRunner, interrupted_error

        with self.store.lock(command=options.command, timeout=options.lock_timeout,
                             on_wait=options.on_lock_wait):
            state = self.store.load()
            running = state.running_transaction()
            if running is not None:
                raise interrupted_error(running)
            plan = make_plan(state)
            refuse_unverified(plan.versions, options.allow_unverified)
            distributions = self.missing_distributions(plan.versions)
            if not distributions:
                # Invalid options are refused before anything is shown or asked.
                self._check_options(plan, options.progress)
            show(plan, distributions)
            if plan.empty or options.dry_run:
                return plan, None
            if not options.yes and not confirm(plan):
                raise AbortedError("aborted; nothing was changed",
                                   hint="pass -y to proceed without asking")
            if distributions:
                self.install_distributions(distributions, index_url, options.progress)
                self._check_options(plan, options.progress)
            runner = TransactionRunner(
                self.store, state,
                lambda tool: self.runner_for(tool, options.progress,
                                             allow_unverified=options.allow_unverified),
                reporter or _NullReporter(),
            )
            tx = runner.begin(plan.command, plan.steps, undoes=plan.undoes)
            return plan, runner.run(tx)

    def install_distributions(self, refs: list[PluginRef], index_url: str | None,
                               progress: ProgressFn | None) -> None:
        from .installer import install_distributions

        install_distributions(refs, index_url=index_url or self.environ.get("DTM_PACKAGE_INDEX_URL"),
                              progress=(lambda m: progress("plugins", m)) if progress else None)
        host = self.reload_plugins()
        for ref in refs:
            info = host.plugin_for_distribution(ref.distribution)
            if info is None or info.status != "ok":
                why = info.error if info else "it registers no entry point in group 'dtm'"
                raise InstallerError(f"installed {ref.distribution} but it did not load: {why}",
                                     hint="report this to the plugin's authors")

    def _check_options(self, plan: Plan, progress: ProgressFn | None) -> None:
        """Validate every step's options before any plugin call; store them checked."""
        for step in plan.steps:
            if step.after is None or step.action == "mark":
                continue
            runner = self.runner_for(str(step.after["tool"]), progress)
            step.after["options"] = runner.check_options(step.after.get("options", {}),
                                                         step.address)

    def recover(self, *, rollback: bool, options: RunOptions,
                show: Callable[[Transaction], None], confirm: Callable[[Transaction], bool],
                reporter: Reporter | None = None) -> Transaction | None:
        """Finish (or roll back) the transaction a killed run left; None when there is none.

        Read under the lock: a transaction another run is still carrying out is recorded as
        running too, and only the lock tells the two apart.
        """
        from .transactions import TransactionRunner

        with self.store.lock(command=options.command, timeout=options.lock_timeout,
                             on_wait=options.on_lock_wait):
            state = self.store.load()
            interrupted = state.running_transaction()
            if interrupted is None:
                return None
            show(interrupted)
            if options.dry_run:
                return None
            if not options.yes and not confirm(interrupted):
                raise AbortedError("aborted; nothing was changed",
                                   hint="pass -y to proceed without asking")
            runner = TransactionRunner(self.store, state,
                                       lambda tool: self.runner_for(
                                           tool, options.progress,
                                           allow_unverified=options.allow_unverified),
                                       reporter or _NullReporter())
            return runner.recover(rollback=rollback)

    def update_state(self, change: Callable[[State], Any], *, options: RunOptions) -> Any:
        """Apply a small change to state under the lock (marks such as hold/unhold)."""
        with self.store.lock(command=options.command, timeout=options.lock_timeout,
                             on_wait=options.on_lock_wait):
            state = self.store.load()
            result = change(state)
            if not options.dry_run:
                self.store.commit(state)
            return result


class _NullReporter:
    def step_started(self, step: Any) -> None:
        pass

    def step_finished(self, step: Any) -> None:
        pass


def unverified_artifacts(versions: Mapping[str, ToolVersion]) -> list[str]:
    """``tool version`` for every version none of whose downloadable artifacts has a sha256.

    A version with some verified artifacts passes here: which one a plugin downloads depends
    on its options (Argo CD's HA manifest), so the download itself refuses an unverified one.
    """
    found = []
    for tool, version in sorted(versions.items()):
        downloads = [a for a in version.artifacts.values() if isinstance(a, Mapping) and "url" in a]
        if downloads and not any(a.get("sha256") for a in downloads):
            found.append(f"{tool} {version.version_text}")
    return found


def refuse_unverified(versions: Mapping[str, ToolVersion], allowed: bool) -> None:
    """Refuse versions whose downloads cannot be checked at all, unless the user allowed it."""
    unverified = unverified_artifacts(versions)
    if unverified and not allowed:
        raise RefusedError(
            f"unverified release: {', '.join(unverified)}: the registry lists no sha256 for "
            "any of its downloads",
            hint="pass --allow-unverified to install them anyway, or choose a verified version "
            "('dtm info TOOL' shows which are)",
        )


__all__ = ["Dtm", "RunOptions", "AbortedError", "InstallerError"]
