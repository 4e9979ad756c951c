"""Equality label selectors (``key=value,key2=value2``): which Pipelines an operator handles."""

from __future__ import annotations

import re

_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class SelectorError(ValueError):
    """A selector that is not a list of ``key=value`` terms with valid label keys and values."""


def _check_key(key: str) -> None:
    prefix, _, name = key.rpartition("/")
    if not name or len(name) > 63 or not _NAME.match(name):
        raise SelectorError(f"label key {key!r}: the name must be 1-63 characters [A-Za-z0-9-_.]")
    if "/" in key and (not prefix or len(prefix) > 253 or not _PREFIX.match(prefix)):
        raise SelectorError(f"label key {key!r}: the prefix must be a DNS subdomain")


def _check_value(key: str, value: str) -> None:
    if len(value) > 63 or not _NAME.match(value):
        raise SelectorError(
            f"label {key!r}: the value {value!r} must be at most 63 characters [A-Za-z0-9-_.]"
        )


def parse_selector(text: str) -> dict[str, str]:
    """The labels a selector requires; empty text selects everything.

    Only equality terms are accepted (``=`` or ``==``): they are what kopf's label filter and
    the ``labelSelector`` of a list request both understand the same way.
    """
    labels: dict[str, str] = {}
    for term in (t.strip() for t in text.split(",")):
        if not term:
            continue
        if "!=" in term or " in " in f" {term} " or "(" in term:
            raise SelectorError(f"{term!r}: only key=value terms are supported")
        key, sep, value = term.replace("==", "=").partition("=")
        key, value = key.strip(), value.strip()
        if not sep:
            raise SelectorError(f"{term!r}: expected key=value")
        _check_key(key)
        _check_value(key, value)
        if labels.get(key, value) != value:
            raise SelectorError(f"label {key!r} cannot be both {labels[key]!r} and {value!r}")
        labels[key] = value
    return labels


def format_selector(labels: dict[str, str]) -> str:
    """The ``labelSelector`` query value of a list request."""
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
