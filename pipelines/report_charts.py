"""The report's charts: matplotlib figures rendered to SVG text, to be inlined in the page.

Why matplotlib: it is already locked in this project, renders SVG with no network, no browser
and no JavaScript, and the SVG inlined in the HTML makes one self-contained file (a JavaScript
library such as plotly would add ~4 MB of script to every page and need a browser to draw). The
output is deterministic: a fixed ``svg.hashsalt``, no date in the metadata, text kept as text
(``svg.fonttype`` none: small files, searchable, drawn in the reader's sans-serif font).
"""

from __future__ import annotations

import io
import math
import re
from collections import defaultdict

import matplotlib
from matplotlib import dates as mdates
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from pipelines.report_data import QUADRANTS, SEGMENTS, ReportData

RC = {
    "svg.hashsalt": "engagement-economics-report",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
}
BLUE, GREEN, RED, GREY, AMBER = "#2f6db5", "#2e9e5b", "#c8423b", "#9aa3ad", "#e0a030"
SEGMENT_COLORS = {
    "all": "#222222",
    "enterprise": BLUE,
    "mid_market": AMBER,
    "smb": GREEN,
    "unattributed": GREY,
}
QUADRANT_COLORS = {
    "economic_champion": GREEN,
    "engagement_theater": RED,
    "quiet_value": BLUE,
    "at_risk": AMBER,
}
COST_LINES = [
    ("processing_cost", "processing", "#5b7fa6"),
    ("payment_fees", "payment fees", "#86a6c8"),
    ("infra_cost", "infrastructure", "#b6c9dd"),
    ("support_cost", "support", "#d99a5b"),
    ("exception_handling_cost", "exceptions", "#c8423b"),
    ("engagement_cost", "engagement programs", "#9b6bb5"),
]


