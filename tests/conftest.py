"""Shared fixtures: a temporary landing folder and warehouse, and real materializations."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster import AssetSelection, ExecuteInProcessResult, materialize

from assets.ingestion import ingestion_assets, raw_key, staging_key
from assets.resources import WarehouseResource
from pipelines.contract import CURRENCIES_TABLE, table

CURRENCIES_CSV = "currency,minor_unit_exponent\nUSD,2\nEUR,2\nJPY,0\nKRW,0\n"


def write(landing: Path, relative_path: str, text: str) -> Path:
    """Write an extract file (text formats) under the landing folder."""
    path = landing / relative_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory) -> Iterator[Path]:
    """A throwaway Dagster instance for the run command in every test: runs never land in the
    project's .dagster_home/, nor wait for a job its UI is running."""
    home = tmp_path_factory.mktemp("dagster_home")
    before = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    yield home
    if before is None:
        del os.environ["DAGSTER_HOME"]
    else:
        os.environ["DAGSTER_HOME"] = before


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    write(folder, "finance/currencies/2026-01-01/currencies.csv", CURRENCIES_CSV)
    return folder


@pytest.fixture
def warehouse(tmp_path: Path, landing: Path) -> WarehouseResource:
    return WarehouseResource(landing_dir=str(landing), warehouse_dir=str(tmp_path / "warehouse"))


def ingest(warehouse: WarehouseResource, *tables: str, raise_on_error: bool = True) -> ExecuteInProcessResult:
    """Materialize the raw and staging assets of ``tables`` (``source__name``) and of currencies."""
    specs = [CURRENCIES_TABLE, *(table(*name.split("__")) for name in tables)]
    keys = [key for spec in specs for key in (raw_key(spec), staging_key(spec))]
    return materialize(
        ingestion_assets,
        selection=AssetSelection.assets(*keys),
        resources={"warehouse": warehouse},
        raise_on_error=raise_on_error,
    )


def forced_rebuild(warehouse: WarehouseResource) -> WarehouseResource:
    """The same warehouse with ``full_rebuild``: every version ignored (EE_FULL_REBUILD=1)."""
    return WarehouseResource(
        landing_dir=warehouse.landing_dir, warehouse_dir=warehouse.warehouse_dir, full_rebuild=True
    )


def query(warehouse: WarehouseResource, sql: str, exact: bool = False) -> list[tuple]:
    """Rows of ``sql`` on the working database. Money (DECIMAL) comes back as float so that
    hand-computed expectations compare with ``pytest.approx``; ``exact=True`` keeps Decimal."""
    with duckdb.connect(str(warehouse.working_db_path), read_only=True) as con:
        rows = con.execute(sql).fetchall()
    if exact:
        return rows
    return [tuple(float(v) if isinstance(v, Decimal) else v for v in row) for row in rows]


def materialization_metadata(result: ExecuteInProcessResult, key_path: list[str]) -> dict:
    """The metadata values of the materialization of one asset in ``result``."""
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.path == key_path:
            return {k: v.value for k, v in materialization.metadata.items()}
    raise KeyError(key_path)


def failure_message(result: ExecuteInProcessResult) -> str:
    """The message of the first failed step, with the messages of its causes."""
    error = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    return "\n".join(messages)


def materialize_all(warehouse: WarehouseResource) -> ExecuteInProcessResult:
    """Run the whole pipeline (ingest, models, every check, publish) and require success."""
    from assets.definitions import all_assets, all_checks

    result = materialize([*all_assets, *all_checks], resources={"warehouse": warehouse})
    assert result.success
    failed = [
        f"{e.asset_key.to_user_string()}:{e.check_name}"
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity.value == "ERROR"
    ]
    assert failed == [], failed
    return result


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with a ``slow`` test first, each module's tests in their own order.

    The suite runs on two pytest-xdist workers, one module at a time each (``--dist loadfile``,
    pyproject.toml): handing out the multi-minute modules first lets both workers end at about
    the same time instead of one waiting for the other's last long module. pytest-xdist keeps
    this order only with ``--no-loadscope-reorder`` (pyproject.toml); by default it hands out
    the modules with the most tests first, which sent the longest module, five tests, last.
    """
    slow_modules = {item.module.__name__ for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.module.__name__ not in slow_modules)  # stable: order kept within


def pytest_sessionfinish(session, exitstatus) -> None:
    session.config._ee_exitstatus = int(exitstatus)


def pytest_unconfigure(config) -> None:
    """End the test process without interpreter finalization, as the run command does.

    duckdb 2.0's bindings (nanobind) print ~40 lines of "leaked instance" at interpreter
    teardown once Great Expectations' SQLAlchemy layer has used DuckDB in the process: its
    module-level caches still hold DuckDB type objects when the extension module is finalized.
    Every connection is closed and every file written before this point; the summary and the
    exit status are pytest's own.
    """
    status = getattr(config, "_ee_exitstatus", None)
    if status is None or hasattr(config, "workerinput"):
        return  # a pytest-xdist worker ends as xdist expects: its controller is still listening
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
