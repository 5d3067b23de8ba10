"""What the executive report shows, read from one publication's files by DuckDB SQL.

The report must show the numbers of the publication it belongs to and nothing else, so it reads
that publication's own folder: the Parquet files of its marts, ``publish_log.parquet`` and
``quality.json`` (quarantine counts, written by the publish step). Parquet, not ``marts.duckdb``:
a plain file has no DuckDB lock, so a BI user holding the database read-write never fails a
report. Every aggregate is one SQL query over those files; Python only shapes the few rows
that come back (a chart needs at most a few thousand points).

Months: ``as_of_month`` (the latest month of the marts) is a month in progress, measured on
``as_of_date`` (docs/metrics.md, Periods); the marts do not say whether that date is the month's
last day, so the report never treats it as complete. Its headline month is the **latest complete
month**, the month before ``as_of_month`` (``as_of_month`` itself only when it is the only
month), and every "change" compares that month with the month before it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from pipelines.contract import TABLES
from pipelines.sqlutil import ident, literal

LOG_FILE = "publish_log.parquet"
QUALITY_FILE = "quality.json"  # written into the publication by the publish step
SEGMENTS = ("smb", "mid_market", "enterprise")
QUADRANTS = ("economic_champion", "engagement_theater", "quiet_value", "at_risk")
SCATTER_POINTS = 1500  # points drawn in the quadrant scatter; a deterministic sample beyond
THEATER_LISTED = 15
COHORTS_SHOWN = 18
LIVE = "account_id NOT LIKE 'unattributed:%'"


@dataclass(frozen=True)
class Figure:
    """A headline figure: its value in the headline month and in the month before."""

    key: str
    label: str
    value: float | None
    previous: float | None
    unit: str  # "pct" (a ratio shown as %), "days"
    definition: str

    @property
    def change(self) -> float | None:
        return None if self.value is None or self.previous is None else self.value - self.previous


@dataclass
class ReportData:
    publish_id: str
    published_at: str
    input_fingerprint: str
    code_version: str
    checks_passed: int
    checks_failed: int
    as_of_month: date
    month: date  # the headline month: the latest complete month
    month_status: str  # "closed" (signed off) or "open"
    closed_through: date | None
    figures: list[Figure] = field(default_factory=list)
    bridge: dict[str, float] = field(default_factory=dict)
    retention: list[tuple] = field(default_factory=list)  # (month, segment, nrr_12m, grr_12m)
    margin_by_segment: list[dict] = field(default_factory=list)
    scatter: list[tuple] = field(default_factory=list)  # (engagement_3m, margin_pct_3m, quadrant)
    scatter_total: int = 0
    quadrant_counts: dict[str, int] = field(default_factory=dict)
    theater: list[tuple] = field(default_factory=list)  # (account, segment, engagement, margin %, revenue)
    cohorts: list[tuple] = field(
        default_factory=list
    )  # (cohort, months_since, logo, revenue, margin/account)
    programs: list[dict] = field(default_factory=list)
    absorption: list[dict] = field(default_factory=list)
    exceptions: list[tuple] = field(default_factory=list)  # (month, category, cost, count)
    concentration: dict = field(default_factory=dict)
    quarantine: dict[str, dict[str, int]] | None = None
    attribution: list[dict] = field(default_factory=list)
    restatements: list[tuple] = field(default_factory=list)  # (mart, cells pending)
    marts: list[str] = field(default_factory=list)


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per table of the publication, over its Parquet files."""
    con = duckdb.connect(":memory:", config={"threads": 2})
    for mart in sorted(p.name for p in (folder / "parquet").iterdir() if p.is_dir()):
        files = literal(str(folder / "parquet" / mart / "*.parquet"))
        con.execute(f"CREATE VIEW {ident(mart)} AS FROM read_parquet({files})")
    con.execute(f"CREATE VIEW publish_log AS FROM read_parquet({literal(str(folder / LOG_FILE))})")
    return con


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    """The rows of ``sql`` as dicts, money (DECIMAL) as float: a chart needs no exact cents."""
    result = con.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [
        {n: (float(v) if hasattr(v, "as_tuple") else v) for n, v in zip(names, row)}
        for row in result.fetchall()
    ]


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> dict:
    found = rows(con, sql, params)
    return found[0] if found else {}


