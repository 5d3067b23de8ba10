"""The run command and the UI share one Dagster instance, and take turns on the warehouse.

- ``python -m cli.run`` records its run, with row counts and check results, in
  ``$DAGSTER_HOME`` (the instance ``bash scripts/ee ui`` serves), and starts only once a run of
  that instance in progress has ended;
- it waits for queued runs while the daemon that starts them is alive, not when it is stopped
  (they would never start); a run left behind by a killed command-line process is marked failed.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from dagster import AssetCheckKey, AssetKey, DagsterInstance, DagsterRunStatus
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteRepositoryOrigin
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.dagster_run import DagsterRun
from dagster._daemon.types import DaemonHeartbeat

from cli import instance as project_instance
from cli import run as run_command
from cli.instance import COMMAND_LINE_TAG, QUEUE_DAEMON, wait_for_turn
from tests.golden_fixture import write_golden_landing

MART = AssetKey(["marts", "account_month_economics"])
MART_CHECKS = ("grain_is_unique", "reconciles_with_staging", "expectation_suite")
# Where a UI run of the `everything` job comes from (a queued run must say).
UI_LOCATION = RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("assets.definitions"), "__repository__")
UI_JOB = UI_LOCATION.get_job_origin("everything")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setattr(project_instance, "POLL_SECONDS", 0.1)
    return home


def add_run(instance: DagsterInstance, status: DagsterRunStatus, **tags: str) -> DagsterRun:
    """A run record as the UI leaves it (no process behind it)."""
    return instance.add_run(
        DagsterRun(job_name="everything", status=status, tags=tags, remote_job_origin=UI_JOB)
    )


def in_thread(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_the_run_command_waits_for_a_run_in_progress_then_records_its_run_in_the_instance(
    home, tmp_path, monkeypatch, capsys
):
    write_golden_landing(tmp_path / "landing")
    monkeypatch.setenv("EE_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("EE_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # a home of your own: kept
    ui_run = add_run(DagsterInstance.get(), DagsterRunStatus.STARTED)
    said_waiting = threading.Event()

    def wait_and_tell(instance: DagsterInstance) -> None:
        wait_for_turn(instance, say=lambda text: (print(text), said_waiting.set()))

    def end_the_ui_run_once_waited_for() -> None:
        said_waiting.wait(timeout=120)
        DagsterInstance.get().report_run_canceled(ui_run)

    monkeypatch.setattr(run_command, "wait_for_turn", wait_and_tell)
    ending = in_thread(end_the_ui_run_once_waited_for)
    assert run_command.main([]) == 0
    ending.join()

    out = capsys.readouterr().out
    assert f"waiting for run {ui_run.run_id[:8]} (started)" in out
    assert out.index("waiting for run") < out.index("running the pipeline")
    assert (home / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"
    instance = DagsterInstance.get()
    (run,) = [r for r in instance.get_runs() if r.run_id != ui_run.run_id]
    assert run.status == DagsterRunStatus.SUCCESS
    assert run.tags[COMMAND_LINE_TAG].endswith(f":{os.getpid()}")
    assert f"dagster run:     {run.run_id} in {home}" in out
    ui_ended = instance.get_run_record_by_id(ui_run.run_id).end_time
    assert instance.get_run_record_by_id(run.run_id).start_time >= ui_ended
    materialization = instance.get_latest_materialization_event(MART)
    assert materialization.run_id == run.run_id
    assert materialization.asset_materialization.metadata["dagster/row_count"].value == 16
    for name in MART_CHECKS:
        check = instance.get_latest_asset_check_evaluation_record(AssetCheckKey(MART, name))
        assert (check.run_id, check.status) == (run.run_id, AssetCheckExecutionRecordStatus.SUCCEEDED)


def test_the_default_home_gets_the_project_settings(monkeypatch, tmp_path):
    monkeypatch.delenv("DAGSTER_HOME")
    monkeypatch.setattr(project_instance, "DEFAULT_DAGSTER_HOME", tmp_path / ".dagster_home")
    (tmp_path / ".dagster_home").mkdir()
    (tmp_path / ".dagster_home" / "dagster.yaml").write_text("an old copy\n")
    home = project_instance.dagster_home()
    assert home == tmp_path / ".dagster_home"
    settings = (home / "dagster.yaml").read_text()
    assert settings == project_instance.PROJECT_SETTINGS.read_text()
    assert "max_concurrent_runs: 1" in settings and "nux:\n  enabled: false" in settings


def test_queued_runs_are_waited_for_only_while_the_daemon_is_alive(home):
    instance = DagsterInstance.from_config(str(project_instance.dagster_home()))
    queued = add_run(instance, DagsterRunStatus.QUEUED)
    wait_for_turn(instance)  # no daemon: the queued run would never start, so it does not block

    instance.add_daemon_heartbeat(DaemonHeartbeat(time.time(), QUEUE_DAEMON, "daemon", None))
    messages: list[str] = []
    waiting = in_thread(lambda: wait_for_turn(instance, say=messages.append))
    time.sleep(1)
    assert waiting.is_alive()
    assert messages == [
        f"waiting for run {queued.run_id[:8]} (queued) of the Dagster instance {instance.root_directory} to end"
    ]
    instance.report_run_canceled(queued)
    waiting.join(timeout=10)
    assert not waiting.is_alive()


def test_a_run_left_by_a_killed_command_line_process_is_marked_failed_and_not_waited_for(home):
    instance = DagsterInstance.from_config(str(project_instance.dagster_home()))
    gone = subprocess.Popen(["true"])
    gone.wait()
    this_process = project_instance.command_line_tags()[COMMAND_LINE_TAG]
    host = this_process.rpartition(":")[0]
    left_behind = add_run(instance, DagsterRunStatus.STARTED, **{COMMAND_LINE_TAG: f"{host}:{gone.pid}"})
    alive = add_run(instance, DagsterRunStatus.STARTED, **{COMMAND_LINE_TAG: this_process})

    waiting = in_thread(lambda: wait_for_turn(instance, say=lambda _: None))
    time.sleep(1)
    assert waiting.is_alive()  # behind the live one
    assert instance.get_run_by_id(left_behind.run_id).status == DagsterRunStatus.FAILURE
    instance.report_run_canceled(alive)
    waiting.join(timeout=10)
    assert not waiting.is_alive()
