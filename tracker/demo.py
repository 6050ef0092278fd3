"""``tracker demo``: the crawl-and-poll cycle offline, against the bundled replicas.

It starts replicas of malegislature.gov and of the news sources on
127.0.0.1, follows H.135 and S.47 of the 192nd General Court and five news
sources into a fresh demo database, then makes the replicas move (a new
action, a new article) and checks again to show exactly the new events.
"""

from __future__ import annotations

import os
from typing import Callable

from db.engine import make_engine, session_factory
from db.migrate import upgrade
from tracker.billids import parse_bill_id
from tracker.config import parse_config
from tracker.crawl import crawl
from tracker.news.poll import poll
from tracker.queries import get_bill, list_bills
from tracker.replica import Replica, ReplicaServer

DEMO_CONFIG = """
campaign:
  name: Regulate face surveillance
sources:
  malegislature:
    base_url: {bills}
    session: 192
    delay_s: 0
    concurrency: 4
  google_news:
    base_url: {news}
  news:
    delay_s: 0
    concurrency: 4
bills:
  - id: H.135
    keywords: ["face surveillance", "facial recognition"]
  - id: S.47
    keywords: ["face surveillance", "facial recognition"]
feeds:
  - name: WWLP
    url: {news}/wwlp/feed/
  - name: MassLive
    url: {news}/masslive/arc/outboundfeeds/rss/
  - name: CommonWealth Beacon
    url: {news}/beacon/feed/atom/
  - name: ACLU of Massachusetts
    url: {news}/aclum/rdf/
  - name: Google News
    google_news: '"face surveillance" Massachusetts'
    fetch_article: true
"""


def _fresh_sqlite(db_url: str) -> None:
    if db_url.startswith("sqlite:///") and not db_url.endswith(":memory:"):
        path = db_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


def run_demo(db_url: str, echo: Callable[[str], None] = print) -> int:
    from tracker.replica.news_model import NewsItem, NewsReplica
    from tracker.replica.news_server import NewsServer

    _fresh_sqlite(db_url)
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    bills_site, news_site = Replica.bundled(), NewsReplica.bundled()

    def show(skip=("bill.action",)):
        return lambda o: [echo(f"   {e.kind:18} {e.summary}") for e in o.events if e.kind not in skip]

    with ReplicaServer(bills_site) as bills_server, NewsServer(news_site) as news_server:
        config = parse_config(DEMO_CONFIG.format(bills=bills_server.base_url, news=news_server.base_url), "demo")
        echo(f"Replicas serving malegislature.gov at {bills_server.base_url} and the news at "
             f"{news_server.base_url}; database {db_url}\n")

        echo("1. First crawl: every bill is new; its whole history becomes events (bill.action not shown).")
        runs = [crawl(config, sessions, on_outcome=show())]
        echo(f"   -> {runs[-1].checked} bills checked, {len(runs[-1].events)} events "
             f"({sum(e.kind == 'bill.action' for e in runs[-1].events)} bill.action)\n")

        echo("2. First poll of the news: articles about the bills are kept and linked, with the reason.")
        runs.append(poll(config, sessions, on_outcome=show(skip=())))
        echo(f"   -> {runs[-1].checked} feeds checked, {len(runs[-1].events)} events, "
             f"{runs[-1].articles_fetched} article pages fetched for full text\n")

        echo("3. Nothing moved: a second crawl and poll write nothing (the feeds answer 304).")
        runs.append(crawl(config, sessions))
        runs.append(poll(config, sessions, all_feeds=True))
        echo(f"   -> {runs[-2].checked} bills, {runs[-1].checked} feeds checked, "
             f"{len(runs[-2].events) + len(runs[-1].events)} events\n")

        echo("4. The sources move: H.5091 (the new draft of H.135) gets a hearing, and WWLP reports on it.")
        bills_site.add_action(192, "H5091", "2022-08-15T10:12:00.0000000", "Joint",
                              "Hearing scheduled for 09/13/2022 from 01:00 PM-03:00 PM in Virtual Hearing")
        news_site.add_item("/wwlp/feed/", NewsItem(
            guid="demo-1", title="Judiciary sets September hearing on H.5091",
            link="/wwlp/news/state-politics/judiciary-sets-september-hearing-on-h5091/",
            published="2022-08-15T18:00:00Z", author="Demo",
            summary_html="<p>Demo text: the new draft of the face surveillance bill gets a hearing date.</p>"))
        runs.append(crawl(config, sessions, on_outcome=show(skip=())))
        runs.append(poll(config, sessions, feeds=["WWLP"], on_outcome=show(skip=())))
        echo("")

    echo("Tracked bills:")
    with sessions() as s:
        for b in list_bills(s):
            n = len(get_bill(s, parse_bill_id(b["id"]))["articles"])
            echo(f"   {b['id']:14} {b['status'] or '':12} {n:2} articles  {b['title'] or ''}")
    echo("\nTry: tracker --db " + db_url + " search '\"facial recognition\"'  |  tracker --db " + db_url
         + " bill 192/H135  |  tracker --db " + db_url + " events --kind article.matched")
    errors = [e for r in runs for e in r.errors]
    for e in errors:
        echo(f"error: {e.get('bill') or e.get('source', '')} {e['url']}: {e['error']}")
    return 1 if errors else 0
