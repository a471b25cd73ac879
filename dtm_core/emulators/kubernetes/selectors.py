"""Label and field selectors of list and watch requests, parsed and matched as the API server does."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import bad_request

Predicate = Callable[[dict[str, Any]], bool]

_SET_TERM = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_EQUALITY_TERM = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_./-]*)\s*$")

# Besides metadata.name and metadata.namespace, the fields each kind lets clients select on.
EXTRA_FIELDS = {
    "pods": ("status.phase", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
             "spec.serviceAccountName", "status.podIP"),
    "secrets": ("type",),
    "namespaces": ("status.phase",),
    "events": ("involvedObject.kind", "involvedObject.name", "reason", "type"),
}


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside ``in (...)`` parentheses."""
    terms, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [term for term in terms if term.strip()]


def _label_term(term: str) -> Predicate:
    equality = _EQUALITY_TERM.match(term)
    if equality:
        key, operator, value = equality.groups()
        if operator == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    found = _SET_TERM.match(term)
    if not found:
        raise bad_request(f"unable to parse requirement: found '{term.strip()}', expected: in, notin, =, "
                          "==, !=, gt, lt")
    negated, key, operator, values_text = found.groups()
    values = {value.strip() for value in (values_text or "").split(",") if value.strip()}
    if operator == "in":
        return lambda labels: labels.get(key) in values
    if operator == "notin":
        return lambda labels: labels.get(key) not in values
    if negated:
        return lambda labels: key not in labels
    return lambda labels: key in labels


def label_selector(text: str | None) -> Predicate:
    """A predicate over whole objects for a ``labelSelector`` query parameter."""
    if not text:
        return lambda obj: True
    terms = [_label_term(term) for term in _split_terms(text)]
    return lambda obj: all(term(obj.get("metadata", {}).get("labels") or {}) for term in terms)


def match_labels(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a structured ``LabelSelector`` (matchLabels, matchExpressions) selects ``labels``."""
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if (operator == "Exists") != present and operator in ("Exists", "DoesNotExist"):
            return False
    return True


def _field_value(obj: dict[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def field_selector(text: str | None, plural: str, custom: bool) -> Predicate:
    """A predicate for a ``fieldSelector``; unsupported fields are a 400 as on the real server."""
    if not text:
        return lambda obj: True
    allowed = ("metadata.name", "metadata.namespace", *EXTRA_FIELDS.get(plural, ()))
    terms: list[tuple[str, bool, str]] = []
    for term in _split_terms(text):
        found = _EQUALITY_TERM.match(term)
        if not found:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        path, operator, value = found.groups()
        if path not in allowed:
            if custom:
                raise bad_request(f'"{path}" is not a known field selector: only "metadata.name", '
                                  '"metadata.namespace"')
            raise bad_request(f"field label not supported: {path}")
        terms.append((path, operator != "!=", value))
    return lambda obj: all((_field_value(obj, path) == value) == equal for path, equal, value in terms)
