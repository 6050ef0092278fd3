"""Pure parsers for malegislature.gov: the JSON API and the HTML bill pages.

Every ``parse_*`` function takes the raw response body and the URL it came
from, and returns records from :mod:`spiders.records`. Nothing here touches
the network or the database.

Failure policy:

* the site's "Oh My Cod!" error page (served with HTTP 500 for an unknown bill)
  raises :class:`BillNotFound`;
* a body that is not what we expected (malformed JSON, a page whose history
  table or title bar is missing) raises :class:`ParseError`; when the body
  parsed but the part we need is missing, ``layout_changed`` is set. An empty
  history is only ever returned when the page really shows an empty table.

The HTML structure follows the real pages (ASP.NET MVC + Bootstrap 3): the
title bar ``div.followable > h1`` ("Bill H.135" + ``span.subTitle``), the long
title ``h2`` in ``#contentContainer``, ``p#pinslip``, the ``dl.billInfo``
(``Sponsor:``/``Presenter:``), the Bill History table (Date | Branch | Action)
paginated by ``ul.pagination-sm``, and the Petitioners table on ``/Cosponsor``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Iterable

import lxml.etree
import lxml.html
from parsel import Selector

from spiders.records import (
    BillDetail,
    BillNotFound,
    BillPage,
    HistoryAction,
    ParseError,
    Sponsor,
)

__all__ = [
    "api_document_url",
    "api_history_url",
    "bill_page_url",
    "history_page_url",
    "petitioners_url",
    "is_oh_my_cod",
    "parse_api_history",
    "parse_api_document",
    "parse_html_bill_page",
    "parse_html_history_page",
    "parse_html_petitioners",
]

# --------------------------------------------------------------------------- URLs


def _base(base: str) -> str:
    return base.rstrip("/")


def api_document_url(base: str, gc: int | str, number: str) -> str:
    """``{base}/api/GeneralCourts/{gc}/Documents/{number}`` (send ``Accept: application/json``)."""
    return f"{_base(base)}/api/GeneralCourts/{gc}/Documents/{number}"


def api_history_url(base: str, gc: int | str, number: str) -> str:
    """``{base}/api/GeneralCourts/{gc}/Documents/{number}/DocumentHistoryActions``."""
    return f"{api_document_url(base, gc, number)}/DocumentHistoryActions"


def bill_page_url(base: str, gc: int | str, number: str) -> str:
    """``{base}/Bills/{gc}/{number}``: the full bill page (Bill History is its default tab)."""
    return f"{_base(base)}/Bills/{gc}/{number}"


def history_page_url(base: str, gc: int | str, number: str, page: int) -> str:
    """``{base}/Bills/{gc}/{number}/BillHistory?pageNumber={page}``."""
    return f"{bill_page_url(base, gc, number)}/BillHistory?pageNumber={int(page)}"


def petitioners_url(base: str, gc: int | str, number: str) -> str:
    """``{base}/Bills/{gc}/{number}/Cosponsor`` (the "Petitioners" tab)."""
    return f"{bill_page_url(base, gc, number)}/Cosponsor"


# --------------------------------------------------------------------------- helpers

_OMC = re.compile(rb"oh\s*my\s*cod", re.IGNORECASE)
_OMC_TEXT = re.compile(r"oh\s*my\s*cod", re.IGNORECASE)
_API_DATE = re.compile(
    r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.[0-9]{1,7})?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?$"
)
_HTML_DATE = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
_MAX_PAGES = 10_000  # a bill's history runs to a few pages; more is a broken pagination bar
_URL_BILL = re.compile(r"/Bills/(\d+)/([A-Za-z]+\d+)", re.IGNORECASE)
_URL_API = re.compile(r"/GeneralCourts/(\d+)/Documents/([A-Za-z]+\d+)", re.IGNORECASE)
_H1_NUMBER = re.compile(r"\b([A-Z][A-Za-z]*)\s*\.?\s*(\d+)\b")
_SESSION_LABEL = re.compile(r"(\d{3})\s*(?:st|nd|rd|th)\b", re.IGNORECASE)
_PROFILE = re.compile(r"/Legislators/Profile/([^/?#\s]+)", re.IGNORECASE)
_ORIGINAL_PETITIONER = re.compile(r"This sponsor is an original petitioner\.?", re.IGNORECASE)
_HEADER_CELLS = ["date", "branch", "action"]


def fold(text: str | None) -> str:
    """Collapse every run of whitespace (incl. non-breaking spaces) to one space and strip."""
    return " ".join((text or "").split())


def is_oh_my_cod(body: bytes) -> bool:
    """True when the body is (or contains) the site's "Oh My Cod!" error page."""
    return bool(_OMC.search(body or b""))


