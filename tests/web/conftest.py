"""Fixtures of the web tests: a TestClient that logs in through the login form like a browser
(session cookie plus the CSRF token read from the page), and one headless Chromium per test
run for the browser tests."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from tests.conftest import service_unavailable
from tests.support import PASSWORD

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')

# From docs/recipes: without the background-networking flags Chromium tries outside hosts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    for path in ("/usr/lib/chromium/chromium", "/usr/bin/chromium"):
        if os.path.exists(path):
            return path
    return None


class UiClient:
    """A browser stand-in: keeps the session cookie, sends the CSRF token of the last page
    like a form would, and the page it came from as referer (refused forms go back there)."""

    def __init__(self, app: Any) -> None:
        self.client = TestClient(app, follow_redirects=False)
        self.csrf_token = ""

    def login(self, username: str, password: str = PASSWORD) -> Response:
        response = self.client.post("/login", data={"username": username, "password": password})
        if response.status_code == 303 and response.headers["location"] == "/":
            self.get("/")
        return response

    def get(self, url: str, **kw: Any) -> Response:
        response = self.client.get(url, **kw)
        found = CSRF_INPUT.search(response.text)
        if found:
            self.csrf_token = found.group(1)
        return response

    def post(
        self, url: str, data: dict[str, Any] | None = None, *, referer: str = "/", csrf: bool = True
    ) -> Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf_token)
        return self.client.post(url, data=form, headers={"referer": f"http://testserver{referer}"})

    def follow(self, response: Response) -> Response:
        """The page a POST → redirect lands on (and its flash message)."""
        assert response.status_code == 303, response.text
        return self.get(response.headers["location"])


@pytest.fixture
def ui(app: Any) -> Any:
    """``ui("qa")`` → a client logged in through the form as qa."""

    def make(username: str | None = None) -> UiClient:
        client = UiClient(app)
        if username:
            response = client.login(username)
            assert response.status_code == 303, response.text
            assert response.headers["location"] == "/"
        return client

    return make


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the whole run; each test opens its own context (cookies)."""
    path = chromium_path()
    if path is None:
        service_unavailable("Chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_unavailable("Playwright for Python")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
