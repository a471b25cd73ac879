"""Generated benchmark inputs: a large, realistic registry index, a no-op plugin, and big states."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dtm_core.registry.sources import BUNDLED_INDEX
from dtm_core.state import InstanceRecord, State, Step, Transaction

#: Searched and shown on both indexes: the large one contains the bundled tools unchanged and no
#: generated name or description contains this term, so both searches print the same rows.
SEARCH_TERM = "argocd"
INFO_TOOL = "argocd"
#: The tool whose install pulls in exactly ``CLOSURE_LAYERS * CLOSURE_WIDTH`` dependencies.
TOP_TOOL = "acme-platform"
CLOSURE_LAYERS = 10
CLOSURE_WIDTH = 10
PLUGIN_MODULE = "dtm_bench_noop"

_PRODUCTS = (
    "argo", "flux", "helm", "kube", "terra", "vault", "jenkins", "gitlab", "tekton", "drone",
    "spin", "prom", "grafana", "loki", "tempo", "jaeger", "istio", "linkerd", "consul", "nomad",
    "packer", "ansible", "chef", "puppet", "salt", "sonar", "trivy", "snyk", "harbor", "nexus",
    "keycloak", "cert", "sealed", "velero", "kyverno", "opa", "falco", "crossplane", "pulumi",
    "skaffold", "tilt", "kustomize", "buildkit", "kaniko", "cosign", "renovate", "backstage",
    "minio", "redis", "kafka",
)
_ROLES = (
    "", "app", "operator", "agent", "exporter", "dashboard", "cli", "server", "runner",
    "pipeline", "gateway", "controller", "webhook", "sync", "proxy", "ci", "cd", "scanner",
    "registry", "secrets", "policy", "backup", "monitor", "alerts", "config", "bootstrap",
    "repo", "project", "team", "env",
)
_PLATFORMS = ("", "aws", "gcp", "azure", "onprem", "edge", "k3s")
_TAGS = (
    "ci", "cd", "gitops", "kubernetes", "security", "observability", "secrets", "iac",
    "registry", "testing", "policy", "networking", "storage", "backup", "scm", "release",
    "build", "monitoring", "logging", "tracing", "compliance", "cost",
)
_QUALITIES = ("declarative", "lightweight", "managed", "self-hosted", "cloud-native",
              "pluggable", "highly available", "minimal", "opinionated", "batteries-included")
_THINGS = ("operator", "command line client", "dashboard", "agent", "exporter", "controller",
           "pipeline template", "policy bundle", "webhook receiver", "backup job", "gateway")
_PURPOSES = ("continuous delivery", "container image builds", "secret rotation",
             "cluster bootstrap", "cost reporting", "log shipping", "metrics collection",
             "release automation", "dependency updates", "vulnerability scanning",
             "infrastructure provisioning", "access control", "service mesh traffic",
             "artifact storage", "alert routing")


@dataclass(frozen=True)
class LargeIndex:
    """A generated index written to ``path``, and what the benchmarks ask of it."""

    path: Path
    tools: int
    size_bytes: int
    #: The tools ``TOP_TOOL`` pulls in (``TOP_TOOL`` itself excluded).
    closure: tuple[str, ...]


def write_large_index(path: Path, tools: int, *, seed: int = 20261124) -> LargeIndex:
    """Generate an index of ``tools`` tools, validate it as dtm would, and write it."""
    from dtm_core.registry import validate_index

    data, closure = large_index(tools, seed=seed)
    # A generator bug must fail here, not show up later as a suspiciously fast benchmark.
    validate_index(data, name="bench-large")
    body = json.dumps(data, indent=2).encode()
    path.write_bytes(body)
    return LargeIndex(path, len(data["tools"]), len(body), closure)


def large_index(tools: int, *, seed: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The index document and the dependency closure of :data:`TOP_TOOL`."""
    rng = random.Random(seed)
    bundled: dict[str, Any] = json.loads(BUNDLED_INDEX.read_bytes())["tools"]
    count = tools - len(bundled) - 1
    closure_size = CLOSURE_LAYERS * CLOSURE_WIDTH
    if count < closure_size * 2:
        raise ValueError(f"an index of {tools} tools is too small for a closure of {closure_size}")
    names = _names(count, {*bundled, TOP_TOOL}, rng)
    histories = {name: _history(rng, rng.randint(3, 5), major_last=False) for name in names}
    # Spread the closure over the index so it is not one contiguous block of the file.
    step = count // closure_size
    closure = [names[i * step] for i in range(closure_size)]
    for name in closure:
        histories[name] = _history(rng, rng.randint(3, 5), major_last=True)
    deps = _random_dependencies(names, histories, set(closure), rng)
    deps.update(_closure_dependencies(closure, histories))
    generated = {name: _entry(name, histories[name], deps.get(name, {}), rng) for name in names}
    top = {
        "description": "Acme's platform toolchain: everything a new service needs",
        "tags": ["platform", "ci", "cd"],
        "homepage": "https://platform.example.org",
        "versions": {
            version: _version(TOP_TOOL, version, list(closure[:CLOSURE_WIDTH]), rng,
                              yanked=False)
            for version in reversed(("1.0.0", "1.1.0", "2.0.0"))
        },
    }
    document = {
        "format": 1,
        "name": "bench-large",
        "description": "Generated by benches/generate.py for the performance benchmarks",
        "tools": {**bundled, TOP_TOOL: top, **generated},
    }
    return document, tuple(closure)


