"""The directory spider: committees and legislative members of given General Courts.

For each General Court it fetches the committee list and every committee's
detail, the member list and every member's detail, from the official JSON API,
and yields plain dicts (JSON lines to the parent, see ``tracker.directory``):

* ``{"type": "committee-list", "session", "url", "codes": [...]}`` and
  ``{"type": "member-list", ...}``: what the lists hold, so the parent can tell a
  complete directory from a partial one;
* ``{"type": "committee", "session", "code", "url", "record": {...}}`` and
  ``{"type": "member", ...}``: one parsed detail each;
* ``{"type": "directory-error", "session", "url", "error"}``: a fetch or parse failed.
  Once a General Court has failed, no further details of it are requested.

Detail URLs are built from ``base_url`` and the code (the API's ``Details`` links
name the site's own host). The spider never touches the database.
"""

from __future__ import annotations

from typing import Any

import scrapy
from scrapy.http import Response

from spiders import directory_parse as parse
from spiders.fetching import HANDLED_STATUSES
from spiders.records import ParseError

JSON_HEADERS = {"Accept": "application/json"}


class DirectorySpider(scrapy.Spider):
    name = "directory"

    def __init__(self, general_courts: list[int], base_url: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.general_courts = [int(gc) for gc in general_courts]
        self.base_url = base_url.rstrip("/")
        self.failed: set[int] = set()

    async def start(self):
        for gc in self.general_courts:
            yield self._request(parse.committee_list_url(self.base_url, gc), self.committee_list, gc)
            yield self._request(parse.member_list_url(self.base_url, gc), self.member_list, gc)

    def _request(self, url: str, callback, gc: int, **kw: Any) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=callback,
            errback=self._network_error,
            headers=JSON_HEADERS,
            cb_kwargs={"gc": gc, **kw},
            meta={"handle_httpstatus_list": HANDLED_STATUSES, "gc": gc},
            dont_filter=True,
        )

    # ---- failures ---------------------------------------------------------------

    def _error(self, gc: int, url: str, error: str) -> dict:
        self.failed.add(gc)
        return {"type": "directory-error", "session": gc, "url": url, "error": error}

    def _network_error(self, failure):
        gc = failure.request.meta["gc"]
        reason = failure.getErrorMessage() or failure.type.__name__
        yield self._error(gc, failure.request.url, f"{failure.type.__name__}: {reason}")

    def _http_problem(self, response: Response) -> str | None:
        if 200 <= response.status < 300:
            return None
        if parse.is_oh_my_cod(response.body):
            return f"not found (HTTP {response.status}, the site's 'Oh My Cod!' page)"
        return f"HTTP {response.status}"

    def _parsed(self, response: Response, gc: int, parser):
        """``(record, None)`` or ``(None, error item)``."""
        problem = self._http_problem(response)
        if problem:
            return None, self._error(gc, response.url, problem)
        try:
            return parser(response.body, response.url), None
        except ParseError as exc:
            return None, self._error(gc, response.url, str(exc))

    # ---- lists --------------------------------------------------------------------

    def committee_list(self, response: Response, gc: int):
        refs, error = self._parsed(response, gc, parse.parse_committee_list)
        if error:
            yield error
            return
        yield {"type": "committee-list", "session": gc, "url": response.url, "codes": [r.code for r in refs]}
        for ref in refs:
            if gc in self.failed:
                return
            yield self._request(parse.committee_url(self.base_url, gc, ref.code), self.committee, gc, code=ref.code)

    def member_list(self, response: Response, gc: int):
        refs, error = self._parsed(response, gc, parse.parse_member_list)
        if error:
            yield error
            return
        yield {"type": "member-list", "session": gc, "url": response.url, "codes": [r.code for r in refs]}
        for ref in refs:
            if gc in self.failed:
                return
            yield self._request(parse.member_url(self.base_url, gc, ref.code), self.member, gc, code=ref.code)

    # ---- details ------------------------------------------------------------------

    def committee(self, response: Response, gc: int, code: str):
        if gc in self.failed:
            return
        record, error = self._parsed(response, gc, parse.parse_committee)
        yield error or {"type": "committee", "session": gc, "code": code, "url": response.url,
                        "record": record.to_dict()}

    def member(self, response: Response, gc: int, code: str):
        if gc in self.failed:
            return
        record, error = self._parsed(response, gc, parse.parse_member)
        yield error or {"type": "member", "session": gc, "code": code, "url": response.url,
                        "record": record.to_dict()}
