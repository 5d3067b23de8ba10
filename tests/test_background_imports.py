"""The run's heavy imports (``pipelines.background_imports``), each probed in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from pipelines.background_imports import HEAVY_MODULES

PROBE = textwrap.dedent(
    """
    import json, sys
    import assets.definitions  # what the UI, the sensor and the CLI load
    from pipelines.background_imports import HEAVY_MODULES, await_imports, import_in_background
    loaded = [name in sys.modules for name in HEAVY_MODULES]
    import_in_background()
    await_imports()
    print(json.dumps([loaded, [name in sys.modules for name in HEAVY_MODULES]]))
    """
)


def test_the_code_location_loads_without_the_heavy_modules_and_a_run_imports_them_in_the_background():
    completed = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    before, after = json.loads(completed.stdout.strip().splitlines()[-1])
    assert set(HEAVY_MODULES) == {"great_expectations", "pipelines.report_charts"}
    assert before == [False, False]  # the definitions import neither GE nor matplotlib
    assert after == [True, True]
