"""What a month-end close costs: the close run, the daily run after it, the frozen rows.

    uv run python -m bench.close [--scales 10] [--repeats 3] [--cache bench/.cache]

For each scale (the samples ``bench.run`` caches), the sample without its last two daily drops
is run once from scratch: the history. Then ``--repeats`` rounds of, each run its own process
(``bench.tasks pipeline``; wall time of the process, imports included):
1. close: a copy of the history, ``close`` of the last complete month (as_of_month − 1);
2. daily after close: the next-to-last drop landed on that warehouse (it re-sends invoices of
   earlier, now closed, months), one run: closed months served frozen, recomputed and compared
   (the first run after a close copies the frozen rows and compares every closed row);
3. next daily after close: the last drop, one run: what every later daily run of a closed
   warehouse pays (the closed rows the drop changed compared again);
4. the same two drops on another copy of the history, never closed (the baseline).
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
    *_, next_to_last, last = sorted({p.name for p in landing.glob("*/*/*") if p.is_dir()})
    work = cache / f"scale-{scale:g}" / "close"
    shutil.rmtree(work, ignore_errors=True)
    history = work / "history"
    link_tree(landing, history / "landing", in_drop=False, drop_folder=(next_to_last, last))
    measure("pipeline", history / "landing", history / "warehouse")
    month = f"{last_complete_month(history / 'warehouse'):%Y-%m}"
    print(f"scale {scale:g}: history run; closing {month}; drops {next_to_last}, {last}", flush=True)

    names = ("close", "daily_after_close", "next_daily_after_close", "daily_no_close", "next_daily_no_close")
    runs: dict[str, list[dict]] = {name: [] for name in names}
    store = {}
    for round_ in range(repeats):
        for name in ("closed", "open"):
            shutil.rmtree(work / name, ignore_errors=True)
            shutil.copytree(history, work / name, symlinks=True)  # relative links: the copy is whole
        closed, never = work / "closed", work / "open"
        runs["close"].append(measure("pipeline", closed / "landing", closed / "warehouse", "close", month))
        for warehouse, first, then in (
            (closed, "daily_after_close", "next_daily_after_close"),
            (never, "daily_no_close", "next_daily_no_close"),
        ):
            for drop, name in ((next_to_last, first), (last, then)):
                link_tree(landing, warehouse / "landing", in_drop=True, drop_folder=drop)
                runs[name].append(measure("pipeline", warehouse / "landing", warehouse / "warehouse"))
            if warehouse is closed:
                store = frozen_store(closed / "warehouse")
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
        "| scale | closed through | close run | first daily run after the close | same run, no close "
        "| next daily run after the close | same run, no close | frozen rows | frozen rows as Parquet "
        "| pending restatements |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s = r["summary"]
        runs = (
            "close",
            "daily_after_close",
            "daily_no_close",
            "next_daily_after_close",
            "next_daily_no_close",
        )
        lines.append(
            f"| {r['scale']:g} | {r['closed_through']} | "
            + " | ".join(_figure(s[name]["seconds"]) for name in runs)
            + f" | {r['frozen_rows']:,d} | {r['frozen_parquet_bytes'] / 1e6:.1f} MB | {r['pending_restatements']:,d} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    run_benchmark(argv, __doc__, [10], bench_scale, markdown, "close", (MARKERS, "Month-end close"))


if __name__ == "__main__":
    main()
