"""A run's check report: Great Expectations' own Data Docs pages, readable offline, headed by
the run and the publication they belong to.

``<warehouse>/validation/runs/<run_id>/`` holds

- ``run.json``: the Dagster run, its start, and the publication it made (null until it publishes);
- ``<suite>.json``: the suite's outcome, the run that validated it (a suite whose tables did not
  change keeps its earlier validation) and GE's validation result as GE serialises it;
- ``suites/<suite>.html``: GE's Data Docs page of that validation result, rendered by GE's
  ``ValidationResultsPageRenderer`` and its Jinja section templates;
- ``index.html``: the run and publication, then one row per suite linking to its page.

The pages sit in a folder of their own so that the stable paths ``<warehouse>/validation/index.html``
and ``<warehouse>/validation/suites`` (two symlinks into the current publication's copy,
``assets.publish``) resolve the index's relative links to the same publication's pages.

GE's own page frame (``page.j2``) loads Bootstrap, jQuery, Vega and Font Awesome from four CDNs,
links GE's newsletter and fetches GE's logo from its S3 bucket each time it is opened: a
finance report must not call third parties when someone reads it, and must read the same
offline. So GE's sections are rendered inside this project's frame
(``pipelines/templates/data_docs_page.j2``: GE's section templates, a small inline stylesheet
for the classes they use, no script, no link out of the report).
``tests/test_publication_report.py`` fails if a page refers to anything outside the report.

GE's section templates do not escape what they show, so the values a result carries (sampled
unexpected values, error messages) are escaped before rendering; an e-mail address among them
is masked as the marts mask it, and an error's traceback (local paths) is left out. A page GE
cannot render gets a page saying so, and an error GE logs while rendering a part of a page (it
leaves the part out and goes on) counts as that page's failure: the checks step warns, and the
report never fails the checks or the publication.

Each suite page's header (the run, its publication, which run validated the suite) sits between
markers, so the publication is stamped on a run's pages once it exists (``stamp_published``)
without rendering GE's sections again, and a suite whose validation is reused takes the page of
the run that validated it with its header replaced, as long as that page has this frame
(``FRAME``): a run with nothing to validate renders nothing and needs no GE import.
"""

from __future__ import annotations

import contextlib
import functools
import html
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pipelines.background_imports import await_imports
from pipelines.ge_duckdb import SuiteOutcome, exception_entries
from pipelines.publish import map_texts, redacted
from pipelines.versions import fingerprint

RUNS_DIR = "runs"
RUN_FILE = "run.json"
INDEX = "index.html"
SUITES_DIR = "suites"
KEEP_RUN_REPORTS = 20
TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE_TEMPLATE = "data_docs_page.j2"
HEADER_START, HEADER_END = "<!--run-header-->", "<!--/run-header-->"
# What a suite page's frame is made by: a page of another frame is rendered again, not reused.
FRAME = fingerprint((TEMPLATES / PAGE_TEMPLATE).read_text(), Path(__file__).read_text())
FRAME_MARK = f"<!--frame {FRAME}-->"
# GE links each page to its suite's own page (``../../../../expectations/<suite>.html``), which
# this report does not build: every link but an in-page anchor and the frame's link back to the
# run's index is turned into its text.
_LINK = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.S | re.I)
_HREF = re.compile(r"""\bhref\s*=\s*["']?([^"'\s>]*)""", re.I)
INDEX_LINK = "../index.html"
TRACEBACK_LEFT_OUT = "(traceback left out of the published report)"


def run_report_dir(validation_dir: Path, run_id: str) -> Path:
    """Where a run's results and report are written: ``validation/runs/<run_id>/``."""
    return Path(validation_dir) / RUNS_DIR / run_id


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def describe(kwargs: dict) -> str:
    """What an expectation is about: its column(s), or the start of its query."""
    if "column" in kwargs:
        return kwargs["column"]
    if "column_list" in kwargs:
        return ", ".join(kwargs["column_list"])
    return " ".join(str(kwargs.get("unexpected_rows_query", "")).split())[:120]


