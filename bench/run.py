"""The benchmark: this pipeline against its floor and an analyst's pandas, at scales 1, 3, 10.

    uv run python -m bench.run [--scales 1 3 10] [--cache bench/.cache]

For each scale (samples generated once and cached under ``--cache``):
1. a full run of the pipeline on the sample without its last daily drop, per stage;
2. the floor: the same ingestion, staging and SQL model code in one DuckDB connection;
3. the analyst baseline (``bench/pandas_baseline.py``) on the same files, compared with the
   marts the full run published;
4. GE's SQL path on DuckDB against GE on pandas for account_month_economics;
5. the incremental run after the last daily drop lands.
Every task runs in its own process; peak memory is the resident set of that process tree,
sampled every 0.1 s. Results go to ``bench/results/results.json``, a chart to
``bench/results/growth.png`` and the tables into BENCHMARKS.md (between its result markers).
Nothing is asserted: targets are reported as met or missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import psutil

from bench.pandas_baseline import compare
from bench.process_tree import PeakTreeRss

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
MARKERS = ("<!-- results:start -->", "<!-- results:end -->")
SEED = 7


def measure(task: str, *args: str) -> dict:
    """Run ``bench.tasks <task>`` in a fresh process; its JSON plus wall time and peak tree RSS."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.tasks", task, *map(str, args)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    sampler = PeakTreeRss(process)
    started = time.perf_counter()
    sampler.start()
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    peak = sampler.stop()
    if process.returncode != 0:
        raise RuntimeError(f"bench task {task} {args} failed:\n{stderr[-3000:]}")
    outcome = json.loads(stdout.strip().splitlines()[-1])
    return {**outcome, "process_seconds": wall, "peak_rss_mb": peak / 2**20}


def link_tree(source: Path, target: Path, in_drop: bool, drop_folder: str) -> int:
    """Hard-link (no copy) under ``target`` the files of ``source`` that are (``in_drop``) or are
    not in the date folder ``drop_folder``; returns how many."""
    files = [
        p for p in sorted(source.rglob("*")) if p.is_file() and (p.parent.name == drop_folder) == in_drop
    ]
    for path in files:
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, destination)
    return len(files)


def sample_landing(cache: Path, scale: float) -> tuple[Path, dict | None]:
    """The cached sample of ``scale``; generated (and measured) when missing."""
    landing = cache / f"scale-{scale:g}" / "landing"
    record = landing.parent / "generation.json"
    if not landing.exists():
        landing.parent.mkdir(parents=True, exist_ok=True)
        generation = measure("generate", landing, scale, SEED)
        record.write_text(json.dumps(generation))
    return landing, json.loads(record.read_text()) if record.exists() else None


def bench_scale(cache: Path, scale: float) -> dict:
    landing, generation = sample_landing(cache, scale)
    last_drop = max(p.name for p in landing.glob("*/*/*") if p.is_dir())
    work = cache / f"scale-{scale:g}" / "run"
    shutil.rmtree(work, ignore_errors=True)
    run_landing, warehouse = work / "landing", work / "warehouse"
    files = link_tree(landing, run_landing, in_drop=False, drop_folder=last_drop)
    size_mb = sum(p.stat().st_size for p in run_landing.rglob("*") if p.is_file()) / 2**20

    print(f"scale {scale:g}: {files} files, {size_mb:.0f} MB (last drop {last_drop} held back)", flush=True)
    full = measure("pipeline", run_landing, warehouse)
    print(f"  pipeline full run  {full['seconds']:7.1f}s  {full['peak_rss_mb']:6.0f} MB", flush=True)
    shutil.copy(warehouse / "marts.duckdb", work / "marts_after_full_run.duckdb")
    ge = measure("ge", warehouse)
    print(f"  GE SQL / pandas    {ge['sql_seconds']:7.2f}s / {ge['pandas_seconds']:.2f}s", flush=True)
    floor = measure("floor", run_landing, work / "floor.duckdb")
    print(f"  floor              {floor['seconds']:7.1f}s  {floor['peak_rss_mb']:6.0f} MB", flush=True)
    pandas = measure("pandas", run_landing, work / "pandas")
    print(f"  pandas baseline    {pandas['seconds']:7.1f}s  {pandas['peak_rss_mb']:6.0f} MB", flush=True)
    comparison = compare(work / "marts_after_full_run.duckdb", work / "pandas")

    new_files = link_tree(landing, run_landing, in_drop=True, drop_folder=last_drop)
    incremental = measure("pipeline", run_landing, warehouse)
    print(f"  incremental run    {incremental['seconds']:7.1f}s  ({new_files} new files)", flush=True)
    return {
        "scale": scale, "files": files, "landing_mb": size_mb, "generation": generation,
        "full": full, "floor": floor, "pandas": pandas, "ge": ge, "comparison": comparison,
        "incremental": {**incremental, "new_files": new_files},
    }  # fmt: skip


def machine() -> dict:
    return {
        "cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(), "python": platform.python_version(),
        "versions": {p: version(p) for p in ("dagster", "duckdb", "polars", "pandas", "pyarrow", "great-expectations")},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 3, 10])
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / ".cache")
    args = parser.parse_args(argv)
    results = {"machine": machine(), "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "scales": [bench_scale(args.cache, scale) for scale in args.scales]}  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=2))
    from bench.report import write_chart, write_tables

    write_chart(results, RESULTS / "growth.png")
    write_tables(results, REPO / "BENCHMARKS.md", MARKERS)
    print(f"results: {RESULTS / 'results.json'}, {RESULTS / 'growth.png'}, BENCHMARKS.md")


if __name__ == "__main__":
    main()