# The headline figures: (key, label, unit, definition, SQL of one month given as $month).
FIGURES = [
    ("nrr_12m", "NRR (12 months)", "pct", "retention.nrr_12m, segment all",
     "SELECT nrr_12m AS v FROM retention WHERE segment = 'all' AND month = $month"),
    ("grr_12m", "GRR (12 months)", "pct", "retention.grr_12m, segment all",
     "SELECT grr_12m AS v FROM retention WHERE segment = 'all' AND month = $month"),
    ("gross_margin_pct", "Gross margin", "pct", "Σ gross_margin / Σ revenue, account_month_economics",
     "SELECT sum(gross_margin)::DOUBLE / nullif(sum(revenue), 0)::DOUBLE AS v "
     "FROM account_month_economics WHERE month = $month"),
    ("contribution_margin_pct", "Contribution margin", "pct",
     "Σ contribution_margin / Σ revenue, account_month_economics",
     "SELECT sum(contribution_margin)::DOUBLE / nullif(sum(revenue), 0)::DOUBLE AS v "
     "FROM account_month_economics WHERE month = $month"),
    ("cost_to_serve_ratio", "Cost-to-serve ratio", "pct", "Σ cost_to_serve / Σ revenue, account_month_economics",
     "SELECT sum(cost_to_serve)::DOUBLE / nullif(sum(revenue), 0)::DOUBLE AS v "
     "FROM account_month_economics WHERE month = $month"),
    ("dso", "DSO", "days", "working_capital_monthly.dso",
     "SELECT dso AS v FROM working_capital_monthly WHERE month = $month"),
]  # fmt: skip


def figure_value(con: duckdb.DuckDBPyConnection, sql: str, month: date) -> float | None:
    found = con.execute(sql, {"month": month}).fetchall()
    return None if not found or found[0][0] is None else float(found[0][0])


def read_report_data(folder: Path) -> ReportData:
    """Everything the page shows, from the publication in ``folder``."""
    with connect(folder) as con:
        log = one(con, "FROM publish_log ORDER BY published_at DESC LIMIT 1")
        months = one(
            con,
            "SELECT max(month) AS as_of, (SELECT count(DISTINCT month) FROM account_month_economics) AS n "
            "FROM account_month_economics",
        )
        as_of = months["as_of"]
        month = (
            as_of if months["n"] <= 1 else one(con, "SELECT ?::DATE - INTERVAL 1 MONTH AS m", [as_of])["m"]
        )
        month = month.date() if hasattr(month, "date") else month
        previous = one(con, "SELECT ?::DATE - INTERVAL 1 MONTH AS m", [month])["m"]
        previous = previous.date() if hasattr(previous, "date") else previous
        closed = one(
            con,
            "SELECT closed_through FROM period_closes ORDER BY event_id DESC LIMIT 1",
        ).get("closed_through")
        data = ReportData(
            publish_id=log["publish_id"],
            published_at=f"{log['published_at']:%Y-%m-%d %H:%M:%S %Z}".strip(),
            input_fingerprint=log["input_fingerprint"],
            code_version=log["code_version"],
            checks_passed=log["checks_passed"],
            checks_failed=log["checks_failed"],
            as_of_month=as_of,
            month=month,
            month_status="closed" if closed is not None and closed >= month else "open",
            closed_through=closed,
            marts=list(log["marts"]),
        )
        data.figures = [
            Figure(
                key, label, figure_value(con, sql, month), figure_value(con, sql, previous), unit, definition
            )
            for key, label, unit, definition, sql in FIGURES
        ]
        _economics(con, data, previous)
        _engagement(con, data)
        _cohorts_programs_prices(con, data)
        _exceptions_and_concentration(con, data)
        _quality(con, data, folder)
    return data


