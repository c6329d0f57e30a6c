"""The web page in real headless Chromium: ask a question, see the streamed answer, the table and the chart.

Skips (saying why) where Chromium or chromedriver is missing; in CI (CI=true) that is a failure.
A screenshot is kept in test-artifacts/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from csvanalyst.server.app import create_app
from csvanalyst.testing.scripted import ScriptedModel, answer, call, last_tool_result
from tests.support.live import serve_in_thread
from tests.support.requires import missing, unavailable

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SQL = "SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY n DESC"


def _browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    missing("chromium" if chromium is None else "chromedriver", "the web page's browser test")


@pytest.fixture
def browser() -> Iterator[object]:
    chromium, driver_path = _browser_paths()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("the web page's browser test needs selenium (`make install` installs the dev extra)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _scripted() -> ScriptedModel:
    def reply(messages):
        result = last_tool_result(messages)
        return answer(f"Most orders are {result['rows'][0][0]} (run {result['run_id']}).")

    return ScriptedModel([call("run_sql", {"sql": SQL}), reply])


def test_ask_in_the_browser_shows_answer_table_and_chart(browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    with serve_in_thread(create_app(client_factory=_scripted)) as live:
        browser.get(live.url + "/")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#dataset option[value=retail]"))
        wait.until(lambda d: "orders" in d.find_element(By.ID, "schema").text)
        browser.find_element(By.ID, "question").send_keys("which status is most common?")
        browser.find_element(By.ID, "ask").click()
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".answer"), "Most orders are delivered"))
        cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, ".run .result-table td")]
        assert "delivered" in cells and "2087" in cells
        assert "GROUP BY" in browser.find_element(By.CSS_SELECTOR, ".run pre.sql").text
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".chart svg, .chart canvas"))
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "web-answer.png"))
        thread_id = browser.execute_script("return localStorage.getItem('csvanalyst.thread')")
        assert thread_id and thread_id.startswith("t")
        browser.refresh()  # the thread survives a reload
        wait.until(ec.text_to_be_present_in_element((By.ID, "conversation"), "which status is most common?"))
        assert "Most orders are delivered" in browser.find_element(By.ID, "conversation").text
