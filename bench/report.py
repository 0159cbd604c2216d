"""The table of ratios with the issue's targets, and the JSON/Markdown result files.

Every row is a median over rounds with its spread (min–max, CV); ratios are paired medians
(see stats.py). A missed target is reported, never raised: the harness measures.
"""

import json
import time
from dataclasses import dataclass
from pathlib import Path

from bench.stats import paired_ratio, summary

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Row:
    label: str
    metric: str
    unit: str
    configs: tuple[str, ...]
    ratio: str  # how the headline ratio is formed, see ratio_value
    target: str
    check: object  # (ratios, medians) -> bool | None


def _ge(value, bound) -> bool | None:
    return None if value is None else value >= bound


def _le(value, bound) -> bool | None:
    return None if value is None else value <= bound


def _all(*checks) -> bool | None:
    if any(c is None for c in checks):
        return None
    return all(checks)


W = ("mirror", "nginx", "olah")
ROWS = [
    Row(
        f"a. warm 1 GiB, {mode}, {n} client{'s' * (n > 1)}",
        f"a.{mode}.{n}",
        "GB/s",
        W,
        "mirror/nginx, mirror/olah",
        "≥1.0× nginx, ≥3× olah",
        lambda r, m: _all(_ge(r.get("nginx"), 1.0), _ge(r.get("olah"), 3.0)),
    )
    for mode in ("page", "disk")
    for n in (1, 8)
] + [
    Row(
        "b. warm HEAD config.json, 64 conns",
        "b.rps",
        "req/s",
        W,
        "mirror/nginx, mirror/olah",
        "≥0.5× nginx, ≥25,000/s",
        lambda r, m: _all(_ge(r.get("nginx"), 0.5), _ge(m.get("mirror"), 25000)),
    ),
    Row(
        "b. warm HEAD p99 latency",
        "b.p99",
        "ms",
        W,
        "",
        "≤10 ms",
        lambda r, m: _le(m.get("mirror"), 10),
    ),
    Row(
        "b. upstream requests during the HEAD run",
        "b.upstream_requests",
        "req",
        W,
        "",
        "0",
        lambda r, m: None if m.get("mirror") is None else m["mirror"] == 0,
    ),
    Row(
        "c. cold file over capped link (hf_hub_download)",
        "c.seconds",
        "s",
        ("direct", "mirror", "olah"),
        "direct/mirror (speed-up), olah/mirror",
        "≥5× faster than direct",
        lambda r, m: _ge(r.get("direct"), 5.0),
    ),
    Row(
        "d. cold, 8 clients: upstream bytes / size",
        "d.upstream_ratio",
        "×",
        ("mirror",),
        "",
        "≤1.02×",
        lambda r, m: _le(m.get("mirror"), 1.02),
    ),
    Row(
        "d. cold, 8 clients: slowest first byte",
        "d.ttfb_max",
        "s",
        ("mirror",),
        "",
        "≤1 s",
        lambda r, m: _le(m.get("mirror"), 1.0),
    ),
    Row("d. cold, 8 clients: wall time", "d.wall", "s", ("mirror",), "", "", None),
    Row(
        "e. peak RSS, 16×1 GiB cold",
        "e.cold",
        "MB",
        ("mirror",),
        "",
        "≤250 MB",
        lambda r, m: _le(m.get("mirror"), 250),
    ),
    Row(
        "e. peak RSS, 16×1 GiB warm",
        "e.warm",
        "MB",
        ("mirror",),
        "",
        "≤250 MB",
        lambda r, m: _le(m.get("mirror"), 250),
    ),
    Row(
        "f. warm snapshot_download, many files",
        "f.seconds",
        "s",
        ("mirror", "olah"),
        "olah/mirror (speed-up)",
        "",
        None,
    ),
]


def ratios(row: Row, data: dict[str, list]) -> dict[str, float | None]:
    """Named ratios: throughput as mirror/other; times as other/mirror (speed-ups)."""
    mine = data.get("mirror", [])
    found = {}
    for other in row.configs:
        if other == "mirror" or other not in data or row.unit not in ("GB/s", "req/s", "s"):
            continue
        if row.unit == "s":
            found[other] = paired_ratio(data[other], mine)
        elif row.ratio:
            found[other] = paired_ratio(mine, data[other])
    return found


def build(series: dict, names: dict[str, str]) -> list[dict]:
    """One dict per row that has data: medians, spreads, ratios, target and verdict."""
    table = []
    for row in ROWS:
        data = series.get(row.metric)
        if not data:
            continue
        stats = {config: summary(data[config]) for config in row.configs if config in data}
        medians = {config: s["median"] for config, s in stats.items()}
        found = ratios(row, data)
        verdict = row.check(found, medians) if row.check else None
        table.append(
            {
                "label": row.label.replace("1 GiB", names.get("size", "1 GiB")),
                "metric": row.metric,
                "unit": row.unit,
                "stats": stats,
                "ratios": found,
                "target": row.target,
                "verdict": {True: "pass", False: "MISS", None: "–"}[verdict],
                "values": data,
            }
        )
    return table


def _cell(stat: dict | None, unit: str) -> str:
    if not stat or stat["median"] is None:
        return "–"
    fmt = {"req/s": "{:,.0f}", "req": "{:,.0f}", "MB": "{:.0f}", "ms": "{:.0f}", "×": "{:.3f}"}.get(
        unit, "{:.2f}"
    )
    spread = "" if stat["n"] < 2 else f" ({fmt.format(stat['min'])}–{fmt.format(stat['max'])})"
    return fmt.format(stat["median"]) + spread


def markdown_table(table: list[dict]) -> str:
    head = (
        "| scenario | unit | mirror | nginx | olah | direct | ratios (paired median) | target | |"
    )
    lines = [head, "|---|---|---:|---:|---:|---:|---|---|---|"]
    for entry in table:
        cells = [
            _cell(entry["stats"].get(c), entry["unit"])
            for c in ("mirror", "nginx", "olah", "direct")
        ]
        ratio = ", ".join(f"{k} {v:.2f}×" for k, v in entry["ratios"].items() if v is not None)
        lines.append(
            f"| {entry['label']} | {entry['unit']} | "
            + " | ".join(cells)
            + f" | {ratio or '–'} | {entry['target'] or '–'} | {entry['verdict']} |"
        )
    return "\n".join(lines)


def write(table: list[dict], machine: dict, options: dict, notes: list[str], wall: float) -> Path:
    """bench/results/<timestamp>.json and .md, and latest.md; returns the .md path."""
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    payload = {
        "timestamp": stamp,
        "machine": machine,
        "options": options,
        "notes": notes,
        "wall_seconds": round(wall, 1),
        "rows": table,
    }
    (RESULTS / f"{stamp}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    text = markdown_document(stamp, table, machine, options, notes, wall)
    (RESULTS / f"{stamp}.md").write_text(text)
    (RESULTS / "latest.md").write_text(text)
    return RESULTS / f"{stamp}.md"


def markdown_document(stamp, table, machine, options, notes, wall) -> str:
    spread = (
        "Cells: median (min–max) over rounds. Ratios: paired medians "
        "(each round ÷ the same round's other config)."
    )
    parts = [
        f"# hubmirror bench — {stamp}",
        "",
        markdown_table(table),
        "",
        spread,
        "",
        "## Machine",
        "",
        *[f"- {k}: {v}" for k, v in machine.items()],
        "",
        "## Options",
        "",
        *[f"- {k}: {v}" for k, v in options.items()],
        "",
        f"Wall time of the run: {wall:.0f} s.",
        "",
    ]
    if notes:
        parts += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    return "\n".join(parts)
