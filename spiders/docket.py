"""The docket spider: the document lists of General Courts, and the details of given documents.

Two kinds of job, in one spider (``spiders.crawl_child`` turns the request's jobs into its arguments):

* ``lists=[gc, ...]``: the whole document list of each General Court
  (``/api/GeneralCourts/{gc}/Documents``), one observation per General Court::

    {"type": "docket-list", "session": gc, "url", "status": "ok" | "not-yet" | "error",
     "http_status": int | None, "rows": [DocumentRow.to_dict(), ...], "problems": [{"url", "error"}, ...],
     "error": str | None}

  ``ok``: ``rows`` are the rows read, ``problems`` the rows left out and why (``spiders.docket_parse``).
  ``not-yet``: the API answered 400 or 500 for the whole list, as it does for a General Court it
  does not know yet (the 195th before 2027-01-06); not a failure, ``rows`` and ``problems`` empty.
  ``error``: anything else (a network failure, another status, a body that is no JSON list), in words.
* ``details=[{"session": gc, "id": "H1946" | "HD2304"}, ...]``: each document's detail
  (``/api/GeneralCourts/{gc}/Documents/{id}``), one observation per document::

    {"type": "document", "session": gc, "id": id, "url", "http_status": int | None,
     "detail": DocumentDetail.to_dict() | None, "error": str | None}

  ``id`` is the job's id as given (the URL uses its canonical form); a document asked for twice is
  fetched once. A 400, a 500 ("Oh My Cod!"), a parse error, a detail that names another document:
  ``detail`` None and ``error`` in words, for that document alone.
* a detail job with ``"history": true`` (``{"session": gc, "id": "H1946", "history": true}``) asks
  for the document's history instead (``.../Documents/{id}/DocumentHistoryActions``, read by
  ``spiders.malegislature_parse.parse_api_history``), at the lowest priority (after any list or
  detail of the same crawl), one observation per document::

    {"type": "history", "session": gc, "id": id, "url", "http_status": int | None,
     "actions": [{"date", "branch", "action"}, ...] | None, "error": str | None}

  ``actions`` in the API's order, stricken rows left out. A failure is ``actions`` None and
  ``error`` in words, for that document alone, as for a detail.
* a detail job with ``"similar": true`` (``{"session": gc, "id": "H1946", "similar": true}``) asks for
  the API's Similar list instead (``.../Documents/{id}/Similar``, read by
  ``spiders.docket_parse.parse_similar``), at a detail's priority, one observation per document::

    {"type": "similar", "session": gc, "id": id, "url", "http_status": int | None,
     "similar": ["ma/193/H1728", ...] | None, "problems": [{"url", "error"}, ...], "error": str | None}

  ``similar``: the canonical ids ``ma/{GeneralCourtNumber}/{BillNumber or DocketNumber}`` in the API's
  order, of any General Court (which way the API looks across General Courts is unverified: evidence,
  not proof); ``problems``: the rows left out and why. A 400 is the API's way of saying it has none
  ("Could not locate any public Documents in General Court ..."): ``similar`` [] and ``error`` None.
  A 500, a network failure, a body that is no JSON list: ``similar`` None and ``error`` in words, for
  that document alone.

A throttle (429, or 503 with a ``Retry-After``) stops the whole spider, as in the bill spider: the
site asked us to stop, so nothing more is requested. It yields, once::

    {"type": "throttled", "session": gc, "id": id | None, "url", "error", "retry_after_s": int}

(``retry_after_s`` 0 when the site named no wait); a job not reported was not fetched. Answers
already on their way are still reported; requests not yet sent are dropped as the throttle arrives
(``spiders.fetching.StopAfterThrottle``, which the crawl child installs for this spider).

URLs are built from ``base_url`` (the API's ``Details`` links name the site's own host). Politeness
(delay, concurrency, timeouts, retries, User-Agent) is the crawl child's settings, nothing here.
The spider never touches the database.
"""

from __future__ import annotations