def _looks_like_markup(body: bytes) -> bool:
    return body.lstrip()[:1] == b"<"


def _strip_tags(text: str) -> str:
    """Plain text of an API ``Action`` that may hold HTML (``see <a href=..>S3063</a>``)."""
    if "<" not in text and "&" not in text:
        return fold(text)
    try:
        frag = lxml.html.fragment_fromstring(text, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return fold(re.sub(r"<[^>]*>", " ", text))
    return fold(frag.text_content())


def _url_ids(url: str) -> tuple[int | None, str | None]:
    m = _URL_BILL.search(url or "") or _URL_API.search(url or "")
    if not m:
        return None, None
    return int(m.group(1)), m.group(2).upper().replace("SRES", "SRes").replace("HRES", "HRes")


def _selector(body: bytes, url: str) -> Selector:
    if not body or not body.strip():
        raise ParseError(f"empty body from {url}", url=url)
    try:
        return Selector(body=body, type="html", encoding="utf-8")
    except Exception as exc:  # lxml refuses truly broken input
        raise ParseError(f"cannot parse HTML from {url}: {exc}", url=url) from exc


def _text(node) -> str:
    """The whole text of a node (like XPath ``string(.)``), whitespace folded."""
    return fold(node.xpath("string(.)").get())


def _href(node) -> str:
    """A link's href. Not through ``.attrib``: parsel builds a dict of every attribute, and libxml2 keeps
    attribute names such as "\x01" that lxml then refuses with a ValueError."""
    return node.xpath("./@href").get() or ""


def _not_found(sel: Selector, body: bytes) -> bool:
    """The Oh My Cod! page: the phrase in the title or a heading, or anywhere on a
    page that has neither a bill title bar nor a table."""
    if not is_oh_my_cod(body):
        return False
    heads = " ".join(sel.xpath("//title//text() | //h1//text() | //h2//text()").getall())
    if _OMC_TEXT.search(heads):
        return True
    return not sel.css("div.followable h1") and not sel.xpath("//table")


# --------------------------------------------------------------------------- API


def _load_json(body: bytes, url: str, what: str) -> Any:
    if body is None or not body.strip():
        raise ParseError(f"empty {what} body from {url}", url=url)
    try:
        return json.loads(body)
    except RecursionError:
        raise ParseError(f"malformed JSON in {what} from {url}: nested too deeply", url=url) from None
    except (ValueError, UnicodeDecodeError) as exc:
        if _looks_like_markup(body):
            if is_oh_my_cod(body):
                raise BillNotFound(f"bill not found (Oh My Cod! page) at {url}", url=url) from None
            head = body.lstrip()[:200].lower()
            if head.startswith(b"<?xml") or b"<array" in head or b"<document" in head:
                raise ParseError(
                    f"{what} from {url} is XML, not JSON: send 'Accept: application/json'",
                    url=url,
                    layout_changed=True,
                ) from None
            raise ParseError(
                f"{what} from {url} is HTML, not JSON (the API answered with a web page)",
                url=url,
                layout_changed=True,
            ) from None
        raise ParseError(f"malformed JSON in {what} from {url}: {exc}", url=url) from exc


def _api_date(value: Any, url: str, index: int) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, str):
        raise ParseError(f"row {index} of {url}: Date is not a string: {value!r}", url=url)
    m = _API_DATE.match(value.strip())
    if not m:
        if not value.strip():
            return None, None
        raise ParseError(f"row {index} of {url}: unreadable Date {value!r}", url=url)
    date = m.group("date")
    time = m.group("time")
    try:
        datetime.fromisoformat(f"{date}T{time or '00:00:00'}")
    except ValueError:
        raise ParseError(f"row {index} of {url}: Date {value!r} is not a real date and time", url=url) from None
    return date, (f"{date}T{time}" if time else None)


