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


def test_numbers_in_the_browser_follow_the_core_rule_right_aligned_with_the_exact_value(browser) -> None:
    import json

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from csvanalyst.core.numbers import format_number

    cases = json.loads((Path(__file__).parents[1] / "fixtures" / "number_format_cases.json").read_text())
    sql = "SELECT " + ", ".join(f"{float(v)!r}::DOUBLE AS c{i}" for i, (v, _) in enumerate(cases))

    def scripted() -> ScriptedModel:
        return ScriptedModel([call("run_sql", {"sql": sql}), answer("Here are the numbers.")])

    wait = WebDriverWait(browser, 60)
    with serve_in_thread(create_app(client_factory=scripted)) as live:
        browser.get(live.url + "/")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#dataset option[value=retail]"))
        browser.find_element(By.ID, "question").send_keys("show the numbers")
        browser.find_element(By.ID, "ask").click()
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".answer"), "Here are the numbers"))
        cells = browser.find_elements(By.CSS_SELECTOR, ".run .result-table td")
        assert [td.text for td in cells] == [shown for _, shown in cases]
        assert [td.text for td in cells] == [format_number(float(v)) for v, _ in cases]
        assert {td.value_of_css_property("text-align") for td in cells} == {"right"}
        assert cells[3].get_attribute("title") == "3700.662251655629"


def _open(browser, live, wait) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live.url + "/")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#dataset option[value=retail]"))
    wait.until(lambda d: "orders" in d.find_element(By.ID, "schema").text)


def _ask(browser, text: str) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "question").send_keys(text)
    browser.find_element(By.ID, "ask").click()


def test_reload_keeps_each_turns_table_and_chart_and_results_download_and_sql_copies(browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    with serve_in_thread(create_app(client_factory=_scripted)) as live:
        _open(browser, live, wait)
        assert browser.find_elements(By.CSS_SELECTOR, "#conversation .empty")  # the empty state says what to do
        _ask(browser, "which status is most common?")
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".answer"), "Most orders are delivered"))
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".chart svg"))
        browser.find_element(By.CSS_SELECTOR, ".run .copy-sql").click()
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".run .copy-sql"), "copied"))
        browser.find_element(By.CSS_SELECTOR, ".run .download-csv").click()
        wait.until(lambda d: list(tmp_path.glob("run-*.csv")))
        (downloaded,) = tmp_path.glob("run-*.csv")
        assert downloaded.read_text().splitlines()[0] == "status,n" and "delivered,2087" in downloaded.read_text()
        browser.refresh()
        wait.until(ec.text_to_be_present_in_element((By.ID, "conversation"), "Most orders are delivered"))
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#conversation .run .result-table td"))
        cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#conversation .run .result-table td")]
        assert "delivered" in cells and "2087" in cells
        assert "GROUP BY" in browser.find_element(By.CSS_SELECTOR, "#conversation .run pre.sql").text
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#conversation .chart svg"))


def test_enter_during_a_turn_starts_no_second_turn_and_stop_cancels_it(browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.support.slow import NEVER_ENDING_SQL

    def slow() -> ScriptedModel:
        return ScriptedModel([call("run_sql", {"sql": NEVER_ENDING_SQL}), answer("never shown")])

    wait = WebDriverWait(browser, 60)
    with serve_in_thread(create_app(client_factory=slow)) as live:
        _open(browser, live, wait)
        _ask(browser, "a slow question")
        wait.until(lambda d: d.find_element(By.ID, "busy").is_displayed())
        assert browser.find_element(By.ID, "stop").is_displayed()
        assert browser.find_element(By.ID, "conversation").get_attribute("aria-busy") == "true"
        browser.find_element(By.ID, "question").send_keys("a second question", Keys.ENTER)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#conversation .turn")) == 1
        browser.find_element(By.ID, "stop").click()
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".turn"), "Stopped."))
        wait.until(lambda d: not d.find_element(By.ID, "busy").is_displayed())
        assert not browser.find_element(By.ID, "stop").is_displayed()
        assert browser.find_element(By.CSS_SELECTOR, ".turn").get_attribute("data-status") == "cancelled"
        import httpx

        def newest(_: object) -> dict | None:
            run = httpx.get(f"{live.url}/runs?limit=1", timeout=30).json()[0]
            return run if run["status"] != "running" else None

        run = wait.until(newest)  # the sandbox run was stopped, not left to run into its time limit
        assert run["status"] == "cancelled" or (run["error"] or {}).get("code") == "cancelled", run


def test_phone_width_drawer_dark_mode_and_screenshots_at_both_sizes(browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    ARTIFACTS.mkdir(exist_ok=True)

    def viewport(width: int, height: int) -> None:
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700},
        )

    def box(element_id: str) -> dict[str, float]:
        return browser.execute_script(
            f"return document.getElementById('{element_id}').getBoundingClientRect().toJSON()"
        )

    with serve_in_thread(create_app(client_factory=_scripted)) as live:
        viewport(1400, 900)
        _open(browser, live, wait)
        _ask(browser, "which status is most common?")
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".answer"), "Most orders are delivered"))
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".chart svg"))
        assert box("sidebar")["width"] == 300 and not browser.find_element(By.ID, "menu").is_displayed()
        browser.save_screenshot(str(ARTIFACTS / "web-1400x900.png"))
        viewport(390, 844)
        wait.until(lambda d: box("sidebar")["right"] <= 0)  # the sidebar is a closed drawer
        assert box("conversation")["width"] >= 370
        browser.save_screenshot(str(ARTIFACTS / "web-390x844.png"))
        browser.find_element(By.ID, "menu").click()
        wait.until(lambda d: box("sidebar")["left"] >= 0)
        browser.save_screenshot(str(ARTIFACTS / "web-390x844-drawer.png"))
        browser.find_element(By.ID, "question").send_keys(Keys.ESCAPE)  # Esc closes the drawer
        wait.until(lambda d: box("sidebar")["right"] <= 0)
        light = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        browser.execute_cdp_cmd(
            "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
        )
        dark = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        assert light == "rgb(255, 255, 255)" and dark == "rgb(18, 22, 28)"
        browser.save_screenshot(str(ARTIFACTS / "web-390x844-dark.png"))
