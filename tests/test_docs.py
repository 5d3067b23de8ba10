"""The documentation names everything the pipeline reads and publishes.

- docs/metrics.md, section "Published marts": one table row per mart of ``sql/marts/_models.yml``
  and per ledger table of the month-end close (``pipelines.closing``)
  (``| `mart` | grain | columns | notes |``), naming its grain and every column, and nothing the
  mart does not publish. Its "Planned (not yet published)" table must not list as planned a
  column that ``_models.yml`` now publishes.
- docs/extracts.md: a section headed ``` `<source>/<table>` ``` per table of the extract contract
  (``pipelines.contract.TABLES``), with a row per column (``| `column` | key | type | nullable |
  rules |``) stating the key, type and nullability the contract declares. A documented column the
  contract lacks must say "not yet supported"; a contract column must not.

The matchers are plain functions that return the problems they find, so that the tests at the end
check them against a contract or marts with a fake, undocumented name.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import yaml

from pipelines.closing import LEDGER_TABLES
from pipelines.contract import TABLES, Column, Table

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
METRICS_DOC = DOCS / "metrics.md"
EXTRACTS_DOC = DOCS / "extracts.md"
MART_MODELS = ROOT / "sql" / "marts" / "_models.yml"

PUBLISHED_SECTION = "Published marts"
PLANNED_SECTION = "Planned (not yet published)"
NOT_YET = "not yet supported"

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
CODE = re.compile(r"`([^`]+)`")
CONTRACT_TABLE_HEADING = re.compile(r"^`([a-z_]+)/([a-z_0-9]+)`$")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


# --- reading markdown --------------------------------------------------------------------------


def headings(text: str) -> list[tuple[int, int, str]]:
    """(line index, level, title) of every heading outside fenced code blocks."""
    found, fenced = [], False
    for index, line in enumerate(text.splitlines()):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = HEADING.match(line)
        if match and not fenced:
            found.append((index, len(match.group(1)), match.group(2)))
    return found


def section(text: str, title: str, own_only: bool = False) -> str | None:
    """The text under the first heading titled ``title`` (backticks included), up to the next
    heading of the same or a higher level, or, with ``own_only``, up to the next heading at all."""
    lines = text.splitlines()
    marks = headings(text)
    for position, (index, level, heading_title) in enumerate(marks):
        if heading_title != title:
            continue
        end = len(lines)
        for next_index, next_level, _ in marks[position + 1 :]:
            if own_only or next_level <= level:
                end = next_index
                break
        return "\n".join(lines[index + 1 : end])
    return None


def table_rows(text: str) -> list[list[str]]:
    """The cells of every markdown table row in ``text`` whose first cell names something in
    backticks (header and separator rows have none)."""
    rows = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("|"):
            continue
        cells = [cell.strip() for cell in stripped.strip("|").split("|")]
        if CODE.search(cells[0]):
            rows.append(cells)
    return rows


def first_name(cell: str) -> str:
    return CODE.search(cell).group(1)


def slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


# --- the matchers ------------------------------------------------------------------------------


def mart_doc_problems(models: dict[str, dict], doc: str) -> list[str]:
    """What docs/metrics.md fails to say (or says wrongly) about the published ``models``."""
    published = section(doc, PUBLISHED_SECTION, own_only=True)
    if published is None:
        return [f"no section headed '{PUBLISHED_SECTION}'"]
    problems = []
    rows = {}
    for cells in table_rows(published):
        mart = first_name(cells[0])
        if len(cells) < 3:
            problems.append(f"{mart}: the row needs a grain cell and a columns cell")
            continue
        rows[mart] = (CODE.findall(cells[1]), CODE.findall(cells[2]))
    for mart, spec in models.items():
        if mart not in rows:
            problems.append(f"{mart}: published, but not a row of the '{PUBLISHED_SECTION}' table")
            continue
        grain, columns = rows[mart]
        declared = list(spec["columns"])
        if grain != list(spec["grain"]):
            problems.append(f"{mart}: grain documented as {grain}, published as {list(spec['grain'])}")
        documented = {*grain, *columns}
        for column in declared:
            if column not in documented:
                problems.append(f"{mart}.{column}: published, but not documented")
        for column in sorted(documented - set(declared)):
            problems.append(f"{mart}.{column}: documented, but not published")
    for mart in sorted(rows.keys() - models.keys()):
        problems.append(f"{mart}: documented as published, but not in sql/marts/_models.yml")
    for cells in table_rows(section(doc, PLANNED_SECTION, own_only=True) or ""):
        mart = first_name(cells[0])
        if mart in models and len(cells) >= 3:
            now_published = set(CODE.findall(cells[2])) & set(models[mart]["columns"])
            for column in sorted(now_published):
                problems.append(f"{mart}.{column}: published, but still listed as planned")
    return problems


def contract_doc_problems(tables: tuple[Table, ...] | list[Table], doc: str) -> list[str]:
    """What docs/extracts.md fails to say (or says wrongly) about the contract ``tables``."""
    problems = []
    for table in tables:
        name = f"{table.source}/{table.name}"
        body = section(doc, f"`{name}`")
        if body is None:
            problems.append(f"{name}: no section headed `{name}`")
            continue
        rows = {first_name(cells[0]): cells for cells in table_rows(body)}
        for column in table.columns:
            where = f"{name}.{column.name}"
            cells = rows.get(column.name)
            if cells is None:
                problems.append(f"{where}: in the contract, but not documented")
                continue
            if len(cells) < 4:
                problems.append(f"{where}: the row needs key, type and nullable cells")
                continue
            key, type_, nullable = cells[1].lower(), cells[2].strip("`").upper(), cells[3].lower()
            documented_key = key == "key"
            if documented_key != (column.name in table.primary_key):
                said = "a key" if documented_key else "not a key"
                problems.append(f"{where}: documented as {said}, the contract says otherwise")
            if type_ != column.type.upper():
                problems.append(f"{where}: documented as {type_}, the contract says {column.type}")
            if nullable != ("no" if column.required else "yes"):
                declared = "required" if column.required else "nullable"
                problems.append(f"{where}: nullable documented as '{nullable}', the contract says {declared}")
            if NOT_YET in " ".join(cells).lower():
                problems.append(f"{where}: in the contract, but documented as {NOT_YET}")
        for column_name, cells in rows.items():
            if column_name not in table.column_names and NOT_YET not in " ".join(cells).lower():
                problems.append(
                    f"{name}.{column_name}: documented, but not in the contract (say '{NOT_YET}' if it is planned)"
                )
    contract_names = {f"{t.source}/{t.name}" for t in tables}
    for _, _, title in headings(doc):
        match = CONTRACT_TABLE_HEADING.match(title)
        if match and f"{match.group(1)}/{match.group(2)}" not in contract_names:
            problems.append(f"{match.group(1)}/{match.group(2)}: documented, but not a table of the contract")
    return problems


def load_mart_models() -> dict[str, dict]:
    """The marts of ``_models.yml`` and the ledger tables the publish step writes
    (``pipelines.closing``), as {name: {grain, columns}}."""
    ledger = {t.name: {"grain": list(t.grain), "columns": dict(t.column_types)} for t in LEDGER_TABLES}
    return {**yaml.safe_load(MART_MODELS.read_text()), **ledger}


# --- the documentation as it is ----------------------------------------------------------------


def test_metrics_doc_documents_every_published_mart_and_column():
    assert mart_doc_problems(load_mart_models(), METRICS_DOC.read_text()) == []


def test_extracts_doc_documents_every_contract_table_and_column():
    assert contract_doc_problems(TABLES, EXTRACTS_DOC.read_text()) == []


def test_links_between_the_docs_resolve():
    """Every relative link of docs/*.md points to a file that exists and, with #anchor, to one
    of that page's headings."""
    broken = []
    for page in sorted(DOCS.glob("*.md")):
        for target in MARKDOWN_LINK.findall(page.read_text()):
            if "://" in target:
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path) if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and anchor not in {slug(title) for _, _, title in headings(linked.read_text())}:
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


# --- the matchers catch what they must ---------------------------------------------------------


def contract_with(changed: Table) -> list[Table]:
    """The real contract with one table replaced by ``changed``."""
    return [changed if t.qualified_name == changed.qualified_name else t for t in TABLES]


def test_an_undocumented_contract_column_is_reported():
    invoices = next(t for t in TABLES if t.qualified_name == "billing__invoices")
    with_new_column = replace(invoices, columns=(*invoices.columns, Column("zz_undocumented", "BIGINT")))
    assert contract_doc_problems(contract_with(with_new_column), EXTRACTS_DOC.read_text()) == [
        "billing/invoices.zz_undocumented: in the contract, but not documented"
    ]


def test_an_undocumented_contract_table_is_reported():
    fake = Table("billing", "zz_refunds", (Column("refund_id"),), ("refund_id",), "not a real table")
    assert contract_doc_problems([*TABLES, fake], EXTRACTS_DOC.read_text()) == [
        "billing/zz_refunds: no section headed `billing/zz_refunds`"
    ]


def test_a_contract_change_of_key_type_or_nullability_is_reported():
    tickets = next(t for t in TABLES if t.qualified_name == "support__tickets")
    changes = {"csat": {"required": True}, "reopens": {"type": "DOUBLE"}}
    changed = tuple(replace(c, **changes.get(c.name, {})) for c in tickets.columns)
    changed_tickets = replace(tickets, columns=changed, primary_key=("ticket_id", "created_at"))
    problems = contract_doc_problems(contract_with(changed_tickets), EXTRACTS_DOC.read_text())
    assert problems == [
        "support/tickets.created_at: documented as not a key, the contract says otherwise",
        "support/tickets.reopens: documented as INTEGER, the contract says DOUBLE",
        "support/tickets.csat: nullable documented as 'yes', the contract says required",
    ]


PLANNED_COLUMN_DOC = """
#### `billing/zz_lines`

| column | key | type | nullable | values and rules |
|---|---|---|---|---|
| `line_id` | key | VARCHAR | no | |
| `quantity` | | BIGINT | yes | **Not yet supported.** Integer >= 1 |
"""


def test_a_planned_column_is_allowed_until_the_contract_declares_it():
    planned = Table("billing", "zz_lines", (Column("line_id"),), ("line_id",), "fake")
    assert contract_doc_problems([planned], PLANNED_COLUMN_DOC) == []
    implemented = replace(planned, columns=(*planned.columns, Column("quantity", "BIGINT", required=False)))
    assert contract_doc_problems([implemented], PLANNED_COLUMN_DOC) == [
        "billing/zz_lines.quantity: in the contract, but documented as not yet supported"
    ]
    undocumented_plan = PLANNED_COLUMN_DOC.replace("**Not yet supported.** ", "")
    assert contract_doc_problems([planned], undocumented_plan) == [
        "billing/zz_lines.quantity: documented, but not in the contract (say 'not yet supported' if it is planned)"
    ]


def test_an_undocumented_mart_column_is_reported():
    models = load_mart_models()
    dim_account = models["dim_account"]
    models["dim_account"] = {**dim_account, "columns": {**dim_account["columns"], "zz_undocumented": {}}}
    assert mart_doc_problems(models, METRICS_DOC.read_text()) == [
        "dim_account.zz_undocumented: published, but not documented"
    ]


def test_an_undocumented_mart_is_reported():
    models = {
        **load_mart_models(),
        "zz_fake_mart": {"grain": ["month"], "columns": {"month": {}, "zz_total": {}}},
    }
    assert mart_doc_problems(models, METRICS_DOC.read_text()) == [
        "zz_fake_mart: published, but not a row of the 'Published marts' table"
    ]


def test_a_planned_mart_that_gets_published_is_reported():
    """Nothing is planned today; a mart listed as planned in the doc and then published is
    reported both as missing from the published table and as still planned."""
    planned = (
        f"\n## {PLANNED_SECTION}\n\n| mart | grain | columns | notes |\n|---|---|---|---|\n"
        "| `zz_scores` | `account_id` | `score` | |\n"
    )
    models = {
        **load_mart_models(),
        "zz_scores": {"grain": ["account_id"], "columns": {"account_id": {}, "score": {}}},
    }
    assert mart_doc_problems(models, METRICS_DOC.read_text() + planned) == [
        "zz_scores: published, but not a row of the 'Published marts' table",
        "zz_scores.score: published, but still listed as planned",
    ]


def test_a_documented_column_that_is_not_published_is_reported():
    models = load_mart_models()
    columns = dict(models["nps"]["columns"])
    del columns["detractors"]
    models["nps"] = {**models["nps"], "columns": columns}
    assert mart_doc_problems(models, METRICS_DOC.read_text()) == [
        "nps.detractors: documented, but not published"
    ]
