"""Reproducible marts: the same landing files give byte-identical published marts.

The scale-1 sample (the README's) is published four ways: (a) from scratch; (b) from scratch
again; (c) from a copy in which every file has another name and the day folders sort in the
opposite order; (d) delivered as its daily drops, one run per drop, on one warehouse. Every published
mart (publish_log aside) must hold the same rows in every way: compared as tables in both
directions (EXCEPT ALL, so duplicates count), and as a hash of each Parquet export's rows.
Money is exact DECIMAL, so "the same" means equal, with no tolerance.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from assets.resources import WarehouseResource
from bench.incremental import land_next_month
from pipelines import incremental
from sample.generate import DROP_DAYS, SNAPSHOT_DAY, generate
from tests.conftest import materialization_metadata, materialize_all

pytestmark = pytest.mark.slow  # scale-1 sample: 3 full runs, 8 daily runs, 2 new-month cases of 3 runs

SCALE, SEED = 1.0, 5


def publish(landing: Path, warehouse_dir: Path) -> WarehouseResource:
    warehouse = WarehouseResource(landing_dir=str(landing), warehouse_dir=str(warehouse_dir))
    materialize_all(warehouse)
    return warehouse


def day_folders(landing: Path) -> list[Path]:
    """Every ``<source>/<table>/<day>`` folder of the generated sample."""
    return sorted(p for p in landing.glob("*/*/*") if p.is_dir())


def renamed_copy(landing: Path, target: Path) -> None:
    """Every file under another name; day folders named so that they sort in reverse order."""
    for folder in day_folders(landing):
        rank = 99999 - int(folder.name.replace("-", "")) % 99999  # later days sort first
        new_folder = target / folder.parent.relative_to(landing) / f"{rank:05d}-delivery"
        new_folder.mkdir(parents=True)
        for file in folder.iterdir():
            digest = hashlib.sha256(file.read_bytes()).hexdigest()[:12]
            shutil.copy2(file, new_folder / f"part-{digest}{file.suffix}")


def deliver(landing: Path, target: Path, through: object) -> None:
    """Copy the day folders up to and including day ``through`` (the snapshot first)."""
    for folder in day_folders(landing):
        if folder.name <= through.isoformat():
            destination = target / folder.relative_to(landing)
            if not destination.exists():
                shutil.copytree(folder, destination)


def published_tables(warehouse: WarehouseResource) -> list[str]:
    with duckdb.connect(str(warehouse.published_db_path), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
    return [n for n in names if n != "publish_log"]


def parquet_row_hashes(warehouse: WarehouseResource, mart: str) -> str:
    """An order-independent hash of the rows of one mart's Parquet export."""
    with duckdb.connect() as con:
        (digest,) = con.execute(
            f"SELECT bit_xor(hash(t)) FROM read_parquet('{warehouse.parquet_dir / mart}/*.parquet') AS t"
        ).fetchone()
        (rows,) = con.execute(
            f"SELECT count(*) FROM read_parquet('{warehouse.parquet_dir / mart}/*.parquet')"
        ).fetchone()
    return f"{rows}:{digest}"


def _differences(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, tuple[int, int]]:
    """Per table of both attached databases ``l`` and ``r``: (rows only ``l`` has, rows only
    ``r`` has), compared with EXCEPT ALL so that duplicates count; empty when identical."""
    found = {}
    for table in tables:
        only_left, only_right = (
            con.execute(f"SELECT count(*) FROM (FROM {a}.{table} EXCEPT ALL FROM {b}.{table})").fetchone()[0]
            for a, b in (("l", "r"), ("r", "l"))
        )
        if only_left or only_right:
            found[table] = (only_left, only_right)
    return found


def differences(left: WarehouseResource, right: WarehouseResource) -> dict[str, tuple[int, int]]:
    """Per published mart: (rows only left has, rows only right has); empty when identical."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{left.published_db_path}' AS l (READ_ONLY)")
        con.execute(f"ATTACH '{right.published_db_path}' AS r (READ_ONLY)")
        return _differences(con, published_tables(left))


def model_differences(left: WarehouseResource, right: WarehouseResource) -> dict[str, tuple[int, int]]:
    """The same for every model table of the working databases (intermediate and marts), the
    incremental models' tables among them."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{left.working_db_path}' AS l (READ_ONLY)")
        con.execute(f"ATTACH '{right.working_db_path}' AS r (READ_ONLY)")
        tables = con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = 'l' "
            "AND schema_name IN ('intermediate', 'marts') ORDER BY 1"
        ).fetchall()
        return _differences(con, [t for (t,) in tables])


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("repro") / "landing"
    generate(landing, SCALE, SEED)
    return landing


@pytest.fixture(scope="module")
def reference(sample, tmp_path_factory) -> WarehouseResource:
    return publish(sample, tmp_path_factory.mktemp("a") / "warehouse")


