"""One publication = one folder, switched in by one symlink rename; leftovers of killed publishes
are cleaned by the next publish; readers (even read-write, in another process) never fail one."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from dagster import materialize

import pipelines.publish as publish_module
from assets.definitions import all_assets, all_checks, sql_models
from assets.resources import WarehouseResource
from pipelines.publish import KEEP_PUBLICATIONS, publish
from pipelines.sql_models import use_model_schemas
from tests.conftest import materialization_metadata
from tests.golden_fixture import land_a_late_ticket, land_an_impostor_account, private_copy, publish_golden

REPO = Path(__file__).resolve().parent.parent
MARTS = [m for m in sql_models.values() if m.layer == "marts"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (links followed at the top) with its SHA-256."""
    folder = folder.resolve()
    return {p.relative_to(folder).as_posix(): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def published(warehouse_dir: Path, sql: str) -> list[tuple]:
    """A BI client: DuckDB, read-only, through the stable path ``<warehouse>/marts.duckdb``."""
    with duckdb.connect(str(warehouse_dir / "marts.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def log_ids(warehouse_dir: Path) -> list[str]:
    return [
        r[0] for r in published(warehouse_dir, "SELECT publish_id FROM publish_log ORDER BY published_at")
    ]


def publish_again(warehouse: WarehouseResource, **kwargs) -> publish_module.Publication:
    """The publish step alone, on the working database the golden run built and checked."""
    with duckdb.connect(str(warehouse.working_db_path), config={"custom_user_agent": "test"}) as con:
        use_model_schemas(con)
        return publish(con, MARTS, Path(warehouse.warehouse_dir), "x", 0, 0, **kwargs)


@pytest.fixture(scope="module")
def golden(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("golden")
    publish_golden(root)
    return root


@pytest.fixture
def warehouse(golden: Path, tmp_path: Path) -> WarehouseResource:
    return private_copy(golden, tmp_path)


def test_one_symlink_switches_the_duckdb_file_and_the_parquet_folder_together(warehouse):
    root = Path(warehouse.warehouse_dir)
    (first,) = log_ids(root)
    assert os.readlink(root / "current") == f"publications/{first}"  # relative: the folder can move
    assert os.readlink(root / "marts.duckdb") == "current/marts.duckdb"
    assert os.readlink(root / "parquet") == "current/parquet"
    before = tree_digest(root / "publications" / first)
    assert {"marts.duckdb", "publish_log.parquet", "parquet/dim_account/dim_account.parquet"} <= set(before)

    second = publish_again(warehouse)

    assert os.readlink(root / "current") == f"publications/{second.publish_id}"
    assert log_ids(root) == [first, second.publish_id]  # the history read through the old link
    assert tree_digest(root / "publications" / first) == before  # the previous folder, untouched
    parquet_log = root / "current" / "publish_log.parquet"  # the history, readable without a lock
    assert [
        r[0] for r in duckdb.sql(f"SELECT publish_id FROM '{parquet_log}' ORDER BY published_at").fetchall()
    ] == log_ids(root)
    for mart in MARTS:  # the DuckDB file and the Parquet folder are one publication
        (rows,) = published(root, f"SELECT count(*) FROM {mart.name}")[0]
        assert duckdb.sql(f"SELECT count(*) FROM '{root}/parquet/{mart.name}/*.parquet'").fetchall() == [
            (rows,)
        ]
    assert second.path == root / "marts.duckdb"


def test_the_last_publications_are_kept_and_older_ones_deleted(warehouse):
    root = Path(warehouse.warehouse_dir)
    for _ in range(4):
        publish_again(warehouse)
    history = log_ids(root)
    assert len(history) == 5
    # The publish step alone built no report: <warehouse>/report still shows the first
    # publication's page, so that publication is kept with the last ones.
    assert os.readlink(root / "report") == f"publications/{history[0]}/report"
    assert sorted(p.name for p in (root / "publications").iterdir()) == sorted(
        [history[0], *history[-KEEP_PUBLICATIONS:]]
    )


def make_old_layout(root: Path) -> str:
    """Turn a published warehouse into the layout of before this change: a regular marts.duckdb
    (log without redactions), a regular parquet folder, one report page with per-suite JSON, and
    the leftovers a killed old-layout publish left."""
    folder = (root / "current").resolve()
    for name in ("marts.duckdb", "parquet", "current", "report"):
        (root / name).unlink()
    shutil.copyfile(folder / "marts.duckdb", root / "marts.duckdb")
    shutil.copytree(folder / "parquet", root / "parquet")
    shutil.rmtree(root / "publications")
    with duckdb.connect(str(root / "marts.duckdb")) as con:
        con.execute("ALTER TABLE publish_log DROP COLUMN redactions")
        (publish_id,) = con.execute("SELECT publish_id FROM publish_log").fetchall()[0]
    validation = root / "validation"
    page = validation / "index.html"
    page.unlink()
    (validation / "suites").unlink()  # the report had no pages of its own then
    page.write_text("<h1>Expectation results (latest run of each suite)</h1>")
    (validation / "dim_account.json").write_text("{}")
    (root / ".marts.duckdb.20250101T000000Z-dead0001.tmp").write_bytes(b"half a database")
    (root / ".marts.duckdb.20250101T000000Z-dead0001.tmp.wal").write_bytes(b"wal")
    (root / ".parquet.20250101T000000Z-dead0001.tmp" / "dim_account").mkdir(parents=True)
    (root / ".parquet.20250101T000000Z-dead0002.old").mkdir()
    return publish_id


READ_WRITE_HOLDER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])  # read-write, as the DuckDB CLI opens a file by default
    print(con.execute("SELECT count(*) FROM publish_log").fetchall()[0][0], flush=True)
    sys.stdin.readline()  # hold the file (and DuckDB's per-process lock) until told
    print(con.execute("SELECT count(*) FROM publish_log").fetchall()[0][0], flush=True)
    """
)


def run_while_held_read_write(path: Path, run) -> tuple[str, str]:
    """Run ``run()`` while another process holds ``path`` open read-write; its two reads."""
    holder = subprocess.Popen(
        [sys.executable, "-c", READ_WRITE_HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = holder.stdout.readline().strip()
        run()
        holder.stdin.write("\n")
        holder.stdin.flush()
        second = holder.stdout.readline().strip()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert holder.returncode == 0
    return first, second


def test_a_read_write_reader_in_another_process_never_fails_a_publish(warehouse):
    """Nor is the held file read: the unchanged marts are copied from the working database, as
    what such a reader wrote must not reach the new publication."""
    root = Path(warehouse.warehouse_dir)
    before = tree_digest(root / "current")
    land_a_late_ticket(Path(warehouse.landing_dir))  # dim_account, for one, is unchanged
    carried = []

    def run():
        result = materialize(
            [*all_assets, *all_checks], resources={"warehouse": warehouse}, raise_on_error=False
        )
        assert result.success  # the read-write holder did not block the publication
        carried.extend(materialization_metadata(result, ["published", "marts"])["marts_carried_over"])

    assert run_while_held_read_write(root / "marts.duckdb", run) == ("1", "1")  # its snapshot
    history = log_ids(root)
    assert len(history) == 2
    assert tree_digest(root / "publications" / history[0]) == before
    assert carried == []
    old, new = (root / "publications" / publish_id / "marts.duckdb" for publish_id in history)
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{old}' AS old (READ_ONLY)")
        con.execute(f"ATTACH '{new}' AS new (READ_ONLY)")
        (rows,) = con.execute("SELECT count(*) FROM old.dim_account").fetchone()
        (same,) = con.execute(
            "SELECT count(*) FROM (FROM old.dim_account INTERSECT ALL FROM new.dim_account)"
        ).fetchone()
        assert rows > 0 and same == rows == con.execute("SELECT count(*) FROM new.dim_account").fetchone()[0]


def test_an_old_layout_warehouse_held_read_write_is_migrated_by_the_next_run(warehouse):
    root = Path(warehouse.warehouse_dir)
    old_id = make_old_layout(root)

    def run():
        result = materialize(
            [*all_assets, *all_checks], resources={"warehouse": warehouse}, raise_on_error=False
        )
        assert result.success  # the log is read from a copy when the old file is locked

    assert run_while_held_read_write(root / "marts.duckdb", run) == ("1", "1")
    new_id = log_ids(root)[-1]
    assert log_ids(root) == [old_id, new_id]
    assert published(root, "SELECT redactions::VARCHAR FROM publish_log ORDER BY published_at") == [
        (None,),
        ("{}",),
    ]
    assert os.readlink(root / "marts.duckdb") == "current/marts.duckdb"
    assert os.readlink(root / "parquet") == "current/parquet"
    assert os.readlink(root / "current") == f"publications/{new_id}"
    assert os.readlink(root / "validation" / "index.html") == "../current/validation/index.html"
    assert os.readlink(root / "validation" / "suites") == "../current/validation/suites"
    assert not list((root / "validation").glob("*.json"))
    assert os.readlink(root / "report") == f"publications/{new_id}/report"
    assert sorted(p.name for p in root.iterdir()) == sorted(
        ["current", "marts.duckdb", "parquet", "publications", "report", "validation", "working.duckdb"]
    )  # old-layout leftovers and the copied log gone
    assert [p.name for p in (root / "publications").iterdir()] == [new_id]
    assert not (root / "publications" / new_id / ".previous.duckdb").exists()


KILLED_PUBLISH = textwrap.dedent(
    """
    import sys, time, duckdb
    from pathlib import Path
    import pipelines.publish as p
    from assets.definitions import sql_models
    from pipelines.sql_models import use_model_schemas

    working, warehouse, where = sys.argv[1], Path(sys.argv[2]), sys.argv[3]

    def pause(*args):
        print("ready", flush=True)
        time.sleep(600)  # SIGKILL arrives here

    if where == "writing":
        copy = p._copy_mart

        def copy_then_pause(con, mart, folder):
            result = copy(con, mart, folder)
            pause()
            return result

        p._copy_mart = copy_then_pause
    marts = [m for m in sql_models.values() if m.layer == "marts"]
    with duckdb.connect(working) as con:
        use_model_schemas(con)
        p.publish(con, marts, warehouse, "x", 0, 0, before_switch=pause if where == "switching" else None)
    """
)


@pytest.mark.parametrize("where", ["writing", "switching"])
def test_a_publish_killed_midway_leaves_the_previous_publication_and_the_next_cleans_up(warehouse, where):
    root = Path(warehouse.warehouse_dir)
    (first,) = log_ids(root)
    before = tree_digest(root / "current")
    links = {name: os.readlink(root / name) for name in ("current", "marts.duckdb", "parquet")}
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_PUBLISH, str(warehouse.working_db_path), str(root), where],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout.readline().strip() == "ready"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    (leftover,) = [p for p in (root / "publications").iterdir() if p.name != first]  # never became current
    assert (leftover / "marts.duckdb").exists()
    assert {name: os.readlink(root / name) for name in links} == links
    assert tree_digest(root / "current") == before  # byte for byte
    assert log_ids(root) == [first]  # and readable
    assert duckdb.sql(f"SELECT count(*) FROM '{root}/parquet/dim_account/*.parquet'").fetchall()[0][0] > 0

    second = publish_again(warehouse)

    assert not leftover.exists()
    assert log_ids(root) == [first, second.publish_id]  # the killed one never counted
    assert sorted(p.name for p in (root / "publications").iterdir()) == sorted([first, second.publish_id])


def test_hand_made_leftovers_are_removed_by_the_next_publish(warehouse):
    root = Path(warehouse.warehouse_dir)
    (first,) = log_ids(root)
    never_current = root / "publications" / "20250101T000000Z-dead0001"
    (never_current / "parquet" / "dim_account").mkdir(parents=True)
    (never_current / "marts.duckdb").write_bytes(b"half")
    (root / "publications" / "20250101T000000Z-dead0002.tmp").write_bytes(b"x")
    (root / "current.tmp").symlink_to(never_current.relative_to(root))
    (root / "marts.duckdb.tmp").symlink_to("current/marts.duckdb")
    (root / "parquet.tmp").mkdir()
    (root / ".marts.duckdb.20250101T000000Z-dead0003.tmp").write_bytes(b"half")
    (root / ".marts.duckdb.20250101T000000Z-dead0003.tmp.wal").write_bytes(b"wal")
    (root / ".parquet.20250101T000000Z-dead0003.tmp").mkdir()
    unrelated = root / "notes.tmp.txt"
    unrelated.write_text("not ours")
    (root / "parquet").unlink()  # a link lost, with a folder where its temporary link goes
    (root / "parquet.tmp" / "x").mkdir()

    second = publish_again(warehouse)

    assert sorted(p.name for p in root.iterdir()) == sorted(
        [
            "current",
            "marts.duckdb",
            "parquet",
            "publications",
            "report",
            "validation",
            "working.duckdb",
            "notes.tmp.txt",
        ]
    )
    assert sorted(p.name for p in (root / "publications").iterdir()) == sorted([first, second.publish_id])
    assert os.readlink(root / "parquet") == "current/parquet"  # repaired
    assert unrelated.read_text() == "not ours"


def test_an_exception_between_writing_and_switching_changes_nothing(warehouse, monkeypatch):
    root = Path(warehouse.warehouse_dir)
    (first,) = log_ids(root)
    before = tree_digest(root / "current")
    page_before = (root / "validation" / "index.html").read_bytes()

    def crash(*args):
        raise RuntimeError("injected: the process dies between writing and switching")

    monkeypatch.setattr(publish_module, "_switch", crash)
    land_a_late_ticket(Path(warehouse.landing_dir))  # something to publish
    result = materialize([*all_assets, *all_checks], resources={"warehouse": warehouse}, raise_on_error=False)
    assert not result.success
    assert [p.name for p in (root / "publications").iterdir()] == [first]  # the new folder removed
    assert tree_digest(root / "current") == before
    assert log_ids(root) == [first]
    assert (root / "validation" / "index.html").read_bytes() == page_before  # still the published run's
    failed_page = (root / "validation" / "runs" / result.run_id / "index.html").read_text()
    assert "Not published" in failed_page and result.run_id in failed_page

    monkeypatch.undo()
    second = publish_again(warehouse)
    assert log_ids(root) == [first, second.publish_id]


def test_a_run_that_fails_its_checks_leaves_the_publication_and_its_links(warehouse):
    root = Path(warehouse.warehouse_dir)
    before = tree_digest(root / "current")
    land_an_impostor_account(Path(warehouse.landing_dir))
    result = materialize([*all_assets, *all_checks], resources={"warehouse": warehouse}, raise_on_error=False)
    assert not result.success
    assert tree_digest(root / "current") == before
    assert len(list((root / "publications").iterdir())) == 1
