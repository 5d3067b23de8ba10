"""The executive report: one self-contained HTML page per publication, switched in atomically.

The people the numbers are for read pictures, not tables, and will not open a SQL client. So
every publication gets a static page (inline CSS and SVG charts, no script, no network, no
server) built only from that publication's marts (``pipelines.report_data``), with its charts
drawn by ``pipelines.report_charts``.

Where it lives, and why it can never show half a page or another publication's numbers:

- the page is written into the publication's own folder, ``publications/<id>/report/``, first
  as a hidden ``.report.<random>.tmp`` folder, flushed to disk, then renamed to ``report`` (one
  rename(2)); a build that fails or is killed leaves no ``report`` folder, and its temporary
  folder is removed by the next build;
- ``<warehouse>/report`` is a symlink to that folder, switched by one atomic rename only once
  the page is complete. Until then, and for good if the build fails, it keeps pointing at the
  previous publication's report: a complete page that names its own publication. A publication
  a stable link still points at is never cleaned up (``pipelines.publish.remove_leftovers``);
- a publication's page is written once and never rewritten: a run that makes no new
  publication finds it and only checks the link. A reader holding the file (or the folder)
  open keeps reading the same bytes.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from pipelines.background_imports import await_imports
from pipelines.publish import PUBLICATIONS, current_publication, fsync, link_stable_paths
from pipelines.report_data import Figure, ReportData, read_report_data

REPORT_DIR = "report"  # in a publication folder, and the stable path <warehouse>/report
PAGE = "index.html"
FIGURES_FILE = "figures.json"  # the headline figures, for the asset's metadata and for scripts


class ReportError(Exception):
    """The report cannot be built (no publication yet)."""


@dataclass(frozen=True)
class Report:
    publish_id: str
    path: Path  # <warehouse>/report/index.html, the stable path to open
    folder: Path  # <warehouse>/publications/<publish_id>/report
    built: bool  # False when the publication already had its report (a run with nothing new)
    size_bytes: int
    figures: dict


def publish_report(warehouse_dir: Path) -> Report:
    """Build the current publication's report if it has none yet, then point
    ``<warehouse>/report`` at it."""
    warehouse_dir = Path(warehouse_dir)
    folder = current_publication(warehouse_dir)
    if folder is None:
        raise ReportError(f"no publication in {warehouse_dir} yet: the report is built from one")
    built = build_report(folder)
    link_stable_paths(warehouse_dir, {REPORT_DIR: Path(PUBLICATIONS) / folder.name / REPORT_DIR})
    fsync(warehouse_dir)
    target = folder / REPORT_DIR
    return Report(
        publish_id=folder.name,
        path=warehouse_dir / REPORT_DIR / PAGE,
        folder=target,
        built=built,
        size_bytes=sum(p.stat().st_size for p in target.iterdir()),
        figures=json.loads((target / FIGURES_FILE).read_text()),
    )


def report_built(folder: Path) -> bool:
    """Whether the publication in ``folder`` has its report (a build writes it whole or not at all)."""
    return (folder / REPORT_DIR / PAGE).exists()


def build_report(folder: Path) -> bool:
    """Write ``folder/report/`` for the publication in ``folder``, complete or not at all;
    False when it is already there."""
    target = folder / REPORT_DIR
    for leftover in folder.glob(f".{REPORT_DIR}.*.tmp"):  # of a killed build
        shutil.rmtree(leftover, ignore_errors=True)
    if report_built(folder):
        return False
    temporary = folder / f".{REPORT_DIR}.{uuid.uuid4().hex[:8]}.tmp"
    temporary.mkdir()
    try:
        data = read_report_data(folder)
        (temporary / PAGE).write_text(render_page(data), encoding="utf-8")
        (temporary / FIGURES_FILE).write_text(json.dumps(figures_json(data), indent=1, sort_keys=True))
        fsync(*temporary.iterdir(), temporary)
        os.rename(temporary, target)
        fsync(folder)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return True


def figures_json(data: ReportData) -> dict:
    """The headline figures as data: month, status and each figure with its previous value."""
    return {
        "publish_id": data.publish_id,
        "month": data.month.isoformat(),
        "month_status": data.month_status,
        "as_of_month": data.as_of_month.isoformat(),
        "figures": {f.key: {"value": f.value, "previous": f.previous} for f in data.figures},
    }


# ---------------------------------------------------------------------------- the page


def e(value) -> str:
    return html.escape(str(value), quote=True)


def formatted(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    return f"{value * 100:.1f}%" if unit == "pct" else f"{value:.1f} days"


def formatted_change(figure: Figure) -> str:
    change = figure.change
    if change is None:
        return "no change to show"
    arrow = "▲" if change > 0 else "▼" if change < 0 else "■"
    amount = f"{change * 100:+.1f} pp" if figure.unit == "pct" else f"{change:+.1f} days"
    return f"{arrow} {amount}"


def number(value) -> str:
    return "" if value is None else repr(float(value))


def kpi(figure: Figure, previous_month: str) -> str:
    return (
        f'<div class="kpi" data-figure="{e(figure.key)}" data-value="{number(figure.value)}" '
        f'data-previous="{number(figure.previous)}" title="{e(figure.definition)}">'
        f'<div class="label">{e(figure.label)}</div><div class="value">{formatted(figure.value, figure.unit)}</div>'
        f'<div class="change">{formatted_change(figure)} vs {e(previous_month)}</div></div>'
    )


def table(headers: list[str], body: list[list], css: str = "") -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in body)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def pct(value) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def chart(name: str, data: ReportData, caption: str) -> str:
    await_imports()  # a run imports matplotlib in the background: never in two threads at once
    from pipelines.report_charts import CHARTS  # matplotlib: paid by the report's build only

    return f'<figure class="chart" id="chart-{name}">{CHARTS[name](data)}<figcaption>{e(caption)}</figcaption></figure>'


def render_page(data: ReportData) -> str:
    """The whole page as one HTML string."""
    month, previous = f"{data.month:%B %Y}", data.figures and _previous_month(data)
    status = (
        f"closed (signed off; closed through {data.closed_through:%B %Y})"
        if data.month_status == "closed"
        else "complete, not closed"
    )
    concentration = data.concentration
    theater = table(
        ["account", "segment", "engagement, 3 months", "contribution margin, 3 months", "revenue, 3 months"],
        [[a, s or "", f"{g:.1f}", pct(m), f"{r:,.0f}"] for a, s, g, m, r in data.theater],
    )
    programs = table(
        ["program", "target metric", "verdict", "measured effect", "expected", "kill below", "treated / control",
         "two horizons (contribution margin)"],
        [[p["name"], p["target_metric"], p["verdict"], pct(p["measured_effect"]), pct(p["expected_change"]),
          pct(p["kill_threshold"]), f"{p['treated_accounts']} / {p['control_accounts']}",
          (p["horizon_quadrant"] or "not measured at both horizons yet").replace("_", " ")] for p in data.programs],
        css="programs",
    )  # fmt: skip
    if data.quarantine is None:
        quarantine = "<p>Not recorded in this publication (published before reports existed).</p>"
    elif not data.quarantine:
        quarantine = "<p>No row quarantined.</p>"
    else:
        quarantine = table(
            ["table", "rows quarantined", "rules"],
            [[t, f"{sum(r.values()):,}", ", ".join(f"{k} {v:,}" for k, v in sorted(r.items()))]
             for t, r in sorted(data.quarantine.items())],
        )  # fmt: skip
    attribution = table(
        ["source", "entity", "rows", "attributed rows", "attributed share (rows)", "attributed share (amount)"],
        [[a["source"], a["entity"], f"{a['total_rows']:,}", f"{a['attributed_rows']:,}", pct(a["attributed_share"]),
          pct(a["amount_share"])] for a in data.attribution],
    )  # fmt: skip
    pending = sum(n for _, n in data.restatements)
    restatements = (
        table(["mart", "cells pending"], [[m, f"{n:,}"] for m, n in data.restatements])
        if data.restatements
        else "<p>None pending.</p>"
    )
    quality = f"""
      <div class="kpis">
        <div class="kpi small" data-quality="checks_passed" data-value="{data.checks_passed}"><div class="label">checks passed</div><div class="value">{data.checks_passed}</div></div>
        <div class="kpi small" data-quality="checks_failed" data-value="{data.checks_failed}"><div class="label">checks failed (non-blocking)</div><div class="value">{data.checks_failed}</div></div>
        <div class="kpi small" data-quality="rows_quarantined" data-value="{sum(sum(r.values()) for r in (data.quarantine or {}).values())}"><div class="label">rows quarantined</div><div class="value">{sum(sum(r.values()) for r in (data.quarantine or {}).values()):,}</div></div>
        <div class="kpi small" data-quality="pending_restatements" data-value="{pending}"><div class="label">restatement cells pending</div><div class="value">{pending:,}</div></div>
      </div>"""  # noqa: E501
    conc = ""
    if concentration.get("accounts"):
        conc = (
            f'<p class="note">Over the 12 months to {month}, the top 10 accounts earned '
            f'<b data-figure="top10_share" data-value="{number(concentration["top10_share"])}">'
            f"{pct(concentration['top10_share'])}</b> of revenue and the top 1% "
            f"({concentration['top1pct_accounts']:,} of {concentration['accounts']:,} accounts) "
            f'<b data-figure="top1pct_share" data-value="{number(concentration["top1pct_share"])}">'
            f"{pct(concentration['top1pct_share'])}</b>.</p>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="publish-id" content="{e(data.publish_id)}">
<title>Engagement economics, {e(month)}: executive report</title>
<style>{CSS}</style></head>
<body data-publish-id="{e(data.publish_id)}" data-month="{data.month.isoformat()}" data-as-of-month="{data.as_of_month.isoformat()}">
<header><h1>Engagement economics: the month at a glance</h1>
<p>Headline month <b>{e(month)}</b>: <span class="status {e(data.month_status)}" data-figure="month_status" data-value="{e(data.month_status)}">{e(status)}</span>.
Data through {data.as_of_month:%B %Y} (in progress, not in the headline). Publication <code>{e(data.publish_id)}</code>, published {e(data.published_at)}.</p></header>
<section><h2>Headline figures</h2><div class="kpis">{"".join(kpi(f, previous) for f in data.figures)}</div>
<p class="note">Each change is against {e(previous)}; pp = percentage points. NRR and GRR are the 12-month rates of segment all (docs/metrics.md, Retention); the margins and the cost-to-serve ratio are sums over every account, unattributed included, divided by the month's revenue; DSO is working_capital_monthly.dso.</p></section>
<section><h2>Recurring revenue</h2><div class="grid">
{chart("bridge", data, "Start is last month's MRR at its own rates, end this month's; contraction and churn are drawn down; FX effect is last month's MRR revalued at this month's rates.")}
{chart("retention", data, "12-month net and gross revenue retention by segment: of the accounts paying 12 months earlier, revenue kept with (NRR) and without (GRR) expansion.")}
</div></section>
<section><h2>Margin and engagement</h2><div class="grid">
{chart("margin_by_segment", data, "Each bar is a segment's revenue in the month: the cost lines stacked, then the contribution margin; past the dotted line, costs exceed revenue.")}
{chart("quadrants", data, "One point per account with revenue in the last 3 months, coloured by quadrant (against the medians of its segment). Engagement theater: engaged accounts whose margin is below their segment's median.")}
</div><h3>Engagement theater: the lowest margins</h3>{theater if data.theater else "<p>No account in engagement theater.</p>"}
</section>
<section><h2>Cohorts</h2>
{chart("cohort_retention", data, "Share of each cohort's accounts still paying (logo) and of its starting MRR (revenue), by months since its first paying month; complete months only.")}
<div class="grid">{chart("cohort_margin", data, "Lifetime value realised to date: cumulative contribution margin per account of the cohort, after every cost line.")}
{chart("program_horizons", data, "A program can win now and lose later: each program by its contribution-margin outcome over its short window and 9 months later.")}
</div></section>
<section><h2>Engagement programs and price increases</h2>{programs}<div class="grid">
{chart("price_absorption", data, "Price increases by the account's quadrant the month before; absorbed = MRR three months later at least as before.")}
{chart("exception_cost", data, "Agent time and external unit cost of exception tickets, per month and category.")}
</div></section>
<section><h2>Revenue concentration</h2>{conc}<div class="grid">
{chart("concentration", data, "Cumulative share of the 12 months' revenue by live account, largest first; the dotted line is an even spread.")}
</div></section>
<section><h2>Data quality and provenance</h2>{quality}
<h3>Rows quarantined, by table</h3>{quarantine}
<h3>Attribution</h3>{attribution}
<h3>Restatements pending (closed months whose recomputation differs)</h3>{restatements}
<p class="note">Publication <code data-publication="publish_id">{e(data.publish_id)}</code>, published {e(data.published_at)};
input fingerprint <code data-publication="input_fingerprint">{e(data.input_fingerprint)}</code>; code version <code>{e(data.code_version)}</code>;
months closed through {e(f"{data.closed_through:%B %Y}" if data.closed_through else "none")}.
Built from the published marts only ({len(data.marts)} tables). Amounts are in the reporting currency.</p>
</section>
</body></html>
"""  # noqa: E501


