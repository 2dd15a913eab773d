"""Fixtures of the web tests: a TestClient that logs in through the login form like a browser
(session cookie plus the CSRF token read from the page). The browser tests' one Chromium per run
is the root conftest's ``chromium``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from tests.support import PASSWORD

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


class UiClient:
    """A browser stand-in: keeps the session cookie, sends the CSRF token of the last page
    like a form would, and the page it came from as referer (refused forms go back there)."""

    def __init__(self, app: Any) -> None:
        self.client = TestClient(app, follow_redirects=False)
        self.csrf_token = ""

    def post_login(self, data: dict[str, str]) -> Response:
        """The login form as a browser sends it: the page first (its pre-session token and
        cookie), then the form with the token."""
        self.get("/login")
        return self.post("/login", data)

    def login(self, username: str, password: str = PASSWORD) -> Response:
        response = self.post_login({"username": username, "password": password})
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
