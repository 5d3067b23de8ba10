"""The executive report: built with every publication from its published marts, switched in
atomically, opened offline in headless Chromium, and every headline figure on the page equal to
the value the test computes itself from the published marts.

The landing: 18 accounts in three segments over 15 months (January 2024 to March 2025, so the
headline month is February 2025 and NRR over 12 months exists), with churn, expansions that are
price increases, support time, exception tickets and engagement events.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from dagster import materialize

import pipelines.report as report_module
from assets.definitions import all_assets, all_checks
from assets.resources import WarehouseResource
from pipelines.publish import remove_leftovers
from pipelines.report import build_report, render_page
from pipelines.report_charts import CHARTS
from pipelines.report_data import read_report_data
from tests.conftest import materialization_metadata, materialize_all, write
from tests.landing_builder import Landing
from tests.test_live_dagster import CHROMEDRIVER, CHROMIUM, SCREENSHOT_DIR, require_browser

MONTHS = [f"{2024 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}-01" for m in range(1, 16)]  # 2024-01 .. 2025-03


def next_month(day: str) -> str:
    return MONTHS[MONTHS.index(day) + 1] if day != MONTHS[-1] else "2025-04-01"


def report_landing() -> Landing:
    """A deterministic small business: subscriptions, churn, price increases, support, events."""
    rng = random.Random(18)
    landing = Landing()
    for i in range(18):
        account, segment = f"A{i:02d}", ("smb", "mid_market", "enterprise")[i % 3]
        landing.account(account, segment)
        start = rng.choice([0, 0, 0, 1, 2, 5, 9])
        end = 15 if rng.random() > 0.25 else rng.randint(start + 3, 14)
        price = (50_00, 200_00, 900_00)[i % 3] * rng.randint(1, 3)
        for month in MONTHS[start:end]:
            if rng.random() < 0.15:
                price = round(price * rng.choice([1.1, 1.25, 0.8]))
            landing.invoice_line(f"C{account}", month, next_month(month), price, subscription_id=f"S{account}",
                                 quantity=1, unit_amount=price)  # fmt: skip
            day = month[:8] + f"{rng.randint(2, 27):02d}"
            landing.ticket(account, day, "how_to", minutes=rng.randint(5, 90))
            if rng.random() < 0.3:
                landing.ticket(account, day, "custom_workflow", minutes=rng.randint(10, 60))
            for _ in range(rng.randint(0, 6) * (1 + i % 2)):
                landing.event(
                    account, day, rng.choice(["portal_login", "feature_use", "webinar", "qbr_meeting"])
                )
    return landing


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, object]:
    """The landing, run and published once (the report included); the root and the result."""
    root = tmp_path_factory.mktemp("report")
    report_landing().write_to(root / "landing")
    warehouse = WarehouseResource(landing_dir=str(root / "landing"), warehouse_dir=str(root / "warehouse"))
    return root, materialize_all(warehouse)


@pytest.fixture
def warehouse(built, tmp_path: Path) -> WarehouseResource:
    """A private copy of the published state, for a test that runs again."""
    root, _ = built
    shutil.copytree(root / "landing", tmp_path / "landing")
    shutil.copytree(root / "warehouse", tmp_path / "warehouse", symlinks=True)
    return WarehouseResource(landing_dir=str(tmp_path / "landing"), warehouse_dir=str(tmp_path / "warehouse"))


class Attributes(HTMLParser):
    """The data attributes of the page: {figure: value} and the body's."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.previous: dict[str, str] = {}  # the month before, of the figures that show a change
        self.body: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-figure" in attrs:
            assert attrs["data-figure"] not in self.figures, f"{attrs['data-figure']} twice"
            self.figures[attrs["data-figure"]] = attrs["data-value"]
            if "data-previous" in attrs:
                self.previous[attrs["data-figure"]] = attrs["data-previous"]
        if tag == "body":
            self.body = attrs


