"""The analysts' baselines of the benchmark compute what the marts compute (on the golden data)."""

from __future__ import annotations

import pytest

from assets.resources import WarehouseResource
from bench.pandas_baseline import COMPARED, Extracts, both_marts, compare
from tests.conftest import materialize_all
from tests.golden_fixture import golden_warehouse


def pandas_marts(landing, out_dir) -> None:
    economics, movements = both_marts(Extracts(landing))
    economics.to_parquet(out_dir / "account_month_economics.parquet")
    movements.to_parquet(out_dir / "mrr_movements.parquet")


def polars_marts(landing, out_dir) -> None:
    from bench.polars_baseline import both_marts as lazy_marts

    economics, movements = lazy_marts(landing)
    economics.write_parquet(out_dir / "account_month_economics.parquet")
    movements.write_parquet(out_dir / "mrr_movements.parquet")


@pytest.fixture(scope="module")
def golden(tmp_path_factory) -> WarehouseResource:
    warehouse = golden_warehouse(tmp_path_factory.mktemp("golden"))
    materialize_all(warehouse)
    return warehouse


@pytest.mark.parametrize("write_marts", [pandas_marts, polars_marts], ids=["pandas", "polars"])
def test_an_analyst_baseline_agrees_with_the_published_marts_on_the_golden_data(
    golden, write_marts, tmp_path
):
    write_marts(golden.landing_path, tmp_path)
    rows = compare(golden.published_db_path, tmp_path)
    assert len(rows) == sum(len(columns) for columns in COMPARED.values())
    assert [r for r in rows if r["account_months_differing"]] == []
    theirs = {(r["mart"], r["column"]): r["theirs"] for r in rows}
    assert theirs["account_month_economics", "revenue"] > 0 and theirs["mrr_movements", "new"] > 0


def test_the_floor_builds_every_mart_the_pipeline_builds_on_the_golden_data(golden, tmp_path):
    """The benchmark's floor (``bench.tasks.floor``: the pipeline's own ingestion, staging and
    models in one connection) must keep up with the pipeline's tables, or the ratio it serves
    compares against a run that fails (as it did when the month-end close added its tables)."""
    import duckdb

    from bench.tasks import floor

    outcome = floor(str(golden.landing_path), str(tmp_path / "floor.duckdb"))
    assert set(outcome["stages"]) == {"ingest", "staging", "sql_models"}
    with duckdb.connect(str(tmp_path / "floor.duckdb"), read_only=True) as con:
        con.execute(f"ATTACH '{golden.working_db_path}' AS pipeline (READ_ONLY)")
        marts = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'pipeline' AND schema_name = 'marts'"
        ).fetchall()]  # fmt: skip
        assert len(marts) >= 13
        for mart in marts:
            for a, b in (("marts", "pipeline.marts"), ("pipeline.marts", "marts")):
                extra = con.execute(
                    f"SELECT count(*) FROM (FROM {a}.{mart} EXCEPT ALL FROM {b}.{mart})"
                ).fetchone()[0]
                assert extra == 0, f"{mart}: {extra} rows of {a} not in {b}"
