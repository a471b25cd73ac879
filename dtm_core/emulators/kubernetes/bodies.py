"""Request bodies: JSON, YAML (its timestamps kept as the strings they were) and kubectl's protobuf."""

from __future__ import annotations

import datetime
import json
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from . import errors, protobuf


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def decode(raw: bytes, content_type: str) -> Any:
    if content_type == "application/vnd.kubernetes.protobuf":
        return protobuf.decode(raw)
    if "protobuf" in content_type or "cbor" in content_type:
        raise errors.unsupported_media_type(content_type)
    if not raw:
        raise errors.bad_request("the body of the request was empty")
    try:
        return json.loads(raw)
    except ValueError as error:
        if "yaml" not in content_type:
            raise errors.bad_request(f"couldn't get version/kind; json parse error: {error}") from error
    try:
        return _plain(YAML(typ="safe", pure=True).load(raw.decode()))
    except (YAMLError, UnicodeDecodeError) as error:
        raise errors.bad_request(f"error converting YAML to JSON: {error}") from error
