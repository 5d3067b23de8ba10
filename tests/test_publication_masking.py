"""Personal data masking (contract revision 2): an e-mail-like value in any published text column
is published as ``[redacted]`` and counted in ``publish_log.redactions``; the other marts publish."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from assets.definitions import sql_models
from assets.resources import WarehouseResource
from pipelines.closing import LEDGER_TABLES
from pipelines.publish import REDACTED, PublishError, publish
from pipelines.sql_models import SqlModel
from tests.conftest import materialize_all, write
from tests.golden_fixture import write_golden_landing

MARTS = [m for m in sql_models.values() if m.layer == "marts"]


def published(warehouse_dir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse_dir / "marts.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_an_email_in_an_account_name_is_masked_in_any_case_and_every_mart_publishes(tmp_path):
    landing, warehouse_dir = tmp_path / "landing", tmp_path / "warehouse"
    write_golden_landing(landing)
    # Later versions of two CRM accounts: a name that is an address in upper case, and one that
    # mentions an address in lower case. Before revision 2 the first slipped through and the
    # second refused every mart.
    write(
        landing,
        "crm/accounts/late/accounts.csv",
        "account_id,account_name,industry,country,segment,risk_tier,owner_email,created_at,is_deleted,updated_at\n"
        "A2,JOHN.DOE@EXAMPLE.COM,retail,JP,enterprise,medium,,2024-06-01T00:00:00,false,2024-07-01T00:00:00\n"
        "A3,Gamma (billing: ap@gamma.example.org),travel,KR,mid_market,high,,2024-06-01T00:00:00,false,2024-07-01T00:00:00\n",
    )
    warehouse = WarehouseResource(landing_dir=str(landing), warehouse_dir=str(warehouse_dir))
    materialize_all(warehouse)  # succeeds: the addresses withhold nothing

    names = dict(published(warehouse_dir, "SELECT account_id, account_name FROM dim_account"))
    assert names["A1"] == "Alpha" and names["A2"] == REDACTED and names["A3"] == REDACTED
    parquet = warehouse_dir / "parquet" / "dim_account" / "dim_account.parquet"
    assert dict(duckdb.sql(f"SELECT account_id, account_name FROM '{parquet}'").fetchall()) == names
    tables = {
        r[0]
        for r in published(warehouse_dir, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
    }
    assert tables == {m.name for m in [*MARTS, *LEDGER_TABLES]} | {"publish_log"}
    ((redactions,),) = published(warehouse_dir, "SELECT redactions FROM publish_log")
    assert json.loads(redactions) == {"dim_account": {"account_name": 2}}
    for table, column in published(
        warehouse_dir,
        "SELECT table_name, column_name FROM duckdb_columns() WHERE data_type = 'VARCHAR' AND schema_name = 'main' AND NOT internal",
    ):
        assert published(warehouse_dir, f"SELECT count(*) FROM {table} WHERE \"{column}\" ILIKE '%@%'") == [
            (0,)
        ], (table, column)
    # The working database keeps the source values (masking happens in the published copy only).
    with duckdb.connect(str(warehouse.working_db_path), read_only=True) as con:
        assert con.execute(
            "SELECT account_name FROM marts.dim_account WHERE account_id = 'A2'"
        ).fetchall() == [("JOHN.DOE@EXAMPLE.COM",)]


def synthetic_mart(
    con: duckdb.DuckDBPyConnection, columns: dict[str, str], rows_sql: str, name: str = "contacts"
) -> SqlModel:
    """A mart built in the working database with its contract (``columns``: name -> type)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS {rows_sql}")
    return SqlModel(
        name=name, layer="marts", path=Path(f"{name}.sql"), sql="", depends_on=(),
        grain=("id",), column_types=columns, pii_class="none",
    )  # fmt: skip


COLUMNS = {
    "id": "INTEGER",
    "note": "VARCHAR",
    "tags": "VARCHAR[]",
    "payload": "JSON",
    "contact": "STRUCT(who VARCHAR, amount DECIMAL(38,6))",
    "amount": "DECIMAL(38,6)",
}
ROWS = """
SELECT * FROM (VALUES
    (1, 'Mixed.Case@Example.COM', ['ok', 'x@y.io'], '{"to": "Bob <BOB@EXAMPLE.NET>", "n": 1.5, "q": "say \\"hi\\""}'::JSON,
        {'who': 'a@b.co', 'amount': 1.123456::DECIMAL(38,6)}, 2.5::DECIMAL(38,6)),
    (2, 'no address here @ all', ['plain'], '{"to": "nobody", "n": 2}'::JSON,
        {'who': 'someone', 'amount': 3.000001::DECIMAL(38,6)}, 7.25::DECIMAL(38,6)),
    (3, NULL, NULL, NULL, NULL, NULL)
) AS t(id, note, tags, payload, contact, amount)
"""


def test_text_inside_list_json_and_struct_columns_is_masked_and_types_survive(tmp_path):
    with duckdb.connect(str(tmp_path / "working.duckdb")) as con:
        mart = synthetic_mart(
            con,
            COLUMNS,
            f"SELECT id::INTEGER AS id, note, tags::VARCHAR[] AS tags, payload, contact, amount FROM ({ROWS})",
        )
        source = con.execute("SELECT * FROM marts.contacts ORDER BY id").fetchall()
        publication = publish(con, [mart], tmp_path / "warehouse", "x", 0, 0)
    assert publication.redactions == {"contacts": {"note": 1, "tags": 1, "payload": 1, "contact": 1}}
    with duckdb.connect(str(tmp_path / "warehouse" / "marts.duckdb"), read_only=True) as con:
        assert [(r[0], r[1]) for r in con.execute("DESCRIBE contacts").fetchall()] == list(COLUMNS.items())
        rows = con.execute("SELECT * FROM contacts ORDER BY id").fetchall()
        (log,) = con.execute("SELECT redactions FROM publish_log").fetchall()[0]
    assert json.loads(log) == publication.redactions
    first = rows[0]
    assert first[1] == REDACTED and first[2] == ["ok", REDACTED]
    assert json.loads(first[3]) == {"to": REDACTED, "n": 1.5, "q": 'say "hi"'}  # still valid JSON
    assert first[4]["who"] == REDACTED and first[4]["amount"] == source[0][4]["amount"]  # decimal exact
    assert first[5] == source[0][5]
    assert rows[1:] == source[1:]  # values without an address are published as they are
    parquet = tmp_path / "warehouse" / "parquet" / "contacts" / "contacts.parquet"
    assert duckdb.sql(f"SELECT note, tags FROM '{parquet}' ORDER BY id").fetchall()[0] == (
        REDACTED,
        ["ok", REDACTED],
    )


def test_a_contract_pii_column_still_refuses_the_publish(tmp_path):
    with duckdb.connect(str(tmp_path / "working.duckdb")) as con:
        mart = synthetic_mart(
            con, {"id": "INTEGER", "owner_email": "VARCHAR"}, "SELECT 1::INTEGER AS id, 'x' AS owner_email"
        )
        with pytest.raises(PublishError, match="personal data column"):
            publish(con, [mart], tmp_path / "warehouse", "x", 0, 0)
    assert not (tmp_path / "warehouse" / "marts.duckdb").exists()
    assert not list((tmp_path / "warehouse").glob("publications/*"))