from typing import Any, Iterable

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from spiders import docket_parse as parse
from spiders.billids import BadBillId, parse_number
from spiders.fetching import (HANDLED_STATUSES, NotSentThrottled, describe_failure, is_throttle,
                               retry_after_seconds)
from spiders.malegislature_parse import api_history_url, is_oh_my_cod, parse_api_history
from spiders.records import ParseError

JSON_HEADERS = {"Accept": "application/json"}
HISTORY_PRIORITY = -10  # the sweep of histories waits for every list and detail
NOT_YET_STATUSES = (400, 500)  # how the API answers for a General Court it does not know


class DocketSpider(scrapy.Spider):
    name = "docket"

    def __init__(self, base_url: str, lists: Iterable[int] = (), details: Iterable[dict] = (), **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")
        self.lists = list(dict.fromkeys(int(gc) for gc in lists))
        # (session, id as given, what: "detail" | "history" | "similar")
        self.details = [(int(d["session"]), str(d["id"]),
                         "history" if d.get("history") else "similar" if d.get("similar") else "detail")
                        for d in details]
        self.throttled = False

    async def start(self):
        for gc in self.lists:
            if self.throttled:
                return
            yield self._request(parse.document_list_url(self.base_url, gc), self.document_list, session=gc)
        asked: set[tuple[int, str, str]] = set()
        for session, given, what in self.details:
            if self.throttled:
                return
            try:
                number = parse_number(given)
            except BadBillId as exc:
                yield self._failed(what, session, given, None, None, str(exc))
                continue
            if (session, number, what) in asked:
                continue
            asked.add((session, number, what))
            if what == "history":
                url = api_history_url(self.base_url, session, number)
                yield self._request(url, self.history, priority=HISTORY_PRIORITY, session=session, given=given,
                                    history=True)
            elif what == "similar":
                url = parse.similar_url(self.base_url, session, number)
                yield self._request(url, self.similar, session=session, given=given, similar=True)
            else:
                url = parse.document_url(self.base_url, session, number)
                yield self._request(url, self.document, session=session, given=given, number=number)

    def _request(self, url: str, callback, priority: int = 0, **kw: Any) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=callback,
            errback=self._network_error,
            headers=JSON_HEADERS,
            cb_kwargs=kw,
            meta={"handle_httpstatus_list": HANDLED_STATUSES, "job": kw},
            dont_filter=True,
            priority=priority,
        )

    # ---- observations -----------------------------------------------------------

    @staticmethod
    def _list(session: int, url: str, status: str, http_status: int | None, rows: list | None = None,
              problems: list | None = None, error: str | None = None) -> dict:
        return {"type": "docket-list", "session": session, "url": url, "status": status,
                "http_status": http_status, "rows": rows or [], "problems": problems or [], "error": error}

    @staticmethod
    def _document(session: int, given: str, url: str | None, http_status: int | None, detail: dict | None = None,
                  error: str | None = None) -> dict:
        return {"type": "document", "session": session, "id": given, "url": url, "http_status": http_status,
                "detail": detail, "error": error}

    @staticmethod
    def _history(session: int, given: str, url: str | None, http_status: int | None, actions: list | None = None,
                 error: str | None = None) -> dict:
        return {"type": "history", "session": session, "id": given, "url": url, "http_status": http_status,
                "actions": actions, "error": error}

    @staticmethod
    def _similar(session: int, given: str, url: str | None, http_status: int | None, similar: list | None = None,
                 problems: list | None = None, error: str | None = None) -> dict:
        return {"type": "similar", "session": session, "id": given, "url": url, "http_status": http_status,
                "similar": similar, "problems": problems or [], "error": error}

    def _failed(self, what: str, session: int, given: str, url: str | None, http_status: int | None,
                error: str) -> dict:
        """The observation of a detail, history or Similar job that failed."""
        make = {"history": self._history, "similar": self._similar}.get(what, self._document)
        return make(session, given, url, http_status, error=error)

    # ---- failures -----------------------------------------------------------------

    def _throttle(self, response: Response, session: int, given: str | None):
        """The site asked us to slow down: say so once, and stop asking it anything."""
        if not self.throttled:
            self.throttled = True
            wait = retry_after_seconds(response)
            said = f", Retry-After {wait} s" if wait is not None else ""
            yield {"type": "throttled", "session": session, "id": given, "url": response.url,
                   "error": f"HTTP {response.status}: the site is throttling us{said}", "retry_after_s": wait or 0}
        raise CloseSpider("throttled")

    def _network_error(self, failure):
        if failure.check(NotSentThrottled):  # not fetched: the throttle observation says so for all of them
            return
        job = failure.request.meta["job"]
        url, error = failure.request.url, describe_failure(failure)
        if "given" in job:
            what = "history" if job.get("history") else "similar" if job.get("similar") else "detail"
            yield self._failed(what, job["session"], job["given"], url, None, error)
        else:
            yield self._list(job["session"], url, "error", None, error=error)

    @staticmethod
    def _http_problem(response: Response) -> str | None:
        if 200 <= response.status < 300:
            return None
        if is_oh_my_cod(response.body):
            return f"not found (HTTP {response.status}, the site's 'Oh My Cod!' page)"
        return f"HTTP {response.status}"

    # ---- callbacks ----------------------------------------------------------------

    def document_list(self, response: Response, session: int):
        if is_throttle(response):
            yield from self._throttle(response, session, None)
            return
        if response.status in NOT_YET_STATUSES:
            yield self._list(session, response.url, "not-yet", response.status)
            return
        problem = self._http_problem(response)
        if problem:
            yield self._list(session, response.url, "error", response.status, error=problem)
            return
        try:
            rows, problems = parse.parse_document_list(response.body, response.url, session)
        except ParseError as exc:
            yield self._list(session, response.url, "error", response.status, error=str(exc))
            return
        yield self._list(session, response.url, "ok", response.status, [r.to_dict() for r in rows], problems)

    def document(self, response: Response, session: int, given: str, number: str):
        if is_throttle(response):
            yield from self._throttle(response, session, given)
            return
        problem = self._http_problem(response)
        if problem:
            yield self._document(session, given, response.url, response.status, error=problem)
            return
        try:
            detail = parse.parse_document_detail(response.body, response.url, session)
        except ParseError as exc:
            yield self._document(session, given, response.url, response.status, error=str(exc))
            return
        if number not in (detail.number, detail.docket):
            named = " / ".join(n for n in (detail.number, detail.docket) if n)
            yield self._document(session, given, response.url, response.status,
                                 error=f"asked for {number}, the API answered with {named}")
            return
        yield self._document(session, given, response.url, response.status, detail.to_dict())

    def history(self, response: Response, session: int, given: str, history: bool):
        if is_throttle(response):
            yield from self._throttle(response, session, given)
            return
        problem = self._http_problem(response)
        if problem:
            yield self._history(session, given, response.url, response.status, error=problem)
            return
        try:
            actions = parse_api_history(response.body, response.url)
        except ParseError as exc:
            yield self._history(session, given, response.url, response.status, error=str(exc))
            return
        yield self._history(session, given, response.url, response.status,
                            [{"date": a.date, "branch": a.branch, "action": a.action} for a in actions])

    def similar(self, response: Response, session: int, given: str, similar: bool):
        if is_throttle(response):
            yield from self._throttle(response, session, given)
            return
        if response.status == 400:  # the API's "Could not locate any public Documents": it has none
            yield self._similar(session, given, response.url, response.status, [])
            return
        problem = self._http_problem(response)
        if problem:
            yield self._similar(session, given, response.url, response.status, error=problem)
            return
        try:
            ids, problems = parse.parse_similar(response.body, response.url)
        except ParseError as exc:
            yield self._similar(session, given, response.url, response.status, error=str(exc))
            return
        yield self._similar(session, given, response.url, response.status, ids, problems)
