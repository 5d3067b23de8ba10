"""Peak resident memory of a process and all its children, sampled while it runs."""

from __future__ import annotations

import subprocess
import threading
import time

import psutil


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
