"""A real HTTP server on 127.0.0.1 that serves a :class:`Replica` in malegislature.gov's shapes.

Routes (matched case-insensitively, like the real site):

* ``/api/GeneralCourts/{gc}/Documents`` (list), ``/api/GeneralCourts/{gc}/Documents/{n}`` (detail) and
  ``/api/GeneralCourts/{gc}/Documents/{n}/DocumentHistoryActions``: JSON, or XML when the
  ``Accept`` header asks for XML and not JSON (as a browser's or Scrapy's default does);
* ``/api/GeneralCourts/{gc}/Committees`` (list), ``.../Committees/{code}`` (detail),
  ``/api/GeneralCourts/{gc}/LegislativeMembers`` (list) and ``.../LegislativeMembers/{code}`` (detail):
  the directory, JSON or XML alike; ``replica.directory_status`` makes every directory request
  answer that status, ``replica.directory_errors`` makes some details answer 500;
* ``/api/GeneralCourts/{gc}/Documents/{n}/Similar``: ``[{"BillNumber", "DocketNumber", "GeneralCourtNumber"}]``,
  the documents ``ReplicaBill.similar`` names that the replica holds (others are left out), in its order:
  ``"S47"`` names a document of the same General Court, ``"193/H1728"`` one of another (the real API's
  direction across General Courts is unverified; the replica's lineage lists both ways: 193rd H1728
  names 192/H135 and 194/H1946, 194th H1946 names 193/H1728). ``ReplicaBill.similar_status``
  (``replica.fail_similar``) makes it answer 400 with the real API's ``{"Message": "Could not locate any
  public Documents in General Court \"194\""}`` (as it does for some real bills; the 194th S1053 does) or
  500 "Oh My Cod!". An unknown document answers 500 "Oh My Cod!" (the replica's choice, as for its detail);
  the detail's faults (``fail_detail``) do not reach it;
* ``/Bills/{gc}/{n}``: the full bill page, Bill History tab active (its "Similar Bills" sidebar lists
  the same documents as the Similar endpoint);
* ``/Bills/{gc}/{n}/BillHistory?pageNumber=N``: the full page with that history page, or only
  the tab panel when ``X-Requested-With: XMLHttpRequest``;
* ``/Bills/{gc}/{n}/Cosponsor`` (or ``/CoSponsor``): the Petitioners tab, full or fragment;
* ``/Bills/{gc}/{n}.Html`` and ``/Bills/{gc}/{n}/{House|Senate}/Bill/Text`` (fragment with
  ``X-Requested-With``, else the whole bill page): the bill's text (``tracker.replica.text_pages``):
  ``ReplicaBill.page_text``, else its ``DocumentText``; ``replica.set_text`` changes either.

An unknown bill, committee or member gets HTTP 500 with the "Oh My Cod!" page (HTML and API
alike), as does the directory list of a General Court the replica has no directory for, and the
document list of one it holds no documents for. Responses carry
``ETag``/``Last-Modified`` and conditional requests get 304 when ``replica.etags`` is on.
HTTP/1.1 keep-alive, ``Content-Length`` always set, no request logging to stderr.

The docket (``tracker.replica.docket.add_docket``): the list holds every listed document, docket-only ones with
``BillNumber: null``; ``/Documents/{id}`` answers a bill number or a docket number, and a bill's
docket number answers the bill (the replica's choice, unverified on the real site). Faults:
``replica.fail_detail`` (one detail answers 500 "Oh My Cod!" or 400) and
``replica.set_session_unknown`` (every ``/api/GeneralCourts/{gc}/...`` answers 400 or 500, as the
real API does for a General Court that has not convened). ``replica.delay_s`` delays every answer
outside the lock, so concurrent requests wait side by side (a benchmark's latency).
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import secrets
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tracker.replica import pages, text_pages, wire
from tracker.replica.loopback import LoopbackServer
from tracker.replica.model import Replica, ReplicaBill

_NUM = r"([A-Za-z]+\d+)"
_API_GC = re.compile(r"^/api/generalcourts/(\d+)(?:/|$)", re.IGNORECASE)
_API_LIST = re.compile(r"^/api/generalcourts/(\d+)/documents/?$", re.IGNORECASE)
_API_DOC = re.compile(rf"^/api/generalcourts/(\d+)/documents/{_NUM}/?$", re.IGNORECASE)
_API_HIST = re.compile(rf"^/api/generalcourts/(\d+)/documents/{_NUM}/documenthistoryactions/?$", re.IGNORECASE)
_API_SIMILAR = re.compile(rf"^/api/generalcourts/(\d+)/documents/{_NUM}/similar/?$", re.IGNORECASE)
_CODE = r"([A-Za-z0-9_]+)"
_API_COMMITTEES = re.compile(r"^/api/generalcourts/(\d+)/committees/?$", re.IGNORECASE)
_API_COMMITTEE = re.compile(rf"^/api/generalcourts/(\d+)/committees/{_CODE}/?$", re.IGNORECASE)
_API_MEMBERS = re.compile(r"^/api/generalcourts/(\d+)/legislativemembers/?$", re.IGNORECASE)
_API_MEMBER = re.compile(rf"^/api/generalcourts/(\d+)/legislativemembers/{_CODE}/?$", re.IGNORECASE)
_BILL = re.compile(rf"^/bills/(\d+)/{_NUM}/?$", re.IGNORECASE)
_BILL_HIST = re.compile(rf"^/bills/(\d+)/{_NUM}/billhistory/?$", re.IGNORECASE)
_BILL_COS = re.compile(rf"^/bills/(\d+)/{_NUM}/cosponsor/?$", re.IGNORECASE)
_BILL_HTML = re.compile(rf"^/bills/(\d+)/{_NUM}\.html?$", re.IGNORECASE)
_BILL_TEXT = re.compile(rf"^/bills/(\d+)/{_NUM}/(house|senate)/bill/text/?$", re.IGNORECASE)

HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
XML = "application/xml; charset=utf-8"
_REASONS = {200: "OK", 304: "Not Modified", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
_TOKEN = pages.TOKEN.encode("utf-8")


class _Body:
    """A cached rendering: the bytes (split around the request token, if any) and its ETag."""

    __slots__ = ("ctype", "head", "tail", "etag")

    def __init__(self, ctype: str, content: bytes):
        self.ctype = ctype
        if _TOKEN in content:
            self.head, _, self.tail = content.partition(_TOKEN)
            digest = hashlib.sha1(self.head + self.tail).hexdigest()[:20]
            self.etag = f'W/"{digest}"'  # the bytes differ per request (token); the content does not
        else:
            self.head, self.tail = content, None
            self.etag = f'"{hashlib.sha1(content).hexdigest()[:20]}"'

    def bytes(self) -> bytes:
        if self.tail is None:
            return self.head
        return self.head + secrets.token_urlsafe(69).encode("ascii") + self.tail


_OMC = _Body(HTML, pages.oh_my_cod_page().encode("utf-8"))


def _wants_xml(accept: str | None) -> bool:
    accept = (accept or "").lower()
    return "xml" in accept and "json" not in accept


def _strip_weak(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


class _Site:
    """Maps a request to a response, using per-bill caches of rendered bodies."""

    def __init__(self, replica: Replica, base_url: str):
        self.replica = replica
        self.base = base_url
        self._lists: dict[tuple[int, bool], tuple[int, _Body]] = {}  # (gc, xml) -> (generation, body)

    def _cached(self, bill: ReplicaBill, key: tuple, render) -> _Body:
        body = bill.cache.get(key)
        if body is None:
            body = render()
            bill.cache[key] = body
        return body

    def _similar(self, bill: ReplicaBill) -> list[ReplicaBill]:
        return self.replica.similar_of(bill)

    def _list(self, gc: int, xml: bool) -> _Body | None:
        """The document list of one General Court (None when it holds no listed document), rendered
        once per change of that session: a 7,000-row list is a few megabytes of JSON."""
        r = self.replica
        generation = r.generation(gc)
        cached = self._lists.get((gc, xml))
        if cached is not None and cached[0] == generation:
            return cached[1]
        rows = []
        for b in r.documents_of(gc):
            row = b.cache.get(("row", self.base))
            if row is None:
                row = b.cache[("row", self.base)] = pages.list_row_obj(b, self.base)
            rows.append(row)
        if not rows:
            body = None
        elif xml:
            body = _Body(XML, pages.to_xml("ArrayOfDocumentSummary", rows))
        else:
            body = _Body(JSON, pages.to_json(rows))
        self._lists[(gc, xml)] = (generation, body)
        return body

    @staticmethod
    def _detail_fault(bill: ReplicaBill) -> tuple[int, _Body, None, dict] | None:
        status = bill.detail_status
        if status is None:
            return None
        if status == 500:
            return 500, _OMC, None, {}
        return status, _Body(JSON, pages.api_error(status)), None, {}

    def _directory(self, path: str, xml: bool) -> tuple[int, _Body | None, None, dict] | None:
        """The Committees and LegislativeMembers endpoints, or None for another path."""
        r = self.replica
        for pattern, kind in ((_API_COMMITTEES, "committees"), (_API_COMMITTEE, "committee"),
                              (_API_MEMBERS, "members"), (_API_MEMBER, "member")):
            m = pattern.match(path)
            if m:
                break
        else:
            return None
        if r.directory_status is not None:
            status = int(r.directory_status)
            extra = {"Retry-After": "1"} if status in (429, 503) else {}
            return status, _Body(JSON, pages.api_error(status)), None, extra
        gc = int(m.group(1))
        if kind == "committees":
            rows = [pages.committee_ref_obj(gc, c.code, self.base) for c in r.committees_of(gc)]
            root, obj = "ArrayOfCommitteeSummary", rows
        elif kind == "members":
            rows = [pages.member_ref_obj(gc, mem.code, self.base) for mem in r.members_of(gc)]
            root, obj = "ArrayOfLegislativeMemberSummary", rows
        else:
            code = m.group(2)
            found = r.committee(gc, code) if kind == "committee" else r.member(gc, code)
            if found is None or r.directory_fails(gc, code):
                return 500, _OMC, None, {}
            if kind == "committee":
                root, obj = "Committee", pages.committee_obj(found, self.base)
            else:
                root, obj = "LegislativeMember", pages.member_obj(found, r, self.base)
        if kind in ("committees", "members") and not obj:
            return 500, _OMC, None, {}
        content = pages.to_xml(root, obj) if xml else pages.to_json(obj)
        return 200, _Body(XML if xml else JSON, content), None, {"Vary": "Accept"}

    def handle(self, path: str, query: str, headers) -> tuple[int, _Body | None, ReplicaBill | None, dict]:
        """-> (status, body, bill for Last-Modified or None, extra headers)."""
        r = self.replica
        if path[:5].lower() == "/api/":
            if r.api_status is not None:
                status = int(r.api_status)
                extra = {"Retry-After": "1"} if status in (429, 503) else {}
                return status, _Body(JSON, pages.api_error(status)), None, extra
            m = _API_GC.match(path)
            unknown = r.session_status(int(m.group(1))) if m else None
            if unknown is not None:  # a General Court the API does not know (yet)
                if unknown == 500:
                    return 500, _OMC, None, {}
                return unknown, _Body(JSON, pages.api_error(unknown)), None, {}
            xml = _wants_xml(headers.get("Accept"))
            fmt = "xml" if xml else "json"
            ctype = XML if xml else JSON
            vary = {"Vary": "Accept"}
            directory = self._directory(path, xml)
            if directory is not None:
                return directory
            m = _API_HIST.match(path)
            if m:
                bill = r.get(int(m.group(1)), m.group(2))
                if bill is None:
                    return 500, _OMC, None, {}
                fault = self._detail_fault(bill)
                if fault is not None:
                    return fault
                malformed = r.is_malformed(bill)

                def render():
                    rows = pages.history_list(bill)
                    content = (
                        pages.to_xml("ArrayOfDocumentHistoryAction", rows) if xml else pages.to_json(rows)
                    )
                    if malformed:
                        content = content[: max(1, len(content) // 2)]
                    return _Body(ctype, content)

                return 200, self._cached(bill, ("hist", fmt, malformed), render), bill, vary
            m = _API_SIMILAR.match(path)
            if m:
                gc = int(m.group(1))
                bill = r.get(gc, m.group(2))
                if bill is None:
                    return 500, _OMC, None, {}
                if bill.similar_status == 500:
                    return 500, _OMC, None, {}
                if bill.similar_status is not None:
                    message = f'Could not locate any public Documents in General Court "{gc}"'
                    return bill.similar_status, _Body(JSON, pages.api_error(bill.similar_status, message)), None, {}

                # rendered each time, no Last-Modified: the list changes with documents of other General Courts
                rows = [pages.similar_obj(b) for b in self._similar(bill)]
                content = pages.to_xml("ArrayOfDocumentReference", rows) if xml else pages.to_json(rows)
                return 200, _Body(ctype, content), None, vary
            m = _API_DOC.match(path)
            if m:
                # a docket-only document by its docket number; a bill by its number or by its
                # docket number (the same document: the replica's choice, unverified on the real site)
                bill = r.get(int(m.group(1)), m.group(2))
                if bill is None:
                    return 500, _OMC, None, {}
                fault = self._detail_fault(bill)
                if fault is not None:
                    return fault

                def render():
                    obj = pages.document_obj(bill, self.base)
                    return _Body(ctype, pages.to_xml("Document", obj) if xml else pages.to_json(obj))

                return 200, self._cached(bill, ("doc", fmt, self.base), render), bill, vary
            m = _API_LIST.match(path)
            if m:
                body = self._list(int(m.group(1)), xml)
                if body is None:
                    return 500, _OMC, None, {}
                return 200, body, None, vary
            return 404, _Body(JSON, pages.api_error(404)), None, {}

        ajax = (headers.get("X-Requested-With") or "").lower() == "xmlhttprequest"
        for pattern, kind in ((_BILL, "bill"), (_BILL_HIST, "history"), (_BILL_COS, "cosponsor"),
                              (_BILL_HTML, "html"), (_BILL_TEXT, "text")):
            m = pattern.match(path)
            if m:
                break
        else:
            return 404, _OMC, None, {}
        bill = r.get(int(m.group(1)), m.group(2))
        if bill is None:
            return 500, _OMC, None, {}

        if kind in ("html", "text"):
            return self._text(bill, kind, m.group(3) if kind == "text" else None, ajax)

        if kind == "cosponsor":
            def render_cos():
                panel = pages.cosponsor_panel(bill)
                if ajax:
                    return _Body(HTML, panel.encode("utf-8"))
                page = pages.bill_page(bill, "Cosponsor", panel, self._similar(bill))
                return _Body(HTML, page.encode("utf-8"))

            return 200, self._cached(bill, ("cos", ajax), render_cos), bill, {}

        page_no = 1
        if kind == "history":
            ajax_fragment = ajax
            values = {k.lower(): v for k, v in parse_qs(query).items()}.get("pagenumber")
            try:
                page_no = int(values[0]) if values else 1
            except ValueError:
                page_no = 1
        else:
            ajax_fragment = False
        size = max(1, int(r.history_page_size))
        broken = r.is_broken(bill)

        def render_hist():
            panel = pages.history_panel(bill, page_no, size, broken)
            if ajax_fragment:
                return _Body(HTML, panel.encode("utf-8"))
            page = pages.bill_page(bill, "BillHistory", panel, self._similar(bill))
            return _Body(HTML, page.encode("utf-8"))

        key = ("hist-page", page_no, size, broken, ajax_fragment)
        return 200, self._cached(bill, key, render_hist), bill, {}

    def _text(self, bill: ReplicaBill, kind: str, chamber: str | None, ajax: bool):
        """``/Bills/{gc}/{id}.Html`` and ``/Bills/{gc}/{id}/{House|Senate}/Bill/Text`` (the chamber must be
        the bill's, else "Oh My Cod!"; the replica's choice). Both declare UTF-8 and are encoded in
        ``bill.page_encoding`` (``tracker.replica.text_pages``)."""
        if chamber is not None:
            own = "senate" if bill.ident.upper().startswith("S") else "house"
            if chamber.lower() != own:
                return 500, _OMC, None, {}

        def render():
            if kind == "html":
                page = text_pages.text_page(bill)
            elif ajax:
                page = text_pages.text_fragment(bill)
            else:
                page = pages.bill_page(bill, "Text", text_pages.text_panel(bill), self._similar(bill))
            return _Body(HTML, text_pages.page_bytes(bill, page))

        return 200, self._cached(bill, ("text", kind, ajax and kind == "text"), render), bill, {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection is closed after this

    def log_message(self, format, *args):  # noqa: A002 - quiet: no per-request logging
        pass

    def do_GET(self):
        self._serve(head=False)

    def do_HEAD(self):
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        server = self.server
        replica = server.replica
        headers = self.headers
        replica.log_request(self.command, self.path, dict(headers.items()))
        if replica.delay_s:
            time.sleep(replica.delay_s)
        split = urlsplit(self.path)
        fault = replica.wire.take(split.path)
        if fault is not None:
            wire.pause(fault)
            if fault.kind in wire.REPLACING:
                ctype = JSON if split.path[:5].lower() == "/api/" else HTML
                wire.replace(self, fault, server.site.base + self.path, _OMC.bytes(), ctype)
                return
        try:
            with replica.lock:
                status, body, bill, extra = server.site.handle(split.path, split.query, headers)
                modified = bill.modified if bill is not None else None
                etags = replica.etags
        except Exception as exc:  # keep the server alive and quiet; tests can inspect replica.errors
            replica.errors.append(f"{self.command} {self.path}: {exc!r}")
            status, body, modified, etags, extra = 500, _Body("text/plain; charset=utf-8", b"replica error"), None, False, {}

        out = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", f"Date: {self.date_time_string()}",
               f"Server: {self.server_version}", f"Content-Type: {body.ctype}", "Cache-Control: private"]
        for k, v in extra.items():
            out.append(f"{k}: {v}")
        payload = b""
        not_modified = False
        if status == 200 and etags:
            out.append(f"ETag: {body.etag}")
            if modified is not None:
                out.append(f"Last-Modified: {email.utils.formatdate(modified, usegmt=True)}")
            not_modified = self._not_modified(body.etag, modified)
        if not_modified:
            out[0] = "HTTP/1.1 304 Not Modified"
            out.append("Content-Length: 0")
        else:
            payload = body.bytes()
            out.append(f"Content-Length: {len(payload)}")
        if self.close_connection:
            out.append("Connection: close")
        if fault is not None and fault.kind in wire.SPOILING and not head and not not_modified:
            wire.spoil(self, fault, out, payload)
            return
        data = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
        if not head and not not_modified:
            data += payload
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _not_modified(self, etag: str, modified: float | None) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",") if t.strip()]
            return "*" in tags or any(_strip_weak(t) == _strip_weak(etag) for t in tags)
        ims = self.headers.get("If-Modified-Since")
        if ims and modified is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
            return int(modified) <= since
        return False


class ReplicaServer(LoopbackServer):
    """Serve ``replica`` on 127.0.0.1 from a daemon thread.

    >>> with ReplicaServer(Replica.bundled()) as srv:
    ...     srv.base_url  # "http://127.0.0.1:PORT"
    """

    handler = _Handler
    thread_name = "replica"

    def __init__(self, replica: Replica | None = None, host: str = "127.0.0.1", port: int = 0):
        super().__init__(replica if replica is not None else Replica.bundled(), host, port)

    def make_site(self, base_url: str) -> "_Site":
        return _Site(self.replica, base_url)

    def __enter__(self) -> "ReplicaServer":
        self.start()
        return self
