"""Daily runs against full runs: what a run after one daily drop, and a run with nothing new, cost.

    uv run python -m bench.incremental [--scales 1 3 10] [--repeats 3] [--cache bench/.cache]

For each scale (the samples ``bench.run`` caches), the sample without its last daily drop is run
once from scratch: the history. Then ``--repeats`` rounds of:
1. full: the ``everything`` job on a fresh warehouse over every file, the last drop included;
2. incremental: a copy of the history's warehouse, the last drop landed, one run;
3. nothing new: the run command (``python -m cli.run``) on that warehouse with no new file,
   which starts no run (``pipelines.up_to_date``); then the ``everything`` job started anyway
   (what a run from the UI or the sensor costs when there is nothing to do);
4. scale-1-sized drop: a copy of the history's warehouse, the last drop thinned to every
   ``scale``-th row of each file (about the size of scale 1's drop), one run: how a drop of
   the same size costs on a longer history;
5. first drop of a new month: a copy of the warehouse after the daily run, and one transaction
   dated the first day of the next month, one run: the reporting period moves, which touches
   every line's revenue and every account's MRR, receivables and spine (the costliest daily
   run of a month).
Each run is its own process (``bench.tasks pipeline``: wall time of the process, imports
included, and the peak resident set of its process tree, GB = 10^9 bytes). Figures are medians
[min–max]. Results go to ``bench/results/incremental.json`` and a table into BENCHMARKS.md
(between its incremental markers). Nothing is asserted: targets are reported as met or missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb

from bench.process_tree import GB, spread
from bench.run import REPO, RESULTS, link_tree, measure, sample_landing
from pipelines.changes import symmetric_difference

MARKERS = ("<!-- incremental:start -->", "<!-- incremental:end -->")
TARGET_SHARE = 0.10  # an incremental run at scale 10 costs at most this share of a full run
TARGET_NOTHING_NEW_SECONDS = 5.0


def land_thinned(files: list[Path], landing: Path, target: Path, every: int) -> int:
    """Write each file of ``files`` (under ``landing``) to the same place under ``target`` with
    only every ``every``-th record (a CSV's header kept); returns the bytes written."""
    for path in files:
        destination = target / path.relative_to(landing)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".parquet":
            with duckdb.connect() as con:
                con.execute(
                    f"COPY (SELECT * EXCLUDE (file_row_number) FROM read_parquet('{path}', file_row_number = true) "
                    f"WHERE file_row_number % {every} = 0) TO '{destination}' (FORMAT parquet)"
                )
        else:
            lines = path.read_text().splitlines(keepends=True)
            header = lines[:1] if path.suffix == ".csv" else []
            destination.write_text("".join(header + lines[len(header) :][::every]))
    return sum((target / p.relative_to(landing)).stat().st_size for p in files)


def land_next_month(landing: Path, last_drop: str) -> date:
    """One failed transaction of an unknown customer, dated the first day of the month after
    ``last_drop``: it moves the reporting period and adds no money. Returns that day."""
    first = (date.fromisoformat(last_drop).replace(day=1) + timedelta(days=32)).replace(day=1)
    folder = landing / "billing" / "transactions" / first.isoformat()
    folder.mkdir(parents=True)
    (folder / "next-month.csv").write_text(
        "transaction_id,customer_id,occurred_at,status,amount,currency,processing_cost,updated_at\n"
        f"TNEXTMONTH,CNEXTMONTH,{first}T09:00:00,failed,1000,USD,10,{first}T09:00:00\n"
    )
    return first


def what_changed(before: Path, after: Path) -> list[dict]:
    """Per model table of two working databases (before and after a drop): its rows, the rows
    that differ (either way), and among those the months and accounts they fall in — what a drop
    touches, in the units a recomputation could be partitioned by."""
    found = []
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH '{before}' AS b (READ_ONLY)")
        con.execute(f"ATTACH '{after}' AS a (READ_ONLY)")
        tables = con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = 'a' "
            "AND schema_name IN ('intermediate', 'marts') ORDER BY 1"
        ).fetchall()
        for (table,) in tables:
            columns = {c[0] for c in con.execute(f"DESCRIBE a.{table}").fetchall()}
            spread_over = ", ".join(  # not `spread`: that is the medians helper imported above
                f"count(DISTINCT {c})" if c in columns else "NULL" for c in ("month", "account_id")
            )
            diff = symmetric_difference(f"FROM a.{table}", f"FROM b.{table}")
            changed, months, accounts = con.execute(
                f"SELECT count(*), {spread_over} FROM ({diff})"
            ).fetchone()
            rows, all_months, all_accounts = con.execute(
                f"SELECT count(*), {spread_over} FROM a.{table}"
            ).fetchone()
            found.append({
                "table": table, "rows": rows, "changed_rows": changed, "months": months, "all_months": all_months,
                "accounts": accounts, "all_accounts": all_accounts,
            })  # fmt: skip
    return found


