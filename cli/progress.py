"""Progress by stage for the command-line run: one line when a stage completes.

Dagster's console logger prints every event of every step (hundreds of lines). The run command
uses this logger instead: it counts materializations per layer (raw, staging, intermediate,
marts, published) and check evaluations, prints a line as each stage completes, and prints a
failed check or step the moment it happens.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from collections.abc import Mapping

from dagster import DagsterEventType, LoggerDefinition, logger
from dagster._core.execution.plan.objects import StepFailureData
from dagster._core.log_manager import get_log_record_metadata, has_log_record_metadata

CHECKS_STAGE = "checks"
REASON_CHARS = 1000  # a reason is one line of the progress output, not a dump


def failure_reason(failure: StepFailureData) -> str:
    """Why a step failed, in the words of the code that gave up.

    A ``Failure`` carries its own description (e.g. which file cannot be read, and why). Any
    other error is wrapped by Dagster (a step that exhausted its retries says only "Exceeded
    max_retries of 3"), so its cause chain is walked down to the original message.
    """
    if failure.user_failure_data is not None and failure.user_failure_data.description:
        reason = failure.user_failure_data.description
    else:
        messages, error = [], failure.error
        while error is not None:
            messages.append(error.message.strip())
            error = error.cause
        reason = ": ".join(m for m in messages if m)
    reason = " ".join(reason.split())
    return reason if len(reason) <= REASON_CHARS else reason[:REASON_CHARS] + "..."


class StageProgressHandler(logging.Handler):
    """Counts finished work per stage against the job's totals and reports on completion."""

    def __init__(self, totals: Mapping[str, int], stream=None):
        super().__init__()
        self.totals = dict(totals)
        self.done: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()
        self.failed_checks: Counter[str] = Counter()  # by severity: WARN reports, ERROR blocks
        self.started = time.perf_counter()
        self.stream = stream or sys.stdout

    def say(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.started:7.1f}s] {text}", file=self.stream, flush=True)

    def emit(self, record: logging.LogRecord) -> None:
        if not has_log_record_metadata(record):
            return
        event = get_log_record_metadata(record)["dagster_event"]
        if event is None:
            return
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            stage = materialization.asset_key.path[0]
            row_count = materialization.metadata.get("dagster/row_count")
            self.rows[stage] += row_count.value if row_count is not None else 0
            self._count(stage)
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            if not evaluation.passed:
                self.failed_checks[evaluation.severity.value] += 1
                self.say(f"check failed ({evaluation.severity.value}): "
                         f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")  # fmt: skip
            self._count(CHECKS_STAGE)
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            self.say(f"step failed: {event.step_key}: {failure_reason(event.step_failure_data)}")

    def _count(self, stage: str) -> None:
        self.done[stage] += 1
        if self.done[stage] == self.totals.get(stage):
            if stage == CHECKS_STAGE:
                failed = sum(self.failed_checks.values())
                detail = (f"{self.totals[stage] - failed} passed, {self.failed_checks['WARN']} failed "
                          f"non-blocking, {self.failed_checks['ERROR']} failed blocking")  # fmt: skip
            else:
                detail = f"{self.rows[stage]:,d} rows" if self.rows[stage] else ""
            self.say(f"{stage:<13s}{self.done[stage]:>4d}/{self.totals[stage]:<4d} done  {detail}".rstrip())


def stage_progress_logger(totals: Mapping[str, int]) -> LoggerDefinition:
    """A Dagster logger that reports progress against ``totals`` ({stage: steps in the job})."""

    @logger(description="One line per completed stage (command-line runs).")
    def stage_progress(_init_context) -> logging.Logger:
        progress = logging.Logger("ee.progress", level=logging.DEBUG)
        progress.addHandler(StageProgressHandler(totals))
        return progress

    return stage_progress
