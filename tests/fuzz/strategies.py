"""Hypothesis strategies for the files dtm reads: valid ones, one mutation away, and garbage.

Each family (toolchain YAML, registry index JSON, the ``registries.json`` settings file, the
``dtm.lock`` lock file) has a strategy of *valid* content, one of *mutated* content (a valid
file with exactly one fault, as people make them) and one of *garbage*. A mutated case is a
:class:`Mutated` that says whether the fault surely makes the file invalid (some, such as a
changed indentation, may leave it valid) and, for indexes, which JSON path it touched.
"""

from __future__ import annotations

import copy
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# --- how long to fuzz -------------------------------------------------------------------------

#: ``ci`` (the default) is small and derandomized, so CI is fast and repeatable; ``long`` is
#: for a deliberate hunt: DTM_FUZZ_PROFILE=long .venv/bin/pytest tests/fuzz
PROFILES: dict[str, dict[str, Any]] = {
    "ci": {"max_examples": 100, "derandomize": True},
    "long": {"max_examples": 2000, "derandomize": False},
}


def fuzz_settings() -> settings:
    """The settings of every fuzz test, per ``DTM_FUZZ_PROFILE`` (``ci`` unless set)."""
    name = os.environ.get("DTM_FUZZ_PROFILE", "ci")
    if name not in PROFILES:
        raise ValueError(f"DTM_FUZZ_PROFILE={name!r}: choose one of {', '.join(PROFILES)}")
    # No deadline: each example runs a whole dtm command on a shared, busy machine.
    return settings(**PROFILES[name], deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


@dataclass(frozen=True)
class Mutated:
    """A file with one fault; ``surely_invalid`` when no reading of it can be valid."""

    what: str
    content: bytes | list[bytes]
    surely_invalid: bool
    #: Registry indexes: the JSON path (as a tuple of keys) the mutation touched.
    path: tuple[str | int, ...] = ()


# --- toolchain files --------------------------------------------------------------------------

#: Tools of the test registry the test plugin provides, and version specifiers each one
#: satisfies with its newest version, so that any mix of them resolves (see tests/data).
TOOL_SPECIFIERS = {
    "alpha": ["", ">=1.0", "<3", "!=1.1", "~=2.0", "==2.0", ">=1,<3"],
    "beta": ["", ">=1.0", "==2.0", "<3"],
    "gamma": ["", ">=1.0", "==1.0"],
    "delta": ["", ">=1.0"],
}
INSTANCE_NAMES = ["default", "a", "b-1", "x2", "backend"]
#: Environment variables a valid toolchain may use; the fuzz tests export them.
FUZZ_ENV = {"FUZZ_REGION": "eu-west", "FUZZ_LABEL": "from env: yes"}
_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_ :#{}[]'\"", min_size=0, max_size=12)
_var_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


@dataclass
class ToolchainDoc:
    """A valid toolchain, before rendering: its variables, and its tool items per file."""

    variables: dict[str, Any]
    files: list[list[dict[str, Any]]]
    addresses: list[str] = field(default_factory=list)
    #: The ``state:`` block, in the first file; None leaves it out.
    state: dict[str, Any] | None = None

    def documents(self) -> list[dict[str, Any]]:
        """One mapping per file: the first holds the vars, every file its share of tools."""
        out = []
        for i, tools in enumerate(self.files):
            doc: dict[str, Any] = {"version": 1}
            if i == 0 and self.variables:
                doc["vars"] = self.variables
            if i == 0 and self.state is not None:
                doc["state"] = self.state
            if tools:
                doc["tools"] = tools
            out.append(doc)
        return out


@st.composite
def _string_value(draw: st.DrawFn, string_vars: list[str], earlier: list[str]) -> str:
    """A string option value: text, or text built from vars, env and earlier outputs."""
    pieces = [draw(_words).replace("${{", "")]
    sources = [f"${{{{ vars.{v} }}}}" for v in string_vars] + \
        [f"${{{{ env.{e} }}}}" for e in FUZZ_ENV] + \
        [f"${{{{ {a}.outputs.url }}}}" for a in earlier] + ["$${{ literal }}"]
    for _ in range(draw(st.integers(0, 2))):
        pieces.append(draw(st.sampled_from(sources)))
        pieces.append(draw(_words).replace("${{", "").replace("$", ""))
    text = "".join(pieces)
    return text if text.strip() or not text else "x"


@st.composite
def toolchains(draw: st.DrawFn) -> ToolchainDoc:
    """A valid toolchain of 1-3 files over the test registry's tools."""
    variables: dict[str, Any] = {}
    string_vars: list[str] = []
    int_vars: list[str] = []
    for name in draw(st.lists(_var_names, max_size=4, unique=True)):
        kind = draw(st.sampled_from(["text", "int", "ref", "env", "list"]))
        if kind == "int":
            variables[name] = draw(st.integers(0, 10**6))
            int_vars.append(name)
            continue
        if kind == "list":
            variables[name] = draw(st.lists(st.integers(0, 9), max_size=3))
            continue
        if kind == "ref" and string_vars:  # refers only to earlier variables: never a cycle
            variables[name] = f"pre-${{{{ vars.{draw(st.sampled_from(string_vars))} }}}}"
        elif kind == "env":
            variables[name] = f"${{{{ env.{draw(st.sampled_from(sorted(FUZZ_ENV)))} }}}}"
        else:
            variables[name] = draw(_words).replace("$", "") or "v"
        string_vars.append(name)
    items: list[dict[str, Any]] = []
    addresses: list[str] = []
    for tool, name in draw(st.lists(st.tuples(st.sampled_from(sorted(TOOL_SPECIFIERS)),
                                              st.sampled_from(INSTANCE_NAMES)),
                                    min_size=1, max_size=6, unique=True)):
        item: dict[str, Any] = {"tool": tool}
        if name != "default" or draw(st.booleans()):
            item["name"] = name
        version = draw(st.sampled_from(TOOL_SPECIFIERS[tool]))
        if version:
            item["version"] = version
        options: dict[str, Any] = {}
        if draw(st.booleans()):
            options["size"] = draw(st.one_of(st.integers(0, 10**9), *(
                [st.sampled_from([f"${{{{ vars.{v} }}}}" for v in int_vars])] if int_vars else [])))
        if draw(st.booleans()):
            options["label"] = draw(_string_value(string_vars, addresses))
        if draw(st.booleans()):
            options["tier"] = draw(st.sampled_from(["free", "pro"]))
        if draw(st.booleans()):
            options["settings"] = {"region": draw(st.sampled_from(["eu", "${{ env.FUZZ_REGION }}"]))}
        if options:
            item["options"] = options
        if addresses and draw(st.booleans()):
            item["depends_on"] = draw(st.lists(st.sampled_from(addresses), min_size=1, max_size=2,
                                               unique=True))
        items.append(item)
        addresses.append(f"{tool}.{name}")
    count = draw(st.integers(1, min(3, len(items))))
    files: list[list[dict[str, Any]]] = [[] for _ in range(count)]
    for item in items:
        files[draw(st.integers(0, count - 1))].append(item)
    # Only the local backend: planning against PostgreSQL needs a server (tests/postgres.py).
    state = draw(st.sampled_from([None, None, {"backend": "local"}, {}]))
    return ToolchainDoc(variables, files, addresses, state)


def render_yaml(document: Any, flow: bool | None = False) -> bytes:
    """``document`` as YAML text; ``flow`` picks block, flow or mixed style."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = flow
    yaml.width = 4096
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue().encode()


@st.composite
def toolchain_files(draw: st.DrawFn) -> tuple[ToolchainDoc, list[bytes]]:
    """A valid toolchain and its files, rendered in a random YAML style."""
    doc = draw(toolchains())
    flow = draw(st.sampled_from([False, None, True]))
    return doc, [render_yaml(d, flow) for d in doc.documents()]


_WRONG_VALUES = [None, True, 3, 2.5, "text", [], [1, "x"], {}, {"k": "v"}, "${{ vars }}"]


def _tool_paths(doc: ToolchainDoc) -> list[tuple[int, int, str]]:
    return [(f, i, key) for f, tools in enumerate(doc.files) for i, item in enumerate(tools)
            for key in item]


@st.composite
def _structural_mutation(draw: st.DrawFn, doc: ToolchainDoc) -> Mutated:
    """One fault in the parsed structure of a valid toolchain, rendered back to YAML."""
    docs = copy.deepcopy(doc.documents())
    items = [(f, i) for f, d in enumerate(docs) for i in range(len(d.get("tools", [])))]
    f, i = draw(st.sampled_from(items))
    item = docs[f]["tools"][i]
    kind = draw(st.sampled_from(["top-type", "item-type", "unknown-key", "item-unknown-key",
                                 "bad-reference", "cycle", "duplicate-instance", "missing-version",
                                 "newer-version", "bad-name", "bad-specifier", "var-cycle", "bad-state",
                                 "split-conflict"]))
    surely = True
    if kind == "top-type":
        key = draw(st.sampled_from(["version", "vars", "tools"]))
        value = draw(st.sampled_from(_WRONG_VALUES))
        docs[0][key] = value
        surely = value is not None and not (key == "vars" and value == {}) \
            and not (key == "tools" and value == [])
    elif kind == "item-type":
        key = draw(st.sampled_from(["tool", "name", "version", "options", "depends_on"]))
        value = draw(st.sampled_from(_WRONG_VALUES))
        item[key] = value
        # null means "left out" for these keys, and an empty options mapping is fine.
        surely = not (value is None and key in {"version", "options", "depends_on"}) \
            and not (key in {"options"} and value == {}) and not (key == "depends_on" and value == [])
    elif kind == "unknown-key":
        docs[f][draw(st.sampled_from(["tool", "Version", "instances", "settings"]))] = 1
    elif kind == "item-unknown-key":
        item[draw(st.sampled_from(["instanceID", "plugin", "dependsOn", "with", "Name"]))] = "x"
    elif kind == "bad-reference":
        ref = draw(st.sampled_from(["${{ vars.nope }}", "${{ env.FUZZ_UNSET }}",
                                    "${{ zeta.default.outputs.url }}", "${{ alpha.nope.outputs.url }}",
                                    "${{ alpha.default.outputs }}", "${{ secrets.TOKEN }}", "${{ }}",
                                    "${{ vars.a", "x ${{ vars.nope }} y"]))
        item.setdefault("options", {})["label"] = ref
        # alpha.nope may exist; a reference to it is then fine, unless it refers to itself.
        surely = "alpha.nope" not in ref or not any(a == "alpha.nope" for a in doc.addresses)
    elif kind == "cycle":
        address = f"{item['tool']}.{item.get('name', 'default')}"
        item["depends_on"] = [*item.get("depends_on", []), address]
    elif kind == "duplicate-instance":
        docs[f]["tools"].append(copy.deepcopy(item))
    elif kind == "missing-version":
        del docs[0]["version"]
    elif kind == "newer-version":
        docs[draw(st.integers(0, len(docs) - 1))]["version"] = draw(st.sampled_from([2, 0, -1, 10**40]))
    elif kind == "bad-name":
        item[draw(st.sampled_from(["tool", "name"]))] = draw(st.sampled_from(
            ["Alpha", "a_b", "-x", "a.b", "", "x" * 64, "ünï"]))
    elif kind == "bad-specifier":
        item["version"] = draw(st.sampled_from(["1.0", "=>1", ">=1.0.*", "latest", "v2", "==", ">=9"]))
    elif kind == "bad-state":
        docs[0]["state"] = draw(st.sampled_from([
            {"backend": "s3"}, {"backend": "local", "url": "postgresql://db/dtm"}, {"bucket": "x"},
            {"backend": "postgresql", "url": "postgresql://dtm:hunter2@db/dtm"}, {"backend": ["local"]},
            "local", ["backend"], {"backend": "local", "workspace": "${{ alpha.default.outputs.url }}"}]))
    elif kind == "split-conflict":
        # Files of one toolchain that disagree: a variable or the state block defined twice.
        docs.append({"version": 1, "vars": {"shared": "one"}, "state": {"backend": "local"}})
        docs[0].setdefault("vars", {})["shared"] = "two"
        if draw(st.booleans()):
            docs[0]["vars"]["shared"] = "one"
            docs[0]["state"] = {"backend": "local", "workspace": "other"}
    else:  # var-cycle
        docs[0]["vars"] = {**docs[0].get("vars", {}), "ping": "${{ vars.pong }}", "pong": "${{ vars.ping }}"}
        item.setdefault("options", {})["label"] = "${{ vars.ping }}"
    flow = draw(st.sampled_from([False, None]))
    return Mutated(kind, [render_yaml(d, flow) for d in docs], surely)


def _lines_with_content(text: bytes) -> list[int]:
    return [i for i, line in enumerate(text.split(b"\n")) if line.strip()]


@st.composite
def _text_mutation(draw: st.DrawFn, text: bytes) -> Mutated:
    """One fault in the text of a valid (block-style) toolchain file."""
    lines = text.split(b"\n")
    at = draw(st.sampled_from(_lines_with_content(text)))
    line = lines[at]
    body = line.lstrip(b" ")
    indent = line[:len(line) - len(body)]
    kind = draw(st.sampled_from(["duplicate-key", "indent", "tab", "unclosed-quote", "alias",
                                 "anchor", "huge-number", "non-utf8", "bom", "empty", "nul",
                                 "deep-nesting", "truncate", "crlf", "control-char"]))
    surely = False
    if kind == "duplicate-key":
        lines.insert(1, b"version: 1")
        surely = True
    elif kind == "indent":
        lines[at] = draw(st.sampled_from([b" ", b"   ", b""])) + (body if draw(st.booleans()) else line)
    elif kind == "tab":
        lines[at] = b"\t" + body
        surely = bool(indent)  # a tab may not indent YAML; at column 1 it starts a token
    elif kind == "unclosed-quote":
        key, colon, value = body.partition(b": ")
        lines[at] = indent + key + colon + draw(st.sampled_from([b'"', b"'"])) + value
        surely = bool(colon) and at == len(lines) - 1
    elif kind == "alias":
        lines[at] = line + b" *undefined"
    elif kind == "anchor":
        lines.insert(at + 1, indent + b"x-anchor: &a [*a]")
    elif kind == "huge-number":
        lines.append(b"x-huge: " + b"9" * draw(st.sampled_from([30, 400, 5000, 20000])))
    elif kind == "non-utf8":
        cut = draw(st.integers(0, len(line)))
        invalid = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xfe\xfe"]))
        lines[at] = line[:cut] + invalid + line[cut:]
        surely = True
    elif kind == "bom":
        lines[0] = b"\xef\xbb\xbf" + lines[0]
    elif kind == "empty":
        lines = [draw(st.sampled_from([b"", b"   ", b"# only a comment", b"---", b"..."]))]
        surely = True
    elif kind == "nul":
        cut = draw(st.integers(0, len(line)))
        lines[at] = line[:cut] + b"\x00" + line[cut:]
        surely = True
    elif kind == "deep-nesting":
        depth = draw(st.sampled_from([50, 70, 300, 3000]))
        lines.append(b"x-deep: " + b"[" * depth + b"]" * depth)
        lines.append(b"x-deeper: " + b"{a: " * depth + b"1" + b"}" * depth)
    elif kind == "truncate":
        cut = draw(st.integers(0, len(text)))
        return Mutated(kind, text[:cut], cut == 0)
    elif kind == "crlf":
        return Mutated(kind, text.replace(b"\n", b"\r\n"), False)
    else:
        cut = draw(st.integers(0, len(line)))
        lines[at] = line[:cut] + draw(st.sampled_from([b"\x07", b"\x1b", b"\x7f", b"\xc2\x85",
                                                      b"\xe2\x80\xa8", b"\xef\xbf\xbe"])) + line[cut:]
    return Mutated(kind, b"\n".join(lines), surely)


@st.composite
def mutated_toolchains(draw: st.DrawFn) -> Mutated:
    """A valid toolchain with one fault in its structure or in the text of one file."""
    doc = draw(toolchains())
    if draw(st.booleans()):
        return draw(_structural_mutation(doc))
    texts = [render_yaml(d) for d in doc.documents()]
    which = draw(st.integers(0, len(texts) - 1))
    mutated = draw(_text_mutation(texts[which]))
    assert isinstance(mutated.content, bytes)
    texts[which] = mutated.content
    return Mutated(mutated.what, texts, mutated.surely_invalid)


_YAML_TOKENS = ["version", "tools", "vars", "state", "tool", "name", "options", "depends_on", ":",
                ": ", "- ", "-", "\n", "\n  ", "  ", "{", "}", "[", "]", ",", "'", '"', "&a", "*a", "!!str",
                "!!binary", "!tag", "<<", "? ", "|", ">", "#", "%YAML 1.2", "---", "...", "${{", "}}",
                "vars.x", "1", "0x1F", "1e400", ".nan", "~", "null", "yes", "2001-12-14", "\t", "\\",
                "\x00", "\ufeff", "é"]


def garbage_yaml() -> st.SearchStrategy[bytes]:
    """Random bytes, random text, and random sequences of YAML's own tokens."""
    return st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.lists(st.sampled_from(_YAML_TOKENS), max_size=60).map(lambda ts: "".join(ts).encode()),
        st.lists(st.sampled_from(_YAML_TOKENS), max_size=40).map(
            lambda ts: ("version: 1\n" + "".join(ts)).encode()),
    )


