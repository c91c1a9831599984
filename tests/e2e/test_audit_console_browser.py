"""The auditor's console in a real browser (Debian's chromium through selenium) against a real
`xiaobao serve` on SQLite with a sealed ledger: the pinned key verifies every event of a claim
in the browser; an event whose stored payload was changed behind the ledger's back turns red
with its name; a console pinned to another key verifies nothing."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from infrastructure.checkpoints import verifier_key
from infrastructure.principals import token_digest
from tests.api.conftest import PRINCIPALS, TOKENS, Api
from tests.api.test_auth_matrix import COMPLAINT
from tests.conftest import settings_for
from tests.e2e.test_dashboard_browser import browser_options, start_browser
from tests.e2e.test_server import Server

VERIFIED = "已验证：包含于检查点"


def wait(browser: webdriver.Chrome, seconds: float) -> WebDriverWait[webdriver.Chrome]:
    """A wait that asks again when the page replaced an element while it was being read."""
    return WebDriverWait(browser, seconds, ignored_exceptions=(StaleElementReferenceException,))


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    settings = settings_for("sqlite", tmp_path, request)
    settings.principals_file.write_bytes(
        orjson.dumps(
            [
                {**p, "token_sha256": token_digest(TOKENS[p["partner_id"] or p["role"]])}
                for p in PRINCIPALS
            ]
        )
    )
    running = Server(settings, tmp_path)
    running.start()
    yield running
    running.kill()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    driver = start_browser(browser_options(tmp_path))
    yield driver
    driver.quit()


def sealed_claim(
    server: Server, encounter: str = "ZY1", seed: bool = True
) -> tuple[str, list[dict[str, object]]]:
    """A settled claim whose every event the sealer has sealed."""
    with httpx.Client(base_url=server.url, timeout=20) as client:
        api = Api(client)  # type: ignore[arg-type]  # the same calls over real HTTP
        if seed:
            api.seed()
        claim = str(api.settle(encounter).json()["stream"]["id"])
        auditor = {"Authorization": f"Bearer {TOKENS['auditor']}"}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            events = client.get(
                f"/v1/claims/{claim}/history", params={"proofs": "true"}, headers=auditor
            ).json()["events"]
            if all(event["proof"] is not None for event in events):
                return claim, events
            time.sleep(0.2)
    raise AssertionError("the sealer did not seal the claim")


def verdicts(browser: webdriver.Chrome) -> dict[str, tuple[str, str]]:
    """version → (class, text) of each event's verdict, once every check has finished."""
    wait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, '#result[data-done="true"]'))
    return {
        cell.get_attribute("data-version") or "": (
            cell.get_attribute("class") or "",
            cell.text,
        )
        for cell in browser.find_elements(By.CSS_SELECTOR, "#events td[data-version]")
    }


def look_up(browser: webdriver.Chrome, claim: str) -> dict[str, tuple[str, str]]:
    browser.find_element(By.ID, "record").clear()
    browser.find_element(By.ID, "record").send_keys(claim)
    browser.find_element(By.ID, "find").click()
    return verdicts(browser)


def pin(browser: webdriver.Chrome, key: str) -> None:
    browser.find_element(By.ID, "key").clear()
    browser.find_element(By.ID, "key").send_keys(key)
    browser.find_element(By.ID, "pin").click()
    wait(browser, 20).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#consistency[data-checked]")
    )


def tamper(database: Path, position: int) -> None:
    """Change one stored event's payload (its rowid is its position); the sealed tree is left
    as it was."""
    with sqlite3.connect(database) as connection:
        (state,) = connection.execute(
            "SELECT state FROM stored_events WHERE rowid = ?", (position,)
        ).fetchone()
        changed = bytes(state).replace(b"55000.00", b"95000.00")
        assert changed != bytes(state)
        connection.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?", (changed, position)
        )


