"""Calling the ASGI web app in process, the way the web tests do."""

from __future__ import annotations

import asyncio
from typing import Callable

import httpx


def caller(app) -> Callable[..., httpx.Response]:
    """``call("GET", "/path", **httpx options)`` against ``app``, no server needed."""

    def call(method: str, url: str, **kw) -> httpx.Response:
        async def go():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
                return await c.request(method, url, **kw)

        return asyncio.run(go())

    return call
