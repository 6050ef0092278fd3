"""Pure parsers for the docket: the document list of a General Court and each document's detail.

* ``GET /api/GeneralCourts/{gc}/Documents`` (``Accept: application/json``): a JSON array of rows
  ``{BillNumber, DocketNumber, Title, PrimarySponsor{Id, Name, Type, Details}, GeneralCourtNumber,
  Details, IsDocketBookOnly}``, 6,000 to 9,000 of them. ``BillNumber`` is null for a docket-only
  row, ``Details`` may be null, any field may be null. :func:`parse_document_list` returns the rows
  it can read and one problem per row it cannot (``{"url", "error"}``, the error naming the row):
  one bad row never costs the others. Only a body that is not a JSON array at all raises.
* ``GET /api/GeneralCourts/{gc}/Documents/{id}`` (id: bill number or docket number): the detail,
  ``{Title, BillNumber, DocketNumber, GeneralCourtNumber, PrimarySponsor, JointSponsor, Cosponsors,
  LegislationTypeName, Pinslip, DocumentText, ...}``. :func:`parse_document_detail` raises
  :class:`BillNotFound` for the site's "Oh My Cod!" page and :class:`ParseError` (with the reason)
  for anything else that is not the document: XML (the API answers XML unless asked for JSON),
  HTML, broken JSON, a document of another General Court.
* ``GET /api/GeneralCourts/{gc}/Documents/{id}/Similar``: ``[{BillNumber, DocketNumber,
  GeneralCourtNumber}]``, documents of any General Court. :func:`parse_similar` returns their
  canonical ids (``ma/193/H1728``) and one problem per row it cannot read; only a body that is not
  a JSON array raises. (The API answers 400 for some documents instead: the spider's business.)

Numbers are read with the bill-id rules of ``spiders.billids`` ("H.1946", "h 1946" -> "H1946");
a ``BillNumber`` must be a bill's (H, S, HRes, SRes) and a ``DocketNumber`` a docket's (HD, SD).
Text fields are plain text: entities decoded, control characters and lone surrogates (which JSON
escapes can carry, and which neither UTF-8 nor PostgreSQL accept) replaced, whitespace folded.
No network, no database.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import lxml.etree
import lxml.html

from spiders.billids import BadBillId, parse_bill_id, parse_number
from spiders.malegislature_parse import api_document_url, fold, is_oh_my_cod
from spiders.records import BillNotFound, DocumentDetail, DocumentRow, ParseError

__all__ = [
    "document_list_url",
    "document_url",
    "parse_document_detail",
    "parse_document_list",
    "parse_similar",
    "plain_text",
    "similar_url",
]


# --------------------------------------------------------------------------- URLs


def document_list_url(base: str, gc: int | str) -> str:
    """``{base}/api/GeneralCourts/{gc}/Documents`` (send ``Accept: application/json``)."""
    return f"{base.rstrip('/')}/api/GeneralCourts/{gc}/Documents"


def document_url(base: str, gc: int | str, document_id: str) -> str:
    """``{base}/api/GeneralCourts/{gc}/Documents/{id}``; the id is a bill or a docket number."""
    return api_document_url(base, gc, document_id)


def similar_url(base: str, gc: int | str, document_id: str) -> str:
    """``{base}/api/GeneralCourts/{gc}/Documents/{id}/Similar``."""
    return f"{api_document_url(base, gc, document_id)}/Similar"


# --------------------------------------------------------------------------- text

# C0 controls but tab, newline and carriage return; DEL; lone UTF-16 surrogates ("\ud800" in JSON)
_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_BLOCKS = frozenset(
    "address article aside blockquote body br dd div dl dt fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_SKIP = frozenset({"script", "style", "head", "title", "template"})


def _clean(text: str) -> str:
    return _UNWANTED.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else " ", text)


def _one_line(text: str) -> str:
    """Entities decoded, unwanted characters replaced, whitespace folded."""
    return fold(_clean(html.unescape(_clean(text))))


def _html_lines(markup: str) -> str:
    """Text of an HTML fragment or page, one line per block element (``<p>``, ``<div>``, ``<li>``...) and a
    line break at each ``<br>``; whitespace inside text runs is one space (as a browser shows it), except
    in ``<pre>``."""
    try:
        root = lxml.html.fromstring(markup)
    except (lxml.etree.ParserError, ValueError):
        return html.unescape(_TAG.sub("\n", markup))
    # iterwalk does not visit comments and processing instructions: take them out, keeping the text after them
    lxml.etree.strip_tags(root, lxml.etree.Comment, lxml.etree.ProcessingInstruction)
    out: list[str] = []
    skip = pre = 0
    fresh = True  # nothing but whitespace since the last line break

    def run(text: str | None) -> None:
        nonlocal fresh
        if text and not skip:
            out.append(text if pre else " ".join(text.split("\n")))
            fresh = fresh and not text.strip()

    def boundary(always: bool = False) -> None:
        nonlocal fresh
        if always or not fresh:
            out.append("\n")
            fresh = True

    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = el.tag.lower() if isinstance(el.tag, str) else None
        if event == "start":
            if tag in _SKIP:
                skip += 1
            elif tag == "pre":
                pre += 1
            if tag == "br":
                boundary(always=True)
            elif tag in _BLOCKS:
                boundary()
            if tag is not None:
                run(el.text)
            continue
        if tag in _SKIP:
            skip -= 1
        elif tag == "pre":
            pre -= 1
        if tag in _BLOCKS and tag != "br":
            boundary()
        run(el.tail)
    return "".join(out)


def plain_text(value: str | None) -> str | None:
    """A body text (``DocumentText``) as plain text that keeps its lines: HTML tags become line breaks
    where they are blocks (``<p>``, ``<br>``, ``<div>``...) and nothing elsewhere, entities are decoded,
    each line's whitespace is folded, runs of blank lines become one, and the ends are trimmed.
    None when nothing is left."""
    if value is None:
        return None
    text = _clean(value)
    text = _html_lines(text) if _TAG.search(text) else html.unescape(text)
    lines: list[str] = []
    for line in _clean(text).splitlines():
        line = " ".join(line.split())
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) or None


# --------------------------------------------------------------------------- fields


class _Bad(ValueError):
    """A field that cannot be read; the message names it (the caller adds the row or the URL)."""


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", bool: "a boolean", int: "a number", float: "a number",
            str: "a string"}.get(type(value), type(value).__name__)


def _text(obj: dict, key: str) -> str | None:
    """A string field as one line of plain text; None when absent, null or blank."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Bad(f"{key} is {_kind(value)}, expected a string: {value!r:.80}")
    return _one_line(value) or None


