"""The API documentation pages render in a real browser with no network beyond the
service itself: Swagger UI and ReDoc come from assets the service serves."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from infrastructure.settings import Settings
from tests.e2e.test_dashboard_browser import browser_options, start_browser
from tests.e2e.test_server import Server


@pytest.fixture
def offline_browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """Chromium that can resolve no host name: only an IP literal (the test server) works."""
    options = browser_options(tmp_path)
    options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = start_browser(options)
    yield driver
    driver.quit()


def requested_urls(driver: webdriver.Chrome) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):  # type: ignore[no-untyped-call]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_docs_pages_name_no_other_host(server: Server) -> None:
    server.start()
    for page in ("/docs", "/redoc"):
        html = httpx.get(f"{server.url}{page}", timeout=10).text
        references = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert references, page
        assert all(ref.startswith("/") and not ref.startswith("//") for ref in references), (
            page,
            references,
        )
        assert not re.search(r"https?://", html), page
        for ref in references:
            asset = httpx.get(f"{server.url}{ref}", timeout=10)
            assert asset.status_code == 200, ref
            assert b"cdn.redoc.ly" not in asset.content, ref


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_swagger_ui_and_redoc_render_with_the_network_off(
    server: Server, offline_browser: webdriver.Chrome, settings: Settings
) -> None:
    server.start()
    offline_browser.get(f"{server.url}/docs")
    title = WebDriverWait(offline_browser, 30).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".swagger-ui .title"))
    )
    assert "Xiaobao Ledger" in title.text
    WebDriverWait(offline_browser, 30).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".opblock"))
    )
    offline_browser.get(f"{server.url}/redoc")
    heading = WebDriverWait(offline_browser, 30).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "h1"))
    )
    assert "Xiaobao Ledger" in heading.text
    outside = [
        url
        for url in requested_urls(offline_browser)
        if url.startswith(("http:", "https:", "ws:", "wss:")) and not url.startswith(server.url)
    ]
    assert outside == []
