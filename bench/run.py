"""`make bench`: every scenario against the app and the reference, one table of ratios.

    .venv/bin/python -m bench.run [--quick] [--only town-hall,office,...] [--postgres URL]

The machines this runs on are shared and noisy, so each figure is printed beside the
reference server's figure from the same run, with their ratio (app / reference).
Targets are issue 7's; the last column says whether this run met them. Everything
runs on 127.0.0.1 and stops by itself; --quick runs tiny sizes (a smoke test).
"search" (bench/search.py: a million messages, no server, no reference) prints a table
of its own after the main one.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench import formatting, scenarios
from bench import search as search_bench
from bench.scenarios import QUICK, Sizes

SCENARIOS = ("town-hall", "office", "idle", "history", "posting", "formatting", "search")
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
WANTED = {  # figures shown per scenario, in order
    "town hall": ["deliveries/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "lost", "duplicated",
                  "failed posts", "refused sockets", "closed by server", "max stall ms",
                  "max GC pause ms", "max stall connecting ms", "renders per message"],
    "office": ["deliveries/s", "p50 ms", "p99 ms", "max ms", "lost", "duplicated", "failed posts",
               "refused sockets", "closed by server", "max stall ms", "max GC pause ms",
               "max stall connecting ms"],
    "idle": ["KB per socket", "sockets held", "refused sockets", "connects/s",
             "max stall ms", "max GC pause ms"],
    "history": ["requests/s", "p50 ms", "p99 ms", "max stall ms", "max GC pause ms"],
    "posting": ["posts/s", "p50 ms", "p99 ms", "max stall ms", "max GC pause ms"],
    "formatting": ["worst ms (4,000 characters)", "typical (formatted)"],
}  # fmt: skip


def target(scenario: str, figure: str, app: float, ratio: float) -> tuple[str, bool] | None:
    """Issue 7's target for this figure, if it has one, and whether it holds."""
    if scenario.startswith("town hall") and figure == "deliveries/s":
        return "≥ 0.8x ref", ratio >= 0.8
    if scenario.startswith(("town hall", "office")) and figure in (
        "lost",
        "duplicated",
        "failed posts",
        "refused sockets",
    ):
        return "0", app == 0
    if scenario.startswith("office") and figure == "p99 ms":
        return "≤ 100", app <= 100
    if scenario.startswith("idle") and figure == "refused sockets":
        return "0", app == 0
    if scenario.startswith("idle") and figure == "KB per socket":
        return "≤ 40", app <= 40
    if scenario.startswith("history") and figure == "p99 ms":
        return "≤ 50", app <= 50
    if figure.startswith("max stall"):
        return "≤ 20", app <= 20
    if figure == "renders per message":  # half the crowd English, half Russian
        return "≤ 2", app <= 2
    if figure == "worst ms (4,000 characters)":  # issue 17
        return "< 50", app < 50
    return None


def shown(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def table(results: list[tuple[str, dict, dict | None]]) -> str:
    lines = [
        "| scenario | figure | app | reference | app / ref | target | met |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for scenario, app, reference in results:
        family = next(name for name in WANTED if scenario.startswith(name))
        for figure in WANTED[family]:
            if figure not in app:
                continue
            value = app[figure]
            ref = reference.get(figure) if reference else None
            ratio = value / ref if ref else float("nan")
            goal = target(scenario, figure, value, ratio)
            lines.append(
                f"| {scenario} | {figure} | {shown(value)} | "
                f"{shown(ref) if ref is not None else '-'} | "
                f"{'-' if math.isnan(ratio) else f'{ratio:.2f}'} | "
                f"{goal[0] if goal else ''} | {('yes' if goal[1] else 'NO') if goal else ''} |"
            )
    return "\n".join(lines)


async def postgres_reachable(url: str) -> bool:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure: measure SQLite only
        return False
    finally:
        await engine.dispose()


async def run(
    chosen: list[str], sizes: Sizes, postgres: str, folder: Path, search_sizes: search_bench.Sizes
) -> tuple[list[tuple], list[str]]:
    """The main table's rows, and the tables of scenarios that print their own."""
    results = []
    own_tables = []

    shown_up_to = 0

    def note(name: str) -> None:
        nonlocal shown_up_to
        if len(results) > shown_up_to:  # what was measured so far, should a later one fail
            print(table(results[shown_up_to:]), file=sys.stderr, flush=True)
            shown_up_to = len(results)
        print(f"[{time.strftime('%H:%M:%S')}] {name}", file=sys.stderr, flush=True)

    if "town-hall" in chosen:
        for compress in (True, False):
            label = "town hall" + (" (deflate)" if compress else " (no deflate)")
            note(label)
            reference = await scenarios.reference_town_hall(folder, sizes, compress)
            app = await scenarios.app_town_hall(folder, sizes, compress)
            results.append((label, app, reference))
    if "office" in chosen:
        note("office")
        reference = await scenarios.reference_office(folder, sizes)
        results.append(("office", await scenarios.app_office(folder, sizes), reference))
    if "idle" in chosen:
        note("idle")
        reference = await scenarios.reference_idle(folder, sizes)
        results.append(("idle", await scenarios.app_idle(folder, sizes), reference))
    if "history" in chosen:
        note("history")
        reference = await scenarios.reference_history(folder, sizes)
        app = await scenarios.app_history(folder, sizes)
        for part in ("chat page", "older messages"):
            results.append((f"history: {part}", app[part], reference[part]))
    if "posting" in chosen:
        note("posting")
        reference = await scenarios.reference_posting(folder, sizes)
        url = scenarios.sqlite_url(folder, "posting")
        results.append(
            ("posting (SQLite)", await scenarios.app_posting(folder, sizes, url), reference)
        )
        if await postgres_reachable(postgres):
            async with scenarios.postgres_database(postgres) as url:
                app = await scenarios.app_posting(folder, sizes, url)
            results.append(("posting (PostgreSQL)", app, reference))
        else:
            print(f"PostgreSQL at {postgres} not reachable: posting on SQLite only")
    if "formatting" in chosen:
        note("formatting")
        figures = formatting.measure()
        results.append((f"formatting (worst: {figures['worst input']})", figures, None))
    if "search" in chosen:  # issue 18: no reference server; a table of its own
        note("search")
        reachable = await postgres_reachable(postgres)
        if not reachable:
            print(f"PostgreSQL at {postgres} not reachable: search on SQLite only")
        found = await search_bench.measure(folder, search_sizes, postgres if reachable else None)
        own_tables.append(search_bench.tables(found, search_sizes))
    return results, own_tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("VIBECHAT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="a PostgreSQL server where the benchmark may create a database",
    )
    args = parser.parse_args()
    chosen = args.only.split(",")
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    sizes = QUICK if args.quick else Sizes()
    search_sizes = search_bench.QUICK if args.quick else search_bench.Sizes()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vibechat-bench-") as folder:
        results, own_tables = asyncio.run(
            run(chosen, sizes, args.postgres, Path(folder), search_sizes)
        )
    print(
        f"\nvibechat benchmark: {platform.python_implementation()} {platform.python_version()},"
        f" {os.cpu_count()} CPUs, 1 hypercorn worker each,"
        f" {time.perf_counter() - started:.0f} s{' (quick sizes)' if args.quick else ''}\n"
    )
    if results:
        print(table(results))
    for number, own in enumerate(own_tables):
        print(f"\n{own}" if results or number else own)


if __name__ == "__main__":
    main()