def page_attributes(page: Path) -> Attributes:
    parser = Attributes()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def current_publish_id(warehouse_dir: Path) -> str:
    with duckdb.connect(str(warehouse_dir / "marts.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT publish_id FROM publish_log ORDER BY published_at DESC LIMIT 1"
        ).fetchone()[0]


def test_the_report_is_the_current_publications_and_its_path_is_in_the_metadata(built):
    root, result = built
    warehouse_dir = root / "warehouse"
    publish_id = current_publish_id(warehouse_dir)
    assert os.readlink(warehouse_dir / "report") == f"publications/{publish_id}/report"  # relative
    page = warehouse_dir / "report" / "index.html"
    assert page_attributes(page).body["data-publish-id"] == publish_id
    metadata = materialization_metadata(result, ["published", "report"])
    assert metadata["path"] == str(page)
    assert metadata["publish_id"] == publish_id and metadata["new_report"] is True
    assert "NRR (12 months)" in metadata["preview"]
    size = sum(p.stat().st_size for p in (warehouse_dir / "report").iterdir())
    assert 20_000 < size < 10_000_000, size
    text = page.read_text(encoding="utf-8")
    for external in ("<script", "<link", "src=", 'href="http', "url(http"):
        assert external not in text, external  # self-contained: nothing to fetch


# The headline figures, computed here from the published marts (as a BI user would, through
# <warehouse>/marts.duckdb) with the definitions of docs/metrics.md and the README.
EXPECTED_SQL = """
WITH months AS (
    SELECT max(month) - INTERVAL 1 MONTH AS m, max(month) - INTERVAL 2 MONTH AS p FROM account_month_economics
),
economics AS (
    SELECT month, sum(revenue) AS revenue, sum(gross_margin) AS gm, sum(contribution_margin) AS cm,
           sum(cost_to_serve) AS cts
    FROM account_month_economics GROUP BY month
),
figures AS (
    SELECT 'nrr_12m' AS figure, month, nrr_12m AS v FROM retention WHERE segment = 'all'
    UNION ALL SELECT 'grr_12m', month, grr_12m FROM retention WHERE segment = 'all'
    UNION ALL SELECT 'gross_margin_pct', month, gm / revenue FROM economics
    UNION ALL SELECT 'contribution_margin_pct', month, cm / revenue FROM economics
    UNION ALL SELECT 'cost_to_serve_ratio', month, cts / revenue FROM economics
    UNION ALL SELECT 'dso', month, dso FROM working_capital_monthly
)
SELECT figure, max(v) FILTER (WHERE month = m), max(v) FILTER (WHERE month = p)
FROM figures, months GROUP BY figure
"""
CONCENTRATION_SQL = """
WITH revenue AS (
    SELECT account_id, sum(revenue) AS r FROM account_month_economics
    WHERE month BETWEEN (SELECT max(month) FROM account_month_economics) - INTERVAL 12 MONTH
                    AND (SELECT max(month) FROM account_month_economics) - INTERVAL 1 MONTH
      AND NOT starts_with(account_id, 'unattributed:')
    GROUP BY 1 HAVING sum(revenue) > 0
)
SELECT (SELECT sum(r) FROM (FROM revenue ORDER BY r DESC LIMIT 10)) / sum(r),
       (SELECT sum(r) FROM (FROM revenue ORDER BY r DESC LIMIT (SELECT ceil(count(*) / 100) FROM revenue)))
       / sum(r)
FROM revenue
"""


def test_every_headline_figure_on_the_page_equals_the_value_computed_from_the_published_marts(built):
    root, _ = built
    warehouse_dir = root / "warehouse"
    page = page_attributes(warehouse_dir / "report" / "index.html")
    with duckdb.connect(str(warehouse_dir / "marts.duckdb"), read_only=True) as con:
        expected = {name: (value, previous) for name, value, previous in con.execute(EXPECTED_SQL).fetchall()}
        top10, top1pct = con.execute(CONCENTRATION_SQL).fetchone()
        closes = con.execute("SELECT count(*) FROM period_closes").fetchone()[0]
    assert page.body["data-month"] == "2025-02-01" and page.body["data-as-of-month"] == "2025-03-01"
    assert page.figures.pop("month_status") == ("open" if closes == 0 else "closed")
    assert float(page.figures.pop("top10_share")) == pytest.approx(float(top10), rel=1e-12)
    assert float(page.figures.pop("top1pct_share")) == pytest.approx(float(top1pct), rel=1e-12)
    assert set(page.figures) == set(expected)
    for name, value in page.figures.items():
        assert expected[name][0] is not None, name  # every figure exists in this landing
        assert float(value) == pytest.approx(float(expected[name][0]), rel=1e-12), name
    assert set(page.previous) == set(expected)  # each change is against the month before
    for name, value in page.previous.items():
        want = expected[name][1]
        assert (value == "") == (want is None), name
        if want is not None:
            assert float(value) == pytest.approx(float(want), rel=1e-12), name


def test_the_page_is_the_same_bytes_when_built_again(built):
    root, _ = built
    folder = (root / "warehouse" / "current").resolve()
    assert render_page(read_report_data(folder)) == (root / "warehouse" / "report" / "index.html").read_text(
        encoding="utf-8"
    )


def test_the_report_opens_offline_in_headless_chromium_with_every_chart_drawn_and_no_console_error(built):
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    root, _ = built
    page = root / "warehouse" / "report" / "index.html"
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    profile = SCREENSHOT_DIR.parent / "chromium-profile-report"
    shutil.rmtree(profile, ignore_errors=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # any request would fail
        "--window-size=1280,1000", f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        driver.get(page.as_uri())
        assert driver.execute_script("return document.readyState") == "complete"
        charts = driver.find_elements(By.CSS_SELECTOR, "figure.chart")
        assert sorted(c.get_attribute("id") for c in charts) == sorted(f"chart-{name}" for name in CHARTS)
        for chart in charts:
            (svg,) = chart.find_elements(By.TAG_NAME, "svg")
            size = svg.size
            assert size["width"] > 200 and size["height"] > 100, (chart.get_attribute("id"), size)
            drawn = svg.find_elements(By.CSS_SELECTOR, "path, use, image, rect")
            assert len(drawn) > 5, chart.get_attribute("id")
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, height + 40)
        time.sleep(0.5)
        driver.save_screenshot(str(SCREENSHOT_DIR / "executive_report.png"))
        body = driver.find_element(By.TAG_NAME, "body")
        assert body.get_attribute("data-publish-id") == current_publish_id(root / "warehouse")
        assert "n/a" not in driver.find_element(By.CSS_SELECTOR, ".kpis").text
    finally:
        driver.quit()
    assert (SCREENSHOT_DIR / "executive_report.png").stat().st_size > 50_000


def run(warehouse: WarehouseResource):
    return materialize([*all_assets, *all_checks], resources={"warehouse": warehouse}, raise_on_error=False)


def land_a_late_ticket(landing: Path) -> None:
    write(
        landing,
        "support/tickets/late/t.csv",
        "ticket_id,organization_id,created_at,status,priority,channel,category,reopens,updated_at\n"
        "K999,OA01,2025-02-20T09:00:00,solved,low,web,custom_workflow,0,2025-03-21T09:00:00\n",
    )


def test_a_run_that_publishes_nothing_new_keeps_the_report_as_it_is(warehouse):
    root = Path(warehouse.warehouse_dir)
    link, page = os.readlink(root / "report"), (root / "report" / "index.html").read_bytes()
    result = run(warehouse)
    assert result.success
    assert materialization_metadata(result, ["published", "marts"])["new_publication"] is False
    metadata = materialization_metadata(result, ["published", "report"])
    assert metadata["new_report"] is False and metadata["publish_id"] == current_publish_id(root)
    assert os.readlink(root / "report") == link
    assert (root / "report" / "index.html").read_bytes() == page


def test_a_failed_report_build_leaves_the_previous_report_and_the_next_run_builds_it(warehouse, monkeypatch):
    root = Path(warehouse.warehouse_dir)
    before = current_publish_id(root)
    page = (root / "report" / "index.html").read_bytes()

    def broken(data):
        raise RuntimeError("the chart library fell over")

    monkeypatch.setattr(report_module, "render_page", broken)
    land_a_late_ticket(Path(warehouse.landing_dir))
    result = run(warehouse)
    assert not result.success
    after = current_publish_id(root)
    assert after != before  # the marts were published; only the report failed
    assert os.readlink(root / "report") == f"publications/{before}/report"  # the previous report stays
    assert (root / "report" / "index.html").read_bytes() == page
    new_folder = root / "publications" / after
    assert not (new_folder / "report").exists() and list(new_folder.glob(".report.*")) == []

    monkeypatch.undo()
    result = run(warehouse)  # nothing new landed: no new publication, but its report is built
    assert result.success
    assert materialization_metadata(result, ["published", "report"])["new_report"] is True
    assert os.readlink(root / "report") == f"publications/{after}/report"
    assert page_attributes(root / "report" / "index.html").body["data-publish-id"] == after


def test_a_killed_builds_leftover_is_removed_and_a_linked_publication_is_kept(tmp_path):
    folder = tmp_path / "publications" / "p1"
    (folder / ".report.dead.tmp").mkdir(parents=True)
    (folder / ".report.dead.tmp" / "index.html").write_text("half a page")
    (folder / "report").mkdir()
    (folder / "report" / "index.html").write_text("the page")
    assert build_report(folder) is False  # already built: kept as it is, the leftover removed
    assert [p.name for p in folder.iterdir()] == ["report"]
    assert (folder / "report" / "index.html").read_text() == "the page"

    (tmp_path / "report").symlink_to("publications/p1/report")
    for name in ("p2", "p3", "p4"):
        (tmp_path / "publications" / name).mkdir()
    remove_leftovers(tmp_path, ["p1", "p2", "p3", "p4"])  # p1 is older than the 3 kept, but linked
    assert sorted(p.name for p in (tmp_path / "publications").iterdir()) == ["p1", "p2", "p3", "p4"]
    (tmp_path / "report").unlink()
    remove_leftovers(tmp_path, ["p1", "p2", "p3", "p4"])
    assert sorted(p.name for p in (tmp_path / "publications").iterdir()) == ["p2", "p3", "p4"]


def test_after_the_headline_month_is_closed_the_new_publications_report_says_closed(warehouse):
    root = Path(warehouse.warehouse_dir)
    before = page_attributes(root / "report" / "index.html")
    assert before.figures["month_status"] == "open"
    result = materialize(
        [*all_assets, *all_checks],
        resources={"warehouse": warehouse},
        run_config={
            "ops": {"period_close": {"config": {"action": "close", "month": "2025-02", "reason": "test"}}}
        },
        raise_on_error=False,
    )
    assert result.success
    after = page_attributes(root / "report" / "index.html")
    assert after.body["data-publish-id"] == current_publish_id(root) != before.body["data-publish-id"]
    assert after.figures["month_status"] == "closed"
    assert "closed through February 2025" in (root / "report" / "index.html").read_text(encoding="utf-8")
    assert after.figures["nrr_12m"] == before.figures["nrr_12m"]  # the close froze the same numbers
