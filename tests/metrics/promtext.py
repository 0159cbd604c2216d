"""A strict reader of the Prometheus text format, for tests of ``/metrics``.

Every sample must belong to a family declared before it with ``# HELP`` and
``# TYPE``; histogram samples may add ``_bucket``, ``_sum`` and ``_count``.
"""

from __future__ import annotations

import math
import re

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{(.*)\}})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(?:,|$)')
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(name, sorted labels): value}``; raises ``ValueError`` on any malformed line."""
    if not text.endswith("\n"):
        raise ValueError("the exposition must end with a newline")
    families: dict[str, str] = {}
    helped: set[str] = set()
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            if name in helped:
                raise ValueError(f"HELP twice for {name}")
            helped.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            if kind not in _TYPES or name in families or name not in helped:
                raise ValueError(f"bad TYPE line: {line!r}")
            families[name] = kind
        elif line.startswith("#") or not line:
            raise ValueError(f"unexpected line: {line!r}")
        else:
            name, labels, value = _sample(line)
            _family_of(name, families)
            key = (name, labels)
            if key in samples:
                raise ValueError(f"duplicate sample {line!r}")
            samples[key] = value
    return samples


def _sample(line: str) -> tuple[str, tuple[tuple[str, str], ...], float]:
    match = _SAMPLE.match(line)
    if not match:
        raise ValueError(f"malformed sample: {line!r}")
    name, raw_labels, raw_value = match.groups()
    labels = []
    rest = raw_labels or ""
    while rest:
        label = _LABEL.match(rest)
        if not label:
            raise ValueError(f"malformed labels: {line!r}")
        labels.append((label.group(1), label.group(2)))
        rest = rest[label.end() :]
    value = float(raw_value)
    if math.isnan(value):
        raise ValueError(f"NaN sample: {line!r}")
    return name, tuple(sorted(labels)), value


def _family_of(name: str, families: dict[str, str]) -> str:
    if name in families:
        if families[name] in _SUFFIXES:
            raise ValueError(f"{name}: a {families[name]} has only suffixed samples")
        return name
    for family, kind in families.items():
        if any(name == family + suffix for suffix in _SUFFIXES.get(kind, ())):
            return family
    raise ValueError(f"sample {name} belongs to no declared family")


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]
