"""Turn bench/results/results.json into the tables of BENCHMARKS.md and the growth chart."""

from __future__ import annotations

from pathlib import Path

MARTS = len(list((Path(__file__).resolve().parent.parent / "sql" / "marts").glob("*.sql")))
TARGETS = [
    ("pipeline ÷ floor", "≤ 1.25"),
    ("floor ÷ lazy polars (its 2 marts)", "≤ 1"),
    (f"pipeline ({MARTS} marts, checks, publish) ÷ lazy polars (2 marts)", "≤ 1.5"),
    ("checks ÷ (ingest + staging + SQL models)", "≤ 20 %"),
    ("checks ÷ (staging + SQL models)", "(reported)"),
    ("pipeline peak RSS, largest of the runs (GB = 10^9 bytes)", "≤ 4 GB"),
]


def med(s: dict, task: str, figure: str = "seconds") -> float:
    return s["summary"][task][figure]["median"]


def derived(s: dict) -> dict:
    """The ratios of the issue's targets, for one scale, from the medians."""
    stage = {name: med(s, "pipeline", name) for name in ("ingest", "staging", "sql_models", "checks")}
    return {
        "pipeline_over_floor": med(s, "pipeline") / med(s, "floor"),
        "floor_over_polars": med(s, "floor") / med(s, "polars"),
        "pipeline_over_polars": med(s, "pipeline") / med(s, "polars"),
        "checks_share_with_ingest": stage["checks"]
        / (stage["ingest"] + stage["staging"] + stage["sql_models"]),
        "checks_share": stage["checks"] / (stage["staging"] + stage["sql_models"]),
        "pipeline_peak_gb": s["summary"]["pipeline"]["peak_rss_gb"]["max"],
    }


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else "met" if ok else "**missed**"


def _figure(spread: dict, unit: str = "s", digits: int = 1) -> str:
    return f"{spread['median']:.{digits}f} {unit} [{spread['min']:.{digits}f}–{spread['max']:.{digits}f}]"


