"""Entry point of the crawl child process: ``python -m spiders.crawl_child``.

Reads one JSON request on stdin ({"spider": ..., "settings": {...}, "jobs": [...], "known": [...]};
"jobs" is what to fetch: targets of ``spiders.observations``, General Court numbers for the
directory, or for the docket ``{"session": gc}`` (that General Court's document list) and
``{"session": gc, "id": "H1946"}`` (one document's detail, by bill or docket number; with
``"history": true`` its history, with ``"similar": true`` the API's Similar list), mixed as the caller likes), runs the Scrapy spider, and writes one JSON observation per line on stdout.
Scrapy's reactor cannot restart within a process, and a hung spider must be
killable, which is why every crawl runs here and not in the caller.

The child lives only as long as its parent: the parent's pid comes with the
request, and once it is no longer the child's parent (``kill -9`` of ``tracker
run``), or the pipe to it is broken, the child exits at once instead of fetching
on for nobody.
"""

from __future__ import annotations

import json
import os
import sys
import threading

from scrapy.crawler import CrawlerProcess

from spiders.observations import ArticleTarget, BillTarget, FeedTarget

OUT = sys.stdout
ORPHANED = 3  # exit status of a child whose parent died
PARENT_CHECK_S = 0.2


def _orphaned() -> None:
    os._exit(ORPHANED)  # no clean-up: nobody is left to read what the spider would still say


def watch_parent(parent: int, every_s: float = PARENT_CHECK_S) -> threading.Thread:
    """Exit the process when ``parent`` is no longer its parent (it died; the child was re-parented)."""

    def watch():
        while os.getppid() == parent:
            threading.Event().wait(every_s)
        _orphaned()

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread


class JsonLinesPipeline:
    """Streams each observation to the parent as soon as the spider yields it."""

    def process_item(self, item, spider=None):
        try:
            OUT.write(json.dumps(item, ensure_ascii=False) + "\n")
            OUT.flush()
        except (BrokenPipeError, ValueError):  # the parent is gone (ValueError: stdout closed)
            _orphaned()
        return item


def scrapy_settings(s: dict) -> dict:
    delay = float(s.get("delay_s", 1.0))
    concurrency = int(s.get("concurrency", 2))
    return {
        "USER_AGENT": s.get("user_agent", "ma-bill-tracker"),
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": s.get("log_level", "WARNING"),
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": delay,
        "RANDOMIZE_DOWNLOAD_DELAY": delay > 0,
        "AUTOTHROTTLE_ENABLED": delay > 0,
        "AUTOTHROTTLE_START_DELAY": max(delay, 0.1),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(concurrency),
        "DOWNLOAD_TIMEOUT": float(s.get("timeout_s", 30.0)),
        "DOWNLOAD_MAXSIZE": int(s.get("max_bytes", 16 * 1024 * 1024)),
        "DOWNLOAD_WARNSIZE": 0,
        # The site answers a missing bill with a 500 page: retrying it is waste.
        "RETRY_ENABLED": True,
        "RETRY_TIMES": int(s.get("retry_times", 2)),
        # 429 is not retried at once: the caller backs off and honours Retry-After.
        "RETRY_HTTP_CODES": [502, 503, 504, 522, 524, 408],
        "REDIRECT_MAX_TIMES": 5,
        # politeness is per site: news feeds live on many hosts
        "CONCURRENT_REQUESTS": int(s.get("total_concurrency", concurrency)),
        "ITEM_PIPELINES": {JsonLinesPipeline: 100},
        "DOWNLOADER_MIDDLEWARES": {"scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
                                   "spiders.fetching.PoliteRetry": 550},
        # each response yields at most one observation; Scrapy's default of 100 parallel items
        # per response made ~100 asyncio tasks per response (the benchmark's largest child cost)
        "CONCURRENT_ITEMS": 4,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "HTTPCACHE_ENABLED": False,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": list(s.get("allow_private_networks", [])),
    }