def _economics(con: duckdb.DuckDBPyConnection, data: ReportData, previous: date) -> None:
    """The MRR bridge of the headline month, retention by segment, margin by segment."""
    bridge = one(
        con,
        """SELECT sum(mrr) FILTER (WHERE month = $previous) AS start,
                  sum(new) FILTER (WHERE month = $month) AS new,
                  sum(reactivation) FILTER (WHERE month = $month) AS reactivation,
                  sum(expansion) FILTER (WHERE month = $month) AS expansion,
                  -sum(contraction) FILTER (WHERE month = $month) AS contraction,
                  -sum(churn) FILTER (WHERE month = $month) AS churn,
                  sum(fx_effect) FILTER (WHERE month = $month) AS fx_effect,
                  sum(prior_period_adjustment) FILTER (WHERE month = $month) AS prior_period_adjustment,
                  sum(mrr) FILTER (WHERE month = $month) AS "end"
           FROM mrr_movements WHERE month IN ($previous, $month)""",
        {"month": data.month, "previous": previous},  # type: ignore[arg-type]
    )
    data.bridge = {k: v or 0.0 for k, v in bridge.items()}
    data.retention = con.execute(
        "SELECT month, segment, nrr_12m, grr_12m FROM retention WHERE month <= ? ORDER BY segment, month",
        [data.month],
    ).fetchall()
    data.margin_by_segment = rows(
        con,
        """SELECT coalesce(d.segment, 'unattributed') AS segment_name, sum(e.revenue) AS revenue,
                  sum(e.processing_cost) AS processing_cost, sum(e.payment_fees) AS payment_fees,
                  sum(e.infra_cost) AS infra_cost, sum(e.support_cost) AS support_cost,
                  sum(e.exception_handling_cost) AS exception_handling_cost,
                  sum(e.engagement_cost) AS engagement_cost, sum(e.contribution_margin) AS contribution_margin
           FROM account_month_economics AS e LEFT JOIN dim_account AS d USING (account_id)
           WHERE e.month = ? GROUP BY 1
           ORDER BY array_position(['enterprise', 'mid_market', 'smb', 'unattributed'], segment_name)""",
        [data.month],
    )


