"""Measuring a command: its wall time and the peak resident memory of its process tree, and the
spread of a figure over repeated runs. Shared by ``bench.run`` and ``bench.compare_revisions``."""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
from dataclasses import dataclass

import psutil

GB = 1e9  # memory is reported in GB = 10^9 bytes


class PeakTreeRss:
    """Samples the RSS of ``process`` and its descendants every 0.1 s from ``start()`` to
    ``stop()``; ``peak`` is the largest sum seen, in bytes. A child that ends between two
    samples is missed, so the figure is a lower bound (at 0.1 s, a close one)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        root = psutil.Process(self.process.pid)
        while not self._done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.1)

    def start(self) -> PeakTreeRss:
        self._thread.start()
        return self

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str | None  # None when it went to a file
    seconds: float  # wall time, process start included
    peak_rss_bytes: int


def run_measured(command: list[str], cwd, env: dict | None = None, stderr=subprocess.PIPE) -> Measured:
    """Run ``command`` to its end, sampling its process tree's memory all the while."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    sampler = PeakTreeRss(process).start()
    stdout, err = process.communicate()
    wall = time.perf_counter() - started
    return Measured(process.returncode, stdout, err, wall, sampler.stop())


def spread(values: list[float]) -> dict:
    """Median, min and max of repeated measurements of one figure."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}
