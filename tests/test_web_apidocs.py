"""``/api/docs`` in Chromium with every request off this machine refused: the Swagger UI page draws
the API's operations from assets the app serves itself (the README promises no CDN)."""

from __future__ import annotations

import shutil
from datetime import date
from urllib.parse import urlsplit

import pytest

from tests.alerts_world import KEY, add_action, add_bill, application, config
from tests.web_client import served

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")


@pytest.fixture(params=["sqlite"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def base(sessions):
    from tracker.web.app import create_app

    with sessions.begin() as s:
        add_action(s, add_bill(s, "H135"), "Referred to the committee on The Judiciary", ["referral"],
                   date(2021, 3, 29))
    with served(lambda _: create_app(application(config(), sessions, KEY, transport_factory=lambda: None))) as url:
        yield url


def test_the_api_docs_load_with_the_network_blocked(base):
    from playwright.sync_api import sync_playwright

    refused, served = [], []

    def only_this_machine(route):
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1":
            served.append(route.request.url)
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", only_this_machine)
            response = page.goto(f"{base}/api/docs")
            assert response.status == 200
            page.wait_for_selector(".opblock", timeout=15_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert any("/api/bills" in path for path in paths), paths
            assert page.locator(".opblock").count() >= 6
        finally:
            browser.close()
    assert refused == [], f"the docs page asked another machine: {refused}"
    assert any(url.endswith("/swagger-ui-bundle.js") for url in served)
