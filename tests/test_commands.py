"""`bash scripts/ee` as a newcomer uses it: help, `sql` on the published marts, `python`.

The script is run for real with bash; only ``uv`` is a stand-in (on ``PATH``, reporting the
pinned version) that runs its command with this interpreter, so no network and no ``.venv/``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli import run as run_command
from tests.golden_fixture import write_golden_landing

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "ee"
SUBCOMMANDS = ("run", "close", "reopen", "test", "ui", "bench", "sql", "python", "lint")
# How the code reads a variable: os.environ.get / os.environ[...] / os.getenv in Python, ${...} in bash.
PYTHON_READ = re.compile(r"""(?:environ\.get\(|environ\[|getenv\()\s*["'](EE_[A-Z_]+)""")
BASH_READ = re.compile(r"\$\{(EE_[A-Z_]+)")


def variables_read(*globs: str, pattern: re.Pattern) -> set[str]:
    return {name for glob in globs for path in REPO.glob(glob) for name in pattern.findall(path.read_text())}


@pytest.fixture(scope="module")
def fake_uv(tmp_path_factory) -> Path:
    """A ``uv`` that reports the pinned version, syncs nothing and runs ``uv run --<options> CMD``
    as CMD with this interpreter as ``python``. Each call is logged to ``calls.log``."""
    folder = tmp_path_factory.mktemp("fake_uv")
    version = re.search(r"^UV_VERSION=(\S+)$", SCRIPT.read_text(), flags=re.MULTILINE).group(1)
    (folder / "python").write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    (folder / "python").chmod(0o755)
    uv = folder / "uv"
    uv.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$*" >> {folder}/calls.log\n'
        'case "$1" in\n'
        f"  --version) echo 'uv {version}' ;;\n"
        '  run) shift; while [[ "$1" == --* ]]; do shift; done; exec "$@" ;;\n'
        "esac\n"
    )
    uv.chmod(0o755)
    return folder


def ee(fake_uv: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": f"{fake_uv}:{os.environ['PATH']}", **env}
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=environment, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """The warehouse folder of one run on the golden landing folder."""
    root = tmp_path_factory.mktemp("published")
    write_golden_landing(root / "landing")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EE_LANDING_DIR", str(root / "landing"))
        patch.setenv("EE_WAREHOUSE_DIR", str(root / "warehouse"))
        assert run_command.main([]) == 0
    return root / "warehouse"


@pytest.mark.parametrize("flag", ["help", "--help", "-h"])
def test_help_lists_every_command_and_every_variable_the_code_reads_without_setting_up(fake_uv, flag):
    (fake_uv / "calls.log").unlink(missing_ok=True)
    completed = ee(fake_uv, flag)
    assert completed.returncode == 0, completed.stderr
    for command in SUBCOMMANDS:
        assert re.search(rf"^  {command}\s", completed.stdout, flags=re.MULTILINE), command
    read = variables_read(
        "pipelines/*.py", "assets/*.py", "cli/*.py", "sample/*.py", "tests/*.py", pattern=PYTHON_READ
    )
    read |= variables_read("scripts/ee", pattern=BASH_READ)
    assert {"EE_LANDING_DIR", "EE_SENSOR_INTERVAL_SECONDS", "EE_SAMPLE_SCALE", "EE_UI_PORT"} <= read
    for variable in read | {"DAGSTER_HOME"}:
        assert re.search(rf"^  {variable}\s", completed.stdout, flags=re.MULTILINE), variable
    for default in ("data/landing", "data/warehouse", "USD", "3000", ".dagster_home/"):
        assert default in completed.stdout
    assert not (fake_uv / "calls.log").exists()  # help is instant: no uv, no sync


def test_an_unknown_command_prints_the_help_and_fails(fake_uv):
    completed = ee(fake_uv, "rnu")
    assert completed.returncode == 2
    assert "unknown command: rnu" in completed.stderr and "commands:" in completed.stderr


def test_run_help_is_the_run_commands_help_with_its_environment_variables(fake_uv):
    completed = ee(fake_uv, "run", "--help")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: python -m cli.run")
    pipeline_reads = variables_read("pipelines/*.py", "assets/*.py", pattern=PYTHON_READ)
    for variable in pipeline_reads | {"EE_SAMPLE_SCALE", "DAGSTER_HOME"}:
        assert re.search(rf"^  {variable}\s", completed.stdout, flags=re.MULTILINE), variable


def test_close_refuses_a_malformed_request_before_running_anything(fake_uv, tmp_path):
    completed = ee(fake_uv, "close", "2025-13", "--reason", "x", EE_WAREHOUSE_DIR=str(tmp_path / "w"))
    assert completed.returncode == 2
    assert "month '2025-13': expected YYYY-MM" in completed.stderr
    missing = ee(fake_uv, "reopen", "2025-01", EE_WAREHOUSE_DIR=str(tmp_path / "w"))
    assert missing.returncode == 2 and "reopen 2025-01: a reason is required" in missing.stderr
    assert not (tmp_path / "w").exists()


def test_close_runs_publishes_and_says_what_is_closed(tmp_path, monkeypatch, capsys):
    write_golden_landing(tmp_path / "landing")
    monkeypatch.setenv("EE_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("EE_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    assert run_command.main(["--close", "2025-02", "--reason", "February signed off"]) == 0
    assert "months:          closed through 2025-02, pending restatements 0" in capsys.readouterr().out


def test_sql_queries_the_published_marts_and_lists_them_without_a_query(fake_uv, published):
    query = "select account_id, count(*) as months from account_month_economics group by 1 order by 1"
    completed = ee(fake_uv, "sql", query, EE_WAREHOUSE_DIR=str(published))
    assert completed.returncode == 0, completed.stderr
    assert re.search(r"│ A1 +│ +\d+ │", completed.stdout), completed.stdout
    assert "unattributed:" in completed.stdout  # the pseudo-accounts are in the mart

    listed = ee(fake_uv, "sql", EE_WAREHOUSE_DIR=str(published))
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"│ account_month_economics +│ +16 │", listed.stdout), listed.stdout
    assert "publish_log" in listed.stdout


def test_sql_refuses_to_write_and_says_where_nothing_is_published(fake_uv, published, tmp_path):
    before = (published / "marts.duckdb").resolve().read_bytes()
    for statement in ("delete from retention", "create table x as select 1", "drop table publish_log"):
        completed = ee(fake_uv, "sql", statement, EE_WAREHOUSE_DIR=str(published))
        assert completed.returncode == 1 and "read-only" in completed.stderr, completed.stderr
    assert (published / "marts.duckdb").resolve().read_bytes() == before

    nothing = ee(fake_uv, "sql", "select 1", EE_WAREHOUSE_DIR=str(tmp_path / "empty"))
    assert nothing.returncode == 1 and "run `bash scripts/ee run` first" in nothing.stderr


def test_python_is_the_locked_interpreter_on_the_project_instance(fake_uv, tmp_path):
    home = tmp_path / "home"
    code = "import os, polars, sys; print(sys.executable, polars.__version__, os.environ['DAGSTER_HOME'])"
    completed = ee(fake_uv, "python", "-c", code, DAGSTER_HOME=str(home))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == [sys.executable, __import__("polars").__version__, str(home)]
    assert (home / "dagster.yaml").exists()  # prepared as for `ui`