def to_svg(figure: Figure) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog, no fixed pixel size)."""
    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 role="img"', text, count=1)


def new_figure(width: float, height: float, columns: int = 1) -> tuple[Figure, list]:
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.subplots(1, columns, squeeze=False)[0]
    return figure, list(axes)


def no_data(axis, text: str) -> None:
    axis.text(0.5, 0.5, text, ha="center", va="center", color=GREY, transform=axis.transAxes)
    axis.set_xticks([])
    axis.set_yticks([])


def short(value: float) -> str:
    """An amount in few characters: 1.2M, 35k, 950."""
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:.0f}"


def bridge(data: ReportData) -> str:
    """The MRR bridge of the headline month as a waterfall: start, movements, end."""
    with matplotlib.rc_context(RC):
        figure, (axis,) = new_figure(6.4, 3.4)
        steps = [
            ("new", "new"),
            ("reactivation", "reactivation"),
            ("expansion", "expansion"),
            ("contraction", "contraction"),
            ("churn", "churn"),
            ("fx_effect", "FX effect"),
        ]
        if data.bridge.get("prior_period_adjustment"):
            steps.append(("prior_period_adjustment", "prior-period adj."))
        labels, bottoms, heights, colors = ["start"], [0.0], [data.bridge["start"]], [BLUE]
        level = data.bridge["start"]
        for key, label in steps:
            value = data.bridge[key]
            labels.append(label)
            bottoms.append(level if value >= 0 else level + value)
            heights.append(abs(value))
            colors.append(GREEN if value >= 0 else RED)
            level += value
        labels.append("end")
        bottoms.append(0.0)
        heights.append(data.bridge["end"])
        colors.append(BLUE)
        bars = axis.bar(labels, heights, bottom=bottoms, color=colors, width=0.65)
        signed = [data.bridge["start"], *(data.bridge[k] for k, _ in steps), data.bridge["end"]]
        for bar, value in zip(bars, signed):
            axis.annotate(short(value), (bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height()),
                          ha="center", va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")  # fmt: skip
        # The movements are small next to MRR: the axis starts just below them, as waterfalls do.
        levels = [b for b in bottoms[1:-1]] + [b + h for b, h in zip(bottoms[1:-1], heights[1:-1])]
        low, high = min(levels), max(levels)
        pad = (high - low) or abs(high) * 0.05 or 1.0
        floor = max(0.0, low - 1.5 * pad) if low > 0 else min(0.0, low - 0.2 * pad)
        axis.set_ylim(floor, high + 0.6 * pad)
        if floor > 0:
            axis.text(0.01, 0.01, f"axis starts at {short(floor)}", transform=axis.transAxes, fontsize=7,
                      color=GREY)  # fmt: skip
        axis.tick_params(axis="x", labelrotation=30)
        axis.set_title(f"MRR bridge, {data.month:%B %Y}")
        axis.set_ylabel("MRR")
        axis.yaxis.set_major_formatter(lambda v, _: short(v))
    return to_svg(figure)


def retention(data: ReportData) -> str:
    """NRR and GRR (12 months) by segment, month by month."""
    with matplotlib.rc_context(RC):
        figure, axes = new_figure(6.4, 3.4, columns=2)
        series = defaultdict(list)
        for month, segment, nrr, grr in data.retention:
            series[segment].append((month, nrr, grr))
        drawn = False
        for axis, index, title in ((axes[0], 1, "NRR, 12 months"), (axes[1], 2, "GRR, 12 months")):
            for segment in ("all", *SEGMENTS):
                points = [(p[0], p[index]) for p in series.get(segment, []) if p[index] is not None]
                if points:
                    drawn = True
                    axis.plot([p[0] for p in points], [p[1] * 100 for p in points], label=segment,
                              color=SEGMENT_COLORS[segment], linewidth=2 if segment == "all" else 1.2)  # fmt: skip
            axis.set_title(title)
            axis.yaxis.set_major_formatter(lambda v, _: f"{v:.0f}%")
            months = len({p[0] for p in data.retention})
            axis.xaxis.set_major_locator(mdates.MonthLocator(interval=max(1, months // 6)))
            axis.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
            axis.tick_params(axis="x", labelrotation=30)
        if drawn:
            axes[1].legend(fontsize=7, frameon=False)
        else:
            for axis in axes:
                no_data(axis, "no month has 12 months of history yet")
    return to_svg(figure)


def margin_by_segment(data: ReportData) -> str:
    """Each segment's revenue of the headline month, split into its cost lines and contribution
    margin (in % of its revenue), with the revenue and the margin written beside it."""
    with matplotlib.rc_context(RC):
        figure, (axis,) = new_figure(6.4, 3.4)
        shown = [r for r in data.margin_by_segment if r["revenue"] and r["revenue"] > 0]
        if not shown:
            no_data(axis, "no revenue in the month")
            return to_svg(figure)
        names = [r["segment_name"] for r in shown][::-1]
        rows = shown[::-1]
        left = [0.0] * len(rows)
        for key, label, color in COST_LINES:
            widths = [r[key] / r["revenue"] * 100 for r in rows]
            axis.barh(names, widths, left=left, color=color, label=label, height=0.6)
            left = [a + b for a, b in zip(left, widths)]
        margins = [r["contribution_margin"] / r["revenue"] * 100 for r in rows]
        axis.barh(names, [max(m, 0) for m in margins], left=left, color=GREEN, label="contribution margin",
                  height=0.6)  # fmt: skip
        axis.axvline(100, color="#444444", linewidth=0.8, linestyle=":")
        for y, (row, margin) in enumerate(zip(rows, margins)):
            axis.annotate(f"CM {margin:.1f}% of {short(row['revenue'])}", (max(100.0, left[y]), y),
                          xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)  # fmt: skip
        axis.set_xlim(0, max(130.0, max(left) * 1.3))
        axis.set_xlabel("% of the segment's revenue")
        axis.set_title(f"Contribution margin by segment, cost lines stacked, {data.month:%B %Y}")
        axis.legend(fontsize=7, frameon=False, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    return to_svg(figure)


def quadrants(data: ReportData) -> str:
    """Engagement (3 months) against contribution margin % (3 months), one point per account;
    the axes are cut at the 2nd and 98th percentiles so that a few extremes do not flatten it."""
    with matplotlib.rc_context(RC):
        figure, (axis,) = new_figure(6.4, 3.4)
        points = [p for p in data.scatter if p[0] is not None and p[1] is not None]
        if not points:
            no_data(axis, "no account with revenue in the last 3 months")
            return to_svg(figure)
        ys = sorted(p[1] * 100 for p in points)
        xs = sorted(p[0] for p in points)
        low, high = ys[int(0.02 * (len(ys) - 1))], ys[math.ceil(0.98 * (len(ys) - 1))]
        x_high = xs[math.ceil(0.99 * (len(xs) - 1))]
        for quadrant in QUADRANTS:
            mine = [p for p in points if p[2] == quadrant]
            if not mine:
                continue
            theater = quadrant == "engagement_theater"
            axis.scatter([min(p[0], x_high) for p in mine], [min(max(p[1] * 100, low), high) for p in mine],
                         s=16 if theater else 7, color=QUADRANT_COLORS[quadrant], alpha=0.9 if theater else 0.45,
                         marker="D" if theater else "o", linewidths=0,
                         label=f"{quadrant.replace('_', ' ')} ({data.quadrant_counts.get(quadrant, 0):,})")  # fmt: skip
        margin = (high - low) * 0.05 or 1
        axis.set_ylim(low - margin, high + margin)
        axis.set_xlabel("engagement score, 3 months")
        axis.set_ylabel("contribution margin %, 3 months")
        sample = (
            ""
            if len(points) >= data.scatter_total
            else f" (sample of {len(points):,} of {data.scatter_total:,})"
        )
        axis.set_title(f"Engagement against margin, {data.month:%B %Y}{sample}")
        axis.legend(fontsize=7, frameon=False, loc="best")
    return to_svg(figure)


def cohort_heatmaps(data: ReportData) -> str:
    """Logo and revenue retention by cohort (rows) and months since the cohort's first month."""
    with matplotlib.rc_context(RC):
        figure, axes = new_figure(9.6, 3.0, columns=2)
        cohorts = sorted({c[0] for c in data.cohorts})
        if not cohorts:
            for axis in axes:
                no_data(axis, "no cohort yet")
            return to_svg(figure)
        width = max(c[1] for c in data.cohorts) + 1
        for axis, index, title in ((axes[0], 2, "Logo retention"), (axes[1], 3, "Revenue retention")):
            grid = [[math.nan] * width for _ in cohorts]
            for cohort in data.cohorts:
                value = cohort[index]
                grid[cohorts.index(cohort[0])][cohort[1]] = math.nan if value is None else value * 100
            image = axis.imshow(grid, aspect="auto", cmap="RdYlGn", vmin=50, vmax=120 if index == 3 else 100,
                                interpolation="nearest")  # fmt: skip
            axis.set_yticks(range(len(cohorts)), [f"{c:%Y-%m}" for c in cohorts], fontsize=7)
            axis.set_xlabel("months since the cohort's first month")
            axis.set_title(title)
            figure.colorbar(image, ax=axis, shrink=0.8, format=lambda v, _: f"{v:.0f}%")
    return to_svg(figure)