def bench_scale(cache: Path, scale: float, repeats: int) -> dict:
    landing, _ = sample_landing(cache, scale)
    last_drop = max(p.name for p in landing.glob("*/*/*") if p.is_dir())
    work = cache / f"scale-{scale:g}" / "incremental"
    shutil.rmtree(work, ignore_errors=True)
    history_landing, history = work / "history" / "landing", work / "history" / "warehouse"
    link_tree(landing, history_landing, in_drop=False, drop_folder=last_drop)
    measure("pipeline", history_landing, history)
    drop_files = [p for p in landing.rglob("*") if p.is_file() and p.parent.name == last_drop]
    drop_bytes = sum(p.stat().st_size for p in drop_files)
    print(
        f"scale {scale:g}: history run; last drop {last_drop}: {len(drop_files)} files, {drop_bytes / 1e6:.1f} MB",
        flush=True,
    )

    runs: dict[str, list[dict]] = {
        "full": [], "incremental": [], "nothing_new": [], "nothing_new_job": [], "scale_1_sized_drop": [],
        "new_month": [],
    }  # fmt: skip
    thinned_bytes = 0
    for round_ in range(repeats):
        shutil.rmtree(work / "full", ignore_errors=True)
        runs["full"].append(measure("pipeline", landing, work / "full"))
        daily = work / "daily"
        shutil.rmtree(daily, ignore_errors=True)
        shutil.copytree(work / "history", daily, symlinks=True)  # relative links: the copy is whole
        link_tree(landing, daily / "landing", in_drop=True, drop_folder=last_drop)
        runs["incremental"].append(measure("pipeline", daily / "landing", daily / "warehouse"))
        home = {"DAGSTER_HOME": str(work / "dagster_home")}  # should a run start: not the project's
        runs["nothing_new"].append(measure("run_command", daily / "landing", daily / "warehouse", env=home))
        runs["nothing_new_job"].append(measure("pipeline", daily / "landing", daily / "warehouse"))
        small = work / "small"
        shutil.rmtree(small, ignore_errors=True)
        shutil.copytree(work / "history", small, symlinks=True)
        thinned_bytes = land_thinned(drop_files, landing, small / "landing", max(1, round(scale)))
        runs["scale_1_sized_drop"].append(measure("pipeline", small / "landing", small / "warehouse"))
        new_month = work / "new_month"
        shutil.rmtree(new_month, ignore_errors=True)
        shutil.copytree(daily / "warehouse", new_month / "warehouse", symlinks=True)
        for in_drop in (False, True):
            link_tree(landing, new_month / "landing", in_drop=in_drop, drop_folder=last_drop)
        land_next_month(new_month / "landing", last_drop)
        runs["new_month"].append(measure("pipeline", new_month / "landing", new_month / "warehouse"))
        shutil.rmtree(new_month)  # a warehouse of several GB at scale 10
        print(f"  round {round_ + 1}: " + ", ".join(
            f"{name} {r[-1]['process_seconds']:.1f}s" for name, r in runs.items()
        ), flush=True)  # fmt: skip
    summary = {
        name: {
            "seconds": spread([r["process_seconds"] for r in rounds]),
            "peak_rss_gb": spread([r["peak_rss_bytes"] / GB for r in rounds]),
            "stages": {s: spread([r["stages"].get(s, 0.0) for r in rounds]) for s in rounds[0]["stages"]},
        }
        for name, rounds in runs.items()
    }
    changed = what_changed(
        work / "history" / "warehouse" / "working.duckdb", daily / "warehouse" / "working.duckdb"
    )
    return {
        "scale": scale, "drop_files": len(drop_files), "drop_bytes": drop_bytes,
        "thinned_drop_bytes": thinned_bytes, "summary": summary, "changed": changed,
        "nothing_new_started_a_run": any(r["started_a_run"] for r in runs["nothing_new"]),
    }  # fmt: skip


def _figure(s: dict) -> str:
    return f"{s['median']:.1f} s [{s['min']:.1f}–{s['max']:.1f}]"