def parse_api_history(body: bytes, url: str) -> list[HistoryAction]:
    """``DocumentHistoryActions``: a JSON array of ``{Date, Branch, Action, IsStricken?}``.

    Rows with ``IsStricken: true`` are skipped. ``Date`` is local time without an
    offset; it is kept as given (no time-zone conversion).
    """
    data = _load_json(body, url, "history")
    if not isinstance(data, list):
        kind = type(data).__name__
        detail = f" ({data.get('Message')})" if isinstance(data, dict) and data.get("Message") else ""
        raise ParseError(f"history from {url} is a JSON {kind}, expected an array{detail}", url=url)
    out: list[HistoryAction] = []
    for i, row in enumerate(data):
        if not isinstance(row, dict):
            raise ParseError(f"row {i} of {url} is not an object: {row!r}", url=url)
        missing = [k for k in ("Branch", "Action") if not isinstance(row.get(k), str)]
        if missing:
            raise ParseError(f"row {i} of {url} lacks {', '.join(missing)}: {row!r}", url=url)
        if row.get("IsStricken") is True:
            continue
        date, timestamp = _api_date(row.get("Date"), url, i)
        out.append(
            HistoryAction(
                date=date,
                branch=fold(row["Branch"]),
                action=_strip_tags(row["Action"]),
                timestamp=timestamp,
            )
        )
    return out


