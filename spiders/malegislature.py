"""The bill spider for malegislature.gov.

Primary path: the official JSON API (history first, the document detail only
when the history moved or the detail is due). Fallback, or ``mode: html``:
the bill page, its paginated BillHistory tab and its Petitioners tab.

The spider is thin: it fetches, hands bodies to the pure parsers in
``spiders.malegislature_parse``, and yields one observation per bill (a plain
dict, see ``spiders.observations``). It never touches the database.
"""

from __future__ import annotations

from typing import Any

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from spiders import malegislature_parse as parse
from spiders.actions import referenced_bill, text_changes
from spiders.billtext_parse import normalise_text, parse_text_page, text_page_url
from spiders.fetching import (HANDLED_STATUSES, describe_failure, header, is_throttle, retry_after_seconds,
                               snapshot_of)
from spiders.observations import BillTarget, Observation
from spiders.records import BillNotFound, ParseError

JSON_HEADERS = {"Accept": "application/json"}


def _charset(content_type: str | None) -> str | None:
    """``text/html; charset=windows-1252`` -> ``windows-1252``."""
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None

AJAX_HEADERS = {"X-Requested-With": "XMLHttpRequest"}


class MalegislatureSpider(scrapy.Spider):
    name = "malegislature"

    def __init__(self, targets: list[BillTarget], base_url: str, mode: str, known: set[str], **kwargs: Any):
        super().__init__(**kwargs)
        self.targets = targets
        self.base_url = base_url.rstrip("/")
        self.mode = mode
        self.known = set(known) | {t.canonical for t in targets}

    async def start(self):
        for target in self.targets:
            for request in self._begin(target):
                yield request

    # ---- scheduling -------------------------------------------------------

    def _begin(self, target: BillTarget):
        if self.mode == "api":
            yield self._api_history_request(target)
        else:
            yield self._html_page_request(Observation.start(target, self._public_url(target), "html"))

    def _public_url(self, target: BillTarget) -> str:
        return parse.bill_page_url(self.base_url, target.session, target.number)

    def _request(self, url: str, callback, obs: Observation, headers=None, conditional=None, errback=None, **kw):
        headers = dict(headers or {})
        if conditional:
            etag, last_modified = conditional
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        return scrapy.Request(
            url,
            callback=callback,
            errback=errback or self._network_error,
            headers=headers,
            cb_kwargs={"obs": obs, **kw},
            meta={"handle_httpstatus_list": HANDLED_STATUSES, "obs": obs},
            dont_filter=True,
        )

    def _api_history_request(self, target: BillTarget):
        obs = Observation.start(target, self._public_url(target), "api")
        url = parse.api_history_url(self.base_url, target.session, target.number)
        return self._request(url, self.api_history, obs, JSON_HEADERS, conditional=(target.etag, target.last_modified))

    def _html_page_request(self, obs: Observation):
        url = parse.bill_page_url(self.base_url, obs.target.session, obs.target.number)
        return self._request(url, self.html_page, obs)

    # ---- failures -----------------------------------------------------------

    def _network_error(self, failure):
        obs: Observation = failure.request.meta["obs"]
        yield from self._fail(obs, failure.request.url, describe_failure(failure))

    def _fail(self, obs: Observation, url: str, error: str, not_found: bool = False,
              throttled_s: int | None = None):
        """API trouble falls back to the HTML pages; HTML trouble ends the bill with an error.

        A "not found" from the API falls back too: the site serves the same
        'Oh My Cod!' page for other server errors, so the bill page decides.

        A throttle (429, or 503 with Retry-After) ends the whole crawl: the site asked
        us to stop, so no other request goes to it. The bill is not blamed; the parent
        postpones every bill this crawl did not finish by the wait the site asked for.
        """
        if throttled_s is not None:
            yield {"type": "throttled", "bill": obs.target.canonical, "url": url, "error": error,
                   "retry_after_s": throttled_s}
            raise CloseSpider("throttled")
        if obs.mode == "api":
            obs.reset_for_fallback(f"{url}: {error}")
            yield self._html_page_request(obs)
            return
        yield obs.failed(url, error)

    def _http_problem(self, response: Response) -> tuple[str, bool, int | None] | None:
        """None for an answer to read, else (error, not found, seconds to wait when throttled)."""
        if response.status == 304 or 200 <= response.status < 300:
            return None
        if is_throttle(response):
            wait = retry_after_seconds(response)
            said = f", Retry-After {wait} s" if wait is not None else ""
            return f"HTTP {response.status}: the site is throttling us{said}", False, wait or 0
        if parse.is_oh_my_cod(response.body):
            return f"bill not found (HTTP {response.status}, the site's 'Oh My Cod!' page)", True, None
        return f"HTTP {response.status}", False, None

    # ---- API path -------------------------------------------------------------

    def api_history(self, response: Response, obs: Observation):
        problem = self._http_problem(response)
        if problem:
            yield from self._fail(obs, response.url, *problem)
            return
        target = obs.target
        if response.status == 304:
            obs.etag, obs.last_modified = target.etag, target.last_modified
            if target.need_detail:
                yield self._api_detail_request(obs)
            else:
                yield obs.unchanged()
            return
        try:
            history = parse.parse_api_history(response.body, response.url)
        except ParseError as exc:
            yield from self._fail(obs, response.url, str(exc), isinstance(exc, BillNotFound))
            return
        obs.set_history(history, snapshot_of("history", response))
        obs.etag = header(response, "ETag")
        obs.last_modified = header(response, "Last-Modified")
        if obs.history_hash == target.history_hash and not target.need_detail:
            yield from self._finish(obs, obs.unchanged())
        else:
            yield self._api_detail_request(obs)

    def _api_detail_request(self, obs: Observation):
        url = parse.api_document_url(self.base_url, obs.target.session, obs.target.number)
        return self._request(url, self.api_detail, obs, JSON_HEADERS)

    def api_detail(self, response: Response, obs: Observation):
        problem = self._http_problem(response)
        if problem:
            yield from self._fail(obs, response.url, *problem)
            return
        try:
            detail = parse.parse_api_document(response.body, response.url)
        except ParseError as exc:
            yield from self._fail(obs, response.url, str(exc), isinstance(exc, BillNotFound))
            return
        obs.set_detail(detail, snapshot_of("detail", response))
        yield from self._after_detail(obs)

    # ---- the text page, when DocumentText is empty ------------------------------

    def _after_detail(self, obs: Observation):
        if self._wants_text_page(obs):
            url = text_page_url(self.base_url, obs.target.session, obs.target.number)
            yield self._request(url, self.text_page, obs, errback=self._text_page_error)
        else:
            yield from self._finish(obs)

    def _text_actions(self, obs: Observation) -> int:
        return text_changes(obs.history) if obs.history is not None else (obs.target.text_actions or 0)

    def _wants_text_page(self, obs: Observation) -> bool:
        """DocumentText is empty (or there is none: the HTML path) and the page is due, or the history has a
        text-changing action it did not have when the page was last asked for."""
        if obs.detail is None or not normalise_text(obs.detail.text).empty:
            return False
        target = obs.target
        if target.text_due:
            return True
        return target.text_actions is not None and self._text_actions(obs) > target.text_actions

    def text_page(self, response: Response, obs: Observation):
        problem = self._http_problem(response)
        if problem and problem[2] is not None:  # throttled: the whole crawl stops
            yield from self._fail(obs, response.url, *problem)
            return
        page = {"url": response.url, "text": None, "flags": [], "error": problem[0] if problem else None,
                "actions": self._text_actions(obs)}
        if not problem:
            try:
                found = parse_text_page(response.body, response.url, _charset(header(response, "Content-Type")))
                page["text"], page["flags"] = found.text or None, list(found.flags)
            except ParseError as exc:
                page["error"] = str(exc)
            obs.add_snapshot(snapshot_of("text", response))
        obs.text_page = page
        yield from self._finish(obs)

    def _text_page_error(self, failure):
        """A text page that cannot be fetched costs the bill nothing else: its observation goes on without."""
        obs: Observation = failure.request.meta["obs"]
        obs.text_page = {"url": failure.request.url, "text": None, "flags": [], "error": describe_failure(failure),
                         "actions": self._text_actions(obs)}
        yield from self._finish(obs)

    def _finish(self, obs: Observation, item: dict | None = None):
        """The bill's observation, then the new drafts and study orders its history hands over to: they are
        stored after it, so a new draft's first text is compared with the text of the bill it replaced."""
        if item is None:
            item = obs.detail_only() if obs.history is None else obs.done()
        yield item
        yield from self._follow_references(obs)

    # ---- HTML path --------------------------------------------------------------

    def html_page(self, response: Response, obs: Observation):
        problem = self._http_problem(response)
        if problem:
            yield from self._fail(obs, response.url, *problem)
            return
        try:
            page = parse.parse_html_bill_page(response.body, response.url)
        except ParseError as exc:
            yield from self._fail(obs, response.url, str(exc), isinstance(exc, BillNotFound))
            return
        obs.html_rows = list(page.history)
        obs.html_pages = page.history_pages
        obs.add_snapshot(snapshot_of("page", response))
        obs.pending_detail = page.detail
        yield from self._next_html_step(obs, 2)

    def _next_html_step(self, obs: Observation, page_number: int):
        if page_number <= obs.html_pages:
            url = parse.history_page_url(self.base_url, obs.target.session, obs.target.number, page_number)
            yield self._request(url, self.html_history_page, obs, AJAX_HEADERS, page_number=page_number)
            return
        obs.set_history(obs.html_rows, None)
        if obs.history_hash == obs.target.history_hash and not obs.target.need_detail:
            yield from self._finish(obs, obs.unchanged())
            return
        url = parse.petitioners_url(self.base_url, obs.target.session, obs.target.number)
        yield self._request(url, self.html_petitioners, obs, AJAX_HEADERS)

    def html_history_page(self, response: Response, obs: Observation, page_number: int):
        problem = self._http_problem(response)
        if problem and problem[2] is not None:
            yield from self._fail(obs, response.url, *problem)
            return
        if problem:
            yield obs.failed(response.url, problem[0])
            return
        try:
            rows, pages = parse.parse_html_history_page(response.body, response.url)
        except ParseError as exc:
            yield obs.failed(response.url, str(exc))
            return
        obs.html_rows.extend(rows)
        obs.html_pages = max(obs.html_pages, pages)
        obs.add_snapshot(snapshot_of("history-page", response))
        yield from self._next_html_step(obs, page_number + 1)

    def html_petitioners(self, response: Response, obs: Observation):
        detail = obs.pending_detail
        problem = self._http_problem(response)
        if problem and problem[2] is not None:
            yield from self._fail(obs, response.url, *problem)
            return
        if problem:
            yield from self._finish(obs, obs.failed(response.url, problem[0]))
            return
        try:
            detail.petitioners = parse.parse_html_petitioners(response.body, response.url)
        except ParseError as exc:
            yield from self._finish(obs, obs.failed(response.url, str(exc)))
            return
        obs.set_detail(detail, snapshot_of("petitioners", response))
        yield from self._after_detail(obs)

    # ---- new drafts -------------------------------------------------------------

    def _follow_references(self, obs: Observation):
        """A bill handed over to a new draft or a study order: follow the new number in this crawl."""
        for action in obs.history or []:
            ref = referenced_bill(action.action)
            if not ref:
                continue
            reason, number = ref
            canonical = f"ma/{obs.target.session}/{number}"
            if canonical in self.known:
                continue
            self.known.add(canonical)
            target = BillTarget(
                canonical=canonical,
                session=obs.target.session,
                number=number,
                need_detail=True,
                discovered_from={"bill": obs.target.canonical, "action": action.action, "reason": reason},
            )
            yield from self._begin(target)

