"""The validation report names the run that produced it and whether that run published; a failed
run's page never stands for the published marts."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from dagster import materialize

from assets.definitions import all_assets, all_checks
from assets.resources import WarehouseResource
from pipelines.ge_duckdb import load_suites
from pipelines.validation_report import HEADER_END
from tests.conftest import materialize_all
from tests.golden_fixture import land_a_late_ticket, land_an_impostor_account, private_copy, publish_golden


def current_publish_id(warehouse_dir: Path) -> str:
    with duckdb.connect(str(warehouse_dir / "marts.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT publish_id FROM publish_log ORDER BY published_at DESC LIMIT 1"
        ).fetchall()[0][0]


@pytest.fixture(scope="module")
def golden(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("golden")
    return root, publish_golden(root)


@pytest.fixture
def warehouse(golden, tmp_path: Path) -> WarehouseResource:
    return private_copy(golden[0], tmp_path)


def test_the_current_report_is_the_publishing_runs_and_says_so(warehouse, golden):
    _, run_id = golden
    root = Path(warehouse.warehouse_dir)
    publish_id = current_publish_id(root)
    page = root / "validation" / "index.html"
    assert os.readlink(page) == "../current/validation/index.html"  # part of the publication
    text = page.read_text()
    assert f"Dagster run <code>{run_id}</code>, started 20" in text
    assert f"<b>published</b> the marts as publication <b>{publish_id}</b>" in text
    assert "Not published" not in text and text.count('href="suites/') == len(load_suites())
    run_folder = root / "validation" / "runs" / run_id
    assert json.loads((run_folder / "run.json").read_text())["publish_id"] == publish_id
    assert f"publication <b>{publish_id}</b>" in (run_folder / "index.html").read_text()  # the run's own copy
    assert f"publication <b>{publish_id}</b>" in (run_folder / "suites" / "marts.nps.html").read_text()


class _References(HTMLParser):
    """Every reference a page makes: the href and src of its elements, the url()s of its styles."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        self.in_style = tag == "style"
        self.found += [value or "" for name, value in attrs if name in ("href", "src")]

    def handle_data(self, data):
        if self.in_style:
            self.found += re.findall(r"url\(\s*[\"']?([^\"')\s]+)", data)


def references(text: str) -> list[str]:
    parser = _References()
    parser.feed(text)
    return parser.found


def test_each_suite_has_its_great_expectations_page_which_reads_offline(warehouse, golden):
    """The stable index links GE's Data Docs page of every suite; followed from where a browser
    opens the index (``<warehouse>/validation/``), each link reaches the current publication's
    page, headed by the run and the publication, and no page refers to anything outside the
    report (no script, stylesheet, image or link to a CDN or GE's site)."""
    _, run_id = golden
    root = Path(warehouse.warehouse_dir)
    publish_id = current_publish_id(root)
    index = root / "validation" / "index.html"
    suites = {s.name: s for s in load_suites()}
    links = references(index.read_text())
    assert sorted(links) == sorted(f"suites/{name}.html" for name in suites)
    for link in links:
        page = index.parent / link  # resolved against the stable path, as a browser does
        assert page.resolve().is_relative_to((root / "current").resolve())
        text = page.read_text()
        assert "<script" not in text and "<link" not in text
        assert [r for r in references(text) if not r.startswith("#")] == ["../index.html"]
        assert (page.parent / "../index.html").resolve() == index.resolve()
        # GE's rendering of this suite's validation by this run: its statistics and run name
        evaluated = re.search(r"Evaluated Expectations</div></td><td[^>]*><div[^>]*>(\d+)<", text)
        assert evaluated and int(evaluated[1]) == len(
            suites[link.removeprefix("suites/").removesuffix(".html")].definition["expectations"]
        )
        assert re.search(rf"Run Name</div></td><td[^>]*><div[^>]*>{run_id}<", text)
        assert f"<b>published</b> the marts as publication <b>{publish_id}</b>" in text
        assert text.index(publish_id) < text.index('id="section-1"')  # the run and publication on top


