"""Errors rendered once: RFC 9457 problem+json for the API, a page or a flash message for
the browser."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from pharmaqms.kernel.errors import QMSError
from pharmaqms.kernel.http.context import LoginRequired, is_api
from pharmaqms.kernel.http.flash import FLASH_COOKIE, flash_value

PROBLEM = "application/problem+json"


def problem_response(body: dict[str, Any], status: int) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _field_of(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "form")]
    return ".".join(loc) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(QMSError)
    async def qms_error(request: Request, exc: QMSError) -> Response:
        if is_api(request):
            body = exc.problem()
            body["instance"] = request.url.path
            return problem_response(body, exc.status)
        if isinstance(exc, LoginRequired):
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        if request.method in ("GET", "HEAD"):
            # A page that can't be shown: say why on an error page (redirecting back could
            # land on the same refused page again).
            from pharmaqms.kernel.http.templating import render

            return render(
                request,
                "error.html",
                {"status": exc.status, "title": exc.title, "message": exc.detail},
                exc.status,
            )
        # A refused form: back to the page it came from, with the reason on top.
        target = request.headers.get("referer") or "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(FLASH_COOKIE, flash_value("error", exc.detail), httponly=True)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": _field_of(e), "reason": str(e.get("msg", "invalid"))} for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        if is_api(request):
            return problem_response(
                {
                    "type": "https://pharmaqms.org/problems/invalid_input",
                    "title": "Invalid input",
                    "status": 422,
                    "code": "invalid_input",
                    "detail": detail,
                    "field": errors[0]["field"] if errors else None,
                    "errors": errors,
                    "instance": request.url.path,
                },
                422,
            )
        target = request.headers.get("referer") or "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(FLASH_COOKIE, flash_value("error", detail), httponly=True)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api(request) or exc.status_code != 404:
            return problem_response(
                {
                    "type": "about:blank",
                    "title": str(exc.detail),
                    "status": exc.status_code,
                    "code": "http_error",
                    "detail": str(exc.detail),
                    "instance": request.url.path,
                },
                exc.status_code,
            )
        from pharmaqms.kernel.http.templating import render

        return render(
            request,
            "error.html",
            {
                "status": 404,
                "title": "Page not found",
                "message": "There is no page at this address.",
            },
            404,
        )
