"""Spark against DuckDB: the whole run on either engine, and how each grows with the data.

    uv run python -m bench.spark [--scales 1 10] [--repeats 3] [--cache bench/.cache]

For each scale (the samples ``bench.run`` caches, every drop landed), ``--repeats`` rounds of:
1. duckdb: the ``everything`` job on a fresh warehouse, EE_ENGINE=duckdb;
2. spark: the same with EE_ENGINE=spark, EE_SPARK_MASTER=local[2] (Spark in the run's process,
   on this machine's 2 cores);
3. spark start-up: a fresh process that only starts the JVM and the session and runs a one-row
   query, i.e. what the spark run pays before its first model.
Each is its own process (``bench.tasks``: wall time, imports included; peak resident set of the
process tree, the JVM included, GB = 10^9 bytes). Figures are medians [min–max]. The two
publications of the last round are compared cell by cell (``tests/engine_comparison.py``).
Results go to ``bench/results/spark.json`` and a table into BENCHMARKS.md. There is no target:
one small machine is DuckDB's ground; the point is the growth from scale 1 to 10.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from bench.incremental import run_benchmark
from bench.process_tree import GB, spread
from bench.run import measure, sample_landing

MARKERS = ("<!-- spark:start -->", "<!-- spark:end -->")
MASTER = "local[2]"
STAGES = ("staging", "sql_models", "checks", "publish")


def bench_scale(cache: Path, scale: float, repeats: int) -> dict:
    from tests.engine_comparison import differences

    landing, _ = sample_landing(cache, scale)
    work = cache / f"scale-{scale:g}" / "engines"
    runs: dict[str, list[dict]] = {"duckdb": [], "spark": [], "spark_start": []}
    for round_ in range(repeats):
        for engine in ("duckdb", "spark"):
            shutil.rmtree(work / engine, ignore_errors=True)
            environment = {"EE_ENGINE": engine, "EE_SPARK_MASTER": MASTER}
            runs[engine].append(measure("pipeline", landing, work / engine, env=environment))
        runs["spark_start"].append(measure("spark_start", MASTER))
        print(f"  scale {scale:g} round {round_ + 1}: " + ", ".join(
            f"{name} {r[-1]['process_seconds']:.1f}s" for name, r in runs.items()
        ), flush=True)  # fmt: skip
    found = differences(work / "duckdb" / "marts.duckdb", work / "spark" / "marts.duckdb")
    summary = {
        engine: {
            "seconds": spread([r["process_seconds"] for r in runs[engine]]),
            "peak_rss_gb": spread([r["peak_rss_bytes"] / GB for r in runs[engine]]),
            "stages": {s: spread([r["stages"].get(s, 0.0) for r in runs[engine]]) for s in STAGES},
        }
        for engine in ("duckdb", "spark")
    }
    summary["spark_start"] = {"seconds": spread([r["seconds"] for r in runs["spark_start"]])}
    return {"scale": scale, "master": MASTER, "summary": summary, "differences": found}


def _figure(s: dict) -> str:
    return f"{s['median']:.1f} s [{s['min']:.1f}–{s['max']:.1f}]"


def markdown(results: list[dict]) -> str:
    lines = [
        f"Spark `{MASTER}` in the run's process; every figure the median [min–max] of "
        f"{results[0]['summary']['duckdb']['seconds']['n']} runs, each its own process.",
        "",
        "| scale | engine | whole run | SQL models | checks | staging | publish | peak RSS (GB = 10^9 B) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for engine in ("duckdb", "spark"):
            s = r["summary"][engine]
            lines.append(
                f"| {r['scale']:g} | {engine} | {_figure(s['seconds'])} | "
                + " | ".join(
                    _figure(s["stages"][stage]) for stage in ("sql_models", "checks", "staging", "publish")
                )
                + f" | {s['peak_rss_gb']['median']:.2f} |"
            )
    lines += ["", "| scale | Spark start-up (JVM, session, one query) | Spark ÷ DuckDB, whole run | "
              "Spark ÷ DuckDB, SQL models | the same, Spark's start-up taken out | marts equal |",
        "|---|---|---|---|---|---|"]  # fmt: skip
    for r in results:
        s = r["summary"]
        whole = s["spark"]["seconds"]["median"] / s["duckdb"]["seconds"]["median"]
        duckdb_models = s["duckdb"]["stages"]["sql_models"]["median"]
        models = s["spark"]["stages"]["sql_models"]["median"] / duckdb_models
        warm = (
            s["spark"]["stages"]["sql_models"]["median"] - s["spark_start"]["seconds"]["median"]
        ) / duckdb_models
        equal = "yes" if not r["differences"] else f"**no**: {len(r['differences'])} difference(s)"
        lines.append(
            f"| {r['scale']:g} | {_figure(s['spark_start']['seconds'])} | ×{whole:.2f} | ×{models:.2f} "
            f"| ×{warm:.2f} | {equal} |"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]

        def models(r: dict, engine: str) -> float:  # Spark's without its start-up
            start = r["summary"]["spark_start"]["seconds"]["median"] if engine == "spark" else 0.0
            return r["summary"][engine]["stages"]["sql_models"]["median"] - start

        lines += [
            "",
            f"From scale {first['scale']:g} to {last['scale']:g} (×{last['scale'] / first['scale']:g} the rows) "
            f"the SQL models' time grows ×{models(last, 'duckdb') / models(first, 'duckdb'):.1f} on DuckDB "
            f"and ×{models(last, 'spark') / models(first, 'spark'):.1f} on Spark (its start-up taken out).",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    run_benchmark(argv, __doc__, [1, 10], bench_scale, markdown, "spark", (MARKERS, "Spark against DuckDB"))


if __name__ == "__main__":
    main(sys.argv[1:])