def test_a_failed_run_writes_its_own_page_marked_not_published_and_leaves_the_current_one(warehouse, golden):
    _, published_run = golden
    root = Path(warehouse.warehouse_dir)
    page = root / "validation" / "index.html"
    before = page.read_bytes()
    land_an_impostor_account(Path(warehouse.landing_dir))
    result = materialize([*all_assets, *all_checks], resources={"warehouse": warehouse}, raise_on_error=False)
    assert not result.success
    assert page.read_bytes() == before  # the published marts' report, not this run's
    assert published_run in page.read_text() and result.run_id not in page.read_text()
    failed = (root / "validation" / "runs" / result.run_id / "index.html").read_text()
    assert f"Dagster run <code>{result.run_id}</code>" in failed
    assert "<b>Not published</b>" in failed and "FAIL" in failed
    assert (
        json.loads((root / "validation" / "runs" / result.run_id / "run.json").read_text())["publish_id"]
        is None
    )


def test_a_run_with_nothing_new_leaves_the_current_report(warehouse, golden):
    _, first_run = golden
    root = Path(warehouse.warehouse_dir)
    before = (root / "validation" / "index.html").read_text()
    result = materialize_all(warehouse)  # nothing landed: no new publication
    assert (root / "validation" / "index.html").read_text() == before
    own = (root / "validation" / "runs" / result.run_id / "index.html").read_text()
    assert "<b>Not published</b>" in own and first_run in before
    # Nothing changed, so every suite's validation by the first run is reused, and says so.
    assert own.count(f"<td>{first_run}</td>") == len(load_suites())
    page = (root / "validation" / "runs" / result.run_id / "suites" / "marts.nps.html").read_text()
    assert f"unchanged since Dagster run <code>{first_run}</code>" in page
    assert "<b>Not published</b>" in page
    # Its page is the validating run's, header replaced: GE's sections are not rendered again.
    earlier = (root / "validation" / "runs" / first_run / "suites" / "marts.nps.html").read_text()
    assert page.split(HEADER_END)[1] == earlier.split(HEADER_END)[1]


def test_a_second_publishing_run_moves_the_current_report(warehouse, golden):
    _, first_run = golden
    root = Path(warehouse.warehouse_dir)
    land_a_late_ticket(Path(warehouse.landing_dir))  # something to publish
    result = materialize_all(warehouse)
    text = (root / "validation" / "index.html").read_text()
    # Headed by the new run; the first run is named only by suites whose validation is reused.
    assert f"Dagster run <code>{result.run_id}</code>" in text
    assert f"Dagster run <code>{first_run}</code>" not in text
    assert current_publish_id(root) in text
    first_page = (root / "validation" / "runs" / first_run / "index.html").read_text()
    assert "<b>published</b>" in first_page  # the earlier run's own page still says it published


def test_only_the_latest_run_reports_are_kept(tmp_path):
    from datetime import datetime, timezone

    from pipelines.validation_report import KEEP_RUN_REPORTS, write_report

    validation_dir = tmp_path / "validation"
    for i in range(KEEP_RUN_REPORTS + 2):
        page, _ = write_report(validation_dir, [], f"run-{i:02d}", datetime.now(timezone.utc))
        os.utime(page.parent, (i, i))  # folder ages in run order, whatever the clock resolution
    runs = validation_dir / "runs"
    assert sorted(p.name for p in runs.iterdir()) == [f"run-{i:02d}" for i in range(2, KEEP_RUN_REPORTS + 2)]
    assert (
        "Dagster run <code>run-21</code>" in page.read_text() and "<b>Not published</b>" in page.read_text()
    )