def cohort_margin(data: ReportData) -> str:
    """Realised contribution margin per account, cumulative, for each cohort."""
    with matplotlib.rc_context(RC):
        figure, (axis,) = new_figure(6.4, 3.4)
        by_cohort = defaultdict(list)
        for cohort, months_since, _, _, margin in data.cohorts:
            if margin is not None:
                by_cohort[cohort].append((months_since, margin))
        if not by_cohort:
            no_data(axis, "no cohort yet")
            return to_svg(figure)
        colormap = matplotlib.colormaps["viridis"]
        cohorts = sorted(by_cohort)
        for i, cohort in enumerate(cohorts):
            points = by_cohort[cohort]
            axis.plot([p[0] for p in points], [p[1] for p in points], color=colormap(i / max(1, len(cohorts) - 1)),
                      marker="o" if len(points) == 1 else None, markersize=3, linewidth=1.2,
                      label=f"{cohort:%Y-%m}")  # fmt: skip
        axis.axhline(0, color="#444444", linewidth=0.6)
        axis.set_xlabel("months since the cohort's first month")
        axis.set_ylabel("margin per account, cumulative")
        axis.yaxis.set_major_formatter(lambda v, _: short(v))
        axis.set_title("Realised contribution margin per account, by cohort")
        axis.legend(fontsize=6, frameon=False, ncol=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return to_svg(figure)


OUTCOMES = ("reward", "neutral", "penalty")


def program_horizons(data: ReportData) -> str:
    """The two-horizon quadrant: each program placed by its contribution-margin outcome at the
    short and at the long horizon (program_outcomes.short_term, long_term)."""
    with matplotlib.rc_context(RC):
        figure, (axis,) = new_figure(6.4, 3.4)
        cells = defaultdict(list)
        for program in data.programs:
            if program["short_term"] in OUTCOMES and program["long_term"] in OUTCOMES:
                cells[program["short_term"], program["long_term"]].append(program["name"])
        shade = {("reward", "reward"): "#d7efdf", ("penalty", "penalty"): "#f5d6d4",
                 ("reward", "penalty"): "#fbe7c6", ("penalty", "reward"): "#dbe7f5"}  # fmt: skip
        for x, short_term in enumerate(OUTCOMES):
            for y, long_term in enumerate(OUTCOMES[::-1]):
                axis.add_patch(Rectangle((x, y), 1, 1, facecolor=shade.get(
                    (short_term, long_term), "#f2f3f5"), edgecolor="white", linewidth=2))  # fmt: skip
                names = cells.get((short_term, long_term), [])
                text = "\n".join(names[:4] + ([f"+{len(names) - 4} more"] if len(names) > 4 else []))
                axis.text(x + 0.5, y + 0.5, text or "–", ha="center", va="center", fontsize=7,
                          color="#222222" if names else GREY)  # fmt: skip
        axis.set_xlim(0, 3)
        axis.set_ylim(0, 3)
        axis.set_xticks([0.5, 1.5, 2.5], [f"short term: {o}" for o in OUTCOMES])
        axis.set_yticks([0.5, 1.5, 2.5], [f"long term: {o}" for o in OUTCOMES[::-1]])
        waiting = len(data.programs) - sum(len(v) for v in cells.values())
        axis.set_title(f"Programs at two horizons, contribution margin ({waiting} not measured at both yet)")
        axis.tick_params(length=0)
        for spine in axis.spines.values():
            spine.set_visible(False)
    return to_svg(figure)


def absorption(data: ReportData) -> str:
    """Price increases by the account's quadrant before the increase, by outcome."""
    with matplotlib.rc_context(RC):
        figure, (axis,) = new_figure(6.4, 3.4)
        rows = data.absorption[::-1]
        if not any(r["increases"] for r in rows):
            no_data(axis, "no price increase yet")
            return to_svg(figure)
        names = [r["quadrant"].replace("_", " ") for r in rows]
        left = [0] * len(rows)
        for key, color in (("absorbed", GREEN), ("contracted", AMBER), ("churned", RED), ("pending", GREY)):
            values = [r[key] for r in rows]
            axis.barh(names, values, left=left, color=color, label=key, height=0.6)
            left = [a + b for a, b in zip(left, values)]
        for y, row in enumerate(rows):
            rate = row["absorption_rate"]
            axis.annotate("" if rate is None else f"{rate * 100:.0f}% absorbed", (left[y], y), xytext=(4, 0),
                          textcoords="offset points", va="center", fontsize=8)  # fmt: skip
        axis.set_xlim(0, max(left) * 1.3 or 1)
        axis.set_xlabel("price increases")
        axis.set_title("Price-increase absorption by quadrant before the increase")
        axis.legend(fontsize=7, frameon=False, loc="lower right")
    return to_svg(figure)


def exceptions(data: ReportData) -> str:
    """Exception handling cost per month, stacked by category (12 months to the headline month)."""
    with matplotlib.rc_context(RC):
        figure, (axis,) = new_figure(6.4, 3.4)
        if not data.exceptions:
            no_data(axis, "no exception cost in the last 12 months")
            return to_svg(figure)
        months = sorted({e[0] for e in data.exceptions})
        totals = defaultdict(float)
        for _, category, cost, _ in data.exceptions:
            totals[category] += cost
        bottom = [0.0] * len(months)
        colormap = matplotlib.colormaps["tab10"]
        for i, category in enumerate(sorted(totals, key=totals.get, reverse=True)):
            cost = {e[0]: e[2] for e in data.exceptions if e[1] == category}
            values = [cost.get(m, 0.0) for m in months]
            axis.bar([f"{m:%Y-%m}" for m in months], values, bottom=bottom, color=colormap(i),
                     label=f"{category.replace('_', ' ')} ({short(totals[category])})")  # fmt: skip
            bottom = [a + b for a, b in zip(bottom, values)]
        axis.yaxis.set_major_formatter(lambda v, _: short(v))
        axis.tick_params(axis="x", labelrotation=45, labelsize=7)
        axis.set_title("Exception handling cost by category (12-month total in the legend)")
        axis.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return to_svg(figure)


def concentration(data: ReportData) -> str:
    """Cumulative share of revenue by account, largest first, with the top 10 and top 1% marked."""
    with matplotlib.rc_context(RC):
        figure, (axis,) = new_figure(6.4, 3.4)
        curve = [(0.0, 0.0), *((x, y) for x, y in data.concentration.get("curve", []) if y is not None)]
        if len(curve) < 2:
            no_data(axis, "no revenue in the last 12 months")
            return to_svg(figure)
        axis.plot([x * 100 for x, _ in curve], [y * 100 for _, y in curve], color=BLUE, linewidth=1.8)
        axis.plot([0, 100], [0, 100], color=GREY, linewidth=0.8, linestyle=":")
        c = data.concentration
        n = c["accounts"]
        for accounts, share, label in ((min(10, n), c["top10_share"], "top 10"),
                                       (c["top1pct_accounts"], c["top1pct_share"], "top 1%")):  # fmt: skip
            if share is not None:
                axis.plot([accounts / n * 100], [share * 100], "o", color=RED, markersize=4)
                axis.annotate(f"{label}: {share * 100:.1f}% of revenue", (accounts / n * 100, share * 100),
                              xytext=(6, -10), textcoords="offset points", fontsize=8)  # fmt: skip
        axis.set_xlabel("% of accounts, largest first")
        axis.set_ylabel("% of revenue")
        axis.set_title(f"Revenue concentration, 12 months to {data.month:%B %Y} ({n:,} accounts)")
    return to_svg(figure)


CHARTS = {
    "bridge": bridge,
    "retention": retention,
    "margin_by_segment": margin_by_segment,
    "quadrants": quadrants,
    "cohort_retention": cohort_heatmaps,
    "cohort_margin": cohort_margin,
    "program_horizons": program_horizons,
    "price_absorption": absorption,
    "exception_cost": exceptions,
    "concentration": concentration,
}