def assert_identical(reference: WarehouseResource, other: WarehouseResource) -> None:
    marts = published_tables(reference)
    assert published_tables(other) == marts
    assert len(marts) >= 13
    assert differences(reference, other) == {}
    for mart in marts:
        assert parquet_row_hashes(other, mart) == parquet_row_hashes(reference, mart), mart


def test_two_runs_from_scratch_publish_identical_marts(sample, reference, tmp_path):
    assert_identical(reference, publish(sample, tmp_path / "warehouse"))


def test_renamed_files_in_reordered_folders_publish_identical_marts(sample, reference, tmp_path):
    renamed_copy(sample, tmp_path / "landing")
    assert_identical(reference, publish(tmp_path / "landing", tmp_path / "warehouse"))


def drops_hold_late_invoices_and_deletions(landing: Path) -> tuple[int, int]:
    """(invoices re-sent by a daily drop at least three months after they were created, deleted
    accounts in the drops): the late and deleting changes the incremental path must apply."""
    drops = [day.isoformat() for day in DROP_DAYS]
    with duckdb.connect() as con:
        (late,) = con.execute(
            "SELECT count(*) FROM read_parquet(?, filename = true) "
            "WHERE created_at < CAST(regexp_extract(filename, '(\\d{4}-\\d{2}-\\d{2})', 1) AS DATE) - INTERVAL 3 MONTH",
            [[str(p) for d in drops for p in (landing / "billing" / "invoices" / d).glob("*.parquet")]],
        ).fetchone()
        (deleted,) = con.execute(
            "SELECT count(*) FROM read_csv(?, all_varchar = true) WHERE lower(is_deleted) = 'true'",
            [[str(p) for d in drops for p in (landing / "crm" / "accounts" / d).glob("*.csv")]],
        ).fetchone()
    return late, deleted


def test_daily_drops_one_run_each_publish_the_marts_of_one_full_run(sample, reference, tmp_path):
    """The incremental path (key merge, versions, incremental models, reused checks, carried-over
    marts) on every drop, late re-sent invoices and deletions included, ends where one full run
    over all files does: the published marts, and every model table of the working database."""
    late, deleted = drops_hold_late_invoices_and_deletions(sample)
    assert late > 0 and deleted > 0
    landing, warehouse_dir = tmp_path / "landing", tmp_path / "warehouse"
    for through in (SNAPSHOT_DAY, *DROP_DAYS):
        deliver(sample, landing, through)
        warehouse = publish(landing, warehouse_dir)
    assert_identical(reference, warehouse)
    assert model_differences(reference, warehouse) == {}


@pytest.fixture(scope="module")
def next_month(sample, reference, tmp_path_factory) -> tuple[Path, date, Path, WarehouseResource]:
    """(landing, its first day, history, full): the sample with the first drop of the next
    month landed; a copy of the reference's warehouse (the sample published before that drop: the
    history a daily run starts from, which the daily-drops test shows equal to one built drop by
    drop); and one full run over the landing, where the daily run must end. Shared by both ways of
    recomputing the new month."""
    root = tmp_path_factory.mktemp("next_month")
    landing, history = root / "landing", root / "history"
    shutil.copytree(sample, landing)
    shutil.copytree(reference.warehouse_dir, history, symlinks=True)  # the publications' relative links
    first_day = land_next_month(landing, DROP_DAYS[-1].isoformat())
    return landing, first_day, history, publish(landing, root / "full")


@pytest.mark.parametrize("by_key", [False, True], ids=["most-keys-touched-in-full", "forced-by-key"])
def test_the_first_drop_of_a_new_month_publishes_the_marts_of_one_full_run(
    next_month, tmp_path, monkeypatch, by_key
):
    """A drop dated in the next month moves ``as_of_month``: it touches every line's revenue,
    every account's MRR, receivables and spine, so those models are rebuilt in full (more than
    ``FULL_BUILD_SHARE`` of their keys). Forced by key, the key set is far larger than one DuckDB
    row group. (It once came out empty there: the new month's revenue was missing and the
    reconciliation check stopped the run.)"""
    if by_key:
        monkeypatch.setattr(incremental, "FULL_BUILD_MIN_KEYS", float("inf"))
    landing, first_day, history, full = next_month
    shutil.copytree(history, tmp_path / "daily", symlinks=True)
    daily = WarehouseResource(landing_dir=str(landing), warehouse_dir=str(tmp_path / "daily"))
    result = materialize_all(daily)
    assert materialization_metadata(result, ["raw", "billing__transactions"])["files_loaded"] == 1
    revenue = materialization_metadata(result, ["intermediate", "int_revenue_by_line_month"])
    assert revenue["recompute"] == ("incremental" if by_key else "full")
    assert ("recompute_reason" in revenue) is not by_key
    with duckdb.connect(str(daily.working_db_path), read_only=True) as con:
        assert con.execute("SELECT as_of_month FROM intermediate.int_periods").fetchone()[0] == first_day
    assert_identical(full, daily)
    assert model_differences(full, daily) == {}
