"""Shared checks of option values: each fails with one `error: ...` line naming the option and value."""

from __future__ import annotations

import math
import urllib.parse

from scaleplane.cli.app import fail


def positive_finite(name: str, value: float, unit: str = "seconds") -> float:
    """`value` if it is a finite number > 0, else `error: NAME: expected ...` and exit 2."""
    if not math.isfinite(value) or value <= 0:
        raise fail(f"{name}: expected a finite number of {unit} > 0, was {value!r}")
    return value


def http_url(name: str, value: str) -> str:
    """`value` if it is an http(s) URL with a host, else `error: NAME: expected ...` and exit 2."""
    try:
        parts = urllib.parse.urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number)
    except ValueError:
        valid = False
    if not valid:
        raise fail(f"{name}: expected an http(s) URL with a host like http://127.0.0.1:9090, was {value!r}")
    return value
