"""The POSTed forms of the web pages, read here rather than by Starlette's ``request.form()`` (what FastAPI's
``Form`` parameters use), which would change what users see:

- a form is read as ``application/x-www-form-urlencoded`` whatever its Content-Type says; ``request.form()`` reads
  nothing from a POST without that type (a script's POST would meet "Please try again"), and reads
  ``multipart/form-data`` (file parts spooled to disk; a file where a page expects text would answer 500) where
  no page takes a file;
- raw bytes are UTF-8, bad ones U+FFFD (``curl -d 'name=José'`` signs José); ``request.form()`` reads raw bytes
  as Latin-1 (``JosÃ©``, in a letter to a legislator);
- the limit is the whole body's, answered with each page's own 413 page; only what is under it is kept;
- blank values are kept (``a=`` and ``a`` are ""), a repeated key's last value is its value (``getlist``: all).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.datastructures import FormData
from starlette.requests import Request


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, cut at ``limit + 1`` bytes (longer than ``limit``: too large); what comes after is
    read and dropped, so a large POST costs no memory and the connection stays usable."""
    kept, size = [], 0
    async for chunk in request.stream():
        if size <= limit:
            kept.append(chunk[:limit + 1 - size])
        size += len(chunk)
    return b"".join(kept)


def parse_form(body: bytes) -> FormData:
    """A urlencoded body's fields: ``get`` is a key's last value, ``getlist`` all of them, in order."""
    return FormData(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