def _names(count: int, taken: set[str], rng: random.Random) -> list[str]:
    combos = [
        name
        for platform in _PLATFORMS for product in _PRODUCTS for role in _ROLES
        if (name := "-".join(part for part in (platform, product, role) if part)) not in taken
    ]
    if count > len(combos):
        raise ValueError(f"at most {len(combos)} generated tool names, asked for {count}")
    rng.shuffle(combos)
    return combos[:count]


def _history(rng: random.Random, count: int, *, major_last: bool) -> list[str]:
    """``count`` ascending versions; with ``major_last`` only the newest has the top major."""
    major, minor, patch = rng.randint(0, 3), rng.randint(0, 9), rng.randint(0, 5)
    versions = [f"{major}.{minor}.{patch}"]
    for i in range(1, count):
        roll = 0.0 if major_last and i == count - 1 else rng.random()
        if roll < 0.25:
            major, minor, patch = major + 1, 0, 0
        elif roll < 0.7:
            minor, patch = minor + 1, 0
        else:
            patch += rng.randint(1, 4)
        versions.append(f"{major}.{minor}.{patch}")
    if major_last and versions[-2].split(".")[0] == versions[-1].split(".")[0]:
        raise AssertionError("unreachable: the last step bumps the major")
    return versions


def _random_dependencies(
    names: list[str], histories: dict[str, list[str]], closure: set[str], rng: random.Random
) -> dict[str, dict[str, list[str]]]:
    """About a third of the tools need 1-3 earlier ones (acyclic), always satisfiably."""
    result: dict[str, dict[str, list[str]]] = {}
    for i, name in enumerate(names):
        if name in closure or i < 10 or rng.random() > 0.33:
            continue
        needs = []
        for other in rng.sample(names[:i], rng.randint(1, min(3, i))):
            history = histories[other]
            form = rng.random()
            if form < 0.3:
                needs.append(other)
            elif form < 0.7:
                needs.append(f"{other}>={history[0]}")
            else:
                upper = int(history[-1].split(".")[0]) + 1
                needs.append(f"{other}>={history[len(history) // 2]},<{upper}")
        # Older versions of a tool needed less: the newest carries every dependency.
        by_version = {v: needs[: max(0, len(needs) - k)] for k, v in enumerate(reversed(histories[name]))}
        result[name] = by_version
    return result


def _closure_dependencies(
    closure: list[str], histories: dict[str, list[str]]
) -> dict[str, dict[str, list[str]]]:
    """Layer k needs two tools of layer k + 1; the newest versions exclude one dependency's
    newest major, so the resolver must settle on an older version there."""
    result: dict[str, dict[str, list[str]]] = {}
    layers = [closure[k * CLOSURE_WIDTH:(k + 1) * CLOSURE_WIDTH] for k in range(CLOSURE_LAYERS)]
    for k, layer in enumerate(layers[:-1]):
        below = layers[k + 1]
        for j, name in enumerate(layer):
            first, second = below[j], below[(j + 1) % CLOSURE_WIDTH]
            oldest = histories[first][0]
            newest_major = histories[second][-1].split(".")[0]
            history = histories[name]
            result[name] = {
                version: [f"{first}>={oldest}",
                          f"{second}<{newest_major}" if version == history[-1] else second]
                for version in history
            }
    return result