# --- registry indexes -------------------------------------------------------------------------

_TOOL_NAMES = ["forge", "git", "ci-runner", "argo", "vault", "k8s", "x1"]
_VERSIONS = ["1.0", "1.0.1", "2.0", "2.0rc1", "1!0.5", "3.5.1", "0.9.post1", "10.0.0.dev2", "4.0+local"]
_SPECIFIERS = ["", ">=1.0", "<2", "~=1.0", "!=2.0", ">=1,<3", "==1.0.*", "===weird"]
_HEX = "0123456789abcdef"


@st.composite
def indexes(draw: st.DrawFn) -> dict[str, Any]:
    """A registry index that is valid per the schema and the semantic checks."""
    names = draw(st.lists(st.sampled_from(_TOOL_NAMES), min_size=1, max_size=5, unique=True))
    tools: dict[str, Any] = {}
    for name in names:
        stack = draw(st.booleans()) and draw(st.booleans())
        versions: dict[str, Any] = {}
        for text in draw(st.lists(st.sampled_from(_VERSIONS), min_size=1, max_size=3, unique_by=_release)):
            raw: dict[str, Any] = {}
            others = [n for n in names if n != name]
            if others and draw(st.booleans()):
                raw["dependencies"] = [draw(st.sampled_from(others)) + draw(st.sampled_from(_SPECIFIERS))
                                       for _ in range(draw(st.integers(1, 2)))]
            if others and draw(st.booleans()):
                raw["conflicts"] = [draw(st.sampled_from(others)) + "<1.0"]
            if not stack or draw(st.booleans()):
                pinned = draw(st.booleans())
                raw["plugin"] = {"distribution": draw(st.sampled_from(["dtm-testplugin", "dtm_x.y", "A1"]))}
                if pinned:
                    raw["plugin"]["version"] = "==" + draw(st.sampled_from(["0.1", "1.2.3"]))
                    raw["plugin"]["hashes"] = ["sha256:" + draw(st.text(_HEX, min_size=64, max_size=64))]
                elif draw(st.booleans()):
                    raw["plugin"]["version"] = draw(st.sampled_from(_SPECIFIERS))
            if draw(st.booleans()):
                raw["dtm"] = draw(st.sampled_from(_SPECIFIERS))
            if draw(st.booleans()):
                raw["yanked"] = draw(st.booleans())
            if draw(st.booleans()):
                raw["artifacts"] = {"manifest": {"url": "https://example.test/m.yaml",
                                                 "sha256": draw(st.text(_HEX, min_size=64, max_size=64))},
                                    "image": "registry.test/x:1"}
            versions[text] = raw
        entry: dict[str, Any] = {"description": draw(st.text(min_size=1, max_size=30)), "versions": versions}
        if stack:
            entry["kind"] = "stack"
            entry["starter"] = "version: 1\ntools: []\n"
        if draw(st.booleans()):
            entry["tags"] = draw(st.lists(st.sampled_from(["ci", "cd", "scm", "ü"]), unique=True))
        if draw(st.booleans()):
            entry["homepage"] = "https://example.test/" + name
        if draw(st.booleans()):
            entry["x-note"] = draw(st.text(max_size=10))
        tools[name] = entry
    return {"format": 1, "name": "fuzz", "tools": tools}