def _api_text(data: dict, key: str, url: str) -> str | None:
    """A string field of an API object, whitespace folded; None when absent or null; ParseError for
    any other JSON type (a number or a list where the API sends text)."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError(f"document from {url}: {key} is a JSON {type(value).__name__}, expected a string", url=url)
    return fold(value) or None


def _api_sponsor(obj: Any, url: str) -> Sponsor | None:
    if not isinstance(obj, dict):
        return None
    name = _api_text(obj, "Name", url)
    if not name:
        return None
    code = obj.get("Id")
    kind = obj.get("Type")
    # Type 1 = legislative member; 2 = committee, 3 = public request, 4 = special request.
    if not isinstance(code, str) or not code.strip() or (kind is not None and kind != 1):
        code = None
    return Sponsor(name=name, member_code=code.strip() if code else None)


def parse_api_document(body: bytes, url: str) -> BillDetail:
    """The document detail ``/api/GeneralCourts/{gc}/Documents/{n}``.

    ``BillHistory`` in that document is only a URL; fetch ``api_history_url`` for the rows.
    """
    data = _load_json(body, url, "document")
    if not isinstance(data, dict):
        raise ParseError(f"document from {url} is a JSON {type(data).__name__}, expected an object", url=url)
    url_gc, url_number = _url_ids(url)
    number = _api_text(data, "BillNumber", url) or _api_text(data, "DocketNumber", url) or url_number
    if not number:
        raise ParseError(f"document from {url} has neither BillNumber nor DocketNumber", url=url)
    session = data.get("GeneralCourtNumber") or url_gc
    try:
        if isinstance(session, bool) or (isinstance(session, float) and not session.is_integer()):
            raise ValueError(session)
        session = int(session)
    except (TypeError, ValueError, OverflowError):
        raise ParseError(f"document from {url} has no usable GeneralCourtNumber: {session!r}", url=url) from None
    cosponsors = data.get("Cosponsors") or []
    if not isinstance(cosponsors, list):
        raise ParseError(f"document from {url}: Cosponsors is not a list", url=url)
    petitioners = [s for s in (_api_sponsor(c, url) for c in cosponsors) if s is not None]
    title = _api_text(data, "Title", url)
    pinslip = _api_text(data, "Pinslip", url)
    docket = _api_text(data, "DocketNumber", url)
    text = data.get("DocumentText")
    return BillDetail(
        number=str(number).strip(),
        session=session,
        title=title,
        sponsor=_api_sponsor(data.get("PrimarySponsor"), url),
        petitioners=petitioners,
        pinslip=pinslip,
        docket=docket,
        text=text if isinstance(text, str) else None,
    )


# --------------------------------------------------------------------------- HTML


def _history_table(sel: Selector):
    """The Bill History table, or None. Looks in the BillHistory tab panel first,
    then for a table headed Date | Branch | Action, then for a table whose rows
    are (M/D/YYYY, branch, action)."""
    panel = sel.xpath('//*[@id="BillHistory-tabpanel"]//table')
    if panel:
        return panel[0]
    tables = sel.xpath("//table")
    for table in tables:
        first = table.xpath(".//tr[1]")
        if first:
            cells = [_text(c).lower() for c in first[0].xpath("./th|./td")]
            if cells == _HEADER_CELLS:
                return table
    for table in tables:
        for tr in table.xpath(".//tr"):
            cells = tr.xpath("./td")
            if len(cells) == 3 and _HTML_DATE.match(_text(cells[0])):
                return table
    return None


def _history_rows(table, url: str) -> list[HistoryAction]:
    out: list[HistoryAction] = []
    for tr in table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr"):
        cells = tr.xpath("./td")
        if len(cells) != 3:
            continue
        date_text, branch, action = (_text(c) for c in cells)
        if [date_text.lower(), branch.lower(), action.lower()] == _HEADER_CELLS:
            continue
        if date_text:
            m = _HTML_DATE.match(date_text)
            if not m:
                raise ParseError(
                    f"history row with unreadable date {date_text!r} at {url}", url=url, layout_changed=True
                )
            month, day, year = (int(g) for g in m.groups())
            date = f"{year:04d}-{month:02d}-{day:02d}"
            try:
                datetime.fromisoformat(date)
            except ValueError:
                raise ParseError(f"history row with impossible date {date_text!r} at {url}", url=url,
                                 layout_changed=True) from None
        else:
            date = None
        out.append(HistoryAction(date=date, branch=branch, action=action))
    return out


def _page_count(sel: Selector, url: str) -> int:
    uls = sel.xpath('//*[@id="BillHistory-tabpanel"]//ul[contains(@class,"pagination-sm")]') or sel.xpath(
        '//ul[contains(@class,"pagination-sm")]'
    )
    if not uls:
        return 1
    ul = uls[0]
    last = ul.xpath("./li[last()]")
    if last:
        onclick = "".join(last[0].xpath("./@onclick | .//@onclick").getall())
        digits = re.sub(r"[^0-9]", "", onclick)
        if digits:
            return _plausible_pages(digits, url)
    numbers = [t for t in (fold(x) for x in ul.xpath("./li//text()").getall()) if re.fullmatch(r"[0-9]+", t)]
    return max(_plausible_pages(t, url) for t in numbers) if numbers else 1


def _plausible_pages(digits: str, url: str) -> int:
    """A page number from the pagination bar; ParseError past ``_MAX_PAGES`` (no bill has that many)."""
    digits = digits.lstrip("0") or "0"
    if len(digits) > len(str(_MAX_PAGES)) or int(digits) > _MAX_PAGES:
        shown = digits if len(digits) <= 20 else digits[:20] + "..."
        raise ParseError(f"the history's pagination at {url} names page {shown}: the page layout has changed",
                         url=url, layout_changed=True)
    return max(1, int(digits))


def _history_from_page(sel: Selector, body: bytes, url: str) -> tuple[list[HistoryAction], int]:
    table = _history_table(sel)
    if table is None:
        if _not_found(sel, body):
            raise BillNotFound(f"bill not found (Oh My Cod! page) at {url}", url=url)
        raise ParseError(
            f"no Bill History table at {url}: the page layout has changed", url=url, layout_changed=True
        )
    return _history_rows(table, url), _page_count(sel, url)


def _h1_parts(sel: Selector) -> tuple[str, str]:
    h1 = sel.css("div.followable h1")[0]
    own = fold(" ".join(h1.xpath("./text()").getall()))
    sub = fold(" ".join(h1.css(".subTitle ::text").getall()))
    return own, sub


def _sponsor_from_dd(dd) -> Sponsor | None:
    link = dd.xpath('.//a[contains(@href, "/Legislators/Profile/")]')
    if link:
        m = _PROFILE.search(_href(link[0]))
        name = _text(link[0])
        if name:
            return Sponsor(name=name, member_code=m.group(1) if m else None)
    first_link = dd.xpath(".//a")
    name = _text(first_link[0]) if first_link else _text(dd)
    return Sponsor(name=name, member_code=None) if name else None


def parse_html_bill_page(body: bytes, url: str) -> BillPage:
    """The full bill page ``/Bills/{gc}/{id}``: header plus the first page of history."""
    sel = _selector(body, url)
    if not sel.css("div.followable h1"):
        if _not_found(sel, body):
            raise BillNotFound(f"bill not found (Oh My Cod! page) at {url}", url=url)
        raise ParseError(
            f"no title bar (div.followable h1) at {url}: not a bill page or the layout has changed",
            url=url,
            layout_changed=True,
        )
    if _OMC_TEXT.search(" ".join(sel.css("div.followable h1 ::text").getall())):
        raise BillNotFound(f"bill not found (Oh My Cod! page) at {url}", url=url)
    own, sub = _h1_parts(sel)
    url_gc, url_number = _url_ids(url)

    number = url_number
    m = _H1_NUMBER.search(re.sub(r"^\s*(Bill|Docket)\b", "", own, flags=re.IGNORECASE))
    if m:
        number = m.group(1) + m.group(2)
    sm = _SESSION_LABEL.search(sub)
    session = int(sm.group(1)) if sm else url_gc
    if not number or session is None:
        raise ParseError(f"cannot tell the bill number or session at {url} (h1 {own!r} {sub!r})", url=url,
                         layout_changed=True)

    title = None
    for h2 in sel.xpath('//div[@id="contentContainer"]/div/div/h2'):
        title = _text(h2) or None
        if title:
            break
    if not title:
        title = fold(re.sub(r"\bBill\b", "", own)) or None

    pinslip_nodes = sel.xpath('//p[@id="pinslip"]')
    pinslip = (_text(pinslip_nodes[0]) or None) if pinslip_nodes else None

    sponsor = None
    dds = sel.xpath(
        '//dt[normalize-space()="Sponsor:" or normalize-space()="Presenter:"]/following-sibling::dd[1]'
    )
    if dds:
        sponsor = _sponsor_from_dd(dds[0])

    history, pages = _history_from_page(sel, body, url)
    detail = BillDetail(number=number, session=session, title=title, sponsor=sponsor, pinslip=pinslip)
    return BillPage(detail=detail, history=history, history_pages=pages)


def parse_html_history_page(body: bytes, url: str) -> tuple[list[HistoryAction], int]:
    """``/Bills/{gc}/{id}/BillHistory?pageNumber=N``, full page or AJAX fragment:
    returns that page's rows and the number of pages."""
    sel = _selector(body, url)
    return _history_from_page(sel, body, url)


