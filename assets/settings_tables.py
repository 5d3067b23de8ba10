"""Python assets that turn configuration and the contract's codes into small tables the SQL reads.

Each table records a version that is a hash of the statement that writes it (``pipelines.versions``),
so rewriting it with the same values every run makes no model downstream recompute. The SQL stays a pure
function of tables: the reporting currency and the engagement weights reach
it as ``staging.run_settings`` and ``staging.engagement_weights``, and the contract's business
codes (which ticket categories are exceptions, which invoice statuses count) as
``staging.ticket_categories`` and ``staging.invoice_statuses``, never as constants in the SQL.
"""

from pathlib import Path

import duckdb
import yaml
from dagster import AssetKey, Failure, MaterializeResult, MetadataValue, asset

from assets.resources import PLATFORM_OWNER, WAREHOUSE_POOL, WarehouseResource
from pipelines.contract import EVENT_TYPES, code_tables
from pipelines.sqlutil import literal, transaction
from pipelines.versions import fingerprint, record_version

RUN_SETTINGS_KEY = AssetKey(["staging", "run_settings"])
ENGAGEMENT_WEIGHTS_KEY = AssetKey(["staging", "engagement_weights"])
# Written by the month-end close's asset (assets/closing.py), from the current publication.
CLOSED_PERIODS_KEY = AssetKey(["staging", "closed_periods"])
CLOSED_MONTH_MRR_KEY = AssetKey(["staging", "closed_month_mrr"])


def replace_settings_table(con: duckdb.DuckDBPyConnection, name: str, select: str) -> None:
    """``staging.<name>`` replaced by ``select``, and its version (a hash of the statement, so of
    the content and of how it is typed) recorded in the same transaction."""
    statement = f"CREATE OR REPLACE TABLE staging.{name} AS {select}"
    con.execute("CREATE SCHEMA IF NOT EXISTS staging")
    with transaction(con):
        con.execute(statement)
        record_version(con, f"staging.{name}", fingerprint(statement))


def write_run_settings(con: duckdb.DuckDBPyConnection, reporting_currency: str) -> None:
    replace_settings_table(con, "run_settings", f"SELECT {literal(reporting_currency)} AS reporting_currency")


def write_engagement_weights(con: duckdb.DuckDBPyConnection, weights: dict[str, float]) -> None:
    """Weights as exact decimals, so that engagement scores are sums that no order of addition
    changes (a weight of 0.3 is not exact in binary floating point)."""
    rows = ", ".join(f"({literal(k)}, {v!r})" for k, v in sorted(weights.items())) or "(NULL, NULL)"
    replace_settings_table(
        con,
        "engagement_weights",
        f"SELECT event_type, CAST(weight AS DECIMAL(18, 6)) AS weight FROM (VALUES {rows}) "
        "AS w (event_type, weight) WHERE event_type IS NOT NULL",
    )


@asset(
    key=RUN_SETTINGS_KEY,
    group_name="staging",
    kinds={"duckdb"},
    owners=[PLATFORM_OWNER],
    pool=WAREHOUSE_POOL,
    description="The run's settings as a one-row table the SQL models read (reporting_currency).",
)
def run_settings(warehouse: WarehouseResource) -> MaterializeResult:
    currency = warehouse.reporting_currency.upper()
    with warehouse.connect() as con:
        write_run_settings(con, currency)
    return MaterializeResult(metadata={"reporting_currency": currency})


def read_engagement_weights(path: Path) -> dict[str, float]:
    """The weights file as {event_type: weight}; unknown event types are an error."""
    weights = yaml.safe_load(path.read_text()) or {}
    unknown = sorted(set(weights) - set(EVENT_TYPES))
    if unknown:
        raise ValueError(f"{path}: unknown event type(s) {', '.join(unknown)}")
    return {event_type: float(weight) for event_type, weight in weights.items()}


@asset(
    key=ENGAGEMENT_WEIGHTS_KEY,
    group_name="staging",
    kinds={"duckdb"},
    owners=[PLATFORM_OWNER],
    pool=WAREHOUSE_POOL,
    description="Engagement score weight per event type, from the weights file (configuration).",
)
def engagement_weights(warehouse: WarehouseResource) -> MaterializeResult:
    path = Path(warehouse.engagement_weights_file)
    try:
        weights = read_engagement_weights(path)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise Failure(description=f"engagement weights: {error}") from error
    with warehouse.connect() as con:
        write_engagement_weights(con, weights)
    return MaterializeResult(metadata={"weights": MetadataValue.json(weights), "file": str(path)})


def write_code_table(
    con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...], rows: list[tuple]
) -> None:
    values = ", ".join(
        "(" + ", ".join(literal(v) if isinstance(v, str) else str(v).lower() for v in row) + ")"
        for row in rows
    )
    replace_settings_table(con, name, f"SELECT * FROM (VALUES {values}) AS t ({', '.join(columns)})")


def _code_table_asset(name: str, columns: tuple[str, ...], rows: list[tuple]):
    @asset(
        key=AssetKey(["staging", name]),
        group_name="staging",
        kinds={"duckdb"},
        owners=[PLATFORM_OWNER],
        pool=WAREHOUSE_POOL,
        description=f"The contract's {name.replace('_', ' ')} ({', '.join(columns)}), from pipelines/contract.py.",
    )
    def code_table(warehouse: WarehouseResource) -> MaterializeResult:
        with warehouse.connect() as con:
            write_code_table(con, name, columns, rows)
        return MaterializeResult(metadata={"dagster/row_count": len(rows)})

    return code_table


CODE_TABLES = code_tables()
settings_assets = [
    run_settings,
    engagement_weights,
    *(_code_table_asset(name, columns, rows) for name, (columns, rows) in CODE_TABLES.items()),
]
EXTERNAL_SETTINGS_TABLES = {
    "run_settings": RUN_SETTINGS_KEY,
    "engagement_weights": ENGAGEMENT_WEIGHTS_KEY,
    **{name: AssetKey(["staging", name]) for name in CODE_TABLES},
    "closed_periods": CLOSED_PERIODS_KEY,
    "closed_month_mrr": CLOSED_MONTH_MRR_KEY,
}