def _engagement(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """The quadrant scatter of the headline month (a stable sample), and the theater accounts."""
    where = "month = $month AND quadrant IS NOT NULL AND " + LIVE
    data.quadrant_counts = dict(
        con.execute(
            f"SELECT quadrant, count(*) FROM engagement_economics WHERE {where} GROUP BY 1",
            {"month": data.month},
        ).fetchall()
    )
    data.scatter_total = sum(data.quadrant_counts.values())
    # A sample by md5 of the id: representative, and the same accounts in every publication.
    data.scatter = con.execute(
        f"""SELECT engagement_score_3m::DOUBLE, contribution_margin_pct_3m, quadrant
            FROM engagement_economics WHERE {where}
            ORDER BY md5(account_id) LIMIT {SCATTER_POINTS}""",
        {"month": data.month},
    ).fetchall()
    data.theater = con.execute(
        f"""SELECT e.account_id, d.segment, e.engagement_score_3m::DOUBLE, e.contribution_margin_pct_3m,
                   e.revenue_3m::DOUBLE
            FROM engagement_economics AS e LEFT JOIN dim_account AS d USING (account_id)
            WHERE e.month = $month AND e.quadrant = 'engagement_theater' AND e.{LIVE}
            ORDER BY e.contribution_margin_pct_3m, e.account_id LIMIT {THEATER_LISTED}""",
        {"month": data.month},
    ).fetchall()


def _cohorts_programs_prices(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """Cohort retention and realised margin (complete months only), programs, price absorption."""
    data.cohorts = con.execute(
        f"""WITH shown AS (
                SELECT DISTINCT cohort_month FROM cohort_retention
                WHERE segment = 'all' AND cohort_month <= $month
                ORDER BY cohort_month DESC LIMIT {COHORTS_SHOWN})
            SELECT cohort_month, months_since, logo_retention, revenue_retention, margin_per_account::DOUBLE
            FROM cohort_retention JOIN shown USING (cohort_month)
            WHERE segment = 'all' AND cohort_month + to_months(months_since) <= $month
            ORDER BY cohort_month, months_since""",
        {"month": data.month},
    ).fetchall()
    data.programs = rows(
        con,
        """SELECT program_id, name, target_metric, expected_change, kill_threshold, treated_accounts,
                  control_accounts, measured_effect, verdict, short_term, long_term, horizon_quadrant
           FROM program_outcomes ORDER BY program_id""",
    )
    data.absorption = rows(
        con,
        """SELECT quadrant, increases, absorbed, contracted, churned, pending, absorption_rate
           FROM price_absorption WHERE segment = 'all' AND quadrant <> 'all'
           ORDER BY array_position(['economic_champion', 'engagement_theater', 'quiet_value',
                                    'at_risk', 'none'], quadrant)""",
    )


def _exceptions_and_concentration(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """Exception cost by category over the 12 months ending with the headline month, and the
    share of that period's revenue earned from the top 10 and the top 1% of live accounts."""
    window = "month > $month - INTERVAL 12 MONTH AND month <= $month"
    data.exceptions = con.execute(
        f"""SELECT month, category, sum(exception_handling_cost)::DOUBLE, sum(exception_count)
            FROM exception_cost WHERE {window} GROUP BY 1, 2 ORDER BY 1, 2""",
        {"month": data.month},
    ).fetchall()
    data.concentration = one(con, CONCENTRATION_SQL.format(window=window, live=LIVE), {"month": data.month})
    data.concentration["curve"] = con.execute(
        f"""WITH ranked AS ({RANKED_SQL.format(window=window, live=LIVE)})
            SELECT rank::DOUBLE / n, running::DOUBLE / nullif(total, 0)::DOUBLE FROM ranked
            WHERE rank <= 10 OR rank = n OR rank % greatest(1, n // 200) = 0 ORDER BY rank""",
        {"month": data.month},
    ).fetchall()


RANKED_SQL = """SELECT revenue, row_number() OVER (ORDER BY revenue DESC, account_id) AS rank,
                       count(*) OVER () AS n, sum(revenue) OVER () AS total,
                       sum(revenue) OVER (ORDER BY revenue DESC, account_id) AS running
                FROM (SELECT account_id, sum(revenue) AS revenue FROM account_month_economics
                      WHERE {window} AND {live} GROUP BY 1 HAVING sum(revenue) > 0)"""
CONCENTRATION_SQL = (
    "WITH ranked AS (" + RANKED_SQL + ") "
    "SELECT max(n) AS accounts, sum(revenue)::DOUBLE AS revenue, "
    "(sum(revenue) FILTER (WHERE rank <= 10))::DOUBLE / nullif(sum(revenue), 0)::DOUBLE AS top10_share, "
    "(sum(revenue) FILTER (WHERE rank <= ceil(n / 100)))::DOUBLE / nullif(sum(revenue), 0)::DOUBLE "
    "AS top1pct_share, max(ceil(n / 100))::BIGINT AS top1pct_accounts FROM ranked"
)


def _quality(con: duckdb.DuckDBPyConnection, data: ReportData, folder: Path) -> None:
    """Quarantined rows (from the publication's quality.json), attribution, pending restatements."""
    path = folder / QUALITY_FILE
    data.quarantine = json.loads(path.read_text())["quarantined"] if path.exists() else None
    data.attribution = rows(
        con,
        """SELECT source, entity, total_rows, attributed_rows, attributed_share,
                  attributed_amount::DOUBLE / nullif(total_amount, 0)::DOUBLE AS amount_share
           FROM attribution ORDER BY source, entity""",
    )
    data.restatements = con.execute(
        "SELECT mart, count(*) FROM restatements WHERE status = 'pending' GROUP BY 1 ORDER BY 1"
    ).fetchall()


def quarantine_summary(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """{table: {rule: rows}} quarantined in the working database: rows refused by ingestion
    (``raw.quarantine``) and facts without a rate in effect (``intermediate.rate_quarantine``).
    The publish step stores it in the publication (``quality.json``), because the report may
    read only the publication, and the working database moves on with the next run."""
    found: dict[str, dict[str, int]] = {}
    qualified = {t.name: t.qualified_name for t in TABLES}
    sources = [("raw.quarantine", "table_name"), ("intermediate.rate_quarantine", "table_name")]
    existing = {
        f"{s}.{t}" for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
    } | {f"{s}.{t}" for s, t in con.execute("SELECT schema_name, view_name FROM duckdb_views()").fetchall()}
    for relation, table in sources:
        if relation not in existing:
            continue
        for name, rule, count in con.execute(
            f"SELECT {table}, rule, count(*) FROM {relation} GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall():
            found.setdefault(qualified.get(name, name), {})[rule] = count
    return found
