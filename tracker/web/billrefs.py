"""Bill numbers inside a history's text, as links: "Accompanied a new draft, see H5091" links H5091 to its page
in the archive (a followed bill's timeline, else the docket's document), or leaves it plain."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from spiders.billids import JURISDICTION

_NUMBER = re.compile(r"\b([HS])\.? ?(\d{1,5})\b")


def numbers_in(texts: list[str], session: int) -> set[str]:
    """The canonical ids of the bills these texts name (in ``session``)."""
    return {f"{JURISDICTION}/{session}/{m.group(1)}{m.group(2)}" for t in texts for m in _NUMBER.finditer(t or "")}


def page_url(canonical: str, pages: dict[str, str]) -> str | None:
    """The archive's page of a bill (``pages``: ``db.bills.pages_of``), or None."""
    kind = pages.get(canonical)
    _, session, number = canonical.split("/")
    return {"bill": f"/bills/{session}/{number}", "document": f"/documents/{session}/{number}"}.get(kind or "")


def linked(text: str, session: int, pages: dict[str, str]) -> Markup:
    """``text`` escaped, each bill number it names that has a page here a link to it."""
    out, last = [], 0
    for m in _NUMBER.finditer(text or ""):
        url = page_url(f"{JURISDICTION}/{session}/{m.group(1)}{m.group(2)}", pages)
        if url:
            out += [escape(text[last:m.start()]), Markup('<a href="{}">{}</a>').format(url, m.group(0))]
            last = m.end()
    out.append(escape((text or "")[last:]))
    return Markup("").join(out)
