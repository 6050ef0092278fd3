"""Calling the ASGI web app in process, the way the web tests do."""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import httpx


def caller(app) -> Callable[..., httpx.Response]:
    """``call("GET", "/path", **httpx options)`` against ``app``, no server needed."""

    def call(method: str, url: str, **kw) -> httpx.Response:
        async def go():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
                return await c.request(method, url, **kw)

        return asyncio.run(go())

    return call


@contextmanager
def served(make_app: Callable[[str], object]) -> Iterator[str]:
    """The app ``make_app(base URL)`` builds, served by uvicorn on a free local port in a thread (for a real
    browser): yields the base URL."""
    import uvicorn

    from tests.smtp_sink import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(make_app(base), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
