"""Medians, spreads and paired ratios over rounds.

A paired ratio divides each round's value by the reference's value from the same round and
takes the median of those quotients: noise that hits a whole round (another process on
these 2 cores) cancels instead of landing on whichever config ran then.
"""

import math
import statistics


def summary(values: list[float]) -> dict:
    good = [v for v in values if v is not None and not math.isnan(v)]
    if not good:
        return {"median": None, "min": None, "max": None, "cv_pct": None, "n": 0}
    mean = statistics.fmean(good)
    cv = statistics.pstdev(good) / mean * 100 if len(good) > 1 and mean else 0.0
    return {
        "median": statistics.median(good),
        "min": min(good),
        "max": max(good),
        "cv_pct": round(cv, 1),
        "n": len(good),
    }


def paired_ratio(values: list[float], reference: list[float]) -> float | None:
    """Median over rounds of value/reference (None where either is missing)."""
    pairs = [
        v / r
        for v, r in zip(values, reference, strict=False)
        if v is not None and r and not math.isnan(v) and not math.isnan(r)
    ]
    return statistics.median(pairs) if pairs else None


def rotated(items: list, round_index: int) -> list:
    """The configs in the order for this round: each one goes first in turn."""
    if not items:
        return []
    shift = round_index % len(items)
    return items[shift:] + items[:shift]
