"""Every tracked bill's number is matched in the news, new drafts and successors included, and the articles
already stored are matched again, once, when a bill becomes tracked (issue 16, item 3). Both backends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from alerts.dispatch import dispatch
from alerts.subscribers import subscribe
from alerts.transport import MaildirTransport
from db.bills import find_bill
from db.models import Article, ArticleBill, Bill, Event, Successor
from spiders.billids import parse_bill_id
from spiders.matching import BillTerm
from tests.alerts_world import KEY, NOW, add_bill, application, config as alerts_config, settings_of
from tests.test_alerts import _mail
from tests.web_client import caller
from tracker.bill_writer import ensure_bill
from tracker.config import parse_config
from tracker.crawl import crawl
from tracker.following import track
from tracker.news.poll import poll
from tracker.web.app import create_app

CONFIG = """
sources:
  malegislature: {{session: 192}}
  google_news: {{base_url: "{base}"}}
  news: {{delay_s: 0, concurrency: 8, timeout_s: 5, allow_private_networks: ["127.0.0.1/32"]}}
bills:
  - id: H.135
    keywords: ["face surveillance"]
  - id: S.47
    keywords: ["face surveillance"]
feeds:
  - name: WWLP
    url: {base}/wwlp/feed/
"""

HEARING = "Judiciary sets hearing on H.5091, the face surveillance bill"


def _links(sessions, canonical: str) -> dict[str, str]:
    """article title -> the link's reason, for one bill."""
    with sessions() as s:
        return dict(s.execute(select(Article.title, ArticleBill.reason).join(ArticleBill).join(Bill)
                              .where(Bill.canonical == canonical)).all())


def _matched_events(sessions, canonical: str) -> list[Event]:
    with sessions() as s:
        return list(s.scalars(select(Event).join(Bill, Bill.id == Event.bill_id).where(
            Event.kind == "article.matched", Bill.canonical == canonical)))


def test_an_article_stored_before_the_new_draft_is_tracked_is_linked_to_it_by_number(
        sessions, news, news_server, replica_server):
    from tracker.replica.news_model import NewsItem

    cfg = parse_config(CONFIG.format(base=news_server.base_url), "test")
    news.add_item("/wwlp/feed/", NewsItem(
        guid="h5091-hearing", title=HEARING, link="/wwlp/news/state-politics/judiciary-sets-hearing-on-h5091/",
        published="2022-07-26T14:00:00Z", author="Test Writer", categories=["State Politics"],
        summary_html="<p>The Judiciary committee takes up the new draft.</p>", content_html=None))
    news.add_item("/wwlp/feed/", NewsItem(
        guid="fs-only", title="Advocates rally for face surveillance limits",
        link="/wwlp/news/state-politics/rally-for-face-surveillance-limits/", published="2022-07-27T14:00:00Z",
        author="Test Writer", categories=["State Politics"], summary_html="<p>No bill number here.</p>",
        content_html=None))
    poll(cfg, sessions)  # stored, linked to H.135 and S.47 by keyword; H.5091 is not tracked yet
    assert HEARING in _links(sessions, "ma/192/H135")
    with sessions() as s:
        assert find_bill(s, "ma/192/H5091") is None

    crawl(cfg.with_overrides(base_url=replica_server.base_url, delay_s=0, concurrency=4), sessions)
    with sessions() as s:
        assert find_bill(s, "ma/192/H5091").tracked  # the crawl found H.135's new draft
    poll(cfg, sessions)

    links = _links(sessions, "ma/192/H5091")
    assert links[HEARING] == 'number "H.5091" in title'
    # the new draft matches by the keywords of the bill it comes from, as H.135 does
    assert links["Advocates rally for face surveillance limits"] == 'keyword "face surveillance" in title'
    events = [e for e in _matched_events(sessions, "ma/192/H5091") if e.payload["title"] == HEARING]
    assert len(events) == 1
    assert events[0].occurred_at == datetime(2022, 7, 26, 14, 0, tzinfo=timezone.utc)

    web = caller(create_app(application(cfg, sessions, KEY, transport_factory=lambda: None)))
    page = web("GET", "/bills/192/H5091")
    assert page.status_code == 200
    assert "Judiciary sets hearing on H.5091" in page.text and "No article yet" not in page.text