def _code(value: Any) -> str | None:
    """A sponsor's ``Id``: a member code ("DMR1") or a committee code ("J19")."""
    if isinstance(value, str):
        return _one_line(value) or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _pinslip(obj: dict) -> str | None:
    """``Pinslip`` as one line of plain text (tags stripped: it is the HTML page's ``p#pinslip``)."""
    value = obj.get("Pinslip")
    if value is not None and not isinstance(value, str):
        raise _Bad(f"Pinslip is {_kind(value)}, expected a string")
    return fold(plain_text(value)) or None


def _sponsor_type(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _number(obj: dict, key: str, docket: bool) -> str | None:
    """``BillNumber`` (a bill's: H, S, HRes, SRes) or ``DocketNumber`` (HD, SD) in canonical form."""
    raw = _text(obj, key)
    if raw is None:
        return None
    try:
        number = parse_number(raw)
    except BadBillId:
        raise _Bad(f"{key} {raw!r:.40} is not a bill or docket number") from None
    is_docket = number.startswith(("HD", "SD"))
    if docket and not is_docket:
        raise _Bad(f"DocketNumber {raw!r} is not a docket number (HD... or SD...)")
    if not docket and is_docket:
        raise _Bad(f"BillNumber {raw!r} is a docket number")
    return number


def _session_of(obj: dict, session: int) -> None:
    """``GeneralCourtNumber``, when given, must be the General Court that was asked for."""
    value = obj.get("GeneralCourtNumber")
    if value is None or (isinstance(value, str) and not value.strip()):
        return
    gc = _sponsor_type(value)  # the same reading: an integer, or ASCII digits
    if gc is None:
        raise _Bad(f"GeneralCourtNumber is not a number: {value!r:.40}")
    if gc != session:
        raise _Bad(f"GeneralCourtNumber is {gc}, not {session}")


def _lead_sponsor(obj: dict) -> tuple[str | None, str | None, int | None]:
    """``PrimarySponsor``: ``(name, Id, Type)``; all None when null. A bare string is a name."""
    value = obj.get("PrimarySponsor")
    if value is None:
        return None, None, None
    if isinstance(value, str):
        return _one_line(value) or None, None, None
    if not isinstance(value, dict):
        raise _Bad(f"PrimarySponsor is {_kind(value)}, expected an object")
    return _text(value, "Name"), _code(value.get("Id")), _sponsor_type(value.get("Type"))


def _person(value: Any) -> dict | None:
    """A sponsor object as ``{"name", "member_code"}`` (the code only for a legislative member,
    ``Type`` 1 or absent); None when it names nobody."""
    if isinstance(value, str):
        name = _one_line(value) or None
        return {"name": name, "member_code": None} if name else None
    if not isinstance(value, dict):
        return None
    try:
        name = _text(value, "Name")
    except _Bad:
        name = None
    kind = _sponsor_type(value.get("Type"))
    code = _code(value.get("Id") if value.get("Id") is not None else value.get("MemberCode"))
    if kind not in (None, 1):
        code = None
    if not name and not code:
        return None
    return {"name": name, "member_code": code}


def _people(*values: Any) -> list[dict]:
    """Sponsor objects, lists of them, or nulls -> ``[{"name", "member_code"}]`` without repeats."""
    out: list[dict] = []
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            person = _person(item)
            if person and person not in out:
                out.append(person)
    return out


# --------------------------------------------------------------------------- bodies


def _load(body: bytes | str | None, url: str, what: str) -> Any:
    if isinstance(body, str):
        body = body.encode("utf-8", "replace")
    if body is None or not body.strip():
        raise ParseError(f"empty {what} body from {url}", url=url)
    try:
        return json.loads(body)
    except RecursionError:
        raise ParseError(f"malformed JSON in {what} from {url}: nested too deeply", url=url) from None
    except (ValueError, UnicodeDecodeError) as exc:
        head = body.lstrip()[:300].lower()
        if head.startswith(b"<"):
            if is_oh_my_cod(body):
                raise BillNotFound(f"{what} not found at {url} (the site's 'Oh My Cod!' page)", url=url) from None
            page = head.startswith((b"<!doctype html", b"<html"))
            if not page and (head.startswith((b"<?xml", b"<arrayof")) or b"xmlns" in head):
                raise ParseError(f"{what} from {url} is XML, not JSON: send 'Accept: application/json'",
                                 url=url, layout_changed=True) from None
            raise ParseError(f"{what} from {url} is HTML, not JSON (the API answered with a web page)",
                             url=url, layout_changed=True) from None
        raise ParseError(f"malformed JSON in {what} from {url}: {exc}", url=url) from None


def _message(data: Any) -> str:
    """The API's own explanation in an error object (``{"Message": "..."}``), if any."""
    if isinstance(data, dict) and isinstance(data.get("Message"), str):
        return f" ({_one_line(data['Message'])[:200]})"
    return ""


def _row(data: Any, session: int, url: str) -> DocumentRow:
    if not isinstance(data, dict):
        raise _Bad(f"is {_kind(data)}, expected an object")
    _session_of(data, session)
    number = _number(data, "BillNumber", docket=False)
    docket = _number(data, "DocketNumber", docket=True)
    if number is None and docket is None:
        raise _Bad("no BillNumber and no DocketNumber")
    sponsor, sponsor_code, sponsor_type = _lead_sponsor(data)
    book_only = data.get("IsDocketBookOnly")
    if book_only is not None and not isinstance(book_only, bool):
        if not (isinstance(book_only, str) and book_only.strip().lower() in ("true", "false")):
            raise _Bad(f"IsDocketBookOnly is {_kind(book_only)}, expected true or false: {book_only!r:.40}")
        book_only = book_only.strip().lower() == "true"
    return DocumentRow.of(
        session=session,
        number=number,
        docket=docket,
        title=_text(data, "Title"),
        sponsor=sponsor,
        sponsor_code=sponsor_code,
        sponsor_type=sponsor_type,
        details_url=_text(data, "Details"),
        docket_book_only=bool(book_only),
    )


def parse_document_list(body: bytes | str, url: str, session: int) -> tuple[list[DocumentRow], list[dict]]:
    """The document list of General Court ``session``: ``(rows, problems)``.

    A row that cannot be read (not an object, neither number, a number that does not parse, a
    ``GeneralCourtNumber`` of another session, a field of the wrong JSON type) or that repeats an
    earlier row's document is left out with a problem ``{"url", "error": "row N: ..."}`` (N counts
    from 0, as the array does). Raises :class:`ParseError` (:class:`BillNotFound` for "Oh My Cod!")
    only when the body is not a JSON array.
    """
    data = _load(body, url, "document list")
    if not isinstance(data, list):
        raise ParseError(f"document list from {url} is {_kind(data)}, expected a list{_message(data)}",
                         url=url, layout_changed=True)
    rows: list[DocumentRow] = []
    where: list[int] = []  # the array index of each kept row
    problems: list[dict] = []
    by_number: dict[str, int] = {}  # number -> position in rows
    by_docket: dict[str, int] = {}
    for i, item in enumerate(data):
        try:
            row = _row(item, session, url)
        except _Bad as exc:
            problems.append({"url": url, "error": f"row {i}: {exc}"})
            continue
        if row.number is not None and row.number in by_number:
            problems.append({"url": url, "error": f"row {i}: {row.number} is listed again (first in row "
                                                  f"{where[by_number[row.number]]})"})
            continue
        k = by_docket.get(row.docket) if row.docket is not None else None
        if k is None:
            k = len(rows)
            rows.append(row)
            where.append(i)
        elif rows[k].number is None and row.number is not None:  # the docket got its bill number
            problems.append({"url": url, "error": f"row {where[k]}: docket {row.docket} without a bill number, "
                                                  f"left for row {i} ({row.number}) of the same docket"})
            rows[k], where[k] = row, i
        else:
            problems.append({"url": url, "error": f"row {i}: docket {row.docket} is listed again (first in row "
                                                  f"{where[k]})"})
            continue
        if row.number is not None:
            by_number[row.number] = k
        if row.docket is not None:
            by_docket[row.docket] = k
    return rows, problems


def parse_document_detail(body: bytes | str, url: str, session: int) -> DocumentDetail:
    """A document's detail in General Court ``session``.

    ``JointSponsor`` (193rd on: a sponsor object or null; a list is read too, as is a
    ``JointSponsors`` key) and ``Cosponsors`` become ``[{"name", "member_code"}]``; ``Pinslip`` is
    one line of plain text, ``DocumentText`` plain text that keeps its lines (:func:`plain_text`).
    """
    data = _load(body, url, "document")
    if not isinstance(data, dict):
        raise ParseError(f"document from {url} is {_kind(data)}, expected an object", url=url,
                         layout_changed=True)
    try:
        _session_of(data, session)
        number = _number(data, "BillNumber", docket=False)
        docket = _number(data, "DocketNumber", docket=True)
        if number is None and docket is None:
            raise _Bad(f"neither BillNumber nor DocketNumber{_message(data)}")
        sponsor, sponsor_code, sponsor_type = _lead_sponsor(data)
        cosponsors = data.get("Cosponsors")
        if cosponsors is not None and not isinstance(cosponsors, list):
            raise _Bad(f"Cosponsors is {_kind(cosponsors)}, expected a list")
        text = data.get("DocumentText")
        if text is not None and not isinstance(text, str):
            raise _Bad(f"DocumentText is {_kind(text)}, expected a string")
        return DocumentDetail(
            session=session,
            number=number,
            docket=docket,
            title=_text(data, "Title"),
            sponsor=sponsor,
            sponsor_code=sponsor_code,
            sponsor_type=sponsor_type,
            joint_sponsors=_people(data.get("JointSponsor"), data.get("JointSponsors")),
            cosponsors=_people(cosponsors),
            pinslip=_pinslip(data),
            text=plain_text(text),
            legislation_type=_text(data, "LegislationTypeName"),
        )
    except _Bad as exc:
        raise ParseError(f"document from {url}: {exc}", url=url) from None


def _similar_row(data: Any) -> str:
    if not isinstance(data, dict):
        raise _Bad(f"is {_kind(data)}, expected an object")
    value = data.get("GeneralCourtNumber")
    gc = _sponsor_type(value)  # an integer, or ASCII digits
    if gc is None:
        raise _Bad("no GeneralCourtNumber" if value is None else f"GeneralCourtNumber is not a number: {value!r:.40}")
    number = _number(data, "BillNumber", docket=False) or _number(data, "DocketNumber", docket=True)
    if number is None:
        raise _Bad("no BillNumber and no DocketNumber")
    try:
        return parse_bill_id(f"{gc}/{number}").canonical
    except BadBillId:
        raise _Bad(f"GeneralCourtNumber {gc} is not a General Court") from None


def parse_similar(body: bytes | str, url: str) -> tuple[list[str], list[dict]]:
    """A document's Similar list: ``(ids, problems)``, the ids canonical (``ma/{GeneralCourtNumber}/
    {BillNumber or DocketNumber}``), in the API's order, each once. A row that cannot be read (not an
    object, no General Court, no number, a number that does not parse) is left out with a problem
    ``{"url", "error": "row N: ..."}``. Raises :class:`ParseError` (:class:`BillNotFound` for
    "Oh My Cod!") only when the body is not a JSON array."""
    data = _load(body, url, "Similar list")
    if not isinstance(data, list):
        raise ParseError(f"Similar list from {url} is {_kind(data)}, expected a list{_message(data)}",
                         url=url, layout_changed=True)
    ids: list[str] = []
    problems: list[dict] = []
    for i, item in enumerate(data):
        try:
            canonical = _similar_row(item)
        except _Bad as exc:
            problems.append({"url": url, "error": f"row {i}: {exc}"})
            continue
        if canonical not in ids:
            ids.append(canonical)
    return ids, problems
