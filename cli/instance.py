"""The project's one Dagster instance, shared by the run command, the UI and its daemon.

``$DAGSTER_HOME`` (default ``.dagster_home/`` at the repository root) holds the run history, the
asset materializations with their row counts, the check results, the run queue and the
concurrency pools. Sharing it is what lets the UI show the runs of ``python -m cli.run``,
and what lets a command-line run take its turn behind a UI run instead of meeting it on the
DuckDB file.

    python -m cli.instance    # prepare $DAGSTER_HOME and print its path (scripts/ee ui)
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Dagster is imported only where an instance is used: printing the path is fast
    from dagster import DagsterInstance
    from dagster._core.storage.dagster_run import DagsterRun

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DAGSTER_HOME = REPO / ".dagster_home"
PROJECT_SETTINGS = REPO / "config" / "dagster.yaml"

# Tag of every command-line run: where its process lives, so that a run left behind by a killed
# process is recognised and does not hold every later run back.
COMMAND_LINE_TAG = "ee/command_line"
QUEUE_DAEMON = "QUEUED_RUN_COORDINATOR"
# The daemon posts a heartbeat every 30 s; older than this, it is taken to be stopped.
DAEMON_ALIVE_SECONDS = 90
POLL_SECONDS = 2.0


def dagster_home() -> Path:
    """``$DAGSTER_HOME`` or the default, absolute (as Dagster requires) and ready to use.

    The default home gets the project's ``config/dagster.yaml`` on every start, so it follows
    that file. A home of your own gets it only when it has no ``dagster.yaml``: a deployment's own
    settings (storage, run launcher) are kept.
    """
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).absolute()
    home.mkdir(parents=True, exist_ok=True)
    settings, project = home / "dagster.yaml", PROJECT_SETTINGS.read_text()
    if not settings.exists() or (home == DEFAULT_DAGSTER_HOME and settings.read_text() != project):
        partial = home / "dagster.yaml.partial"
        partial.write_text(project)
        partial.replace(settings)  # atomic: a UI run starting now reads the old file or the new one
    return home


def command_line_tags() -> dict[str, str]:
    return {COMMAND_LINE_TAG: f"{socket.gethostname()}:{os.getpid()}"}


def wait_for_turn(instance: DagsterInstance, say: Callable[[str], None] = print) -> None:
    """Return once no other run of ``instance`` is in progress or queued to start.

    The run command executes in its own process rather than through the queue, so that it works
    without the daemon; this wait is what puts it behind a UI, schedule or sensor run. Once it
    runs, the daemon counts it as in progress and holds the queue until it ends. (The
    ``duckdb_warehouse`` pool serialises the steps of all runs regardless, should a queued run
    start in the moment between this check and the run's start.)
    """
    announced: set[str] = set()
    while ahead := _runs_ahead(instance):
        if new := [run for run in ahead if run.run_id not in announced]:
            listed = ", ".join(f"{run.run_id[:8]} ({run.status.value.lower()})" for run in new)
            say(f"waiting for run {listed} of the Dagster instance {instance.root_directory} to end")
            announced.update(run.run_id for run in new)
        time.sleep(POLL_SECONDS)


def _runs_ahead(instance: DagsterInstance) -> list[DagsterRun]:
    """Runs in progress, and queued runs while the daemon that starts them is alive (without it
    they stay queued until the UI is next started, and then start after this run)."""
    from dagster import DagsterRunStatus, RunsFilter

    statuses = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
    heartbeat = instance.get_daemon_heartbeats().get(QUEUE_DAEMON)
    if heartbeat and time.time() - heartbeat.timestamp < DAEMON_ALIVE_SECONDS:
        statuses.append(DagsterRunStatus.QUEUED)
    runs = instance.get_runs(RunsFilter(statuses=statuses))
    return [run for run in runs if not _ended_if_abandoned(instance, run)]


def _ended_if_abandoned(instance: DagsterInstance, run: DagsterRun) -> bool:
    """A command-line run whose process is gone (killed before it could record its end) is
    marked failed and its pool slots freed: nothing else would ever end it."""
    host, _, pid = run.tags.get(COMMAND_LINE_TAG, "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
        return False
    except ProcessLookupError:
        instance.report_run_failed(run, message=f"its command-line process {pid} is gone")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        return True
    except PermissionError:  # alive, another user's
        return False


if __name__ == "__main__":
    print(dagster_home())
