"""A real browser (Debian's chromium through selenium) logs in to the dashboard of a real
server and finds the figures the API reports; it saves a screenshot."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from api.demo import write_principals
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


def test_the_dashboard_shows_the_apis_figures_in_a_real_browser(
    settings: Settings, tmp_path: Path, browser: webdriver.Chrome
) -> None:
    write_principals(settings.principals_file)
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
        position = int(httpx.get(f"{server.url}/readyz", timeout=10).json()["position"])
        browser.get(f"{server.url}/dashboard")
        WebDriverWait(browser, 20).until(
            expected_conditions.presence_of_element_located((By.ID, "token"))
        )
        browser.find_element(By.ID, "token").send_keys("xb-demo-regulator")
        browser.find_element(By.ID, "login").click()
        WebDriverWait(browser, 20).until(
            expected_conditions.presence_of_element_located(
                (By.CSS_SELECTOR, '[data-figure="received"]')
            )
        )
        period = browser.find_element(By.CSS_SELECTOR, '[data-figure="period"]').text
        api = httpx.get(
            f"{server.url}/v1/stats/complaints",
            params={"period": period, "position": position, "wait": 10},
            headers={"Authorization": "Bearer xb-demo-regulator"},
            timeout=20,
        ).json()
        assert api["caught_up"] is True
        browser.refresh()
        WebDriverWait(browser, 20).until(
            expected_conditions.presence_of_element_located(
                (By.CSS_SELECTOR, '[data-figure="received"]')
            )
        )
        shown = {
            name: browser.find_element(By.CSS_SELECTOR, f'[data-figure="{name}"]').text
            for name in ("received", "transfers", "closed", "open")
        }
        assert shown["received"] == str(api["totals"]["received"]) == "2"
        assert shown["transfers"] == str(api["totals"]["transfers_12378"])
        assert shown["closed"] == str(api["totals"]["closed"])
        assert shown["open"] == str(api["totals"]["open_at_end"])
        assert "投诉原因分布" in browser.page_source
        screenshot = tmp_path / "dashboard.png"
        assert browser.save_screenshot(str(screenshot))
        assert screenshot.stat().st_size > 1000
        keep = os.environ.get("XIAOBAO_SCREENSHOT_DIR")
        if keep:  # where CI or a developer wants to look at it
            shutil.copy(screenshot, Path(keep) / "dashboard.png")
    finally:
        server.kill()
