"""Decoding of the protobuf bodies ``kubectl create <kind>`` sends, for the simple core kinds only."""

from __future__ import annotations

import base64
from typing import Any

from . import errors

MAGIC = b"k8s\x00"
# Field numbers of the Kubernetes protobuf messages (the API's wire interface), for the kinds
# whose ``kubectl create`` subcommands a sandbox user types first (``create namespace argocd``).
# Field type: "str", "bytes", "bool", "int", "map", "bytesmap", "strs", or a message name (a
# trailing "*" makes it repeated).
MESSAGES: dict[str, dict[int, tuple[str, str]]] = {
    "ObjectMeta": {1: ("name", "str"), 2: ("generateName", "str"), 3: ("namespace", "str"),
                   11: ("labels", "map"), 12: ("annotations", "map"), 14: ("finalizers", "strs")},
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "strs")},
    "ConfigMap": {1: ("metadata", "ObjectMeta"), 2: ("data", "map"), 3: ("binaryData", "bytesmap"),
                  4: ("immutable", "bool")},
    "Secret": {1: ("metadata", "ObjectMeta"), 2: ("data", "bytesmap"), 3: ("type", "str"),
               4: ("stringData", "map"), 5: ("immutable", "bool")},
    "ServiceAccount": {1: ("metadata", "ObjectMeta"), 2: ("secrets", "ObjectReference*"),
                       3: ("imagePullSecrets", "LocalObjectReference*"),
                       4: ("automountServiceAccountToken", "bool")},
    "ObjectReference": {1: ("kind", "str"), 2: ("namespace", "str"), 3: ("name", "str"), 4: ("uid", "str"),
                        5: ("apiVersion", "str"), 6: ("resourceVersion", "str"), 7: ("fieldPath", "str")},
    "LocalObjectReference": {1: ("name", "str")},
}
ENVELOPE = {1: ("typeMeta", "TypeMeta"), 2: ("raw", "bytes")}
TYPE_META = {1: ("apiVersion", "str"), 2: ("kind", "str")}


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _fields(data: bytes) -> list[tuple[int, Any]]:
    """The (field number, raw value) pairs of one message; varints as int, the rest as bytes."""
    found: list[tuple[int, Any]] = []
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 2:
            length, at = _varint(data, at)
            value, at = data[at:at + length], at + length
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, at = data[at:at + size], at + size
        else:
            raise ValueError(f"unsupported wire type {wire}")
        found.append((number, value))
    return found


def _message(data: bytes, schema: dict[int, tuple[str, str]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for number, value in _fields(data):
        if number not in schema:
            continue
        name, kind = schema[number]
        if kind == "str":
            if value:
                result[name] = value.decode()
        elif kind == "bytes":
            result[name] = value
        elif kind in ("bool", "int"):
            result[name] = bool(value) if kind == "bool" else value
        elif kind == "strs":
            result.setdefault(name, []).append(value.decode())
        elif kind in ("map", "bytesmap"):
            entry = dict(_fields(value))
            item = entry.get(2, b"")
            text = base64.b64encode(item).decode() if kind == "bytesmap" else item.decode()
            result.setdefault(name, {})[entry.get(1, b"").decode()] = text
        elif kind.endswith("*"):
            result.setdefault(name, []).append(_message(value, MESSAGES[kind[:-1]]))
        else:
            nested = _message(value, MESSAGES.get(kind, TYPE_META))
            if nested:
                result[name] = nested
    return result


def decode(body: bytes) -> dict[str, Any]:
    """A JSON-shaped object from a ``application/vnd.kubernetes.protobuf`` body, or a 415."""
    try:
        if not body.startswith(MAGIC):
            raise ValueError("missing the k8s protobuf envelope")
        envelope = _message(body[len(MAGIC):], ENVELOPE)
        type_meta = envelope.get("typeMeta", {})
        kind = type_meta.get("kind", "")
        if kind not in MESSAGES or kind in ("ObjectMeta", "NamespaceSpec"):
            raise errors.unsupported_media_type(
                f"application/vnd.kubernetes.protobuf for {kind or 'this kind'}")
        obj = _message(envelope.get("raw", b""), MESSAGES[kind])
    except (ValueError, IndexError, UnicodeDecodeError) as error:
        raise errors.bad_request(f"unable to decode protobuf body: {error}") from error
    return {"apiVersion": type_meta.get("apiVersion", "v1"), "kind": kind, **obj}
