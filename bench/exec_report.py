"""What the executive report costs: build time and size on disk, for one warehouse.

    bash scripts/ee python -m bench.exec_report <warehouse> [--repeats 5]

Each round copies the current publication's inputs of the report (its Parquet files,
``publish_log.parquet``, ``quality.json``) to a scratch folder and builds the report there in a
fresh Python process, imports included (matplotlib's is part of the cost, as in a run). Prints
the median [min–max] wall time and the report's size; compare with the pipeline's time at the
same scale (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUILD = "import sys; from pathlib import Path; from pipelines.report import build_report; build_report(Path(sys.argv[1]))"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.exec_report")
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    publication = (args.warehouse / "current").resolve()
    seconds, size = [], 0
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.repeats):
            folder = Path(scratch) / f"p{round_}"
            shutil.copytree(publication / "parquet", folder / "parquet")
            for name in ("publish_log.parquet", "quality.json"):
                if (publication / name).exists():
                    shutil.copy(publication / name, folder / name)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", BUILD, str(folder)], check=True)
            seconds.append(time.perf_counter() - started)
            size = sum(p.stat().st_size for p in (folder / "report").iterdir())
            shutil.rmtree(folder)
    print(
        f"{publication.name}: build {statistics.median(seconds):.2f} s "
        f"[{min(seconds):.2f}–{max(seconds):.2f}] over {len(seconds)} runs; report {size / 1e6:.2f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