def tables(results: dict) -> str:
    scales = results["scales"]
    m = results["machine"]
    out = [
        f"Measured {results['measured_at']} on {m['cpus']} cores, {m['memory_gb']} GB, {m['platform']}, "
        f"Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ". "
        f"Median [min–max] of {results['repeats']} runs; time is the wall time of the task's process "
        "(imports included); memory is the peak resident set of the process tree in GB (10^9 bytes).",
        "",
        "### Per scale",
        "",
        "| | " + " | ".join(f"scale {s['scale']:g}" for s in scales) + " |",
        "|---|" + "---|" * len(scales),
    ]

    def row(label: str, values: list[str]) -> None:
        out.append(f"| {label} | " + " | ".join(values) + " |")

    row(
        "landing files / MB (without the last drop)",
        [f"{s['files']} / {s['landing_bytes'] / 1e6:.0f}" for s in scales],
    )
    labels = {
        "pipeline": f"**pipeline** ({MARTS} marts, 4 layers, checks, publish)",
        "floor": "**floor** (same ingestion, staging and SQL, one connection)",
        "polars": "**lazy polars** (2 marts)",
        "pandas": "**vectorized pandas** (2 marts)",
    }
    stages = {
        "pipeline": ("ingest", "staging", "sql_models", "checks", "publish"),
        "floor": ("ingest", "staging", "sql_models"),
    }
    for task, label in labels.items():
        row(label, [f"**{_figure(s['summary'][task]['seconds'])}**" for s in scales])
        for stage in stages.get(task, ()):
            row(f"&nbsp;&nbsp;{stage} (Σ step time)", [_figure(s["summary"][task][stage]) for s in scales])
        row("&nbsp;&nbsp;peak RSS", [_figure(s["summary"][task]["peak_rss_gb"], "GB", 2) for s in scales])
    row(
        "incremental run after one daily drop (1 run)",
        [
            f"{s['incremental']['process_seconds']:.1f} s ({s['incremental']['new_files']} files)"
            for s in scales
        ],
    )
    row(
        "GE on account_month_economics: SQL on DuckDB",
        [_figure(s["ge"]["sql_seconds"], digits=2) for s in scales],
    )
    row(
        "&nbsp;&nbsp;GE on pandas (+ load into pandas)",
        [
            f"{_figure(s['ge']['pandas_seconds'], digits=2)} (+{s['ge']['pandas_load_seconds']['median']:.2f})"
            for s in scales
        ],
    )
    row(
        "&nbsp;&nbsp;rows, expectations", [f"{s['ge']['rows']:,d}, {s['ge']['expectations']}" for s in scales]
    )
    ratios = [derived(s) for s in scales]
    row("pipeline ÷ floor", [f"{d['pipeline_over_floor']:.2f}" for d in ratios])
    row("floor ÷ lazy polars", [f"{d['floor_over_polars']:.2f}" for d in ratios])
    row("pipeline ÷ lazy polars", [f"{d['pipeline_over_polars']:.2f}" for d in ratios])
    row("checks ÷ (ingest + staging + SQL models)", [f"{d['checks_share_with_ingest']:.0%}" for d in ratios])
    row("checks ÷ (staging + SQL models)", [f"{d['checks_share']:.0%}" for d in ratios])
    gens = [s.get("generation") for s in scales]
    row(
        "sample generation (first time only)",
        [
            f"{g['process_seconds']:.0f} s, {g['peak_rss_bytes'] / 1e9:.1f} GB" if g else "cached"
            for g in gens
        ],
    )

    last, d = scales[-1], ratios[-1]
    out += [
        "",
        f"### Targets (scale {last['scale']:g})",
        "",
        "| target | wanted | measured | |",
        "|---|---|---|---|",
    ]
    measured = [
        (f"{d['pipeline_over_floor']:.2f}", d["pipeline_over_floor"] <= 1.25),
        (f"{d['floor_over_polars']:.2f}", d["floor_over_polars"] <= 1),
        (f"{d['pipeline_over_polars']:.2f}", d["pipeline_over_polars"] <= 1.5),
        (f"{d['checks_share_with_ingest']:.0%}", d["checks_share_with_ingest"] <= 0.20),
        (f"{d['checks_share']:.0%}", None),
        (f"{d['pipeline_peak_gb']:.2f} GB (runs: "
         + ", ".join(f"{r['peak_rss_bytes'] / 1e9:.2f}" for r in last["runs"]["pipeline"]) + ")",
         d["pipeline_peak_gb"] <= 4),
    ]  # fmt: skip
    for (name, wanted), (value, ok) in zip(TARGETS, measured):
        out.append(f"| {name} | {wanted} | {value} | {_verdict(ok)} |")

    first = scales[0]
    out += ["", f"### Growth (median time relative to scale {first['scale']:g})", "",
            "| scale | data | pipeline | floor | lazy polars | pandas |", "|---|---|---|---|---|---|"]  # fmt: skip
    for s in scales:
        out.append(
            f"| {s['scale']:g} | {s['landing_bytes'] / first['landing_bytes']:.1f}× | "
            + " | ".join(
                f"{med(s, t) / med(first, t):.1f}×" for t in ("pipeline", "floor", "polars", "pandas")
            )
            + " |"
        )

    out += ["", "### The analysts' marts against the published marts (after the last full run)", "",
            "| scale | analyst | mart | column | ours Σ | theirs Σ | account-months differing > 0.01 | largest difference |",
            "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for s in scales:
        for analyst, rows in s["comparison"].items():
            for c in rows:
                out.append(
                    f"| {s['scale']:g} | {analyst} | {c['mart']} | {c['column']} | {c['ours']:,.2f} | {c['theirs']:,.2f} "
                    f"| {c['account_months_differing']} | {c['largest_difference'] or 0:,.2f} |"
                )
    out += ["", "![time and memory against scale](bench/results/growth.png)"]
    return "\n".join(out)


def write_tables(results: dict, path: Path, markers: tuple[str, str]) -> None:
    """Replace what lies between the markers; the hand-written text around them stays."""
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{markers[0]}\n{markers[1]}\n"
    before, rest = text.split(markers[0], 1)
    after = rest.split(markers[1], 1)[1]
    path.write_text(f"{before}{markers[0]}\n{tables(results)}\n{markers[1]}{after}")


def write_chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = [s["scale"] for s in results["scales"]]
    figure, (times, memory) = plt.subplots(1, 2, figsize=(11, 4.2))
    series = {
        "pipeline": "pipeline",
        "floor": "floor",
        "lazy polars (2 marts)": "polars",
        "pandas (2 marts)": "pandas",
    }
    for label, key in series.items():
        times.plot(scales, [med(s, key) for s in results["scales"]], marker="o", label=label)
        memory.plot(scales, [med(s, key, "peak_rss_gb") for s in results["scales"]], marker="o", label=label)
    times.set(title="wall time (median)", xlabel="scale", ylabel="seconds")
    memory.set(title="peak resident memory (process tree)", xlabel="scale", ylabel="GB (10^9 bytes)")
    memory.axhline(4, color="grey", linestyle="--", linewidth=0.8, label="4 GB target")
    for axis in (times, memory):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