def test_the_console_verifies_every_event_in_the_browser_and_a_tampered_one_turns_red(
    server: Server, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    claim, events = sealed_claim(server)
    key = httpx.get(
        f"{server.url}/v1/ledger/public-key",
        headers={"Authorization": f"Bearer {TOKENS['auditor']}"},
        timeout=10,
    ).json()["verifier_key"]  # the auditor's own channel to the key, not the console's
    browser.get(f"{server.url}/audit")
    wait(browser, 20).until(lambda b: b.find_elements(By.ID, "token"))
    browser.find_element(By.ID, "token").send_keys(TOKENS["auditor"])
    browser.find_element(By.ID, "login").click()
    wait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "[data-ready]"))
    assert "未固定验证密钥" in browser.find_element(By.ID, "key-status").text

    # No pinned key: the events are listed, nothing is verified.
    unpinned = look_up(browser, claim)
    assert len(unpinned) == len(events) >= 3
    assert all("未验证" in text for _, text in unpinned.values())

    pin(browser, key)
    assert "签名已验证" in browser.find_element(By.ID, "consistency").text
    shown = look_up(browser, claim)
    assert set(shown) == {str(e["version"]) for e in events}
    for version, (kind, text) in shown.items():
        assert "ok" in kind.split(), (version, text)
        assert text.startswith(VERIFIED), (version, text)
    page = browser.page_source
    assert "北京时间" in page
    assert "hosp-1" in page or "Hospital One" in page  # the actor of each event
    screenshot = tmp_path / "audit-console.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 1000
    keep = os.environ.get("XIAOBAO_SCREENSHOT_DIR")
    if keep:
        shutil.copy(screenshot, Path(keep) / "audit-console.png")

    # The same claim found by its encounter and hospital.
    browser.find_element(By.ID, "encounter").send_keys("ZY1")
    browser.find_element(By.ID, "hospital").send_keys("hosp-1")
    browser.find_element(By.ID, "find-encounter").click()
    # The previous look-up's result stays "done" until the new one replaces it: wait for it.
    wait(browser, 30).until(
        lambda b: any(claim in h.text for h in b.find_elements(By.CSS_SELECTOR, "#result h2"))
    )
    by_encounter = verdicts(browser)
    assert all(text.startswith(VERIFIED) for _, text in by_encounter.values())

    # Time travel: the state at version 1.
    browser.find_element(By.ID, "version").clear()
    browser.find_element(By.ID, "version").send_keys("1")
    browser.find_element(By.ID, "travel-go").click()
    wait(browser, 20).until(lambda b: "版本 1 时的状态" in b.find_element(By.ID, "state").text)
    browser.find_element(By.ID, "version").clear()
    browser.find_element(By.ID, "version").send_keys("99")
    browser.find_element(By.ID, "travel-go").click()
    wait(browser, 20).until(lambda b: "没有版本 99 的状态" in b.find_element(By.ID, "state").text)

    # The ledger grows; on a reload the key stays pinned and the checkpoint seen last is
    # proved a prefix of the current one.
    first = int(
        browser.execute_script(
            'return JSON.parse(localStorage.getItem("xiaobao-audit-last-checkpoint")).size'
        )
    )
    sealed_claim(server, "ZY2", seed=False)
    browser.refresh()
    wait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "[data-ready]"))
    checked = browser.find_element(By.ID, "consistency").text
    assert f"一致性已验证：检查点 {first} → 检查点 " in checked
    assert f"检查点 {first} → 检查点 {first}（" not in checked  # a larger tree, a real proof

    # One stored payload changed behind the ledger's back: that event, and only it, is red.
    charges = next(e for e in events if e["version"] == 2)
    tamper(tmp_path / "ledger.sqlite3", int(str(charges["position"])))
    tampered = look_up(browser, claim)
    kind, text = tampered["2"]
    assert "bad" in kind.split()
    assert f"版本 2（位置 {charges['position']}" in text
    assert "包含证明未能到达检查点" in text
    assert all("ok" in kind.split() for version, (kind, _) in tampered.items() if version != "2")

    # Another key pinned: nothing is green.
    other = verifier_key(key.split("+")[0], Ed25519PrivateKey.generate().public_key())
    pin(browser, other)
    wrong = look_up(browser, claim)
    assert wrong
    assert all("bad" in kind.split() for kind, _ in wrong.values())
    assert not any(VERIFIED in text for _, text in wrong.values())
    assert "所固定密钥" in next(iter(wrong.values()))[1]
    assert "一致性检查失败" in browser.find_element(By.ID, "consistency").text


def test_an_unknown_id_gets_a_chinese_message(server: Server, browser: webdriver.Chrome) -> None:
    browser.get(f"{server.url}/audit/login")
    browser.find_element(By.ID, "token").send_keys(TOKENS["auditor"])
    browser.find_element(By.ID, "login").click()
    wait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "[data-ready]"))
    browser.find_element(By.ID, "record").send_keys("00000000-0000-4000-8000-000000000000")
    browser.find_element(By.ID, "find").click()
    wait(browser, 20).until(lambda b: b.find_elements(By.ID, "not-found"))
    assert "未找到理赔" in browser.find_element(By.ID, "not-found").text
    assert "投诉、纠纷中也没有此编号" in browser.find_element(By.ID, "not-found").text


def test_an_id_looked_up_under_the_wrong_kind_is_found_under_its_own(
    server: Server, browser: webdriver.Chrome
) -> None:
    """A newcomer pastes a complaint's id with 理赔 still selected: the console finds it."""
    created = httpx.post(
        f"{server.url}/v1/complaints",
        json=COMPLAINT,
        headers={"Authorization": f"Bearer {TOKENS['handler']}"},
        timeout=20,
    )
    assert created.status_code == 201, created.text
    complaint = created.json()["id"]
    browser.get(f"{server.url}/audit/login")
    browser.find_element(By.ID, "token").send_keys(TOKENS["auditor"])
    browser.find_element(By.ID, "login").click()
    wait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "[data-ready]"))
    assert browser.find_element(By.ID, "kind").get_attribute("value") == "claims"
    browser.find_element(By.ID, "record").send_keys(complaint)
    browser.find_element(By.ID, "find").click()
    wait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, '#result[data-done="true"]'))
    assert not browser.find_elements(By.ID, "not-found")
    assert "不是理赔，是投诉" in browser.find_element(By.ID, "kind-note").text
    assert f"投诉 {complaint}" in browser.find_element(By.CSS_SELECTOR, "#result h2").text
    assert browser.find_element(By.ID, "kind").get_attribute("value") == "complaints"
    first = browser.find_element(By.CSS_SELECTOR, '#events tr[data-version="1"]').text
    assert "北京时间" in first
    assert "投诉处理人员" in first  # the actor of the event