def markdown(results: list[dict]) -> str:
    lines = [
        "| scale | last drop | full run | incremental run | share of full | nothing new: run command "
        "| nothing new: job started anyway | drop thinned to scale 1's size | first drop of a new month |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s = r["summary"]
        share = s["incremental"]["seconds"]["median"] / s["full"]["seconds"]["median"]
        thinned = (
            f"{_figure(s['scale_1_sized_drop']['seconds'])} ({r['thinned_drop_bytes'] / 1e6:.1f} MB)"
            if "scale_1_sized_drop" in s else "–"
        )  # fmt: skip
        skipped = "" if not r.get("nothing_new_started_a_run") else " (**started a run**)"
        job = _figure(s["nothing_new_job"]["seconds"]) if "nothing_new_job" in s else "–"
        new_month = _figure(s["new_month"]["seconds"]) if "new_month" in s else "–"
        lines.append(
            f"| {r['scale']:g} | {r['drop_files']} files, {r['drop_bytes'] / 1e6:.1f} MB | {_figure(s['full']['seconds'])} "
            f"| {_figure(s['incremental']['seconds'])} | {share:.0%} | {_figure(s['nothing_new']['seconds'])}{skipped} "
            f"| {job} | {thinned} | {new_month} |"
        )
    lines += ["", "Stages of the incremental run (median seconds of step time):", ""]
    stages = sorted({stage for r in results for stage in r["summary"]["incremental"]["stages"]})
    lines += ["| scale | " + " | ".join(stages) + " |", "|---|" + "---|" * len(stages)]
    for r in results:
        row = r["summary"]["incremental"]["stages"]
        lines.append(
            f"| {r['scale']:g} | " + " | ".join(f"{row[s]['median']:.1f}" for s in stages if s in row) + " |"
        )
    biggest = max(results, key=lambda r: r["scale"])
    lines += [
        "",
        f"What the last drop changed at scale {biggest['scale']:g}: the rows that differ between the working database "
        "before and after it (a changed row counts twice, as it was and as it is), and the months and accounts "
        "they fall in:",
        "",
        "| table | rows | rows changed | months touched | accounts touched |",
        "|---|---|---|---|---|",
    ]
    for t in biggest.get("changed", []):
        share = f" ({t['changed_rows'] / t['rows']:.1%})" if t["rows"] else ""
        months = f"{t['months']} of {t['all_months']}" if t["all_months"] is not None else "–"
        accounts = f"{t['accounts']:,} of {t['all_accounts']:,}" if t["all_accounts"] is not None else "–"
        lines.append(
            f"| {t['table']} | {t['rows']:,} | {t['changed_rows']:,}{share} | {months} | {accounts} |"
        )
    largest = biggest["summary"]
    share = largest["incremental"]["seconds"]["median"] / largest["full"]["seconds"]["median"]
    nothing = max(r["summary"]["nothing_new"]["seconds"]["median"] for r in results)
    lines += [
        "",
        f"- Incremental run at the largest scale: {share:.0%} of a full run (target ≤ {TARGET_SHARE:.0%}): "
        + ("met." if share <= TARGET_SHARE else "**missed**."),
        f"- Run command with nothing new: at most {nothing:.1f} s, process start included "
        f"(target ≤ {TARGET_NOTHING_NEW_SECONDS:g} s): "
        + ("met." if nothing <= TARGET_NOTHING_NEW_SECONDS else "**missed**."),
    ]
    return "\n".join(lines)


def replace_block(markers: tuple[str, str], heading: str, table: str) -> None:
    """Put ``table`` between ``markers`` in BENCHMARKS.md (a new section ``heading`` at the end
    the first time), leaving the prose around it alone."""
    path = REPO / "BENCHMARKS.md"
    text = path.read_text()
    start, end = markers
    block = f"{start}\n{table}\n{end}"
    if start in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n" + block + "\n"
    path.write_text(text)


def run_benchmark(
    argv, doc: str, default_scales: list[float], bench_scale, markdown, name: str, section
) -> None:
    """The command line of a run-time benchmark (``--scales``, ``--repeats``, ``--cache``,
    ``--no-write``): measure each scale, print the table, keep ``bench/results/<name>.json`` and
    put the table into BENCHMARKS.md (``section``: its markers and heading)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=default_scales)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / ".cache")
    parser.add_argument("--no-write", action="store_true", help="print the table, change no file")
    args = parser.parse_args(argv)
    results = [bench_scale(args.cache, scale, args.repeats) for scale in args.scales]
    print(markdown(results))
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
        replace_block(*section, markdown(results))


def main(argv: list[str] | None = None) -> None:
    run_benchmark(
        argv, __doc__, [1, 3, 10], bench_scale, markdown, "incremental", (MARKERS, "Incremental runs")
    )


if __name__ == "__main__":
    main()
