"""The three client patch formats: JSON merge patch, JSON patch and a strategic merge patch subset."""

from __future__ import annotations

from typing import Any

from .errors import ApiError, bad_request
from .schema import Node
from .store import clone

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
ORDER_PREFIX = "$setElementOrder/"
DELETE_PRIMITIVE_PREFIX = "$deleteFromPrimitiveList/"


def _unprocessable(message: str) -> ApiError:
    return ApiError(422, "Invalid",
                    f"the server rejected our request due to an error in our request ({message})")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f'invalid JSON pointer "{path}"')
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    for part in parts[:-1]:
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            raise _unprocessable(f'doc is missing path: "{path}": missing value')
    return doc


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise _unprocessable(f'doc is missing path: "{path}": missing value')


def _remove(doc: Any, path: str) -> Any:
    value = _get(doc, path)
    parts = _pointer(path)
    parent = _parent(doc, parts, path)
    if isinstance(parent, dict):
        del parent[parts[-1]]
    else:
        del parent[int(parts[-1])]
    return value


def _add(doc: Any, path: str, value: Any, replace: bool = False) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise _unprocessable(f'doc is missing key: "{path}": missing value')
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            raise _unprocessable(f'unable to access invalid index: {last}')
    else:
        raise _unprocessable(f'doc is missing path: "{path}": missing value')
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 operations applied in order to a copy of ``target``."""
    if not isinstance(operations, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = clone(target)
    for operation in operations:
        op, path = operation.get("op"), operation.get("path", "")
        if op == "add":
            doc = _add(doc, path, clone(operation.get("value")))
        elif op == "remove":
            _remove(doc, path)
        elif op == "replace":
            doc = _add(doc, path, clone(operation.get("value")), replace=True)
        elif op == "move":
            doc = _add(doc, path, _remove(doc, operation["from"]))
        elif op == "copy":
            doc = _add(doc, path, clone(_get(doc, operation["from"])))
        elif op == "test":
            if _get(doc, path) != operation.get("value"):
                raise _unprocessable(f'testing value {path} failed: test failed')
        else:
            raise bad_request(f"Unexpected kind: {op}")
    return doc


def _strip(value: Any) -> Any:
    """A patch value without directives, as stored when there is nothing to merge it into."""
    if isinstance(value, dict):
        return {key: _strip(item) for key, item in value.items()
                if key not in (DIRECTIVE, RETAIN_KEYS) and not key.startswith((ORDER_PREFIX,
                                                                              DELETE_PRIMITIVE_PREFIX))}
    if isinstance(value, list):
        return [_strip(item) for item in value if not (isinstance(item, dict) and DIRECTIVE in item)]
    return value


def _same_key(item: Any, patch_item: Any, key: str) -> bool:
    return isinstance(item, dict) and isinstance(patch_item, dict) and item.get(key) == patch_item.get(key)


def _merge_list(original: list[Any], patch: list[Any], node: Node) -> list[Any]:
    if any(isinstance(item, dict) and item.get(DIRECTIVE) == "replace" for item in patch):
        return [_strip(item) for item in patch if not (isinstance(item, dict) and DIRECTIVE in item)]
    key = node.patch_merge_key
    if "merge" not in node.patch_strategies:
        return _strip(patch)  # type: ignore[no-any-return]
    if key is None:
        result = list(original)
        result += [item for item in patch if item not in result]
        return result
    result = list(original)
    for patch_item in patch:
        if not isinstance(patch_item, dict):
            raise bad_request("unable to find api field in struct for the merge key")
        index = next((i for i, item in enumerate(result) if _same_key(item, patch_item, key)), None)
        if patch_item.get(DIRECTIVE) == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append(_strip(patch_item))
        else:
            result[index] = strategic_merge(result[index], patch_item, node.item())
    return result


def _order(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    def position(item: Any) -> int:
        for index, wanted in enumerate(order):
            if (key and _same_key(item, wanted, key)) or (not key and item == wanted):
                return index
        return len(order)

    return sorted(items, key=position)


def strategic_merge(original: Any, patch: Any, node: Node) -> Any:
    """Apply a strategic merge patch: lists merge by their ``x-kubernetes-patch-merge-key``."""
    if not isinstance(patch, dict) or not isinstance(original, dict):
        return _strip(patch)
    if patch.get(DIRECTIVE) == "replace":
        return _strip(patch)
    if patch.get(DIRECTIVE) == "delete":
        return {}
    result = dict(original)
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key in (DIRECTIVE, RETAIN_KEYS):
            continue
        if key.startswith(ORDER_PREFIX):
            orders[key[len(ORDER_PREFIX):]] = value
        elif key.startswith(DELETE_PRIMITIVE_PREFIX):
            field = key[len(DELETE_PRIMITIVE_PREFIX):]
            if isinstance(result.get(field), list):
                result[field] = [item for item in result[field] if item not in value]
        elif value is None:
            result.pop(key, None)
        else:
            child = node.child(key)
            current = result.get(key)
            if isinstance(value, list) and isinstance(current, list):
                result[key] = _merge_list(current, value, child)
            elif (isinstance(value, dict) and isinstance(current, dict)
                  and "replace" not in child.patch_strategies):
                result[key] = strategic_merge(current, value, child)
            else:
                result[key] = _strip(value)
    for field, order in orders.items():
        if isinstance(result.get(field), list):
            result[field] = _order(result[field], order, node.child(field).patch_merge_key)
    if RETAIN_KEYS in patch:
        keep = set(patch[RETAIN_KEYS])
        result = {key: value for key, value in result.items() if key in keep}
    return result
