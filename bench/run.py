"""The benchmark: the pipeline against its floor and two competent analysts, at scales 1, 3, 10.

    uv run python -m bench.run [--scales 1 3 10] [--repeats 3] [--cache bench/.cache]

For each scale (samples generated once and cached under ``--cache``), on the sample without its
last daily drop, ``--repeats`` rounds of, in this order (so that a busy moment of the machine
hits every contestant alike):
1. the pipeline: the ``everything`` job on a fresh warehouse (ingest, staging, SQL models,
   checks, publish), as the run command runs it;
2. the floor: the same ingestion, staging and SQL models in one DuckDB connection, nothing else;
3. the lazy polars script (``bench/polars_baseline.py``) for two marts;
4. the vectorized pandas script (``bench/pandas_baseline.py``) for the same two marts;
5. GE's SQL path on DuckDB against GE on pandas for ``account_month_economics``.
Both analysts' marts are then compared cell by cell with the published ones, and the last daily
drop lands for one incremental run. Every task runs in its own process: its time is the wall time
of that process (Python's start and imports included), its memory the peak resident set of the
process tree, sampled every 0.1 s, in GB (10^9 bytes). Each figure is reported as the median of
the rounds with its min and max. Results go to ``bench/results/results.json``, a chart to
``bench/results/growth.png`` and the tables into BENCHMARKS.md (between its result markers).
Nothing is asserted: targets are reported as met or missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from importlib.metadata import version
from pathlib import Path

import psutil

from bench.pandas_baseline import compare
from bench.process_tree import GB, run_measured, spread

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
MARKERS = ("<!-- results:start -->", "<!-- results:end -->")
SEED = 7
CONTESTANTS = ("pipeline", "floor", "polars", "pandas")


def measure(task: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """Run ``bench.tasks <task>`` in a fresh process (``env`` added to this one's environment);
    its JSON plus wall time and peak tree RSS."""
    environment = {**os.environ, **env} if env else None
    run = run_measured(
        [sys.executable, "-m", "bench.tasks", task, *map(str, args)], cwd=REPO, env=environment
    )
    if run.returncode != 0:
        raise RuntimeError(f"bench task {task} {args} failed:\n{run.stderr[-3000:]}")
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    return {**outcome, "process_seconds": run.seconds, "peak_rss_bytes": run.peak_rss_bytes}


def summarize(runs: list[dict]) -> dict:
    """Median, min and max of every figure the runs of one task share (stages included)."""
    figures = {
        "seconds": [r["process_seconds"] for r in runs],
        "peak_rss_gb": [r["peak_rss_bytes"] / GB for r in runs],
    }
    for stage in runs[0].get("stages", {}):
        figures[stage] = [r["stages"].get(stage, 0.0) for r in runs]
    return {name: spread(values) for name, values in figures.items()}


def link_tree(source: Path, target: Path, in_drop: bool, drop_folder: str | tuple[str, ...]) -> int:
    """Hard-link (no copy) under ``target`` the files of ``source`` that are (``in_drop``) or are
    not in the date folder ``drop_folder`` (or one of several); returns how many."""
    drops = {drop_folder} if isinstance(drop_folder, str) else set(drop_folder)
    files = [p for p in sorted(source.rglob("*")) if p.is_file() and (p.parent.name in drops) == in_drop]
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


def bench_scale(cache: Path, scale: float, repeats: int) -> dict:
    landing, generation = sample_landing(cache, scale)
    last_drop = max(p.name for p in landing.glob("*/*/*") if p.is_dir())
    work = cache / f"scale-{scale:g}" / "run"
    shutil.rmtree(work, ignore_errors=True)
    run_landing, warehouse = work / "landing", work / "warehouse"
    files = link_tree(landing, run_landing, in_drop=False, drop_folder=last_drop)
    size = sum(p.stat().st_size for p in run_landing.rglob("*") if p.is_file())
    print(
        f"scale {scale:g}: {files} files, {size / 1e6:.0f} MB (last drop {last_drop} held back)", flush=True
    )

    runs: dict[str, list[dict]] = {name: [] for name in (*CONTESTANTS, "ge")}
    for round_ in range(repeats):
        shutil.rmtree(warehouse, ignore_errors=True)
        (work / "floor.duckdb").unlink(missing_ok=True)
        outcomes = {
            "pipeline": measure("pipeline", run_landing, warehouse),
            "floor": measure("floor", run_landing, work / "floor.duckdb"),
            "polars": measure("polars", run_landing, work / "polars"),
            "pandas": measure("pandas", run_landing, work / "pandas"),
            "ge": measure("ge", warehouse),
        }
        for name, outcome in outcomes.items():
            runs[name].append(outcome)
        print(f"  round {round_ + 1}: " + ", ".join(
            f"{n} {o['process_seconds']:.1f}s {o['peak_rss_bytes'] / 1e9:.2f}GB" for n, o in outcomes.items() if n != "ge"
        ), flush=True)  # fmt: skip
    comparison = {name: compare(warehouse / "marts.duckdb", work / name) for name in ("pandas", "polars")}

    new_files = link_tree(landing, run_landing, in_drop=True, drop_folder=last_drop)
    incremental = measure("pipeline", run_landing, warehouse)
    print(f"  incremental run {incremental['process_seconds']:.1f}s ({new_files} new files)", flush=True)
    return {
        "scale": scale, "files": files, "landing_bytes": size, "generation": generation,
        "runs": runs, "summary": {name: summarize(r) for name, r in runs.items() if name != "ge"},
        "ge": {key: spread([r[key] for r in runs["ge"]]) for key in ("sql_seconds", "pandas_seconds", "pandas_load_seconds")}
        | {"rows": runs["ge"][0]["rows"], "expectations": runs["ge"][0]["expectations"]},
        "comparison": comparison, "incremental": {**incremental, "new_files": new_files},
    }  # fmt: skip


def machine() -> dict:
    return {
        "cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / GB, 1),
        "platform": platform.platform(), "python": platform.python_version(),
        "versions": {p: version(p) for p in ("dagster", "duckdb", "polars", "pandas", "pyarrow", "great-expectations")},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 3, 10])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / ".cache")
    args = parser.parse_args(argv)
    results = {"machine": machine(), "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "repeats": args.repeats,
               "scales": [bench_scale(args.cache, scale, args.repeats) for scale in args.scales]}  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=2, default=float))  # Decimal sums
    from bench.report import write_chart, write_tables

    write_chart(results, RESULTS / "growth.png")
    write_tables(results, REPO / "BENCHMARKS.md", MARKERS)
    print(f"results: {RESULTS / 'results.json'}, {RESULTS / 'growth.png'}, BENCHMARKS.md")


if __name__ == "__main__":
    main()