def _release(text: str) -> str:
    """Versions equal under PEP 440 (1.0 and 1.0.0) may not both be keys: keep one of each."""
    from packaging.version import Version

    return str(Version(text))


def _paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            found.extend(_paths(child, (*prefix, i)))
    return found


def _at(node: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


@st.composite
def mutated_indexes(draw: st.DrawFn) -> Mutated:
    """A valid index with one field broken: a type, a version, a specifier, a hash, a key …"""
    index = draw(indexes())
    tool = draw(st.sampled_from(sorted(index["tools"])))
    entry = index["tools"][tool]
    version = draw(st.sampled_from(sorted(entry["versions"])))
    raw = entry["versions"][version]
    at: tuple[str | int, ...] = ("tools", tool, "versions", version)
    kind = draw(st.sampled_from(["wrong-type", "bad-version", "bad-specifier", "bad-dependency",
                                 "bad-sha256", "duplicate-tool", "dangling-dependency", "self-dependency",
                                 "unknown-key", "missing-field", "bad-tool-name", "newer-format",
                                 "same-version", "hashes-unpinned"]))
    surely = True
    if kind == "wrong-type":
        path = draw(st.sampled_from([p for p in _paths(index) if p and p[-1] not in ("x-note",)
                                     and not (len(p) == 4 and p[2] == "versions")
                                     and not (len(p) >= 5 and p[4] == "artifacts" and len(p) > 6)]))
        current = _at(index, path)
        value = draw(st.sampled_from([v for v in [None, True, 7, 1.5, "s", [], {}, [1], {"k": 1}]
                                      if type(v) is not type(current)]))
        _at(index, path[:-1])[path[-1]] = value
        # An artifact may be any value; a tool name key is replaced, not retyped.
        surely = not (len(path) == 6 and path[4] == "artifacts")
        return Mutated(kind, json.dumps(index).encode(), surely and len(path) != 2, path)
    if kind == "bad-version":
        bad = draw(st.sampled_from(["1.x", "latest", "", "v", "1..0", "🙂"]))
        entry["versions"][bad] = entry["versions"].pop(version)
        at = ("tools", tool, "versions", bad)
    elif kind == "bad-specifier":
        field_ = draw(st.sampled_from(["dtm", "plugin"]))
        spec = draw(st.sampled_from([">>1", "=>1", "~1", "1.0", "==1.*.0", "<"]))
        if field_ == "plugin" and "plugin" in raw:
            raw["plugin"]["version"] = spec
            raw["plugin"].pop("hashes", None)
            at = (*at, "plugin", "version")
        else:
            raw["dtm"] = spec
            at = (*at, "dtm")
    elif kind in ("bad-dependency", "self-dependency", "dangling-dependency"):
        text = {"bad-dependency": draw(st.sampled_from(["forge>=abc", "Forge Two", "x[extra]",
                                                          "x; os_name=='nt'", "x @ https://e.test/x.whl", "",
                                                          "_x"])),
                "self-dependency": tool + ">=0",
                "dangling-dependency": "nowhere-tool>=1"}[kind]
        raw.setdefault("dependencies", []).append(text)
        at = (*at, "dependencies", len(raw["dependencies"]) - 1)
        # Another index may list the tool: a dependency on it is the resolver's business.
        surely = kind != "dangling-dependency"
    elif kind == "bad-sha256":
        # A plugin hash is "sha256:" and 64 lowercase hex digits; an artifact's sha256 the digits alone.
        if "artifacts" in raw and draw(st.booleans()):
            bad = draw(st.sampled_from(["sha256:" + "0" * 64, "A" * 64, "0" * 63, "xyz"]))
            raw["artifacts"]["manifest"]["sha256"] = bad
            at = (*at, "artifacts", "manifest", "sha256")
        else:
            bad = draw(st.sampled_from(["sha256:xyz", "md5:" + "0" * 32, "sha256:" + "A" * 64, "0" * 64]))
            raw["plugin"] = {"distribution": "dtm-testplugin", "version": "==1.0", "hashes": [bad]}
            at = (*at, "plugin", "hashes", 0)
    elif kind == "duplicate-tool":
        text = json.dumps(index)
        first = json.dumps({tool: entry})[1:-1]
        # The same tool listed twice in the text of "tools": JSON allows it, dtm must not.
        return Mutated(kind, text.replace(first, first + ", " + first, 1).encode(), True, ("tools", tool))
    elif kind == "unknown-key":
        target = draw(st.sampled_from([index, entry, raw]))
        target["colour"] = "blue"
        at = {id(index): (), id(entry): ("tools", tool), id(raw): at}[id(target)]
    elif kind == "missing-field":
        if "plugin" in raw and entry.get("kind") != "stack" and draw(st.booleans()):
            del raw["plugin"]
        else:
            del entry["description"]
            at = ("tools", tool)
    elif kind == "bad-tool-name":
        bad = draw(st.sampled_from(["Git Hub", "-x", "a_b", "ÄB", ""]))
        index["tools"][bad] = index["tools"].pop(tool)
        at = ("tools",)
    elif kind == "newer-format":
        index["format"] = draw(st.sampled_from([2, 10**30]))
        at = ("format",)
    elif kind == "same-version":
        twin = "v" + version  # PEP 440 ignores a leading v: the same version, written apart
        entry["versions"][twin] = copy.deepcopy(raw)
        at = ("tools", tool, "versions", twin)
    else:  # hashes-unpinned
        raw["plugin"] = {"distribution": "dtm-testplugin", "version": ">=1.0",
                         "hashes": ["sha256:" + "a" * 64]}
        at = (*at, "plugin", "version")
    return Mutated(kind, json.dumps(index).encode(), surely, at)


_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                          st.text(max_size=10))


