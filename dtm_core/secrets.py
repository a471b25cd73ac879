"""Secret references and masked secret values: how credentials reach plugins without being stored.

A secret option is given as a *reference* — ``env:GITHUB_TOKEN`` or ``file:~/.secrets/token`` —
and only the reference is ever written to state, plans or logs. The value is resolved just
before a plugin call and handed over as a :class:`Secret`, whose ``str``/``repr`` are masked.
Plugins may register more schemes (``dtm_secret_resolvers``); a secret *output* (say, an
initial admin password held in a Kubernetes Secret) is returned as a reference too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInputError

MASK = "***"

_REF_RE = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*):(?P<target>.+)$")

#: A resolver turns the part after ``scheme:`` into the secret's value, or raises DtmError.
SecretResolver = Callable[[str], str]


class Secret:
    """A secret value that will not print itself; call :meth:`reveal` where the value is needed."""

    __slots__ = ("_value", "ref")

    def __init__(self, value: str, ref: SecretRef | None = None) -> None:
        self._value = value
        self.ref = ref

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.ref or MASK})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class SecretRef:
    """Where a secret comes from: ``scheme:target`` (``env:GITHUB_TOKEN``, ``file:/run/token``)."""

    scheme: str
    target: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.target}"

    @classmethod
    def parse(cls, text: str, *, where: str = "value") -> SecretRef:
        match = _REF_RE.match(text.strip()) if isinstance(text, str) else None
        if not match:
            raise InvalidInputError(
                f"{where} must be a secret reference such as env:GITHUB_TOKEN, not a literal value",
                hint="put the secret in an environment variable or file and refer to it "
                "(env:NAME or file:PATH); dtm never stores secret values",
            )
        return cls(match["scheme"], match["target"])


def env_resolver(environ: Mapping[str, str]) -> SecretResolver:
    """The ``env:`` scheme, reading the environment dtm runs with."""

    def from_env(name: str) -> str:
        value = environ.get(name)
        if value is None:
            raise InvalidInputError(
                f"environment variable {name} is not set",
                hint=f"export {name}=... before running dtm",
            )
        return value

    return from_env


def _from_file(path: str) -> str:
    file = Path(path).expanduser()
    try:
        return file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read secret file {file}: {exc.strerror}",
            hint="check the path in the file: reference",
        ) from None


def _kube_secret(environ: Mapping[str, str]) -> SecretResolver:
    def resolve(target: str) -> str:
        # Imported on use: the Kubernetes client is heavy and most runs never need it.
        from .kubernetes.secrets import kube_secret_resolver

        return kube_secret_resolver(environ)(target)

    return resolve


def builtin_resolvers(environ: Mapping[str, str] | None = None) -> dict[str, SecretResolver]:
    """The schemes every dtm knows: ``env:``, ``file:`` and ``k8s-secret:``."""
    env = os.environ if environ is None else environ
    return {"env": env_resolver(env), "file": _from_file, "k8s-secret": _kube_secret(env)}


def resolve_secret(ref: SecretRef, resolvers: Mapping[str, SecretResolver]) -> Secret:
    """Resolve ``ref`` with the resolver registered for its scheme."""
    resolver = resolvers.get(ref.scheme)
    if resolver is None:
        known = ", ".join(sorted(resolvers))
        # Not quoted: text that only looks like a reference ("admin:<token>") may be the secret.
        raise InvalidInputError(
            "a secret reference has an unknown scheme (the part before ':')",
            hint=f"use one of: {known}",
        )
    return Secret(resolver(ref.target), ref)
