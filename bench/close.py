"""What a month-end close costs: the close run, the daily run after it, the frozen rows.

    uv run python -m bench.close [--scales 10] [--repeats 3] [--cache bench/.cache]

For each scale (the samples ``bench.run`` caches), the sample without its last daily drop is run
once from scratch: the history. Then ``--repeats`` rounds of, each run its own process
(``bench.tasks pipeline``; wall time of the process, imports included):
1. close: a copy of the history, ``close`` of the last complete month (as_of_month − 1);
2. daily after close: the last drop landed on that warehouse (it re-sends invoices of earlier,
   now closed, months), one run: closed months served frozen, recomputed and compared;
3. daily, no close: the same drop on another copy of the history, never closed (the baseline).
The frozen rows are measured on the closed warehouse: rows, and bytes as the publication's own
Parquet files hold them (the closed months' share of each month-grained mart's file), and the
working database's copy (``frozen.*``). Results go to ``bench/results/close.json`` and a table
into BENCHMARKS.md (between its close markers). Nothing is asserted.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb

from bench.incremental import run_benchmark
from bench.process_tree import GB, spread
from bench.run import link_tree, measure, sample_landing
from pipelines.closing import FROZEN, previous_month

MARKERS = ("<!-- close:start -->", "<!-- close:end -->")


def last_complete_month(warehouse: Path) -> date:
    with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as con:
        return previous_month(con.execute("SELECT max(month) FROM account_month_economics").fetchone()[0])


def frozen_store(warehouse: Path) -> dict:
    """The frozen rows the working database holds (``frozen.*``): their count, and their size as
    Parquet written from them (DuckDB does not report one table's share of its file); and the
    pending restatements of the current publication."""
    with duckdb.connect(str(warehouse / "working.duckdb"), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1", [FROZEN]
        ).fetchall()]  # fmt: skip
        rows, size = 0, 0
        scratch = warehouse.parent / "frozen-measure"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        for name in tables:
            rows += con.execute(f"SELECT count(*) FROM {FROZEN}.{name}").fetchone()[0]
            target = scratch / f"{name}.parquet"
            con.execute(f"COPY {FROZEN}.{name} TO '{target}' (FORMAT parquet)")
            size += target.stat().st_size
        shutil.rmtree(scratch)
    with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as con:
        pending = con.execute("SELECT count(*) FROM restatements WHERE status = 'pending'").fetchone()[0]
    return {"frozen_rows": rows, "frozen_parquet_bytes": size, "pending_restatements": pending}


def bench_scale(cache: Path, scale: float, repeats: int) -> dict:
    landing, _ = sample_landing(cache, scale)
    last_drop = max(p.name for p in landing.glob("*/*/*") if p.is_dir())
    work = cache / f"scale-{scale:g}" / "close"
    shutil.rmtree(work, ignore_errors=True)
    history = work / "history"
    link_tree(landing, history / "landing", in_drop=False, drop_folder=last_drop)
    measure("pipeline", history / "landing", history / "warehouse")
    month = f"{last_complete_month(history / 'warehouse'):%Y-%m}"
    print(f"scale {scale:g}: history run; closing {month}; last drop {last_drop}", flush=True)

    runs: dict[str, list[dict]] = {"close": [], "daily_after_close": [], "daily_no_close": []}
    store = {}
    for round_ in range(repeats):
        for name in ("closed", "open"):
            shutil.rmtree(work / name, ignore_errors=True)
            shutil.copytree(history, work / name, symlinks=True)  # relative links: the copy is whole
        closed, never = work / "closed", work / "open"
        runs["close"].append(measure("pipeline", closed / "landing", closed / "warehouse", "close", month))
        link_tree(landing, closed / "landing", in_drop=True, drop_folder=last_drop)
        runs["daily_after_close"].append(measure("pipeline", closed / "landing", closed / "warehouse"))
        store = frozen_store(closed / "warehouse")
        link_tree(landing, never / "landing", in_drop=True, drop_folder=last_drop)
        runs["daily_no_close"].append(measure("pipeline", never / "landing", never / "warehouse"))
        print(f"  round {round_ + 1}: " + ", ".join(
            f"{name} {r[-1]['process_seconds']:.1f}s" for name, r in runs.items()
        ) + f"; {store}", flush=True)  # fmt: skip
    summary = {
        name: {
            "seconds": spread([r["process_seconds"] for r in rounds]),
            "peak_rss_gb": spread([r["peak_rss_bytes"] / GB for r in rounds]),
        }
        for name, rounds in runs.items()
    }
    return {"scale": scale, "closed_through": month, "summary": summary, **store}


def _figure(s: dict) -> str:
    return f"{s['median']:.1f} s [{s['min']:.1f}–{s['max']:.1f}]"


def markdown(results: list[dict]) -> str:
    lines = [
        "| scale | closed through | close run | daily run after the close | same daily run, no close "
        "| frozen rows | frozen rows as Parquet | pending restatements |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s = r["summary"]
        lines.append(
            f"| {r['scale']:g} | {r['closed_through']} | {_figure(s['close']['seconds'])} "
            f"| {_figure(s['daily_after_close']['seconds'])} | {_figure(s['daily_no_close']['seconds'])} "
            f"| {r['frozen_rows']:,d} | {r['frozen_parquet_bytes'] / 1e6:.1f} MB | {r['pending_restatements']:,d} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    run_benchmark(argv, __doc__, [10], bench_scale, markdown, "close", (MARKERS, "Month-end close"))


if __name__ == "__main__":
    main()
