"""The analyst baseline of the benchmark computes what the marts compute (on the golden data)."""

from __future__ import annotations

from assets.resources import WarehouseResource
from bench.pandas_baseline import COMPARED, Extracts, both_marts, compare
from tests.conftest import materialize_all
from tests.golden_fixture import write_golden_landing


def test_the_pandas_baseline_agrees_with_the_published_marts_on_the_golden_data(tmp_path):
    landing = tmp_path / "landing"
    write_golden_landing(landing)
    warehouse = WarehouseResource(landing_dir=str(landing), warehouse_dir=str(tmp_path / "warehouse"))
    materialize_all(warehouse)
    economics, movements = both_marts(Extracts(landing))
    economics.to_parquet(tmp_path / "account_month_economics.parquet")
    movements.to_parquet(tmp_path / "mrr_movements.parquet")

    rows = compare(warehouse.published_db_path, tmp_path)
    assert len(rows) == sum(len(columns) for columns in COMPARED.values())
    assert [r for r in rows if r["account_months_differing"]] == []
    totals = {(r["mart"], r["column"]): r["ours"] for r in rows}
    assert totals["account_month_economics", "revenue"] > 0 and totals["mrr_movements", "new"] > 0


def test_the_lazy_polars_baseline_agrees_with_the_published_marts_on_the_golden_data(tmp_path):
    from bench.polars_baseline import both_marts as polars_marts

    landing = tmp_path / "landing"
    write_golden_landing(landing)
    warehouse = WarehouseResource(landing_dir=str(landing), warehouse_dir=str(tmp_path / "warehouse"))
    materialize_all(warehouse)
    economics, movements = polars_marts(landing)
    economics.write_parquet(tmp_path / "account_month_economics.parquet")
    movements.write_parquet(tmp_path / "mrr_movements.parquet")

    rows = compare(warehouse.published_db_path, tmp_path)
    assert len(rows) == sum(len(columns) for columns in COMPARED.values())
    assert [r for r in rows if r["account_months_differing"]] == []
    totals = {(r["mart"], r["column"]): r["theirs"] for r in rows}
    assert totals["account_month_economics", "revenue"] > 0 and totals["mrr_movements", "new"] > 0
