"""A run with nothing to do is not started: the run command and the daily schedule ask first.

What a complete run of the ``everything`` job records (``pipelines.up_to_date``) must say "nothing
to do" exactly while the landing folder lists the same files and the code, the settings and the
current publication are the same; any of those changed, a run starts.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from dagster import RunRequest, SkipReason, build_schedule_context

from assets.automation import daily_schedule
from assets.resources import WarehouseResource
from pipelines.publish import current_publication
from tests.golden_fixture import land_a_late_ticket, write_golden_landing
from tests.test_run_cli import run_command

pytestmark = pytest.mark.slow  # six runs of the run command on the golden fixture, ~3 min
PUBLICATION = re.compile(r"publication (\d{8}T\d{6}Z-\w+);")


def ran(landing: Path, warehouse_dir: Path, *args: str) -> str:
    completed = run_command(landing, warehouse_dir, *args)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout


def schedule_tick(warehouse: WarehouseResource) -> RunRequest | SkipReason:
    with build_schedule_context(resources={"warehouse": warehouse}) as context:
        return daily_schedule(context)


def test_nothing_new_starts_no_run_and_a_touched_or_new_file_starts_one(tmp_path):
    landing, warehouse_dir = tmp_path / "landing", tmp_path / "warehouse"
    write_golden_landing(landing)
    warehouse = WarehouseResource(landing_dir=str(landing), warehouse_dir=str(warehouse_dir))
    assert warehouse.nothing_to_do() is None and isinstance(schedule_tick(warehouse), RunRequest)
    first = PUBLICATION.search(ran(landing, warehouse_dir))[1]

    assert warehouse.nothing_to_do() == first
    assert isinstance(schedule_tick(warehouse), SkipReason)
    skipped = ran(landing, warehouse_dir)
    assert skipped.startswith(f"nothing new: publication {first} is the result of the files in {landing}")
    assert "this run:" not in skipped

    # Settings that change numbers, or a forced rebuild: there is work to do. The weights file
    # counts by its content: a copy elsewhere is the same setting, an edited copy is not.
    def configured(**settings) -> WarehouseResource:
        return WarehouseResource(**{**warehouse.model_dump(), **settings})

    assert configured(reporting_currency="EUR").nothing_to_do() is None
    assert configured(full_rebuild=True).nothing_to_do() is None
    weights = Path(warehouse.engagement_weights_file).read_text()
    copy = tmp_path / "weights.yml"
    copy.write_text(weights)
    assert configured(engagement_weights_file=str(copy)).nothing_to_do() == first
    copy.write_text(weights + "\n# edited\n")
    assert configured(engagement_weights_file=str(copy)).nothing_to_do() is None

    # A file touched (same content, new time stamp): a run starts, finds nothing changed, and
    # records the new listing; the next one is skipped again.
    path = landing / "crm/accounts/d/accounts.csv"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert warehouse.nothing_to_do() is None and isinstance(schedule_tick(warehouse), RunRequest)
    touched = ran(landing, warehouse_dir)
    assert re.search(
        r"^this run: +models recomputed 0 of \d+; check results reused (\d+) of \1; nothing changed: no new publication$",
        touched,
        flags=re.MULTILINE,
    )
    assert warehouse.nothing_to_do() == first

    # A new file: a run, a new publication, recorded in turn.
    land_a_late_ticket(landing)
    assert warehouse.nothing_to_do() is None
    second = PUBLICATION.search(ran(landing, warehouse_dir))[1]
    assert second != first and warehouse.nothing_to_do() == second

    # A publication whose report is missing (a run that failed after publishing): a run starts.
    shutil.rmtree(current_publication(warehouse_dir) / "report")
    assert warehouse.nothing_to_do() is None


def test_a_close_is_followed_by_a_run_that_serves_the_months_it_froze(tmp_path):
    """A close or reopen is never recorded as a state the next run would reach again: the run
    after it serves the closed months from the frozen rows, a new publication."""
    landing, warehouse_dir = tmp_path / "landing", tmp_path / "warehouse"
    write_golden_landing(landing)
    warehouse = WarehouseResource(landing_dir=str(landing), warehouse_dir=str(warehouse_dir))
    ran(landing, warehouse_dir, "--close", "2025-02", "--reason", "signed off")
    assert warehouse.nothing_to_do() is None
    serving = ran(landing, warehouse_dir)
    assert "this run:" in serving and "; new publication" in serving
    assert warehouse.nothing_to_do() == PUBLICATION.search(serving)[1]
