"""The layout shows the architecture: each top-level package is one layer, imports point down.

cli/, sample/        the command line; the sample generator
assets/              the Dagster wiring: assets, checks, jobs, schedule, sensor, resources
pipelines/           the engine: contract, ingestion, staging, SQL runner, publication (no Dagster)
sql/, expectations/  the rules themselves (SQL models and checks, expectation suites)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Which packages each layer may import, besides third-party libraries (Dagster is third-party
# but named: the engine must not import it).
ALLOWED = {
    "pipelines": {"pipelines"},
    "sample": {"sample", "pipelines"},
    "assets": {"assets", "pipelines", "dagster", "dagster_duckdb"},
    "cli": {"cli", "assets", "pipelines", "sample", "dagster"},
}
PROJECT = {"pipelines", "assets", "cli", "sample", "bench", "tests", "dagster", "dagster_duckdb"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & PROJECT


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below_it(layer):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) - ALLOWED[layer])
        for path in sorted((ROOT / layer).rglob("*.py"))
    }
    assert {file: names for file, names in wrong.items() if names} == {}


def test_the_checker_sees_a_wrong_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import dagster\nfrom assets.resources import WarehouseResource\nimport duckdb\n")
    assert imported_packages(module) - ALLOWED["pipelines"] == {"assets", "dagster"}
