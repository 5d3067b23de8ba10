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
