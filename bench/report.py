"""Turn bench/results/results.json into the tables of BENCHMARKS.md and the growth chart."""

from __future__ import annotations

from pathlib import Path

TARGETS = [
    ("pipeline / floor at the largest scale", "≤ 1.25"),
    ("pandas baseline / pipeline at the largest scale", "≥ 5"),
    ("validation / transform", "≤ 20 %"),
    ("peak RSS at the largest scale", "≤ 4 GB"),
    ("incremental / full run", "≤ 10 %"),
]


def derived(s: dict) -> dict:
    """The ratios the issue's targets are about, for one scale."""
    stages = s["full"]["stages"]
    transform = stages.get("staging", 0) + stages.get("sql_models", 0)
    return {
        "pipeline_over_floor": s["full"]["seconds"] / s["floor"]["seconds"],
        "pandas_over_pipeline": s["pandas"]["seconds"] / s["full"]["seconds"],
        "validation_share": stages.get("checks", 0) / transform,
        "incremental_share": s["incremental"]["seconds"] / s["full"]["seconds"],
    }


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def tables(results: dict) -> str:
    scales = results["scales"]
    m = results["machine"]
    out = [
        f"Measured {results['measured_at']} on {m['cpus']} cores, {m['memory_gb']} GB, {m['platform']}, "
        f"Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
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
        [f"{s['files']} / {s['landing_mb']:.0f}" for s in scales],
    )
    row("**pipeline full run** (wall, in process)", [f"**{s['full']['seconds']:.1f} s**" for s in scales])
    for stage in ("ingest", "staging", "sql_models", "checks", "publish"):
        row(
            f"&nbsp;&nbsp;{stage} (Σ step time)",
            [f"{s['full']['stages'].get(stage, 0):.1f} s" for s in scales],
        )
    row("pipeline peak RSS (process tree)", [f"{s['full']['peak_rss_mb'] / 1024:.2f} GB" for s in scales])
    row(
        "incremental run after one daily drop",
        [f"{s['incremental']['seconds']:.1f} s ({s['incremental']['new_files']} files)" for s in scales],
    )
    row(
        "**floor** (same code and SQL, one connection)",
        [f"**{s['floor']['seconds']:.1f} s**" for s in scales],
    )
    row(
        "&nbsp;&nbsp;ingest + staging / SQL models",
        [
            f"{s['floor']['stages']['ingest_and_staging']:.1f} / {s['floor']['stages']['sql_models']:.1f} s"
            for s in scales
        ],
    )
    row("floor peak RSS", [f"{s['floor']['peak_rss_mb'] / 1024:.2f} GB" for s in scales])
    row("**pandas baseline** (2 marts)", [f"**{s['pandas']['seconds']:.1f} s**" for s in scales])
    row(
        "&nbsp;&nbsp;read files / compute",
        [f"{s['pandas']['stages']['read']:.1f} / {s['pandas']['stages']['compute']:.1f} s" for s in scales],
    )
    row("pandas peak RSS", [f"{s['pandas']['peak_rss_mb'] / 1024:.2f} GB" for s in scales])
    row("GE on account_month_economics: SQL on DuckDB", [f"{s['ge']['sql_seconds']:.2f} s" for s in scales])
    row(
        "&nbsp;&nbsp;GE on pandas (+ load into pandas)",
        [f"{s['ge']['pandas_seconds']:.2f} s (+{s['ge']['pandas_load_seconds']:.2f})" for s in scales],
    )
    row(
        "&nbsp;&nbsp;rows, expectations", [f"{s['ge']['rows']:,d}, {s['ge']['expectations']}" for s in scales]
    )
    ratios = [derived(s) for s in scales]
    row("pipeline / floor", [f"{d['pipeline_over_floor']:.2f}" for d in ratios])
    row("pandas / pipeline", [f"{d['pandas_over_pipeline']:.2f}" for d in ratios])
    row(
        "validation / transform (checks ÷ staging + SQL models)",
        [f"{d['validation_share']:.0%}" for d in ratios],
    )
    row("incremental / full", [f"{d['incremental_share']:.0%}" for d in ratios])
    gens = [s.get("generation") for s in scales]
    row(
        "sample generation (first time only)",
        [f"{g['seconds']:.0f} s, {g['peak_rss_mb'] / 1024:.1f} GB" if g else "cached" for g in gens],
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
        (f"{d['pandas_over_pipeline']:.2f}", d["pandas_over_pipeline"] >= 5),
        (f"{d['validation_share']:.0%}", d["validation_share"] <= 0.20),
        (f"{last['full']['peak_rss_mb'] / 1024:.2f} GB", last["full"]["peak_rss_mb"] <= 4096),
        (f"{d['incremental_share']:.0%}", d["incremental_share"] <= 0.10),
    ]
    for (name, wanted), (value, ok) in zip(TARGETS, measured):
        out.append(f"| {name} | {wanted} | {value} | {_verdict(ok)} |")

    first = scales[0]
    out += ["", "### Growth (relative to scale " + f"{first['scale']:g})", "",
            "| scale | data | pipeline time | pipeline RSS | floor time | pandas time | pandas RSS |",
            "|---|---|---|---|---|---|---|"]  # fmt: skip
    for s in scales:
        out.append(
            f"| {s['scale']:g} | {s['landing_mb'] / first['landing_mb']:.1f}× "
            f"| {s['full']['seconds'] / first['full']['seconds']:.1f}× | {s['full']['peak_rss_mb'] / first['full']['peak_rss_mb']:.1f}× "
            f"| {s['floor']['seconds'] / first['floor']['seconds']:.1f}× | {s['pandas']['seconds'] / first['pandas']['seconds']:.1f}× "
            f"| {s['pandas']['peak_rss_mb'] / first['pandas']['peak_rss_mb']:.1f}× |"
        )

    out += ["", "### Pandas baseline against the published marts (after the full run)", "",
            "| scale | mart | column | ours Σ | pandas Σ | account-months differing > 0.01 | largest difference |",
            "|---|---|---|---|---|---|---|"]  # fmt: skip
    for s in scales:
        for c in s["comparison"]:
            out.append(
                f"| {s['scale']:g} | {c['mart']} | {c['column']} | {c['ours']:,.2f} | {c['pandas']:,.2f} "
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
        "pipeline (full run)": "full",
        "floor": "floor",
        "pandas baseline": "pandas",
        "incremental run": "incremental",
    }
    for label, key in series.items():
        times.plot(scales, [s[key]["seconds"] for s in results["scales"]], marker="o", label=label)
        if key != "incremental":
            memory.plot(
                scales, [s[key]["peak_rss_mb"] / 1024 for s in results["scales"]], marker="o", label=label
            )
    times.set(title="wall time", xlabel="scale", ylabel="seconds")
    memory.set(title="peak resident memory (process tree)", xlabel="scale", ylabel="GB")
    memory.axhline(4, color="grey", linestyle="--", linewidth=0.8, label="4 GB target")
    for axis in (times, memory):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