def _previous_month(data: ReportData) -> str:
    year, month = (
        (data.month.year, data.month.month - 1) if data.month.month > 1 else (data.month.year - 1, 12)
    )
    return f"{data.month.replace(year=year, month=month):%B %Y}"


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1240px;padding:0 24px 48px;color:#1f2328;background:#fff}
header{border-bottom:2px solid #2f6db5;margin-bottom:8px}h1{font-size:24px;margin:20px 0 6px}
h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid #e3e6ea;padding-bottom:4px}h3{font-size:14px;margin:16px 0 6px}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(165px,1fr));gap:10px}
.kpi{border:1px solid #e3e6ea;border-radius:8px;padding:10px 12px;background:#f8f9fb}
.kpi .label{font-size:12px;color:#57606a}.kpi .value{font-size:26px;font-weight:600;margin:2px 0}
.kpi.small .value{font-size:20px}.kpi .change{font-size:12px;color:#57606a}
.status{font-weight:600;padding:1px 6px;border-radius:4px}.status.closed{background:#d7efdf}.status.open{background:#fbe7c6}
figure.chart{margin:10px 0;min-width:0}.grid{display:grid;grid-template-columns:1fr 1fr;gap:18px}figure.chart svg{width:100%;height:auto;display:block}
figcaption,.note{font-size:12px;color:#57606a}
table{border-collapse:collapse;font-size:12px;margin:6px 0;width:100%}
th,td{border-bottom:1px solid #e3e6ea;padding:4px 6px;text-align:left}th{background:#f3f4f6}
code{font-size:12px}
"""
