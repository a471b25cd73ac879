"""OpenAPI as kubectl fetches it: ``/openapi/v2`` as given, ``/openapi/v3`` converted per group version.

The description is a vendor one (a real server's ``/openapi/v2``, named by the emulator's caller)
or, without one, the emulator's own (``ownspec``); both go through the same conversion.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from .ownspec import own_spec
from .resources import BUILTINS
from .schema import Schemas, load_spec

# The group versions of the built-in kinds; custom resources are left out, so kubectl's query-parameter
# check falls back to the CRD endpoints (as it does for any group it cannot find).
GROUP_VERSIONS = tuple(dict.fromkeys(rtype.prefix.lstrip("/") for rtype in BUILTINS))
DISCOVERY_PATHS = {"api": "/api/", "apis": "/apis/", "version": "/version/"}
PARAMETER_SCHEMA_KEYS = ("type", "format", "uniqueItems", "default", "enum", "items")


def _refs(value: Any) -> Any:
    """Swagger 2.0 ``#/definitions/`` references rewritten to OpenAPI 3 components."""
    if isinstance(value, dict):
        return {key: (item.replace("#/definitions/", "#/components/schemas/")
                      if key == "$ref" and isinstance(item, str) else _refs(item))
                for key, item in value.items()}
    if isinstance(value, list):
        return [_refs(item) for item in value]
    return value


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {key: parameter[key] for key in ("name", "in", "description", "required")
                                 if key in parameter}
    converted["schema"] = {key: parameter[key] for key in PARAMETER_SCHEMA_KEYS if key in parameter}
    return converted


def _operation(operation: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {key: value for key, value in operation.items()
                                 if key not in ("parameters", "responses", "consumes", "produces", "schemes")}
    converted_parameters = []
    for parameter in operation.get("parameters", []):
        name = parameter.get("$ref", "").rsplit("/", 1)[-1]
        resolved = parameters.get(name, parameter)
        if resolved.get("in") == "body":
            consumes = operation.get("consumes", ["application/json"])
            converted["requestBody"] = {"content": {media: {"schema": _refs(resolved["schema"])}
                                                    for media in consumes}, "required": True}
        elif "$ref" in parameter:
            converted_parameters.append({"$ref": f"#/components/parameters/{name}"})
        else:
            converted_parameters.append(_parameter(parameter))
    if converted_parameters:
        converted["parameters"] = converted_parameters
    responses = {}
    for code, response in operation.get("responses", {}).items():
        entry: dict[str, Any] = {"description": response.get("description", "")}
        if "schema" in response:
            entry["content"] = {media: {"schema": _refs(response["schema"])}
                                for media in operation.get("produces", ["application/json"])}
        responses[code] = entry
    converted["responses"] = responses
    return converted


def _document(spec: dict[str, Any], prefix: str, exact: bool = False) -> dict[str, Any]:
    parameters = spec.get("parameters", {})
    paths = {}
    for path, item in spec["paths"].items():
        if not (path == prefix if exact else path.startswith(prefix)):
            continue
        converted: dict[str, Any] = {}
        for method, operation in item.items():
            if method == "parameters":
                converted["parameters"] = [
                    {"$ref": f"#/components/parameters/{p['$ref'].rsplit('/', 1)[-1]}"} if "$ref" in p
                    else _parameter(p) for p in operation]
            else:
                converted[method] = _operation(operation, parameters)
        paths[path] = converted
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": spec["info"].get("version", "unversioned")},
        "paths": paths,
        "components": {
            "schemas": _refs(spec["definitions"]),
            "parameters": {name: _parameter(p) for name, p in parameters.items() if p.get("in") != "body"},
            "securitySchemes": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header",
                                                "description": "Bearer Token authentication"}},
        },
        "security": [{"BearerToken": []}],
    }


class OpenApi:
    """The documents served under ``/openapi/`` for one Swagger 2.0 description, built when first asked."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.schemas = Schemas(spec["definitions"])

    @functools.cached_property
    def v3_documents(self) -> dict[str, bytes]:
        """Each served OpenAPI v3 document by its key under ``/openapi/v3/``, serialised once."""
        documents = {key: _document(self.spec, f"/{key}/") for key in GROUP_VERSIONS}
        for key, path in DISCOVERY_PATHS.items():
            documents[key] = _document(self.spec, path, exact=True)
        return {key: json.dumps(doc, separators=(",", ":")).encode() for key, doc in documents.items()}

    def v3_root(self) -> dict[str, Any]:
        paths = {}
        for key, body in self.v3_documents.items():
            digest = hashlib.sha512(body).hexdigest().upper()
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
        return {"paths": paths}

    @functools.cached_property
    def v2_document(self) -> bytes:
        spec = {key: value for key, value in self.spec.items() if key != "x-dtm-source"}
        return json.dumps(spec, separators=(",", ":")).encode()


@functools.lru_cache(maxsize=8)
def openapi_for(path: Path | None) -> OpenApi:
    """The documents of the vendor description at ``path``, or of the emulator's own when None.

    Cached per path: emulators in one process (a test session) share the parsed description and
    the documents built from it; none of them changes either.
    """
    return OpenApi(own_spec() if path is None else load_spec(path))
