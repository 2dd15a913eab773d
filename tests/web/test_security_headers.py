"""Security headers on every kind of response, the Secure flag of cookies on HTTPS, and the
pre-session CSRF token of the login and password forms."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support import PASSWORD
from tests.web.support import counts, flash_of, make_sop

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.http.security import PAGE_POLICY, SVG_POLICY
from pharmaqms.kernel.settings import reset_settings_cache
from pharmaqms.web import access

COMMON = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def assert_hardened(response: Any, policy: str = PAGE_POLICY) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    assert response.headers["content-security-policy"] == policy, response.request.url
    assert "frame-ancestors 'none'" in policy


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Environment variables read fresh by the settings, restored after the test."""
    reset_settings_cache()
    yield monkeypatch
    monkeypatch.undo()
    reset_settings_cache()


def test_pages_json_pdf_static_and_errors_all_carry_the_headers(
    ui: Any, db: Database, people: Any
) -> None:
    # given a logged-in QA and an approved SOP (it has a PDF)
    doc_id, vid, _ = make_sop(db, people.qc, state="approved", approver=people.qa)
    client = ui("qa")
    samples = {
        "login page": client.get("/login"),
        "html page": client.get(f"/documents/{doc_id}"),
        "json": client.get("/api/v1/me"),
        "pdf": client.get(f"/api/v1/document-versions/{vid}/pdf"),
        "static css": client.get("/static/app.css"),
        "static js": client.get("/static/app.js"),
        "page not found": client.get("/no/such/page"),
        "api problem": client.get("/api/v1/no/such/thing"),
        "refused api call": TestClient(client.client.app).get("/api/v1/me"),
        "redirect": client.post("/records/document_version/999999/transitions/approve", {}),
    }
    kinds = {name: r.headers.get("content-type", "").split(";")[0] for name, r in samples.items()}
    assert kinds == {
        "login page": "text/html",
        "html page": "text/html",
        "json": "application/json",
        "pdf": "application/pdf",
        "static css": "text/css",
        "static js": "text/javascript",
        "page not found": "text/html",
        "api problem": "application/problem+json",
        "refused api call": "application/problem+json",
        "redirect": "",
    }
    assert [samples[n].status_code for n in ("page not found", "api problem")] == [404, 404]
    assert samples["refused api call"].status_code == 401
    for response in samples.values():
        assert_hardened(response)
    assert PAGE_POLICY.split("; ")[:3] == [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
    ]
    # no HSTS over plain HTTP (a browser ignores it there, and a proxy may be the HTTPS end)
    assert all("strict-transport-security" not in r.headers for r in samples.values())


def test_an_svg_chart_opened_on_its_own_runs_no_script_but_keeps_its_styles(ui: Any) -> None:
    chart = ui("qa").get("/quality/charts/deviations-by-class.svg")

    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert_hardened(chart, SVG_POLICY)
    assert "script-src" not in SVG_POLICY and "default-src 'none'" in SVG_POLICY


def test_an_unexpected_error_page_carries_the_headers_too(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A route added for this test only, open to anyone so that the handler itself is reached.
    monkeypatch.setitem(access.ROUTES, ("GET", "/api/v1/test-only/boom"), access.PUBLIC)

    @app.get("/api/v1/test-only/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    response = TestClient(app, raise_server_exceptions=False).get("/api/v1/test-only/boom")

    assert response.status_code == 500
    assert_hardened(response)


def test_the_api_docs_page_allows_exactly_its_own_inline_script(app: Any) -> None:
    response = TestClient(app).get("/api/docs")

    assert response.status_code == 200
    # Its assets come from this site (a plant network has no internet), and only from it.
    assert re.findall(r'(?:src|href)="(https?:)', response.text) == []
    assert "https://" not in response.headers["content-security-policy"]
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", response.text, re.S)
    assert scripts, "Swagger UI starts with an inline script"
    policy = response.headers["content-security-policy"]
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"


def session_cookie(response: Any) -> str:
    [cookie] = [c for c in response.headers.get_list("set-cookie") if "pqms_session=" in c]
    return cookie


def test_the_session_cookie_is_secure_on_an_https_request(ui: Any) -> None:
    client = ui()
    client.client.base_url = "https://testserver"  # type: ignore[assignment]

    response = client.login("qa")

    assert response.status_code == 303
    assert "Secure" in session_cookie(response)
    assert response.headers["strict-transport-security"] == "max-age=31536000"


def presession_cookie(response: Any) -> str:
    [cookie] = [c for c in response.headers.get_list("set-cookie") if "pqms_presession=" in c]
    return cookie


def test_a_forwarded_proto_counts_only_when_the_proxy_is_trusted(
    app: Any, settings_env: pytest.MonkeyPatch
) -> None:
    # given a request that claims HTTPS through X-Forwarded-Proto, and no trusted proxy
    claimed = {"x-forwarded-proto": "https"}
    untrusted = TestClient(app).get("/login", headers=claimed)
    assert "Secure" not in presession_cookie(untrusted)
    assert "strict-transport-security" not in untrusted.headers

    # when the setting says the proxy is trusted
    settings_env.setenv("PHARMAQMS_TRUST_PROXY_HEADERS", "1")
    reset_settings_cache()
    trusted = TestClient(app).get("/login", headers=claimed)

    # then its word is taken; and the nearest proxy's word is the last one
    assert "Secure" in presession_cookie(trusted)
    assert trusted.headers["strict-transport-security"] == "max-age=31536000"
    downgraded = TestClient(app).get("/login", headers={"x-forwarded-proto": "https, http"})
    assert "Secure" not in presession_cookie(downgraded)


def test_the_cookie_setting_makes_cookies_secure_on_http(
    app: Any, settings_env: pytest.MonkeyPatch
) -> None:
    plain = TestClient(app).get("/login")
    assert "Secure" not in presession_cookie(plain)

    settings_env.setenv("PHARMAQMS_COOKIE_SECURE", "true")
    reset_settings_cache()

    assert "Secure" in presession_cookie(TestClient(app).get("/login"))


def test_the_login_form_carries_a_pre_session_token_in_a_strict_cookie(ui: Any) -> None:
    page = ui().client.get("/login")

    cookie = presession_cookie(page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None and f"pqms_presession={token.group(1)};" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie


@pytest.mark.parametrize("token", [None, "", "forged-token-of-another-site-0123456789abcdef"])
def test_a_login_without_the_pre_session_token_is_refused_and_changes_nothing(
    ui: Any, db: Database, token: str | None
) -> None:
    # given a browser that has the login page (and its cookie), and a form posted without
    # the page's token: from another site, or an old page
    client = ui()
    client.get("/login")
    before = counts(db)
    form = {"username": "qa", "password": PASSWORD}
    if token is not None:
        form["csrf_token"] = token

    response = client.client.post("/login", data=form)

    # then no session, no audit entry, and the reason on the login page
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"
    assert "pqms_session" not in client.client.cookies
    assert counts(db) == before
    assert flash_of(client.follow(response).text) == (
        "the form has expired or did not come from this site: please try again"
    )


def test_a_password_change_without_the_pre_session_token_is_refused(ui: Any, db: Database) -> None:
    client = ui()
    before = counts(db)

    response = client.client.post(
        "/password",
        data={
            "username": "qa",
            "old_password": PASSWORD,
            "new_password": "Another-Horse-17!",
            "confirm_password": "Another-Horse-17!",
        },
    )

    assert response.headers["location"] == "/password?username=qa"
    assert counts(db) == before
    assert client.login("qa").headers["location"] == "/"