def _json_containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4))


_json_values = st.recursive(_json_scalars, _json_containers, max_leaves=20)


def garbage_json(shapes: Callable[[Any], Any] | None = None) -> st.SearchStrategy[bytes]:
    """Random bytes, random JSON values, and JSON-ish text that breaks off or nests deeply."""
    values = _json_values if shapes is None else st.one_of(_json_values, _json_values.map(shapes))
    return st.one_of(
        st.binary(max_size=200),
        values.map(lambda v: json.dumps(v).encode()),
        st.sampled_from([b"", b"\x00", b"\xef\xbb\xbf{}", b"[" * 100000, b"{\"a\":" * 50000,
                         b"1" * 5000, b"-" + b"9" * 10000, b"NaN", b"Infinity", b"[1e999]",
                         b'"\\ud800"', b"\xff\xfe{\x00}\x00", b"{\"format\": 1, \"tools\": {}} trailing"]),
    )


# --- the settings file (registries.json) ------------------------------------------------------


@st.composite
def settings_files(draw: st.DrawFn, index_file: str) -> list[dict[str, Any]]:
    """A valid ``registries.json``: local indexes under distinct names."""
    names = draw(st.lists(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True).filter(
        lambda n: n != "default"), max_size=3, unique=True))
    entries = []
    for name in names:
        url = draw(st.sampled_from([index_file, "file://" + index_file]))
        entry: dict[str, Any] = {"name": name, "url": url}
        if draw(st.booleans()):
            entry["priority"] = draw(st.integers(-1000, 1000))
        entries.append(entry)
    return entries


