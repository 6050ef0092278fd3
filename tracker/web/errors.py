"""Error handling of the web app: every bad request becomes a 4xx with a clear message (an HTML page,
or JSON under /api), a slow query or an unreachable database a 503."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from spiders.billids import dotted, ordinal
from tracker.application import AmbiguousBillId
from tracker.web.common import render


def install_error_handlers(app: FastAPI) -> None:
    def problem(request: Request, status: int, message: str):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message, "status": status}, status_code=status)
        return render(request, "page.html", status=status, title=_titles.get(status, "Something is wrong"),
                      message=message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: HTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "this page does not exist"
        if exc.status_code == 404 and message == "Not Found":
            message = f"there is nothing at {request.url.path[:200]}"
        return problem(request, exc.status_code, message)

    @app.exception_handler(AmbiguousBillId)
    async def several_bills(request: Request, exc: AmbiguousBillId):
        """A short id several followed bills have: 300 Multiple Choices, listing each (JSON under /api)."""
        paths = [(c, "/bills/" + c.split("/", 1)[1]) for c in exc.candidates]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc), "status": 300,
                                 "candidates": [{"id": c, "url": "/api" + p} for c, p in paths]}, status_code=300)
        number = dotted(exc.number)
        choices = [{"url": p, "words": f"{number} of the {ordinal(int(c.split('/')[1]))} General Court"}
                   for c, p in paths]
        return render(request, "page.html", status=300, title=f"Which {number}?",
                      message=f"We follow {len(choices)} bills numbered {number}, of different General Courts:",
                      choices=choices)

    @app.exception_handler(RequestValidationError)
    async def bad_params(request: Request, exc: RequestValidationError):
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body"))
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return problem(request, 400, "; ".join(parts) or "invalid request")

    @app.exception_handler(OperationalError)
    async def slow_or_down(request: Request, exc: OperationalError):
        text = str(exc.orig or exc).lower()
        if "timeout" in text or "interrupted" in text or "canceling statement" in text:
            return problem(request, 503, "the query took too long; narrow it down")
        return problem(request, 503, "the database is not reachable right now; try again in a minute")


_titles = {400: "That request is not right", 403: "Not allowed", 404: "Not found", 413: "Too much",
           429: "Slow down", 503: "Try again later"}
