"""The article spider: fetches the pages that feed items link to, for their full text.

Only for feeds with ``fetch_article: true``. Every request, redirects included, goes to a public
address (``spiders.public_only``) and connects to the address checked (``spiders.pinned_dns``), both
installed by ``spiders.crawl_child``; the page's text comes from
``spiders.extract.extract_article``. It yields one observation per article and never touches the
database.
"""

from __future__ import annotations

import scrapy
from scrapy.http import Response

from spiders.extract import extract_article
from spiders.fetching import HANDLED_STATUSES, describe_failure, header
from spiders.observations import ArticleTarget
from spiders.public_only import RefusedAddress


class ArticleSpider(scrapy.Spider):
    """Fetches article pages for full text (feeds with ``fetch_article: true``), following redirects."""

    name = "articles"

    def __init__(self, targets: list[ArticleTarget], **kwargs):
        super().__init__(**kwargs)
        self.targets = targets

    async def start(self):
        for target in self.targets:
            yield scrapy.Request(target.url, callback=self.parse_page, errback=self.network_error,
                                 cb_kwargs={"target": target},
                                 meta={"handle_httpstatus_list": HANDLED_STATUSES, "target": target},
                                 dont_filter=True)

    def network_error(self, failure):
        target: ArticleTarget = failure.request.meta["target"]
        refused = failure.check(RefusedAddress) is not None
        yield {"type": "article", "status": "error", "article_id": target.article_id, "url": target.url,
               "final_url": failure.request.url, "refused": refused,
               "error": str(failure.value) if refused else describe_failure(failure)}

    def parse_page(self, response: Response, target: ArticleTarget):
        out = {"type": "article", "article_id": target.article_id, "url": target.url, "final_url": response.url}
        ctype = (header(response, "Content-Type") or "").lower()
        if response.status >= 300:
            yield out | {"status": "error", "error": f"HTTP {response.status}"}
            return
        if ctype and "html" not in ctype:
            yield out | {"status": "error", "error": f"not an HTML page ({ctype})"}
            return
        try:
            extracted = extract_article(response.body, response.url)
        except Exception as exc:  # extraction libraries raise many kinds of errors on odd pages
            yield out | {"status": "error", "error": f"extraction failed: {type(exc).__name__}: {exc}"}
            return
        yield out | {"status": "ok", "title": extracted.title, "text": extracted.text,
                     "canonical_url": extracted.canonical_url}