def _article(s, title: str, published: datetime | None, first_seen: datetime, summary: str = "") -> Article:
    a = Article(url=f"https://news.example/{abs(hash(title))}", link="https://news.example/", title=title,
                publisher="WWLP", summary_text=summary, published_at=published, first_seen_at=first_seen,
                fetch_article=False, fulltext_attempts=0)
    s.add(a)
    s.flush()
    return a


def test_an_accepted_successor_is_matched_by_its_number_in_the_stored_articles(sessions):
    cfg = alerts_config()
    seen = datetime(2023, 6, 1, tzinfo=timezone.utc)
    with sessions.begin() as s:
        _article(s, "Lawmakers take up H.1728 on face scans", datetime(2023, 5, 30, tzinfo=timezone.utc), seen)
        _article(s, "H.1728 of 2015 was something else", datetime(2015, 5, 30, tzinfo=timezone.utc), seen)
    poll(cfg, sessions, now=lambda: NOW)
    with sessions.begin() as s:  # H.135 is re-filed as H.1728 in the 193rd and the successor is accepted
        s.add(Successor(bill="ma/192/H135", candidate="ma/193/H1728", session=193, rank=1, score=0.9, evidence={},
                        state="accepted", decided_by="staff", decided_at=NOW, found_at=NOW))
        ensure_bill(s, parse_bill_id("ma/193/H1728"), NOW, "re-filed from H.135 (192nd General Court)")
    result = poll(cfg, sessions, now=lambda: NOW)
    # within its session window only: the 2015 article is not about the 193rd's H.1728
    assert _links(sessions, "ma/193/H1728") == {"Lawmakers take up H.1728 on face scans": 'number "H.1728" in title'}
    assert [e.kind for e in result.events] == ["article.matched"]


def test_the_pass_adds_nothing_when_run_again(sessions):
    cfg = alerts_config()
    with sessions.begin() as s:
        _article(s, "A hearing on H.1946", NOW - timedelta(days=30), NOW - timedelta(days=30))
        track(s, cfg, parse_bill_id("194/H1946"), "support", NOW)
    first = poll(cfg, sessions, now=lambda: NOW)
    assert [e.payload["bill"] for e in first.events] == ["ma/194/H1946"]
    assert poll(cfg, sessions, now=lambda: NOW).events == []
    with sessions.begin() as s:  # a pass cut off after its links and before its mark: run again, nothing doubled
        for bill in s.scalars(select(Bill)):
            bill.archive_matched_at = None
    assert poll(cfg, sessions, now=lambda: NOW).events == []
    with sessions() as s:
        assert s.scalar(select(func.count(ArticleBill.id))) == 1
        assert s.scalar(select(func.count(Event.id)).where(Event.kind == "article.matched")) == 1


def test_a_bill_followed_again_is_matched_against_the_articles_stored_meanwhile(sessions):
    from tracker.following import untrack

    cfg = alerts_config()
    with sessions.begin() as s:
        track(s, cfg, parse_bill_id("194/H1946"), "support", NOW)
    poll(cfg, sessions, now=lambda: NOW)
    with sessions.begin() as s:
        untrack(s, cfg, parse_bill_id("194/H1946"))
        _article(s, "A hearing on H.1946", NOW - timedelta(days=3), NOW - timedelta(days=3))
    poll(cfg, sessions, now=lambda: NOW)
    with sessions.begin() as s:
        track(s, cfg, parse_bill_id("194/H1946"), "support", NOW)
    poll(cfg, sessions, now=lambda: NOW)
    assert _links(sessions, "ma/194/H1946") == {"A hearing on H.1946": 'number "H.1946" in title'}