@st.composite
def mutated_settings(draw: st.DrawFn, index_file: str) -> Mutated:
    """A valid settings file with one entry broken."""
    entries = draw(settings_files(index_file))
    if not entries:
        entries = [{"name": "corp", "url": index_file}]
    i = draw(st.integers(0, len(entries) - 1))
    kind = draw(st.sampled_from(["wrong-type", "missing-field", "bad-name", "bad-url", "duplicate-name",
                                 "top-type"]))
    if kind == "wrong-type":
        key = draw(st.sampled_from(["name", "url", "priority"]))
        entries[i][key] = draw(st.sampled_from([None, True, 1.5, "50", [], {}] if key == "priority"
                                               else [None, 3, [], {}]))
    elif kind == "missing-field":
        del entries[i][draw(st.sampled_from(["name", "url"]))]
    elif kind == "bad-name":
        entries[i]["name"] = draw(st.sampled_from(["../../escape", "", "a.b", "Corp", "default", "x/y", "é"]))
    elif kind == "bad-url":
        url = draw(st.sampled_from(["", "a\x00b", "ftp://x/y.json", "/nonexistent/x.json", "file://", "/",
                                    "https://"]))
        entries[i]["url"] = url
        # The others are well-formed: only a command that reads the index finds them wrong.
        return Mutated(kind, json.dumps(entries).encode(), url in ("", "a\x00b", "ftp://x/y.json"))
    elif kind == "duplicate-name":
        entries.append(dict(entries[i]))
    else:
        return Mutated(kind, json.dumps({"indexes": entries}).encode(), True)
    return Mutated(kind, json.dumps(entries, indent=draw(st.sampled_from([None, 2]))).encode(), True)


