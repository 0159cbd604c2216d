"""The cluster benchmark's table and its result files (bench/results/cluster-<stamp>.*).

Rows are grouped by the configurations they compare: the three deployments (embedded,
one cluster node, two cluster nodes), then the object store against the local tier.
Cells are medians over rounds with their spread; ratios are paired medians (stats.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from bench.stats import paired_ratio, summary

RESULTS = Path(__file__).resolve().parent / "results"

EMBEDDED, ONE, TWO = "embedded", "cluster, 1 node", "cluster, 2 nodes"
LOCAL, STREAMED = "local tier (warm)", "store, tier 0"
FIRST, FIRST_ONE = "empty disk, first read", "empty disk, 1 segment"
NODES = (EMBEDDED, ONE, TWO)
TIERS = (LOCAL, STREAMED, FIRST, FIRST_ONE)
SCALE = ("2 nodes ÷ 1 node", TWO, ONE)
COST = ("cluster ÷ embedded", ONE, EMBEDDED)
TIER_RATIOS = (
    ("store ÷ local", STREAMED, LOCAL),
    ("first ÷ local", FIRST, LOCAL),
    ("1 segment ÷ 16", FIRST_ONE, FIRST),
)
CAVEATS = [
    "Everything runs on one machine: curl, the nodes, PostgreSQL, moto and the fake hub share"
    " its cores (2 here), and other sessions' processes add noise (load average in the notes"
    " and the machine section). Two nodes on the same 2 cores show how the cluster mode's"
    " overhead scales, not what a second machine adds.",
    "moto is a Python S3 emulator, far slower than MinIO, Ceph RGW or AWS S3: every figure"
    " bound by the store (tier 0, first read, upload lag) is a lower bound.",
    "moto answers every GET, ranged or not, by copying the whole object under a per-object"
    " lock before it sends a byte: the first read through the tier (16 ranged reads in"
    " parallel) costs it 16 whole-object copies, one after another, and tier 0's time to the"
    " first byte grows with the object's size. On a real store a range costs its length."
    " The `empty disk, 1 segment` column (the same first read with fill_segments=1) shows"
    " how much of the first read is moto's.",
    "Warm figures are served from the page cache (each node's copy read once, untimed);"
    " ratios are paired medians over rounds, configurations in rotated order.",
]


@dataclass(frozen=True)
class Row:
    label: str
    metric: str
    unit: str
    configs: tuple[str, ...]
    ratios: tuple[tuple[str, str, str], ...] = ()  # (name, numerator, denominator)


def rows(size: str, cold: str, clients: int, connections: int) -> list[Row]:
    return [
        Row(f"warm {size}, {clients} curls round-robin, page cache", "warm.gbps", "GB/s",
            NODES, (SCALE, COST)),
        Row(f"warm HEAD config.json, {connections} conns", "head.rps", "req/s", NODES,
            (SCALE, COST)),
        Row("warm HEAD p99 latency", "head.p99", "ms", NODES),
        Row(f"cold {cold} fill: client's time (uncapped upstream)", "cold.client_s", "s",
            NODES, (COST,)),
        Row("cold fill: last byte sent → blob in the index (upload)", "cold.index_lag_s", "s",
            NODES),
        Row(f"one client, {size}: throughput", "tier.gbps", "GB/s", TIERS,
            TIER_RATIOS),
        Row(f"one client, {size}: time to the last byte", "tier.seconds", "s", TIERS,
            TIER_RATIOS),
        Row("one client: time to the first byte", "tier.ttfb_ms", "ms", TIERS),
    ]  # fmt: skip


def build(series: dict, table_rows: list[Row]) -> list[dict]:
    """Each row with its per-config summaries and paired ratios."""
    built = []
    for row in table_rows:
        values = series.get(row.metric, {})
        stats = {c: summary(values.get(c, [])) for c in row.configs}
        ratios = {
            name: paired_ratio(values.get(num, []), values.get(den, []))
            for name, num, den in row.ratios
        }
        built.append({**row.__dict__, "stats": stats, "ratios": ratios})
    return built


def markdown_tables(table: list[dict]) -> str:
    """One table per group of configurations."""
    parts, group = [], None
    for entry in table:
        if entry["configs"] != group:
            group = entry["configs"]
            parts.append("" if not parts else "\n")
            parts.append("| measure | unit | " + " | ".join(group) + " | ratios (paired median) |")
            parts.append("|---|---|" + "---:|" * len(group) + "---|")
        cells = " | ".join(_cell(entry["stats"][c], entry["unit"]) for c in group)
        ratio = ", ".join(f"{k} {v:.2f}×" for k, v in entry["ratios"].items() if v is not None)
        parts.append(f"| {entry['label']} | {entry['unit']} | {cells} | {ratio or '–'} |")
    return "\n".join(p for p in parts if p != "")


def _cell(stat: dict, unit: str) -> str:
    if not stat or stat["median"] is None:
        return "–"
    fmt = _format(unit)
    text = fmt(stat["median"])
    if stat["n"] > 1:
        text += f" ({fmt(stat['min'])}–{fmt(stat['max'])})"
    return text


def _format(unit: str):
    if unit == "req/s":
        return lambda v: f"{v:,.0f}"
    if unit == "ms":
        return lambda v: f"{v:.1f}"
    if unit == "s":
        return lambda v: f"{v:.2f}"
    return lambda v: f"{v:.2f}"


def write(table: list[dict], meta: dict, notes: list[str]) -> Path:
    """bench/results/cluster-<stamp>.json and .md; returns the .md path."""
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    payload = {"timestamp": stamp, **meta, "notes": notes, "rows": table}
    path = RESULTS / f"cluster-{stamp}.md"
    path.with_suffix(".json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    path.write_text(_document(stamp, table, meta, notes))
    return path


def _document(stamp: str, table: list[dict], meta: dict, notes: list[str]) -> str:
    machine = meta["machine"]
    lines = [
        f"# hubmirror cluster bench — {stamp}",
        "",
        f"`{meta['command']}` — {meta['wall_seconds']:.0f} s, {meta['options']['rounds']}"
        " round(s). Cells: median (min–max) over rounds. Ratios: paired medians.",
        "",
        markdown_tables(table),
        "",
        "## Caveats",
        "",
        *(f"- {c}" for c in CAVEATS),
        "",
        "## Notes",
        "",
        *(f"- {n}" for n in notes),
        "",
        "## Machine",
        "",
        *(f"- {k}: {v}" for k, v in machine.items()),
        "",
    ]
    return "\n".join(lines)