def main() -> int:
    request = json.load(sys.stdin)
    if request.get("parent") is not None:
        watch_parent(int(request["parent"]))
    settings = request["settings"]
    spider = request.get("spider", "malegislature")
    scrapy_config = scrapy_settings(settings)
    if spider == "articles":  # links written by feeds: public addresses only (spiders.public_only)
        scrapy_config["DOWNLOADER_MIDDLEWARES"]["spiders.public_only.PublicOnly"] = 50
        # and the connection goes to the addresses that check approved, not to a second lookup's
        # (spiders.pinned_dns); a proxy would look the name up again itself, so none is used
        scrapy_config["TWISTED_DNS_RESOLVER"] = "spiders.pinned_dns.PinnedResolver"
        scrapy_config["HTTPPROXY_ENABLED"] = False
    if spider in ("docket", "malegislature"):
        # Scrapy parses a generator callback's source (inspect, ast) to warn of a `return value`, and
        # its cache of the answer is keyed weakly on the bound method, which dies with each request:
        # 1,000 details took 7.7 s with the check and 6.3 s without (local server, concurrency 16)
        # (the bill crawl: inspect/tokenize/compile were about 10% of the child's CPU in an unchanged re-crawl)
        scrapy_config["WARN_ON_GENERATOR_RETURN_VALUE"] = False
    if spider == "docket":  # thousands of requests to one site
        # none more once the site says to slow down
        scrapy_config["DOWNLOADER_MIDDLEWARES"]["spiders.fetching.StopAfterThrottle"] = 50
    if spider in ("feeds", "articles"):  # many sites in one crawl
        # Scrapy's default queue hands the downloader requests in the order given, and the downloader
        # takes at most the total limit of them at once, queued per site: twenty feeds of one site listed
        # together filled all the total's places while the site's limit let two of them run, and every
        # other site waited on that site's slot. This queue hands out first the request of the site
        # with the fewest downloads in progress, so no site waits on another's (per-site and total limits
        # both still hold; the slot is the host name or address, as for CONCURRENT_REQUESTS_PER_DOMAIN)
        scrapy_config["SCHEDULER_PRIORITY_QUEUE"] = "scrapy.pqueues.DownloaderAwarePriorityQueue"
        # and the per-site limit itself, which Scrapy's downloader overshoots (spiders.slots)
        scrapy_config["DOWNLOADER"] = "spiders.slots.SlotLimitedDownloader"
    process = CrawlerProcess(scrapy_config, install_root_handler=True)
    # lazy: a child runs one spider, and importing all five would add about 0.2 s to every child
    # (python -X importtime, after Scrapy's own 0.3 s): article_spider 0.17 s (trafilatura, only for
    # article fetches), feed_spider 0.04 s (feedparser), malegislature 0.03 s, directory 0.02 s,
    # docket 0.02 s.
    if spider == "malegislature":
        from spiders.malegislature import MalegislatureSpider  # lazy, as said above

        process.crawl(
            MalegislatureSpider,
            targets=[BillTarget(**j) for j in request["jobs"]],
            base_url=settings["base_url"],
            mode=settings.get("mode", "api"),
            known=set(request.get("known", [])),
        )
    elif spider == "directory":
        from spiders.directory import DirectorySpider  # lazy, as said above

        process.crawl(DirectorySpider, general_courts=request["jobs"], base_url=settings["base_url"])
    elif spider == "docket":
        from spiders.docket import DocketSpider  # lazy, as said above

        jobs = request["jobs"]
        process.crawl(DocketSpider, base_url=settings["base_url"],
                      lists=[j["session"] for j in jobs if j.get("id") is None],
                      details=[j for j in jobs if j.get("id") is not None])
    elif spider == "feeds":
        from spiders.feed_spider import FeedSpider  # lazy, as said above

        process.crawl(FeedSpider, targets=[FeedTarget(**j) for j in request["jobs"]])
    elif spider == "articles":
        from spiders.article_spider import ArticleSpider  # lazy, as said above

        process.crawl(ArticleSpider, targets=[ArticleTarget(**j) for j in request["jobs"]])
    else:
        print(f"unknown spider {spider!r}", file=sys.stderr)
        return 2
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
