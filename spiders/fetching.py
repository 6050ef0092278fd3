"""Small pieces shared by the spiders."""

from __future__ import annotations

from scrapy.http import Response

# Statuses the callbacks handle themselves. Redirects are left out on purpose:
# Scrapy follows them (up to REDIRECT_MAX_TIMES) only when they are not listed.
HANDLED_STATUSES = [304] + list(range(400, 600))


def header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
