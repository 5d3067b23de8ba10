"""The run command as a person sees it: progress per stage, then the summary table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import write
from tests.golden_fixture import write_golden_landing

STAGES = ["raw", "staging", "intermediate", "marts", "checks", "published"]


def run_command(landing: Path, warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EE_LANDING_DIR": str(landing), "EE_WAREHOUSE_DIR": str(warehouse)}
    return subprocess.run(
        [sys.executable, "-m", "cli.run", *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_the_run_command_reports_each_stage_and_ends_with_the_summary_table(tmp_path):
    write_golden_landing(tmp_path / "landing")
    completed = run_command(tmp_path / "landing", tmp_path / "warehouse")
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    out = completed.stdout
    done = re.findall(r"^\[\s*[\d.]+s\] (\w+)\s+(\d+)/(\d+)\s+done", out, flags=re.MULTILINE)
    assert sorted(stage for stage, _, _ in done) == sorted(STAGES)
    assert all(finished == total for _, finished, total in done)
    # rows; checks: grain, reconciliation, expectation suite and its warnings, pending
    # restatements; failed
    assert re.search(r"^account_month_economics\s+16\s+5\s+0$", out, flags=re.MULTILINE)
    assert re.search(r"publication \d{8}T\d{6}Z-\w+; [\d.]+s", out)
    assert f"published marts: {tmp_path / 'warehouse' / 'marts.duckdb'}" in out
    assert "Calculating Metrics" not in completed.stderr  # no progress bars from GE
    models = re.search(
        r"^this run: +models recomputed (\d+) of (\d+); check results reused 0 of \d+; new publication$",
        out,
        flags=re.MULTILINE,
    )
    assert models and models[1] == models[2] != "0"

    again = run_command(tmp_path / "landing", tmp_path / "warehouse").stdout  # nothing new landed
    publish_id = re.search(r"publication (\d{8}T\d{6}Z-\w+);", out)[1]
    assert again.startswith(f"nothing new: publication {publish_id} is the result of the files in ")
    assert "this run:" not in again  # no run started (tests/test_up_to_date.py: what starts one)


def test_a_blocking_failure_is_named_as_it_happens_and_nothing_is_published(tmp_path):
    write_golden_landing(tmp_path / "landing")
    write(
        tmp_path / "landing", "billing/invoice_line_items/late/bad.csv",
        "line_item_id,invoice_id,type,amount,currency,period_start,period_end,proration,updated_at\n"
        # A service period that ends before it starts: each value is valid on its own (ingestion
        # loads it), the row breaks a rule that only the staging suite checks.
        "L99,I1,subscription,50000,USD,2025-02-01,2025-01-01,false,2025-01-01T00:00:00\n",
    )  # fmt: skip
    completed = run_command(tmp_path / "landing", tmp_path / "warehouse")
    assert completed.returncode == 1
    assert (
        "check failed (ERROR): staging/stg_billing__invoice_line_items:expectation_suite" in completed.stdout
    )
    assert "run failed: nothing was published" in completed.stdout
    assert not (tmp_path / "warehouse" / "marts.duckdb").exists()
