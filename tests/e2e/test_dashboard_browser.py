"""A real browser (Debian's chromium through selenium) logs in to the dashboard of a real
server loaded with a sample of the demo year, picks a period and finds the figures the API
reports; it saves a full-page screenshot (kept where `XIAOBAO_SCREENSHOT_DIR` names)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from api.demo import write_principals
from api.demo_loader import load_everything
from api.demo_year import Scale
from infrastructure.settings import Settings
from tests.e2e.test_server import Server

COMPLAINT = {
    "channel": "hotline",
    "complainant": {"id": "c-1", "name": "张三"},
    "matter": "理赔被拒",
    "request": "赔付",
    "cause": "claims",
    "line": "health",
    "region": "330100",
}


def browser_options(tmp_path: Path) -> Options:
    """Headless Debian chromium with nothing of its own reaching the network."""
    os.environ["SE_OFFLINE"] = "true"  # never let selenium fetch a driver or a browser
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'chrome'}",
    ):
        options.add_argument(argument)
    return options


def start_browser(options: Options) -> webdriver.Chrome:
    return webdriver.Chrome(
        service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options
    )


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    driver = start_browser(browser_options(tmp_path))
    yield driver
    driver.quit()


def wait_for(browser: webdriver.Chrome, selector: str) -> None:
    WebDriverWait(browser, 30).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, selector))
    )


def load_demo(settings: Settings) -> None:
    """A sample of the demo year, through the same loader as `xiaobao demo`."""
    load_everything(settings, Scale(0.02))


def caught_up(url: str, limit: float = 240) -> int:
    """The log's head once every view of the server has reached it."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            ready = httpx.get(f"{url}/readyz", timeout=10).json()
        except httpx.TransportError:
            time.sleep(1)
            continue
        lags = ready.get("projection_lag", {})
        if lags and not any(lags.values()):
            return int(ready["position"])
        time.sleep(1)
    raise AssertionError(f"the views did not catch up with the demo within {limit} s")


def full_page(browser: webdriver.Chrome, path: Path) -> None:
    """A screenshot of the whole page (the window grown to the document's height)."""
    height = int(browser.execute_script("return document.documentElement.scrollHeight"))
    browser.set_window_size(1280, max(1000, height + 160))
    assert browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000


def test_the_dashboard_shows_the_apis_figures_in_a_real_browser(
    settings: Settings, tmp_path: Path, browser: webdriver.Chrome
) -> None:
    write_principals(settings.principals_file)
    load_demo(settings)
    server = Server(settings, tmp_path)
    server.start()
    try:
        handler = {"Authorization": "Bearer xb-demo-handler"}
        for cause in ("claims", "service"):
            created = httpx.post(
                f"{server.url}/v1/complaints",
                json={**COMPLAINT, "cause": cause},
                headers=handler,
                timeout=10,
            )
            assert created.status_code == 201, created.text
        position = caught_up(server.url)
        # A handler may not see it: the login form says so in Chinese.
        browser.get(f"{server.url}/dashboard")
        wait_for(browser, "#token")
        browser.find_element(By.ID, "token").send_keys("xb-demo-handler")
        browser.find_element(By.ID, "login").click()
        wait_for(browser, "#refused")
        assert "无权查看监管看板" in browser.find_element(By.ID, "refused").text
        browser.find_element(By.ID, "token").send_keys("xb-demo-regulator")
        browser.find_element(By.ID, "login").click()
        wait_for(browser, '[data-figure="received"]')
        # The picker: this year, kept in the URL and shown in the contract's syntax.
        year = browser.find_element(By.CSS_SELECTOR, '[data-figure="period"]').text[:4]
        Select(browser.find_element(By.ID, "period")).select_by_value(year)
        browser.find_element(By.ID, "show").click()
        WebDriverWait(browser, 30).until(expected_conditions.url_contains(f"period={year}"))
        api = httpx.get(
            f"{server.url}/v1/stats/complaints",
            params={"period": year, "position": position, "wait": 10},
            headers={"Authorization": "Bearer xb-demo-regulator"},
            timeout=20,
        ).json()
        assert api["caught_up"] is True
        browser.refresh()
        wait_for(browser, '[data-figure="received"]')
        assert browser.find_element(By.CSS_SELECTOR, '[data-figure="period"]').text == year
        shown = {
            name: browser.find_element(By.CSS_SELECTOR, f'[data-figure="{name}"]').text
            for name in ("received", "transfers", "closed", "open", "duplicates")
        }
        assert shown["received"] == str(api["totals"]["received"])
        assert int(shown["received"]) >= 2  # the demo's complaints and the two posted here
        assert shown["transfers"] == str(api["totals"]["transfers_12378"])
        assert shown["closed"] == str(api["totals"]["closed"])
        assert shown["open"] == str(api["totals"]["open_at_end"])
        assert shown["duplicates"] == str(api["totals"]["duplicates_merged"])
        page = browser.page_source
        assert "投诉原因分布" in page
        assert "北京时间" in page
        assert "张三" not in page  # figures only
        assert not browser.find_elements(By.CSS_SELECTOR, "[data-queue]")  # no queue links
        screenshot = tmp_path / "dashboard.png"
        full_page(browser, screenshot)
        keep = os.environ.get("XIAOBAO_SCREENSHOT_DIR")
        if keep:  # where a developer wants to look at it (the README's is the demo test's)
            shutil.copy(screenshot, Path(keep) / "dashboard-picked-year.png")
        browser.find_element(By.ID, "logout").click()
        wait_for(browser, "#token")
        browser.get(f"{server.url}/dashboard")
        wait_for(browser, "#token")  # the session ended: back to the login form
    finally:
        server.kill()