def test_the_pages_escape_and_mask_sampled_values_and_render_errors(tmp_path):
    """GE samples the unexpected values on its page: an address among them is masked as in the
    marts (the report is published beside them), and markup among them is shown as text, never
    loaded. An expectation that could not be computed still gets its page."""
    from datetime import datetime, timezone

    from pipelines.ge_duckdb import Suite, validate_suites
    from pipelines.validation_report import TRACEBACK_LEFT_OUT, write_report

    db = tmp_path / "t.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(
            "CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT range AS id, "
            "'Ann <ann.lee@example.org>' AS owner, '<img src=https://tracker.example/p.png>' AS note "
            "FROM range(5)"
        )
    expectations = [
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": column, "value_set": ["x"]}}
        for column in ("owner", "note")
    ] + [{"type": "expect_column_values_to_be_unique", "kwargs": {"column": "no_such_column"}}]
    suite = Suite(db, "marts", "t", {"name": "marts.t", "expectations": expectations})
    (outcome,) = validate_suites(db, [suite], {}, run_name="run-1")
    assert "ann.lee@example.org" in json.dumps(outcome.ge_result)  # GE sampled it
    assert [o.expectation for o in outcome.outcomes if o.errored] == ["expect_column_values_to_be_unique"]
    index, unrendered = write_report(tmp_path / "validation", [outcome], "run-1", datetime.now(timezone.utc))
    assert unrendered == {}
    files = [p for p in index.parent.rglob("*") if p.is_file()]
    assert {p.name for p in files} == {"run.json", "marts.t.json", "marts.t.html", "index.html"}
    assert not [p.name for p in files if "example.org" in p.read_text()]
    page = (index.parent / "suites" / "marts.t.html").read_text()
    assert "[redacted]" in page and "no_such_column" in page and "Traceback" not in page
    assert "&lt;img src=https://tracker.example/p.png&gt;" in page
    assert [r for r in references(page) if not r.startswith("#")] == ["../index.html"]
    assert "<td>FAILED</td>" in index.read_text()
    # every part of GE's page is there: the unexpected counts, the error (not its traceback)
    assert page.count("5 unexpected values found. 100% of 5 total rows.") == 2
    assert "raised an exception" in page and TRACEBACK_LEFT_OUT in page


def test_a_part_great_expectations_leaves_out_of_a_page_is_a_failure_not_a_traceback(tmp_path, capfd):
    """GE's renderer leaves out a part it fails to render and logs the error with a traceback:
    the page is still written, and the error becomes the page's failure instead of output."""
    from datetime import datetime, timezone

    from pipelines.ge_duckdb import Suite, validate_suites
    from pipelines.validation_report import write_report

    db = tmp_path / "t.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT range AS id FROM range(3)")
    expectations = [{"type": "expect_column_values_to_be_unique", "kwargs": {"column": "no_such_column"}}]
    (outcome,) = validate_suites(
        db, [Suite(db, "marts", "t", {"name": "marts.t", "expectations": expectations})], {}, run_name="run-1"
    )
    for info in outcome.ge_result["results"][0]["exception_info"].values():
        del info["exception_message"]  # what GE's renderer reads: it will log a KeyError
    capfd.readouterr()
    index, unrendered = write_report(tmp_path / "validation", [outcome], "run-1", datetime.now(timezone.utc))
    assert "left out by GE" in unrendered["marts.t"] and "KeyError" in unrendered["marts.t"]
    assert "Evaluated Expectations" in (index.parent / "suites" / "marts.t.html").read_text()
    assert "Traceback" not in "".join(capfd.readouterr())


def test_a_page_great_expectations_cannot_render_says_so_and_fails_nothing(tmp_path):
    from datetime import datetime, timezone

    from pipelines.ge_duckdb import ExpectationOutcome, SuiteOutcome
    from pipelines.validation_report import write_report

    outcome = SuiteOutcome(
        "marts.t",
        "marts.t",
        [ExpectationOutcome("expect_x", {}, True, "critical", 0)],
        {"results": "not a list"},
    )
    index, unrendered = write_report(tmp_path / "validation", [outcome], "run-1", datetime.now(timezone.utc))
    assert list(unrendered) == ["marts.t"]
    page = (index.parent / "suites" / "marts.t.html").read_text()
    assert "could not render" in page and "Dagster run <code>run-1</code>" in page
    assert "<td>passed</td>" in index.read_text()