def _entry(name: str, history: list[str], deps: dict[str, list[str]], rng: random.Random) -> dict[str, Any]:
    product = next(p for p in _PRODUCTS if p in name.split("-"))
    entry: dict[str, Any] = {
        "description": f"{rng.choice(_QUALITIES).capitalize()} {rng.choice(_THINGS)} "
                       f"for {rng.choice(_PURPOSES)}",
        "tags": rng.sample(_TAGS, rng.randint(1, 4)),
        "homepage": f"https://{product}.example.org/{name}",
        "versions": {},
    }
    newest = history[-1]
    for version in reversed(history):
        entry["versions"][version] = _version(
            name, version, deps.get(version, []), rng,
            yanked=version != newest and rng.random() < 0.03,
        )
    return entry


def _version(name: str, version: str, dependencies: list[str], rng: random.Random, *,
             yanked: bool) -> dict[str, Any]:
    family = next((part for part in name.split("-") if part in _PRODUCTS), "acme")
    plugin: dict[str, Any] = {"distribution": f"dtm-plugins-{family}", "version": ">=0.1,<1"}
    if rng.random() < 0.1:
        plugin = {**plugin, "version": "==0.4.2", "hashes": [f"sha256:{rng.getrandbits(256):064x}"]}
    artifacts: dict[str, Any] = {"image": f"ghcr.io/example/{name}:{version}"}
    if rng.random() < 0.5:
        artifacts["manifest"] = {
            "url": f"https://downloads.example.org/{name}/v{version}/install.yaml",
            "sha256": f"{rng.getrandbits(256):064x}",
        }
    return {
        "dependencies": dependencies,
        "conflicts": [],
        "plugin": plugin,
        "dtm": ">=0.1,<1",
        "yanked": yanked,
        "artifacts": artifacts,
    }


def write_plugin_module(directory: Path, tools: list[str]) -> Path:
    """A plugin module (load with ``DTM_PLUGINS``) with a no-op kind for each of ``tools``.

    Each kind declares two options with defaults, like a small real plugin, so a dry run
    validates options for every step as it would with the real plugins installed.
    """
    path = directory / f"{PLUGIN_MODULE}.py"
    path.write_text(
        '"""No-op tool kinds for the generated benchmark tools."""\n\n'
        "from dtm_core import Option, ToolKind, hookimpl\n\n"
        f"TOOLS = {sorted(tools)!r}\n\n"
        "OPTIONS = (\n"
        '    Option("replicas", "integer", "How many.", default=1),\n'
        '    Option("namespace", "string", "Where.", default="default"),\n'
        ")\n\n\n"
        "@hookimpl\n"
        "def dtm_tool_kinds():\n"
        '    return [type("Noop", (ToolKind,), {"name": name, "options": OPTIONS})()\n'
        "            for name in TOOLS]\n",
        encoding="utf-8",
    )
    return path


def big_state(instances: int, tools: list[str]) -> State:
    """``instances`` installed instances spread over ``tools``, and a journal of one
    transaction per ten instances (ten install steps each), as installing them would leave."""
    state = State()
    records: list[InstanceRecord] = []
    for i in range(instances):
        tool = tools[i % len(tools)]
        record = InstanceRecord(
            tool=tool, instance=f"team-{i // len(tools):04d}", version="1.0.0",
            options={"name": f"{tool}-{i}", "visibility": "private", "labels": ["bench", f"n{i}"]},
            outputs={"url": f"https://example.org/{tool}/{i}"},
            reason="manual" if i % 3 else "auto",
            requires=[records[i - 1].address] if i % 3 and i else [],
        )
        records.append(record)
        state.instances[record.address] = record
    for tx_id, start in enumerate(range(0, instances, 10), start=1):
        steps = [Step(action="install", address=r.address, to_version=r.version, status="done",
                      after=r.to_json()) for r in records[start:start + 10]]
        state.transactions.append(Transaction(id=tx_id, command="install", steps=steps,
                                              user="bench", host="bench", outcome="ok"))
    return state
