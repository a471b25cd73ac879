"""Choosing the cluster the way kubectl does: which kubeconfig files, how they merge, which context.

kubectl's rules (client-go ``clientcmd``), followed here because users expect dtm to talk to the
cluster ``kubectl`` talks to:

* ``--kubeconfig`` (the ``kubeconfig`` option) names one file and nothing is merged;
* else ``KUBECONFIG`` lists files separated by ``os.pathsep``; missing files are skipped, and for
  every cluster, user and context name the **first** file defining it wins, as does the first
  ``current-context``;
* else ``~/.kube/config``;
* relative paths in a file (certificates, token files, exec commands with a ``/``) are relative
  to that file, so they are made absolute before merging.

lightkube reads one file and does not merge, so the merge is done here on plain data and the
result handed to :meth:`lightkube.KubeConfig.from_dict`, which builds clusters and credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from lightkube.config.kubeconfig import KubeConfig, SingleConfig
from lightkube.config.models import User

from ..errors import InvalidInputError

__all__ = ["ClusterChoice", "choose_cluster", "kubeconfig_files"]

_NO_CLUSTER_HINT = (
    "point KUBECONFIG at a kubeconfig file, pass the 'kubeconfig' option, "
    "or create a cluster (for example with 'kind create cluster')"
)
# (section, entry key, fields holding file paths) as client-go's ResolveLocalPaths resolves them.
_PATH_FIELDS = (
    ("clusters", "cluster", ("certificate-authority",)),
    ("users", "user", ("client-certificate", "client-key", "tokenFile")),
)


@dataclass(frozen=True)
class ClusterChoice:
    """The cluster picked: lightkube's configuration, and where it came from (for messages)."""

    config: SingleConfig
    context: str
    server: str
    namespace: str
    files: tuple[Path, ...]


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME") or environ.get("USERPROFILE")
    return Path(home) if home else Path.home()


def _expand(path: str, environ: Mapping[str, str]) -> Path:
    if path == "~" or path.startswith("~/"):
        return _home(environ) / path[2:]
    return Path(path)


def kubeconfig_files(environ: Mapping[str, str], kubeconfig: str | os.PathLike[str] | None = None
                     ) -> list[Path]:
    """The kubeconfig files kubectl would read, in merge order (only those that exist).

    Raises :class:`InvalidInputError` when an explicit ``kubeconfig`` is missing or nothing is found.
    """
    if kubeconfig is not None:
        path = _expand(os.fspath(kubeconfig), environ)
        if not path.is_file():
            raise InvalidInputError(f"kubeconfig file {path} does not exist",
                                    hint="check the 'kubeconfig' option, or leave it unset to use KUBECONFIG")
        return [path]
    listed = environ.get("KUBECONFIG", "")
    if listed:
        seen: list[Path] = []
        for part in filter(None, listed.split(os.pathsep)):
            path = _expand(part, environ)
            if path not in seen:
                seen.append(path)
        found = [path for path in seen if path.is_file()]
        if not found:
            names = ", ".join(str(path) for path in seen)
            raise InvalidInputError(
                f"no Kubernetes cluster configured: none of the files in KUBECONFIG exist ({names})",
                hint=_NO_CLUSTER_HINT)
        return found
    default = _home(environ) / ".kube" / "config"
    if not default.is_file():
        raise InvalidInputError(
            "no Kubernetes cluster configured: KUBECONFIG is unset and ~/.kube/config does not exist",
            hint=_NO_CLUSTER_HINT)
    return [default]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InvalidInputError(f"cannot read kubeconfig {path}: {first}",
                                hint="fix the file, or check it with 'kubectl config view'") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInputError(f"cannot read kubeconfig {path}: it is not a mapping",
                                hint="fix the file, or check it with 'kubectl config view'")
    return data


def _absolute(value: Any, base: Path) -> Any:
    if isinstance(value, str) and value and not Path(value).is_absolute():
        return str(base / value)
    return value


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    for section, key, fields in _PATH_FIELDS:
        for entry in data.get(section) or []:
            body = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(body, dict):
                for name in fields:
                    if name in body:
                        body[name] = _absolute(body[name], base)
    for entry in data.get("users") or []:
        command = ((entry.get("user") or {}).get("exec") or {}) if isinstance(entry, dict) else {}
        # client-go resolves an exec command only when it is a path, not a name looked up in PATH.
        if isinstance(command.get("command"), str) and "/" in command["command"]:
            command["command"] = _absolute(command["command"], base)


def merge_kubeconfigs(files: Sequence[Path]) -> dict[str, Any]:
    """The files merged as kubectl merges them: the first definition of each name wins."""
    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": [], "current-context": None}
    for path in files:
        data = _read(path)
        _resolve_paths(data, path.parent)
        for section in ("clusters", "users", "contexts"):
            known = {entry["name"] for entry in merged[section]}
            for entry in data.get(section) or []:
                if isinstance(entry, dict) and entry.get("name") and entry["name"] not in known:
                    merged[section].append(entry)
                    known.add(entry["name"])
        if not merged["current-context"] and data.get("current-context"):
            merged["current-context"] = data["current-context"]
    return merged


def choose_cluster(environ: Mapping[str, str], *, kubeconfig: str | os.PathLike[str] | None = None,
                   context: str | None = None, namespace: str | None = None) -> ClusterChoice:
    """Pick the cluster for ``context`` (else the current context) from the kubeconfig kubectl would use."""
    files = tuple(kubeconfig_files(environ, kubeconfig))
    merged = merge_kubeconfigs(files)
    where = ", ".join(str(path) for path in files)
    names = [entry["name"] for entry in merged["contexts"]]
    available = ", ".join(names) if names else "none"
    name = context or merged["current-context"]
    if not name:
        raise InvalidInputError(f"the kubeconfig ({where}) sets no current-context (available: {available})",
                                hint="pass the 'context' option, or run 'kubectl config use-context NAME'")
    if name not in names:
        raise InvalidInputError(
            f"context {name!r} is not in the kubeconfig ({where}); available: {available}",
            hint="pass one of the available contexts as the 'context' option")
    entry = next(item for item in merged["contexts"] if item["name"] == name)
    body = entry.get("context") or {}
    cluster, user = body.get("cluster"), body.get("user")
    if cluster not in {item["name"] for item in merged["clusters"]}:
        raise InvalidInputError(f"context {name!r} refers to cluster {cluster!r}, which the kubeconfig "
                                f"({where}) does not define", hint="fix the context with 'kubectl config'")
    if user and user not in {item["name"] for item in merged["users"]}:
        raise InvalidInputError(f"context {name!r} refers to user {user!r}, which the kubeconfig "
                                f"({where}) does not define", hint="fix the context with 'kubectl config'")
    try:
        single = KubeConfig.from_dict(merged, fname=files[0]).get(name)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise InvalidInputError(f"cannot use context {name!r} of the kubeconfig ({where}): {error}",
                                hint="check it with 'kubectl config view'") from error
    assert single is not None  # get() with a name never falls back to a default
    if single.user is None:
        # lightkube asserts a user exists; kubectl talks anonymously then, so give it an empty one.
        single = single._replace(user=User())
    return ClusterChoice(config=single, context=name, server=single.cluster.server,
                         namespace=namespace or single.namespace, files=files)
