"""python -m bench [--quick | --self-check] [--scenarios a,b,...] [--rounds N] [--size BYTES]

Parses options, starts the contenders, runs the chosen scenarios, prints the table and
writes bench/results/. A failed scenario becomes a note (and exit 1 under --self-check);
a missed target never changes the exit code.
"""

import argparse
import dataclasses
import shutil
import tempfile
import time
import traceback
from pathlib import Path

from bench import cold, machine, report, setup, warm
from bench.context import Context, MiB, Options

SCENARIOS = {
    "a": warm.scenario_a,
    "b": warm.scenario_b,
    "c": cold.scenario_c,
    "d": cold.scenario_d,
    "e": cold.scenario_e,
    "f": warm.scenario_f,
}
WARM_NEEDED = {"a", "b", "f"}
QUICK = dict(rounds=1, size=128 * MiB, cold_size=32 * MiB, head_seconds=3.0, max_time=10.0)
SELF_CHECK = dict(
    rounds=1,
    size=8 * MiB,
    cold_size=2 * MiB,
    head_seconds=1.0,
    max_time=5.0,
    many_files=10,
    rss_clients=4,
    bandwidth=50_000_000,
    latency=0.01,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="1 round, small files (~3 min)")
    mode.add_argument(
        "--self-check",
        action="store_true",
        help="smallest version of every scenario (<60 s); exit 1 if one fails",
    )
    parser.add_argument("--scenarios", default="a,b,c,d,e,f", help="comma-separated subset")
    parser.add_argument("--rounds", type=int, help="rounds per figure (default 3)")
    parser.add_argument("--size", type=int, help="warm large file bytes (default 1 GiB)")
    parser.add_argument("--cold-size", type=int, help="cold file bytes (default 256 MiB)")
    parser.add_argument("--bandwidth", type=int, help="upstream cap, bytes/s per response")
    parser.add_argument("--latency", type=float, help="upstream latency, seconds per request")
    parser.add_argument("--mirror-workers", type=int, help="pass --workers N if the mirror has it")
    parser.add_argument("--no-olah", action="store_true", help="skip olah")
    parser.add_argument("--no-nginx", action="store_true", help="skip nginx")
    parser.add_argument("--keep", action="store_true", help="keep the scratch dir and logs")
    return parser.parse_args(argv)


def options_from(args: argparse.Namespace) -> Options:
    preset = QUICK if args.quick else SELF_CHECK if args.self_check else {}
    chosen = {
        "rounds": args.rounds,
        "size": args.size,
        "cold_size": args.cold_size,
        "bandwidth": args.bandwidth,
        "latency": args.latency,
        "mirror_workers": args.mirror_workers,
    }
    values = {**preset, **{k: v for k, v in chosen.items() if v is not None}}
    values["scenarios"] = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
    values["olah"] = not args.no_olah
    values["nginx"] = not args.no_nginx
    return Options(**values)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = options_from(args)
    unknown = set(options.scenarios) - set(SCENARIOS)
    if unknown:
        print(f"unknown scenarios: {sorted(unknown)}")
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="hubmirror-bench-"))
    (scratch / "logs").mkdir()
    ctx = Context(options, scratch, scratch / "logs")
    started = time.monotonic()
    try:
        failures = run(ctx)
    finally:
        stop_all(ctx)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return finish(ctx, args, failures, time.monotonic() - started)


def run(ctx: Context) -> list[str]:
    """Start what is needed, run each scenario; names of the scenarios that failed."""
    setup.start_upstream(ctx)
    if WARM_NEEDED & set(ctx.options.scenarios) or "c" in ctx.options.scenarios:
        setup.start_warm(ctx)
    failures = []
    for name in ctx.options.scenarios:
        print(f"scenario {name}", flush=True)
        begun = time.monotonic()
        try:
            SCENARIOS[name](ctx)
        except Exception as error:  # noqa: BLE001 - one scenario's failure is reported, not fatal
            traceback.print_exc()
            ctx.note(f"scenario {name} failed: {error!r}"[:400])
            failures.append(name)
        print(f"scenario {name} took {time.monotonic() - begun:.0f} s", flush=True)
    return failures


def stop_all(ctx: Context) -> None:
    for child in ctx.servers.values():
        child.stop()
    if ctx.hub is not None:
        ctx.hub.stop()


def finish(ctx: Context, args: argparse.Namespace, failures: list[str], wall: float) -> int:
    names = {"size": _size_name(ctx.options.size)}
    table = report.build(ctx.series, names)
    print()
    print(report.markdown_table(table))
    for text in ctx.notes:
        print(f"note: {text}")
    if args.self_check:
        missing = [name for name in ctx.options.scenarios if not _has_data(ctx, name)]
        print(f"self-check: {len(failures)} failed, {len(missing)} without data, {wall:.0f} s")
        return 1 if failures or missing else 0
    options = dataclasses.asdict(ctx.options)
    path = report.write(table, machine.describe(), options, ctx.notes, wall)
    print(f"\nwrote {path} and {path.with_suffix('.json')} ({wall:.0f} s)")
    return 0


def _has_data(ctx: Context, scenario: str) -> bool:
    return any(
        metric.startswith(scenario + ".") and values for metric, values in ctx.series.items()
    )


def _size_name(size: int) -> str:
    return f"{size / 1024**3:g} GiB" if size >= 1024**3 else f"{size // MiB} MiB"
