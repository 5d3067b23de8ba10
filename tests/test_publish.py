"""Write-audit-publish: what reaches marts.duckdb, and what never does."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from dagster import materialize

from assets.definitions import all_assets, all_checks, sql_models
from assets.resources import WarehouseResource
from pipelines.closing import LEDGER_TABLES
from pipelines.ge_duckdb import load_suites
from pipelines.publish import PII_COLUMNS, PublishError, publish
from pipelines.sql_models import use_model_schemas
from pipelines.sqlutil import ident
from tests.conftest import forced_rebuild, materialize_all, write
from tests.golden_fixture import private_copy, publish_golden

MARTS = [m for m in sql_models.values() if m.layer == "marts"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def published(warehouse: WarehouseResource, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse.published_db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def published_once(tmp_path_factory) -> Path:
    """The golden fixture, run and published once per module."""
    root = tmp_path_factory.mktemp("published")
    publish_golden(root)
    return root


@pytest.fixture
def warehouse(published_once: Path, tmp_path: Path) -> WarehouseResource:
    return private_copy(published_once, tmp_path)


def test_a_clean_run_publishes_every_mart_with_its_log_and_parquet(warehouse):
    tables = {
        r[0]
        for r in published(warehouse, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
    }
    assert tables == {m.name for m in [*MARTS, *LEDGER_TABLES]} | {"publish_log"}
    log = published(
        warehouse,
        "SELECT publish_id, marts, row_counts, checks_passed, checks_failed, input_fingerprint, code_version FROM publish_log",
    )
    assert len(log) == 1
    publish_id, marts, row_counts, passed, failed, fingerprint, code = log[0]
    assert sorted(marts) == sorted(m.name for m in [*MARTS, *LEDGER_TABLES])
    assert passed >= 60 and failed >= 0 and len(fingerprint) == 64 and len(code) == 16
    counts = published(warehouse, "SELECT count(*) FROM account_month_economics")[0][0]
    assert f'"account_month_economics":{counts}' in row_counts.replace(" ", "")
    for mart in MARTS:
        files = list((warehouse.parquet_dir / mart.name).glob("*.parquet"))
        assert len(files) == 1, mart.name
        assert (
            duckdb.sql(f"SELECT count(*) FROM '{files[0]}'").fetchall()[0][0]
            == published(warehouse, f"SELECT count(*) FROM {mart.name}")[0][0]
        )
    suites = load_suites()
    assert (
        (warehouse.validation_dir / "index.html").read_text().count('href="suites/') == len(suites) == 20
    )  # 18 marts, 2 staging tables, each with its Data Docs page
    root = Path(warehouse.warehouse_dir)
    assert not [
        p for p in [*root.glob("*tmp*"), *root.glob(".*tmp*"), *(root / "publications").glob("*tmp*")]
    ]  # no leftovers
    assert [p.name for p in (root / "publications").iterdir()] == [publish_id]
    assert (root / "current").resolve() == (root / "publications" / publish_id).resolve()


def test_no_personal_data_reaches_the_published_marts(warehouse):
    columns = published(
        warehouse,
        "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main'",
    )
    assert not [c for c in columns if c[1] in PII_COLUMNS]
    assert {"owner_email", "email", "full_name", "phone", "requester_email"} <= PII_COLUMNS
    for table, column, data_type in columns:
        if data_type == "VARCHAR":
            sql = f"SELECT count(*) FROM {table} WHERE {ident(column)} LIKE '%@%'"
            hits = published(warehouse, sql)[0][0]
            assert hits == 0, (table, column)
    assert published(warehouse, "SELECT redactions::VARCHAR FROM publish_log") == [("{}",)]  # nothing to mask


def run_with_extra_drop(warehouse: WarehouseResource, relative_path: str, text: str):
    write(Path(warehouse.landing_dir), relative_path, text)
    return materialize([*all_assets, *all_checks], resources={"warehouse": warehouse}, raise_on_error=False)


def failed_checks(result) -> set[str]:
    return {
        f"{e.asset_key.to_user_string()}:{e.check_name}"
        for e in result.get_asset_check_evaluations()
        if not e.passed
    }


def test_a_line_ending_before_it_starts_fails_its_suite_and_publishes_nothing(warehouse):
    # (A negative subscription line used to be the example; contract revision 2 quarantines it
    # at ingestion, so the run succeeds without it.)
    before = sha256(warehouse.published_db_path)
    result = run_with_extra_drop(
        warehouse,
        "billing/invoice_line_items/late/bad.csv",
        "line_item_id,invoice_id,type,amount,currency,period_start,period_end,proration,updated_at\n"
        "L99,I1,subscription,50000,USD,2025-02-01,2025-01-01,false,2025-01-01T00:00:00\n",
    )
    assert not result.success
    assert "staging/stg_billing__invoice_line_items:expectation_suite" in failed_checks(result)
    assert sha256(warehouse.published_db_path) == before
    assert published(warehouse, "SELECT count(*) FROM publish_log") == [(1,)]


def test_a_failed_warning_is_a_non_blocking_warn_and_the_run_publishes(warehouse):
    # 30,000 minutes at $60/h on A1's January 2025 (revenue 191.73): costs above 101x revenue,
    # the bound of gross_margin_pct where revenue is positive. Finance is told, nothing blocked.
    result = run_with_extra_drop(
        warehouse,
        "support/time_entries/late/huge.csv",
        "time_entry_id,ticket_id,agent_id,agent_tier,minutes,logged_at,updated_at\n"
        "E99,K1,ag1,l1,30000,2025-01-12T10:00:00,2025-01-12T10:00:00\n",
    )
    assert result.success
    failed = {
        (e.asset_key.to_user_string(), e.check_name, e.severity.value, e.blocking)
        for e in result.get_asset_check_evaluations()
        if not e.passed
    }
    assert failed == {("marts/account_month_economics", "expectation_warnings", "WARN", False)}
    assert published(warehouse, "SELECT count(*) FROM publish_log") == [(2,)]


def test_a_duplicated_key_fails_the_grain_checks_and_publishes_nothing(warehouse):
    before = sha256(warehouse.published_db_path)
    # A CRM account that takes a pseudo-account's id duplicates a dim_account key.
    result = run_with_extra_drop(
        warehouse,
        "crm/accounts/late/a.csv",
        "account_id,account_name,country,segment,risk_tier,created_at,is_deleted,updated_at\n"
        "unattributed:billing,Impostor,US,smb,low,2024-06-01,false,2024-06-01\n",
    )
    assert not result.success
    assert {"marts/dim_account:grain_is_unique", "marts/dim_account:expectation_suite"} <= failed_checks(
        result
    )
    assert sha256(warehouse.published_db_path) == before


def test_a_column_change_without_its_contract_fails_the_publish(warehouse):
    before = sha256(warehouse.published_db_path)
    economics = next(m for m in MARTS if m.name == "account_month_economics")
    without_mrr = dataclasses.replace(
        economics, column_types={k: v for k, v in economics.column_types.items() if k != "mrr"}
    )
    with duckdb.connect(str(warehouse.working_db_path), config={"custom_user_agent": "test"}) as con:
        use_model_schemas(con)
        built = dict((r[0], r[1]) for r in con.execute("DESCRIBE marts.account_month_economics").fetchall())[
            "revenue"
        ]
        other = "DECIMAL(18,2)" if built != "DECIMAL(18,2)" else "DOUBLE"  # whatever the models build today
        retyped = dataclasses.replace(economics, column_types={**economics.column_types, "revenue": other})
        for changed, message in [
            (without_mrr, "column 'mrr' is not in the contract"),
            (retyped, f"column 'revenue' is {built}, the contract says {other}"),
        ]:
            with pytest.raises(PublishError, match=message.replace("(", r"\(").replace(")", r"\)")):
                publish(con, [changed], Path(warehouse.warehouse_dir), "x", 0, 0)
    assert sha256(warehouse.published_db_path) == before


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.execute("SELECT count(*) FROM publish_log").fetchall()[0][0], flush=True)
    sys.stdin.readline()  # hold the file open until the test says so
    print(con.execute("SELECT count(*) FROM publish_log").fetchall()[0][0], flush=True)
    """
)