def _petitioner_rows(sel: Selector) -> Iterable:
    for query in (
        '//*[@id="Cosponsor-tabpanel"]//table',
        '//table[@id="searchResults"]',
    ):
        tables = sel.xpath(query)
        if tables:
            return tables[0].xpath("./tbody/tr | ./tr")
    if sel.xpath("//table[tbody]"):
        return sel.xpath("//tbody/tr")
    if sel.xpath("//table"):
        return sel.xpath("//table//tr")
    return None


def parse_html_petitioners(body: bytes, url: str) -> list[Sponsor]:
    """``/Bills/{gc}/{id}/Cosponsor`` (full page or fragment): the petitioners,
    the primary sponsor included. ``*``/``%`` markers and the hidden
    "This sponsor is an original petitioner." text are removed."""
    sel = _selector(body, url)
    rows = _petitioner_rows(sel)
    if rows is None:
        if _not_found(sel, body):
            raise BillNotFound(f"bill not found (Oh My Cod! page) at {url}", url=url)
        raise ParseError(f"no petitioners table at {url}: the page layout has changed", url=url,
                         layout_changed=True)
    out: list[Sponsor] = []
    for tr in rows:
        cells = tr.xpath("./td")
        if not cells:
            continue
        cell = cells[0]
        link = cell.xpath('.//a[contains(@href, "/Legislators/Profile/")]')
        source = link[0] if link else cell
        name = _ORIGINAL_PETITIONER.sub(" ", source.xpath("string(.)").get() or "")
        name = fold(name.replace("*", " ").replace("%", " "))
        if not name:
            continue
        code = None
        if link:
            m = _PROFILE.search(_href(link[0]))
            code = m.group(1) if m else None
        out.append(Sponsor(name=name, member_code=code))
    return out
