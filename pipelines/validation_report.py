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

The publication is stamped on a run's pages once it exists (``stamp_published``): the index is
re-rendered, and each suite page's header is replaced between its markers, without rendering
GE's sections again.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipelines.background_imports import await_imports
from pipelines.ge_duckdb import SuiteOutcome
from pipelines.publish import redacted

RUNS_DIR = "runs"
RUN_FILE = "run.json"
INDEX = "index.html"
SUITES_DIR = "suites"
KEEP_RUN_REPORTS = 20
TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE_TEMPLATE = "data_docs_page.j2"
STATUS_START, STATUS_END = "<!--run-status-->", "<!--/run-status-->"
# GE links each page to its suite's own page (``../../../../expectations/<suite>.html``), which
# this report does not build: a link elsewhere (a path or a URL) is turned into its text. In-page
# anchors and the frame's link back to the run's index stay.
_LINK_OUT = re.compile(r'<a\s+href="(?!\.\./index\.html")(?:[a-z]+:|[^"#]*/)[^"]*"[^>]*>(.*?)</a>', re.S)


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
) -> Path:
    """Write the suites' results and GE pages into the run's folder and render its index.

    ``validated_by``: {suite: run id} of the suites whose earlier validation is reused (the
    others were validated by this run). The first suites of a run create the folder with
    ``run.json`` (not published yet) and prune the oldest run folders. Returns the index page.
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
        # GE samples unexpected values, which are data: the report is published, so an e-mail
        # address among them is masked as the marts mask it.
        ge_result = redacted(outcome.ge_result)
        record = {
            "suite": outcome.suite,
            "relation": outcome.relation,
            "validated_by": by,
            "results": redacted(rows),
            "ge_result": ge_result,
        }
        _write_atomically(folder / f"{outcome.suite}.json", json.dumps(record, indent=1))
        page = _suite_page(outcome.suite, ge_result, by, run)
        _write_atomically(folder / SUITES_DIR / f"{outcome.suite}.html", page)
    return render_index(folder)


def stamp_published(folder: Path, publish_id: str) -> None:
    """Record in a run's report folder that the run published ``publish_id``, on every page."""
    run = {**json.loads((folder / RUN_FILE).read_text()), "publish_id": publish_id}
    _write_atomically(folder / RUN_FILE, json.dumps(run))
    status = f"{STATUS_START}{_status(run)}{STATUS_END}"
    for page in _suite_records(folder):
        path = folder / SUITES_DIR / f"{page['suite']}.html"
        text = path.read_text(encoding="utf-8")
        start, end = text.index(STATUS_START), text.index(STATUS_END) + len(STATUS_END)
        _write_atomically(path, text[:start] + status + text[end:])
    render_index(folder)


def _suite_records(folder: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json")) if path.name != RUN_FILE]


def _status(run: dict) -> str:
    """The header every page of a run carries: which run, when, published or not."""
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


def _validated_note(suite: str, by: str, run_id: str) -> str:
    if by == run_id:
        return f"Suite <b>{html.escape(suite)}</b>, validated by this run."
    return (
        f"Suite <b>{html.escape(suite)}</b>: its tables are unchanged since Dagster run "
        f"<code>{html.escape(by)}</code> validated them; that validation is shown."
    )


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


def _suite_page(suite: str, ge_result: dict, validated_by: str, run: dict) -> str:
    """GE's Data Docs page of the suite's validation result, inside this project's frame."""
    schema, renderer, view = _ge_rendering()
    document = renderer.render(schema.load(ge_result))
    page = view.render(
        document,
        template=PAGE_TEMPLATE,
        title=f"{suite}: expectation results",
        status=f"{STATUS_START}{_status(run)}{STATUS_END}",
        validated=_validated_note(suite, validated_by, run["run_id"]),
    )
    return _LINK_OUT.sub(r"\1", page)


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
        rows.append(
            f"<tr class={state}><td>{label}</td>"
            f'<td><a href="{SUITES_DIR}/{html.escape(suite["suite"])}.html">{html.escape(suite["suite"])}</a></td>'
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
