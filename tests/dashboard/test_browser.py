"""The dashboard in headless Chromium against a live mirror with real data."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

from hubmirror.progress import human_bytes
from tests.dashboard.conftest import ADMIN_TOKEN
from tests.dashboard.helpers import start_download, status_of
from tests.fakehub.defaults import TINY_BERT
from tests.support.http import get, head, request
from tests.support.ports import dead_url
from tests.support.waiting import wait_for

MiB = 1024 * 1024


def _field(browser, name: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, f'[data-field="{name}"]').text


def _log_in(browser, url: str, token: str) -> None:
    browser.get(f"{url}/dashboard/login")
    browser.find_element(By.ID, "token").send_keys(token)
    _click_and_wait(browser, browser.find_element(By.ID, "login"))


def _click_and_wait(browser, button) -> None:
    """Submit a form and wait for the next page to replace this one (a new page has a new
    ``window``: the mark set on the old one is gone)."""
    browser.execute_script("window.hubmirrorOldPage = true;")
    button.click()
    wait_for(lambda: _new_page(browser), "the next page")


def _new_page(browser) -> bool:
    try:
        return browser.execute_script("return window.hubmirrorOldPage === undefined;")
    except WebDriverException:  # asked mid-navigation
        return False


@pytest.mark.timeout(120)
def test_front_page_answers_at_a_glance_and_is_kept_as_a_screenshot(make_mirror, fakehub, browser):
    """Human units, upstream health in words, the traffic chart, top repos, no admin link
    without an admin token, and a title that says what the page is."""
    dead = dead_url()
    mirror = make_mirror(upstream=(dead, fakehub.url))
    target = f"{mirror.url}/{TINY_BERT}/resolve/main/config.json"
    size = len(get(target).body)
    get(target), get(target)
    wait_for(lambda: status_of(mirror.url)["requests"]["hits"] == 2, "two hits counted")
    browser.set_window_size(1280, 1800)
    browser.get(f"{mirror.url}/")
    assert browser.title == f"Hugging Face mirror at {mirror.url.split('://')[1]} · hubmirror"
    assert browser.find_element(By.ID, "hf-endpoint").text == f"export HF_ENDPOINT={mirror.url}"
    assert _field(browser, "hit_ratio") == "66.7% (2 hits, 1 misses)"
    assert _field(browser, "from_cache") == human_bytes(2 * size)
    assert _field(browser, "saved_60d") == human_bytes(2 * size)  # from the index
    assert _field(browser, "upstream_summary") == "1 of 2 unreachable"
    health = browser.find_element(By.ID, "upstream-rows").text
    assert f"{dead.split('://')[1]} unreachable since " in health
    assert re.search(r"reachable, \d+ ms", health)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-hours rect.cache")) == 1
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-days rect.upstream")) == 1
    top = browser.find_element(By.ID, "top-bytes").text
    assert top == f"{TINY_BERT} {human_bytes(3 * size)} 3"
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "header nav a")] == [
        "Status",
        "Repos",
    ]  # no admin token: no admin link
    shot = artifacts() / "dashboard-home.png"
    assert browser.save_screenshot(str(shot))
    print(f"dashboard screenshot: {shot}")


def artifacts() -> Path:
    """Where screenshots are kept for people to look at: $HUBMIRROR_TEST_ARTIFACTS or build/."""
    folder = Path(os.environ.get("HUBMIRROR_TEST_ARTIFACTS", "build/test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve()


@pytest.mark.timeout(120)
def test_progress_bar_of_a_running_fill_moves(mirror, fakehub, browser):
    fakehub.add_large_file("model", TINY_BERT, "big-dash.bin", 48 * MiB, seed=11)
    fakehub.faults.bandwidth = 1 * MiB  # seconds per segment: the page polls every second
    target = f"{mirror.url}/{TINY_BERT}/resolve/main/big-dash.bin"
    reader = mirror.call(start_download, target)
    browser.get(f"{mirror.url}/")

    def bar_value():  # read in one script: the page replaces its rows every second
        return browser.execute_script(_BAR_VALUE)

    first = wait_for(bar_value, "a progress bar")
    later = wait_for(lambda: (value := bar_value()) and value > first and value, "it moves")
    assert first < later <= 48 * MiB
    row = wait_for(lambda: (r := browser.execute_script(_ROW_TEXT)) and "left" in r and r, "ETA")
    assert TINY_BERT in row and "big-dash.bin" in row and " of 48.0 MiB" in row
    assert re.search(r"\d+\.\d (kB|MB)/s\d+ (s|min) left$", row), row  # speed, time left
    fakehub.faults.bandwidth = None
    mirror.call(reader.cancel)


_BAR_VALUE = "var b = document.querySelector('#transfers progress'); return b && b.value;"
_ROW_TEXT = "var r = document.querySelector('#transfers tr'); return r && r.textContent;"


@pytest.mark.timeout(120)
def test_repo_browser_lists_tiny_bert_files_with_sizes(make_mirror, browser):
    server = make_mirror(admin_token=ADMIN_TOKEN)
    _sync(server.url, TINY_BERT)
    tree = json.loads(get(f"{server.url}/api/models/{TINY_BERT}/tree/main?recursive=1").body)
    files = {item["path"]: item["size"] for item in tree if item["type"] == "file"}
    browser.get(f"{server.url}/dashboard/repos")
    browser.find_element(By.LINK_TEXT, TINY_BERT).click()
    rows = browser.find_elements(By.CSS_SELECTOR, "section.commit tbody tr")
    shown = {r.find_elements(By.TAG_NAME, "td")[0].text: r.text for r in rows}
    for path, size in files.items():
        assert f" {human_bytes(size)} stored" in shown[path]
    assert "main" in browser.find_element(By.TAG_NAME, "main").text


def _sync(url: str, repo: str) -> None:
    answer = request(
        "POST",
        f"{url}/admin/sync",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        body=json.dumps({"repo": repo}).encode(),
    )
    last = json.loads(answer.body.splitlines()[-1])
    assert answer.status == 200 and last["result"]["errors"] == [], last


@pytest.mark.timeout(120)
def test_login_with_the_admin_token_opens_the_admin_page(make_mirror, browser):
    server = make_mirror(admin_token=ADMIN_TOKEN)
    _log_in(browser, server.url, ADMIN_TOKEN)
    assert browser.current_url == f"{server.url}/dashboard/admin"
    assert browser.find_element(By.ID, "pending").is_displayed()
    cookie = browser.get_cookie("hubmirror_admin")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["value"] != ADMIN_TOKEN


@pytest.mark.timeout(120)
def test_login_with_a_wrong_token_is_refused(make_mirror, browser):
    server = make_mirror(admin_token=ADMIN_TOKEN)
    _log_in(browser, server.url, "not-the-token")
    assert browser.find_element(By.ID, "login-error").text == "Wrong admin token."
    assert browser.get_cookie("hubmirror_admin") is None
    browser.get(f"{server.url}/dashboard/admin")
    assert browser.find_elements(By.ID, "pending") == []


@pytest.mark.timeout(120)
def test_approve_button_makes_the_repo_serve(make_mirror, browser):
    server = make_mirror(admin_token=ADMIN_TOKEN, access_mode="approval")
    target = f"{server.url}/{TINY_BERT}/resolve/main/config.json"
    assert head(target).status == 403
    _log_in(browser, server.url, ADMIN_TOKEN)
    row = browser.find_element(By.CSS_SELECTOR, "#approvals tr")
    assert TINY_BERT in row.text
    _click_and_wait(browser, row.find_element(By.CSS_SELECTOR, "button.approve"))
    assert browser.current_url == f"{server.url}/dashboard/admin"
    assert browser.find_elements(By.ID, "approvals") == []
    assert head(target).status == 200


@pytest.mark.timeout(120)
def test_recent_audit_entries_show_on_the_admin_page(make_mirror, browser):
    server = make_mirror(admin_token=ADMIN_TOKEN, audit=True)
    assert get(f"{server.url}/{TINY_BERT}/resolve/main/config.json").status == 200
    _log_in(browser, server.url, ADMIN_TOKEN)

    def audit_rows():
        browser.refresh()
        return browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")

    rows = wait_for(audit_rows, "the download in the audit table")
    cells = [td.text for td in rows[0].find_elements(By.TAG_NAME, "td")]
    assert cells[1:] == [
        "download",
        "127.0.0.1",
        f"model:{TINY_BERT}",
        "config.json",
        "200",
        cells[6],
        "MISS",
        "",
    ]
    size = len(get(f"{server.url}/{TINY_BERT}/resolve/main/config.json").body)
    assert cells[6] == human_bytes(size)