def test_a_reader_holding_the_published_file_neither_blocks_a_run_nor_sees_half_of_it(warehouse):
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse.published_db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert reader.stdout.readline().strip() == "1"
        result = run_with_extra_drop(
            warehouse,
            "billing/invoices/late/i.csv",
            "invoice_id,customer_id,status,currency,amount_due,amount_paid,created_at,updated_at\n"
            "I12,C1,open,USD,100,0,2025-03-20T00:00:00,2025-03-20T00:00:00\n",
        )
        assert result.success  # the reader did not block the publication
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1"  # still its consistent old snapshot
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    assert reader.returncode == 0
    assert published(warehouse, "SELECT count(*) FROM publish_log") == [(2,)]  # new readers: new file


def readme_queries() -> list[str]:
    """The example queries of the README's "Questions the marts answer" section."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Questions the marts answer", 1)[1]
    block = section.split("```sql\n", 1)[1].split("```", 1)[0]
    code = "\n".join(line for line in block.splitlines() if not line.lstrip().startswith("--"))
    return [statement.strip() for statement in code.split(";") if statement.strip()]


# A BI client as Superset or Metabase-style tools are: SQLAlchemy through duckdb-engine, a new
# read-only connection per round, every README query per round, until told to stop.
SQLALCHEMY_READER = textwrap.dedent(
    """
    import json, pathlib, sys
    import sqlalchemy
    url, queries, stop = sys.argv[1], json.loads(sys.argv[2]), pathlib.Path(sys.argv[3])
    rounds, seen, errors, write_refused = 0, set(), [], False
    while True:
        last_round = stop.exists()
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.connect() as con:
                seen.add(con.execute(sqlalchemy.text(
                    "SELECT publish_id FROM publish_log ORDER BY published_at DESC LIMIT 1")).scalar())
                for query in queries:
                    con.execute(sqlalchemy.text(query)).fetchall()
                try:
                    con.execute(sqlalchemy.text("CREATE TABLE scratch (i INTEGER)"))
                except sqlalchemy.exc.DBAPIError:
                    write_refused = True
        except Exception as error:
            errors.append(repr(error))
        finally:
            engine.dispose()
        rounds += 1
        if rounds == 1:
            print("ready", flush=True)
        if last_round:
            break
    print(json.dumps({"rounds": rounds, "seen": sorted(seen), "errors": errors, "write_refused": write_refused}))
    """
)


def test_a_sqlalchemy_client_reads_the_readme_queries_read_only_while_a_run_publishes(warehouse, tmp_path):
    queries = readme_queries()
    assert len(queries) >= 12  # one per mart at least
    old_id = published(warehouse, "SELECT publish_id FROM publish_log")[0][0]
    stop = tmp_path / "stop"
    # The README's URL: an absolute path that keeps the marts.duckdb link (resolving the link
    # would pin one publication folder for good).
    url = f"duckdb:///{warehouse.published_db_path.absolute()}?access_mode=read_only"
    reader = subprocess.Popen(
        [sys.executable, "-c", SQLALCHEMY_READER, url, json.dumps(queries), str(stop)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert reader.stdout.readline().strip() == "ready"
        result = materialize(
            [*all_assets, *all_checks], resources={"warehouse": warehouse}, raise_on_error=False
        )
        assert result.success
    finally:
        stop.touch()
        output, _ = reader.communicate(timeout=120)
    report = json.loads(output)
    assert report["errors"] == []
    assert report["write_refused"]  # read-only for real
    new_id = published(warehouse, "SELECT publish_id FROM publish_log ORDER BY published_at DESC LIMIT 1")[0][
        0
    ]
    assert report["seen"] == sorted({old_id, new_id})  # it read during the run, then the new publication
    assert report["rounds"] >= 3


def published_marts_content(warehouse: WarehouseResource) -> dict[str, list[tuple]]:
    return {m.name: published(warehouse, f"SELECT * FROM {m.name} ORDER BY ALL") for m in MARTS}


def test_rerunning_everything_on_the_same_landing_data_rebuilds_identical_marts(warehouse):
    before = published_marts_content(warehouse)
    # The whole job again, everything recomputed and republished: the same marts.
    rebuilt = materialize_all(forced_rebuild(warehouse))
    recomputed = {
        e.event_specific_data.materialization.metadata["recomputed"].value
        for e in rebuilt.get_asset_materialization_events()
        if "recomputed" in e.event_specific_data.materialization.metadata
    }
    assert recomputed == {True}
    assert published(warehouse, "SELECT count(*) FROM publish_log") == [(2,)]
    assert published_marts_content(warehouse) == before

    # One mart re-materialized on its own (as from the UI), forced, rebuilds the same rows.
    economics = next(
        a for a in all_assets if ["marts", "account_month_economics"] in [k.path for k in a.keys]
    )
    sql = "SELECT * FROM marts.account_month_economics ORDER BY ALL"
    with duckdb.connect(str(warehouse.working_db_path), read_only=True) as con:
        built = con.execute(sql).fetchall()
    forced = forced_rebuild(warehouse)
    assert materialize([economics], resources={"warehouse": forced}).success
    with duckdb.connect(str(warehouse.working_db_path), read_only=True) as con:
        assert con.execute(sql).fetchall() == built == before["account_month_economics"]
