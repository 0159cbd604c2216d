"""A headless Chromium (Debian's chromium + chromium-driver) driven by Selenium."""

from __future__ import annotations

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.support import system

ADMIN_TOKEN = "dashboard-admin-secret"


@pytest.fixture(scope="module")
def _chromium():
    options = webdriver.ChromeOptions()
    options.binary_location = system.require("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    service = Service(system.require("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


@pytest.fixture
def browser(_chromium):
    """The module's browser, with no cookies left from an earlier test."""
    _chromium.delete_all_cookies()
    return _chromium
