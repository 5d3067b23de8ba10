"""The run's heavy imports, started in a background thread while DuckDB keeps the cores busy.

Great Expectations takes seconds to import (5-8 s on 2 cores) and matplotlib, which draws the
executive report's charts, about one more (measured at scale 10: 1.05 s of a daily run's report
step). Neither is imported when the Dagster code location loads (the UI, the sensor and the CLI
never pay for them), but by a run that has new rows to validate and publish, in a daemon thread
started by the first step that produces such rows (``import_in_background``): ingestion and the
SQL models run in DuckDB, which releases the GIL, so the imports are paid alongside.

A module must never be imported by two threads at once (seen: "partially initialized module"
errors), so whoever needs one of them waits for the thread first (``await_imports``); an error
of the background import is raised again by that caller's own import.
"""

from __future__ import annotations

import importlib
import threading

HEAVY_MODULES = ("great_expectations", "pipelines.report_charts")

_thread: threading.Thread | None = None


def _import_quietly() -> None:
    for name in HEAVY_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the caller imports it again and reports the error
            pass


def import_in_background() -> None:
    """Start importing ``HEAVY_MODULES`` in a daemon thread (once per process)."""
    global _thread
    if _thread is None:
        _thread = threading.Thread(target=_import_quietly, name="heavy-imports", daemon=True)
        _thread.start()


def await_imports() -> None:
    """Wait until the background imports, if started, are done."""
    if _thread is not None:
        _thread.join()