# --- the lock file (dtm.lock) -----------------------------------------------------------------

#: The toolchain the lock-file tests plan, and a lock that a plan of it writes.
LOCKED_TOOLCHAIN = b"version: 1\ntools:\n  - tool: alpha\n  - tool: beta\n"


@st.composite
def lock_files(draw: st.DrawFn) -> dict[str, Any]:
    """A valid ``dtm.lock`` for :data:`LOCKED_TOOLCHAIN`, at any versions the test index lists."""
    # Versions that go together (beta 1.0 needs alpha<2, beta 2.0 alpha>=2); 9.9 is not listed
    # any more and 1.0.0 is 1.0 written differently.
    alpha, beta = draw(st.sampled_from([("1.0", "1.0"), ("1.1", "1.0"), ("1.0.0", "1.0"), ("2.0", "2.0"),
                                        ("9.9", "2.0"), ("2.0", "9.9"), ("9.9", "9.9")]))
    chosen = {"alpha": alpha, "beta": beta, "gamma": draw(st.sampled_from(["1.0", "9.9"]))}
    tools = {}
    for tool in ("alpha", "beta", "gamma"):
        if tool != "alpha" and draw(st.booleans()):
            continue
        plugin = None
        if draw(st.booleans()):
            plugin = {"distribution": "dtm-testplugin", "specifier": ">=0.1",
                      "hashes": draw(st.lists(st.text(_HEX, min_size=64, max_size=64).map("sha256:".__add__),
                                              max_size=2))}
        tools[tool] = {"version": chosen[tool],
                       "requested": draw(st.sampled_from(["", ">=1.0", None])),
                       "required_by": draw(st.sampled_from([["<request>"], [], ["beta"]])),
                       "source": "default", "plugin": plugin}
    return {"format": 1, "_readme": "fuzz", "tools": tools}


@st.composite
def mutated_locks(draw: st.DrawFn) -> Mutated:
    """A valid lock file with one field broken."""
    lock = draw(lock_files())
    path = draw(st.sampled_from([p for p in _paths(lock) if p and p[0] != "_readme"]))
    value = draw(st.sampled_from([None, True, -1, 2, 1.5, "x", "9.9", [], {}, ["x"], {"k": "v"}, 10**30]))
    _at(lock, path[:-1])[path[-1]] = value
    return Mutated(f"set {'.'.join(map(str, path))}", json.dumps(lock).encode(), False)