def write_report(
    validation_dir: Path,
    outcomes: list[SuiteOutcome],
    run_id: str,
    started_at: datetime,
    validated_by: dict[str, str] | None = None,
) -> tuple[Path, dict[str, str]]:
    """Write the suites' results and GE pages into the run's folder and render its index.

    ``validated_by``: {suite: run id} of the suites whose earlier validation is reused (the
    others were validated by this run). The first suites of a run create the folder with
    ``run.json`` (not published yet) and prune the oldest run folders. Returns the index page
    and {suite: why its page could not be rendered}.
    """
    folder = run_report_dir(validation_dir, run_id)
    if not folder.exists():
        folder.mkdir(parents=True)
        _write_atomically(
            folder / RUN_FILE,
            json.dumps({"run_id": run_id, "started_at": started_at.isoformat(), "publish_id": None}),
        )
        runs = sorted((p for p in folder.parent.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        for old in runs[:-KEEP_RUN_REPORTS]:
            shutil.rmtree(old, ignore_errors=True)
    run = json.loads((folder / RUN_FILE).read_text())
    (folder / SUITES_DIR).mkdir(exist_ok=True)
    failures = {}
    for outcome in outcomes:
        by = (validated_by or {}).get(outcome.suite, run_id)
        rows = [
            {
                "expectation": o.expectation,
                "on": describe(o.kwargs),
                "success": o.success,
                "severity": o.severity,
                "observed": str(o.observed),
            }
            for o in outcome.outcomes
        ]
        ge_result = _publishable(outcome.ge_result)
        header = _header(run, outcome.suite, by)
        earlier = run_report_dir(validation_dir, by) / SUITES_DIR / f"{outcome.suite}.html"
        page = (
            _reheaded(earlier.read_text(encoding="utf-8"), header)
            if by != run_id and earlier.exists()
            else None
        )
        if page is None:
            page, failure = _suite_page(outcome.suite, ge_result, header)
            if failure:
                failures[outcome.suite] = failure
        _write_atomically(folder / SUITES_DIR / f"{outcome.suite}.html", page)
        record = {
            "suite": outcome.suite,
            "relation": outcome.relation,
            "validated_by": by,
            "results": redacted(rows),
            "ge_result": ge_result,
        }
        _write_atomically(folder / f"{outcome.suite}.json", json.dumps(record, indent=1))
    return render_index(folder), failures


def stamp_published(folder: Path, publish_id: str) -> None:
    """Record in a run's report folder that the run published ``publish_id``, on every page."""
    run = {**json.loads((folder / RUN_FILE).read_text()), "publish_id": publish_id}
    _write_atomically(folder / RUN_FILE, json.dumps(run))
    for record in _suite_records(folder):
        path = folder / SUITES_DIR / f"{record['suite']}.html"
        page = _reheaded(
            path.read_text(encoding="utf-8"), _header(run, record["suite"], record["validated_by"])
        )
        if page is not None:
            _write_atomically(path, page)
    render_index(folder)


def _suite_records(folder: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json")) if path.name != RUN_FILE]


def _publishable(ge_result: dict) -> dict:
    """GE's result as the report publishes it: sampled values holding an e-mail address masked
    as the marts mask them (``pipelines.publish.redacted``), errors without their traceback."""
    result = redacted(ge_result)
    for item in result.get("results", []):
        info = item.get("exception_info") if isinstance(item, dict) else None
        for entry in exception_entries(info):
            if "exception_traceback" in entry:
                entry["exception_traceback"] = TRACEBACK_LEFT_OUT  # GE's renderer reads the key
    return result


def _for_page(ge_result: dict) -> dict:
    """The result with what comes from the data (observed and sampled values, error messages)
    escaped, since GE's section templates put them into the page as they are; the expectations'
    own texts come from the suites in this repository and may hold GE's markup."""
    data = ("result", "exception_info")
    results = [
        {**item, **{key: map_texts(item[key], html.escape) for key in data if key in item}}
        for item in ge_result.get("results", [])
    ]
    return {**ge_result, "results": results}


def _status(run: dict) -> str:
    """What every page of a run says first: which run, when, published or not."""
    text = (
        f"<p class=run>Dagster run <code>{html.escape(run['run_id'])}</code>, started "
        f"{html.escape(run['started_at'])}.</p>"
    )
    if run["publish_id"]:
        return text + (
            f"<p class=published>This run <b>published</b> the marts as publication "
            f"<b>{html.escape(run['publish_id'])}</b>: these results describe them.</p>"
        )
    return text + (
        "<p class=unpublished><b>Not published</b> by this run (when this page was written): "
        "these results do not describe the published marts, whose report is "
        "<code>&lt;warehouse&gt;/validation/index.html</code>.</p>"
    )


def _header(run: dict, suite: str, validated_by: str) -> str:
    """A suite page's header, between its markers: the run's status and who validated the suite."""
    if validated_by == run["run_id"]:
        note = f"Suite <b>{html.escape(suite)}</b>, validated by this run."
    else:
        note = (
            f"Suite <b>{html.escape(suite)}</b>: its tables are unchanged since Dagster run "
            f"<code>{html.escape(validated_by)}</code> validated them; that validation is shown."
        )
    return f"{HEADER_START}{_status(run)}<p>{note}</p>{HEADER_END}"


def _reheaded(page: str, header: str) -> str | None:
    """``page`` with ``header`` in place of its own; None when the page is not of this frame."""
    if FRAME_MARK not in page or HEADER_START not in page or HEADER_END not in page:
        return None
    start, end = page.index(HEADER_START), page.index(HEADER_END) + len(HEADER_END)
    return page[:start] + header + page[end:]


@functools.cache
def _ge_rendering() -> tuple[Any, Any, Any]:
    """GE's result schema, page renderer and Jinja view, made once per process: the view's
    Jinja environment compiles the templates once (20 pages: 0.1 s instead of 0.8 s)."""
    await_imports()  # a run imports GE in the background: never in two threads at once
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    view = DefaultJinjaPageView(custom_views_directory=str(TEMPLATES))
    return ExpectationSuiteValidationResultSchema(), ValidationResultsPageRenderer(), view


@contextlib.contextmanager
def _ge_errors_logged() -> Iterator[list[str]]:
    """The errors GE logs while rendering, kept instead of printed.

    GE's renderer catches an error in a part of a page, leaves that part out and logs the error
    with its traceback (to stderr, once per expectation): the page looks whole and the run's
    output fills with tracebacks. Kept here, they become the page's failure, which the checks
    step reports as a warning.
    """
    logged: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:  # the error, not GE's preamble or traceback
            logged.append(record.getMessage().split("Traceback:")[0].split("follows:")[-1].strip(" .\n"))

    logger, handler = logging.getLogger("great_expectations"), Keep(logging.ERROR)
    propagate, logger.propagate = logger.propagate, False
    logger.addHandler(handler)
    try:
        yield logged
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _unlinked(page: str) -> str:
    """``page`` with every link but in-page anchors and the link to the run's index as text."""

    def kept_or_text(link: re.Match) -> str:
        href = _HREF.search(link[1])
        target = href[1] if href else ""
        return link[0] if target.startswith("#") or target == INDEX_LINK else link[2]

    return _LINK.sub(kept_or_text, page)


def _suite_page(suite: str, ge_result: dict, header: str) -> tuple[str, str | None]:
    """GE's Data Docs page of the suite's validation result inside this project's frame, and
    None; or, when GE cannot render it, a page saying so and why."""
    try:
        schema, renderer, view = _ge_rendering()
        with _ge_errors_logged() as logged:
            document = renderer.render(schema.load(_for_page(ge_result)))
            page = view.render(
                document,
                template=PAGE_TEMPLATE,
                title=f"{suite}: expectation results",
                frame_mark=FRAME_MARK,
                header=header,
            )
        failure = None
        if logged:  # GE rendered the page without the parts it names
            failure = f"{len(logged)} part(s) left out by GE: {logged[0]}"[:500]
        return _unlinked(page), failure
    except Exception as error:  # the report must never fail the checks or the publication
        failure = f"{type(error).__name__}: {error}"[:500]
        page = (
            f"<!doctype html><meta charset=utf-8><title>{html.escape(suite)}</title>{FRAME_MARK}"
            f"<p><a href={INDEX_LINK}>All suites of this run</a></p>{header}"
            f"<p>Great Expectations could not render this suite's page ({html.escape(failure)}); "
            f"its results are in <code>{html.escape(suite)}.json</code> beside the run's index.</p>"
        )
        return page, failure


def render_index(folder: Path) -> Path:
    """``index.html`` of a run's folder: the run and publication, then one row per suite."""
    run = json.loads((folder / RUN_FILE).read_text())
    rows = []
    for suite in _suite_records(folder):
        results: list[dict[str, Any]] = suite["results"]
        failed = [r for r in results if not r["success"]]
        critical = sum(r["severity"] == "critical" for r in failed)
        state = "critical" if critical else "warning" if failed else "ok"
        label = {"ok": "passed", "warning": "warnings failed", "critical": "FAILED"}[state]
        by = "this run" if suite["validated_by"] == run["run_id"] else suite["validated_by"]
        name = suite["suite"]
        rows.append(
            f"<tr class={state}><td>{label}</td>"
            f'<td><a href="{SUITES_DIR}/{html.escape(quote(name))}.html">{html.escape(name)}</a></td>'
            f"<td><code>{html.escape(suite['relation'])}</code></td>"
            f"<td>{len(results) - len(failed)}/{len(results)}</td><td>{critical}</td>"
            f"<td>{len(failed) - critical}</td><td>{html.escape(by)}</td></tr>"
        )
    page = folder / INDEX
    _write_atomically(
        page,
        "<!doctype html><meta charset=utf-8><title>Expectation results</title><style>"
        "body{font-family:system-ui,sans-serif;margin:1em 2em}td,th{padding:2px 8px;text-align:left}"
        ".critical{background:#fcc}.warning{background:#ffd}.unpublished{background:#fcc;padding:4px}"
        ".published{background:#cfc;padding:4px}</style>"
        f"<h1>Expectation results of Dagster run {html.escape(run['run_id'])}</h1>"
        + _status(run)
        + f"<p>Page written {datetime.now(timezone.utc).isoformat(timespec='seconds')}. Each suite's "
        "page is Great Expectations' Data Docs page of its validation result.</p>"
        "<table><tr><th>result</th><th>suite</th><th>table</th><th>expectations passed</th>"
        "<th>critical failed</th><th>warnings failed</th><th>validated by run</th></tr>"
        + "".join(rows)
        + "</table>",
    )
    return page
