"""The regulator's dashboard over a sample of the demonstration year, in a real browser: the
figures shown are the API's, and the page is saved as the README's screenshot when
XIAOBAO_SCREENSHOT_DIR names a folder (`docs/screenshots`)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from api.demo import write_principals
from api.demo_loader import load_everything
from api.demo_year import Scale
from infrastructure.settings import Settings
from tests.e2e.test_dashboard_browser import browser  # noqa: F401 - the fixture
from tests.e2e.test_server import Server

REGULATOR = {"Authorization": "Bearer xb-demo-regulator"}


def caught_up(url: str, limit: float = 240) -> int:
    """Wait until every view of the server has reached the log's head (the demo's thousands
    of events take the views a while on a busy machine); that head's position."""
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


def test_the_dashboard_shows_the_demo_years_figures(
    settings: Settings,
    tmp_path: Path,
    browser: webdriver.Chrome,  # noqa: F811
) -> None:
    write_principals(settings.principals_file)
    load_everything(settings, Scale(0.05))
    server = Server(settings, tmp_path)
    server.start()
    try:
        position = caught_up(server.url)
        browser.get(f"{server.url}/dashboard?period=2026")
        WebDriverWait(browser, 20).until(
            expected_conditions.presence_of_element_located((By.ID, "token"))
        )
        browser.find_element(By.ID, "token").send_keys("xb-demo-regulator")
        browser.find_element(By.ID, "login").click()
        WebDriverWait(browser, 30).until(
            expected_conditions.presence_of_element_located(
                (By.CSS_SELECTOR, '[data-figure="received"]')
            )
        )
        period = browser.find_element(By.CSS_SELECTOR, '[data-figure="period"]').text
        api = httpx.get(
            f"{server.url}/v1/stats/complaints",
            params={"period": period, "position": position, "wait": 10},
            headers=REGULATOR,
            timeout=30,
        ).json()
        assert api["caught_up"] is True
        browser.refresh()
        WebDriverWait(browser, 30).until(
            expected_conditions.presence_of_element_located(
                (By.CSS_SELECTOR, '[data-figure="received"]')
            )
        )
        shown = browser.find_element(By.CSS_SELECTOR, '[data-figure="received"]').text
        assert shown == str(api["totals"]["received"])
        assert api["totals"]["received"] > 0  # the demo year, not an empty ledger
        screenshot = tmp_path / "dashboard.png"
        height = int(browser.execute_script("return document.documentElement.scrollHeight"))
        browser.set_window_size(1280, max(2200, height + 160))  # the whole page
        assert browser.save_screenshot(str(screenshot))
        assert screenshot.stat().st_size > 1000
        keep = os.environ.get("XIAOBAO_SCREENSHOT_DIR")
        if keep:
            shutil.copy(screenshot, Path(keep) / "dashboard.png")
    finally:
        server.kill()
