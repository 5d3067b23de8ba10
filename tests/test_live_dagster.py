"""The code location as the team runs it: the run command, then `dagster dev` on loopback on the
same Dagster instance (``$DAGSTER_HOME`` with the project's ``config/dagster.yaml``), runs
launched through Dagster's GraphQL API and by the daemon's sensor, and the UI opened in headless
Chromium (screenshots in ``tests/artifacts/screenshots/``).

One server for the module; the tests run in order on the golden landing folder:
1. the run that ``python -m cli.run`` made before the UI started is in the UI: listed as
   succeeded, with the mart's row count and its checks passed, and no onboarding dialog;
2. the full job launched through GraphQL succeeds with nothing new to do: it recomputes nothing
   and publishes nothing, and the UI shows the asset graph, a mart's page with its checks, and
   in the mart's events that the run did not recompute it;
3. a schedule run and the sensor's run launched together both succeed, one after the other, with
   no DuckDB lock error (and, nothing new having landed, no new publication);
4. a late extract for an old month dropped into the landing folder triggers exactly one sensor
   run, which updates that month and republishes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import write
from tests.golden_fixture import write_golden_landing

pytestmark = pytest.mark.slow  # a live dagster dev with its daemon and Chromium, ~4 min

REPO = Path(__file__).resolve().parent.parent
SCREENSHOT_DIR = REPO / "tests" / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
LOCATION = {"repositoryLocationName": "assets.definitions", "repositoryName": "__repository__"}
SENSOR_INTERVAL_SECONDS = 3
RUN_TIMEOUT_SECONDS = 300
SCHEDULE_TAG = {"key": "dagster/schedule_name", "value": "daily_everything"}
SENSOR_TAG = {"key": "dagster/sensor_name", "value": "landing_sensor"}
MART_KEY = {"path": ["marts", "account_month_economics"]}
MART_CHECKS = ("grain_is_unique", "reconciles_with_staging", "expectation_suite")


@dataclass
class Server:
    url: str
    warehouse_dir: Path
    landing_dir: Path

    def graphql(self, query: str, **variables) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.load(response)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def launch(self, tags: list[dict]) -> str:
        data = self.graphql(
            """mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) {
                 __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
            params={"selector": {**LOCATION, "jobName": "everything"}, "executionMetadata": {"tags": tags}},
        )
        assert data["launchRun"]["__typename"] == "LaunchRunSuccess", data
        return data["launchRun"]["run"]["runId"]

    def run(self, run_id: str) -> dict:
        return self.graphql(
            """query Run($id: ID!) { runOrError(runId: $id) { ... on Run {
                 runId status startTime endTime
                 eventConnection { events { __typename ... on MessageEvent { message }
                   ... on ExecutionStepFailureEvent { error { message } } } } } } }""",
            id=run_id,
        )["runOrError"]

    def wait_for_end(self, run_id: str) -> dict:
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            run = self.run(run_id)
            if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
                return run
            time.sleep(1)
        raise TimeoutError(f"run {run_id} did not end within {RUN_TIMEOUT_SECONDS}s")

    def sensor_run_ids(self) -> list[str]:
        data = self.graphql(
            """query Runs($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) {
                 ... on Runs { results { runId } } } }""",
            tags=[SENSOR_TAG],
        )
        return [r["runId"] for r in data["runsOrError"]["results"]]

    def publications(self) -> list[str]:
        return [r[0] for r in self.published("SELECT publish_id FROM publish_log ORDER BY published_at")]

    def published(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse_dir / "marts.duckdb"), read_only=True) as con:
            return con.execute(sql).fetchall()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _messages(run: dict) -> str:
    events = run["eventConnection"]["events"]
    return "\n".join(f"{e.get('message') or ''} {(e.get('error') or {}).get('message', '')}" for e in events)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """The run command once, then `dagster dev` as `bash scripts/ee ui` starts it, on a free
    loopback port, on the same instance (which the run command prepared)."""
    root = tmp_path_factory.mktemp("live")
    write_golden_landing(root / "landing")
    home = root / "dagster_home"
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "EE_LANDING_DIR": str(root / "landing"),
        "EE_WAREHOUSE_DIR": str(root / "warehouse"),
        "EE_SENSOR_INTERVAL_SECONDS": str(SENSOR_INTERVAL_SECONDS),
    }
    command_line = subprocess.run(
        [sys.executable, "-m", "cli.run"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS,
    )  # fmt: skip
    assert command_line.returncode == 0, command_line.stdout[-3000:] + command_line.stderr[-3000:]
    log = (root / "dagster_dev.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", root / "warehouse", root / "landing")
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, (root / "dagster_dev.log").read_text()[-3000:]
            try:
                nodes = server.graphql(
                    "{ repositoriesOrError { ... on RepositoryConnection { nodes { name } } } }"
                )
                if nodes["repositoriesOrError"].get("nodes"):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "dagster dev did not answer within 180 s"
            time.sleep(1)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # dagster dev, its daemon, webserver and code server
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def test_the_run_commands_run_is_in_the_ui_with_its_row_counts_and_checks_and_no_dialog(server):
    runs = server.graphql(
        "{ runsOrError { ... on Runs { results { runId status jobName tags { key value } } } } }"
    )["runsOrError"]["results"]
    (run,) = runs  # the run command's, made before the UI started
    assert (run["status"], run["jobName"]) == ("SUCCESS", "everything")
    assert "ee/command_line" in {tag["key"] for tag in run["tags"]}
    asset = server.graphql(
        """query Mart($key: AssetKeyInput!) { assetOrError(assetKey: $key) { ... on Asset {
             assetMaterializations(limit: 1) { runId metadataEntries { label ... on IntMetadataEntry { intValue } } }
             definition { assetChecksOrError { ... on AssetChecks { checks {
               name executionForLatestMaterialization { runId status } } } } } } } }""",
        key=MART_KEY,
    )["assetOrError"]
    (materialization,) = asset["assetMaterializations"]
    assert materialization["runId"] == run["runId"]
    metadata = {entry["label"]: entry.get("intValue") for entry in materialization["metadataEntries"]}
    assert metadata["dagster/row_count"] == 16
    checks = asset["definition"]["assetChecksOrError"]["checks"]
    latest = {check["name"]: check["executionForLatestMaterialization"] for check in checks}
    for name in MART_CHECKS:
        assert latest[name] == {"runId": run["runId"], "status": "SUCCEEDED"}, name
    assert server.graphql("{ shouldShowNux }") == {"shouldShowNux": False}  # nux: enabled: false

    require_browser()
    pages = browse(server.url, SCREENSHOT_DIR, {
        "command_line_run_listed": ("/runs", run["runId"][:8]),
        "command_line_run_mart": ("/assets/marts/account_month_economics", "Latest materialization"),
    })  # fmt: skip
    assert "Success" in pages["command_line_run_listed"]
    assert re.search(r"Row count\s+16\b", pages["command_line_run_mart"])


def test_the_full_job_runs_from_graphql_and_the_ui_shows_what_it_recomputed(server):
    before = server.publications()
    run = server.wait_for_end(server.launch([{"key": "origin", "value": "graphql"}]))
    assert run["status"] == "SUCCESS", _messages(run)[-3000:]
    # Nothing new landed since the run command's run: nothing recomputed, no new publication.
    assert server.publications() == before
    asset = server.graphql(
        """query Mart($key: AssetKeyInput!) { assetOrError(assetKey: $key) { ... on Asset {
             assetMaterializations(limit: 1) { runId metadataEntries { label ... on BoolMetadataEntry { boolValue } } } } } }""",
        key=MART_KEY,
    )["assetOrError"]
    (materialization,) = asset["assetMaterializations"]
    assert materialization["runId"] == run["runId"]
    assert {e["label"]: e.get("boolValue") for e in materialization["metadataEntries"]}["recomputed"] is False

    require_browser()
    pages = browse(server.url, SCREENSHOT_DIR, {
        "asset_graph": ("/asset-groups", "Global asset lineage"),
        "mart_overview": ("/assets/marts/account_month_economics", "Latest materialization"),
        "mart_checks": ("/assets/marts/account_month_economics?view=checks", "reconciles_with_staging"),
        "mart_events": ("/assets/marts/account_month_economics?view=events", "recomputed"),
    })  # fmt: skip
    assert {"raw", "staging", "intermediate", "marts", "published"} <= set(pages["asset_graph"].split("\n"))
    mart_page = pages["mart_checks"]
    assert "account_month_economics" in mart_page
    for check in ("grain_is_unique", "reconciles_with_staging", "expectation_suite"):
        assert check in mart_page
    assert "Succeeded" in mart_page and "Failed" not in mart_page
    assert "gross_margin" in pages["mart_overview"]  # the column schema with its descriptions
    assert re.search(r"recomputed\s+false", pages["mart_events"], re.IGNORECASE)  # what the run did
    for name in pages:
        assert (SCREENSHOT_DIR / f"{name}.png").stat().st_size > 10_000


def require_browser() -> None:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("EE_REQUIRE_BROWSER"):
            pytest.fail(f"EE_REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing")
        pytest.skip("Debian's chromium and chromium-driver are not installed (`.ci/run` installs them)")


def browse(url: str, folder: Path, pages: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Open each page (name: (path, text it shows once loaded)) in headless Chromium, check
    that no dialog covers it (the first visit's "Join the Dagster community" is turned off by
    ``nux: enabled: false``), and screenshot it as ``<name>.png``.

    Selenium drives Debian's Chromium through Debian's ChromeDriver (same version, nothing
    downloaded); a fresh profile each time, so every visit is a first visit. Returns the visible
    text of each page.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    folder.mkdir(parents=True, exist_ok=True)
    profile = folder.parent / "chromium-profile"
    shutil.rmtree(profile, ignore_errors=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1600,1000", f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    texts = {}
    try:
        for name, (path, ready_text) in pages.items():
            driver.get(url + path)
            WebDriverWait(driver, 60).until(
                expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "body"), ready_text)
            )
            time.sleep(2)  # let the graph finish its layout (and a dialog open) before the screenshot
            driver.save_screenshot(str(folder / f"{name}.png"))
            texts[name] = driver.find_element(By.TAG_NAME, "body").text
            assert driver.find_elements(By.CSS_SELECTOR, "[role=dialog]") == [], f"a dialog covers {path}"
            assert "Join the Dagster community" not in texts[name]
    finally:
        driver.quit()
    return texts


def test_a_schedule_run_and_a_sensor_run_launched_together_both_succeed_one_after_the_other(server):
    before = len(server.publications())
    started = server.graphql(
        """mutation Start($selector: SensorSelector!) { startSensor(sensorSelector: $selector) {
             __typename ... on Sensor { sensorState { status } } ... on PythonError { message } } }""",
        selector={**LOCATION, "sensorName": "landing_sensor"},
    )["startSensor"]
    assert started["__typename"] == "Sensor" and started["sensorState"]["status"] == "RUNNING", started
    # What the daemon launches at 06:00, while the sensor sees the landing folder for the first time.
    schedule_run = server.launch([SCHEDULE_TAG])

    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while not server.sensor_run_ids():
        assert time.monotonic() < deadline, "the sensor launched no run"
        time.sleep(1)
    (sensor_run_id,) = server.sensor_run_ids()
    runs = [server.wait_for_end(run_id) for run_id in (schedule_run, sensor_run_id)]

    for run in runs:
        assert run["status"] == "SUCCESS", _messages(run)[-3000:]
        assert "lock" not in _messages(run).lower()
    first, second = sorted(runs, key=lambda r: r["startTime"])
    assert second["startTime"] >= first["endTime"]  # queued behind the first, never interleaved
    assert len(server.publications()) == before  # nothing new landed: the publication stays


LATE_TRANSACTION = """transaction_id,customer_id,occurred_at,status,amount,currency,processing_cost,updated_at
T7,C1,2025-01-15T10:00:00,settled,10000,USD,500,2025-03-20T00:00:00
"""


def test_a_late_extract_triggers_exactly_one_sensor_run_which_updates_its_month_and_republishes(server):
    economics = "SELECT account_id, month, processing_cost, infra_cost, cogs FROM account_month_economics ORDER BY ALL"
    before_rows = {(r[0], str(r[1])): r[2:] for r in server.published(economics)}
    publications = server.publications()
    sensor_runs = server.sensor_run_ids()

    write(server.landing_dir, "billing/transactions/2025-03-20/late_transactions.csv", LATE_TRANSACTION)
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while len(server.sensor_run_ids()) == len(sensor_runs):
        assert time.monotonic() < deadline, "the sensor did not react to the new file"
        time.sleep(1)
    (new_run_id,) = set(server.sensor_run_ids()) - set(sensor_runs)
    run = server.wait_for_end(new_run_id)
    assert run["status"] == "SUCCESS", _messages(run)[-3000:]

    time.sleep(4 * SENSOR_INTERVAL_SECONDS)  # more ticks over the same folder launch nothing
    assert len(server.sensor_run_ids()) == len(sensor_runs) + 1
    assert len(server.publications()) == len(publications) + 1

    after_rows = {(r[0], str(r[1])): r[2:] for r in server.published(economics)}
    jan = ("A1", "2025-01-01")
    # The late settled transaction: its network cost 500 cents, and one more settled transaction
    # at January's infrastructure cost of 0.01 USD.
    processing, infra, cogs = before_rows.pop(jan)
    # Money is exact DECIMAL: the late row adds exactly its converted amounts.
    assert after_rows.pop(jan) == (
        processing + Decimal("5.00"),
        infra + Decimal("0.01"),
        cogs + Decimal("5.01"),
    )
    assert after_rows == before_rows  # every other account-month as published before

    # What the run recomputed: the one late transaction, not the table.
    asset = server.graphql(
        """query Model($key: AssetKeyInput!) { assetOrError(assetKey: $key) { ... on Asset {
             assetMaterializations(limit: 1) { runId metadataEntries { label
               ... on TextMetadataEntry { text } ... on IntMetadataEntry { intValue } } } } } }""",
        key={"path": ["intermediate", "int_transactions_valued"]},
    )["assetOrError"]
    (materialization,) = asset["assetMaterializations"]
    assert materialization["runId"] == new_run_id
    entries = {e["label"]: e.get("text", e.get("intValue")) for e in materialization["metadataEntries"]}
    assert (entries["recompute"], entries["keys_recomputed"]) == ("incremental", 1)
    require_browser()
    pages = browse(server.url, SCREENSHOT_DIR, {
        "incremental_model_events": ("/assets/intermediate/int_transactions_valued?view=events", "keys_recomputed"),
    })  # fmt: skip
    assert re.search(r"keys_recomputed\s+1\b", pages["incremental_model_events"])
    assert re.search(r"recompute\s+incremental", pages["incremental_model_events"])