def test_old_articles_matched_later_do_not_reach_a_supporters_alert(sessions, tmp_path):
    cfg = alerts_config()
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", frequency="immediate", confirmed=True, now=NOW)
        add_bill(s, "H135", position="support")
        _article(s, "Old news: H.1946 filed", datetime(2025, 1, 20, tzinfo=timezone.utc), NOW - timedelta(days=300))
        _article(s, "Undated old news on H.1946", None, NOW - timedelta(days=200))
        _article(s, "Fresh news: H.1946 gets a hearing", NOW - timedelta(hours=3), NOW - timedelta(hours=2))
        track(s, cfg, parse_bill_id("194/H1946"), "support", NOW)
    poll(cfg, sessions, now=lambda: NOW)
    events = {e.payload["title"]: e.occurred_at for e in _matched_events(sessions, "ma/194/H1946")}
    assert events == {"Old news: H.1946 filed": datetime(2025, 1, 20, tzinfo=timezone.utc),
                      "Undated old news on H.1946": NOW - timedelta(days=200),
                      "Fresh news: H.1946 gets a hearing": NOW - timedelta(hours=3)}
    dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(tmp_path / "outbox"), now=NOW, kinds=("supporters",))
    bodies = " ".join(m.get_body(("plain",)).get_content() for m in _mail(tmp_path))
    assert "Fresh news: H.1946 gets a hearing" in bodies
    assert "Old news" not in bodies and "Undated old news" not in bodies


@pytest.mark.parametrize("spelling", BillTerm("H", 5091).spellings() + BillTerm("HD", 3228).spellings()
                         + BillTerm("HRes", 12).spellings() + ["H.B5091", "HB.5091", "H.Res12", "(H.5091)"])
def test_the_index_finds_every_spelling_the_matcher_accepts(sessions, spelling):
    from db.search import article_ids_with_any

    number = "HD3228" if "3228" in spelling else "HRes12" if spelling.endswith("12") else "H5091"
    term = BillTerm.from_bill(parse_bill_id(f"ma/192/{number}"))
    with sessions.begin() as s:
        hit = _article(s, f"Lawmakers debate {spelling}, again", None, NOW)
        _article(s, "Lawmakers debate H.50910 and HB 509", None, NOW)
        assert term.find(hit.title) is not None  # the matcher accepts it
        assert article_ids_with_any(s, term.index_terms()) == [hit.id]


def test_new_drafts_and_successors_inherit_the_keywords_along_the_lineage(sessions):
    from tracker.news.poll import inherited_keywords

    cfg = parse_config(CONFIG.format(base="http://127.0.0.1:9"), "test")
    with sessions.begin() as s:
        for canonical, parent, reason in (("ma/192/H135", None, None), ("ma/192/H5091", "ma/192/H135", "new-draft"),
                                          ("ma/193/H4359", "ma/193/H1728", "new-draft")):
            bill = ensure_bill(s, parse_bill_id(canonical), NOW, "listed")
            if parent:
                s.add(Event(kind="bill.tracked", at=NOW, bill_id=bill.id, summary="tracked",
                            payload={"discovered_from": {"bill": parent, "reason": reason}}))
        ensure_bill(s, parse_bill_id("ma/193/H1728"), NOW, "re-filed")
        s.add(Successor(bill="ma/192/H135", candidate="ma/193/H1728", session=193, rank=1, score=0.9, evidence={},
                        state="accepted", decided_by="staff", decided_at=NOW, found_at=NOW))
    with sessions() as s:
        keywords = inherited_keywords(s, cfg)
    # H.135 -> H.5091 (new draft); H.135 -> H.1728 (successor) -> H.4359 (its new draft): a chain
    assert keywords["ma/192/H5091"] == keywords["ma/193/H1728"] == keywords["ma/193/H4359"] == ["face surveillance"]
