"""The archive's pages and JSON API, driven in process (each test on both database backends)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta, timezone

import pytest

from db.models import Article, ArticleBill, BillAction, Event
from tests.alerts_world import KEY, NOW, add_action, add_bill, add_hearing, config, settings_of, application
from tests.web_client import caller
from tracker.web.app import create_app


@pytest.fixture
def web(sessions):
    app = create_app(application(config(), sessions, KEY, transport_factory=lambda: None))
    return caller(app)


@pytest.fixture
def archive(sessions):
    with sessions.begin() as s:
        bill = add_bill(s, "H135", title="An Act to regulate face surveillance <b>now</b>", sponsor="David M. Rogers")
        for i, (text, kinds, day) in enumerate([
                ("Referred to the committee on The Judiciary", ["referral"], date(2021, 3, 29)),
                ("Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM in Virtual Hearing",
                 ["hearing-scheduled"], date(2021, 11, 16)),
                ("Bill reported favorably by committee and referred to the committee on House Ways and Means",
                 ["reported-favorably", "referral"], date(2022, 7, 26))]):
            s.add(BillAction(bill_id=bill.id, position=i, occurrence=0, date=day, branch="Joint", action=text,
                             kinds=kinds, first_seen_at=NOW))
            add_action(s, bill, text, kinds, day)
        add_hearing(s, bill, datetime(2021, 11, 23, 15, 0, tzinfo=timezone.utc))
        for i, (title, published) in enumerate([
                ("Lawmakers weigh facial recognition limits <script>alert(1)</script>", datetime(2021, 11, 24)),
                ("Face surveillance bill advances", datetime(2022, 7, 27))]):
            a = Article(url=f"https://news.example/{i}", link=f"https://news.example/{i}", title=title,
                        publisher="WWLP", summary_text="H.135 and facial recognition", first_seen_at=NOW,
                        published_at=published.replace(tzinfo=timezone.utc))
            s.add(a)
            s.flush()
            s.add(ArticleBill(article_id=a.id, bill_id=bill.id, reason='number "H.135" in summary', term="H.135",
                              field="summary", kind="number", created_at=NOW))
            s.add(Event(kind="article.matched", at=NOW, occurred_at=a.published_at, bill_id=bill.id,
                        article_id=a.id, summary=f"H.135 in the news: {title}", payload={}))
    return sessions


def test_home_lists_the_bills_and_the_latest_changes(web, archive):
    r = web("GET", "/")
    assert r.status_code == 200 and "ma/192/H135" in r.text and "/bills/192/H135" in r.text
    assert "H.135 in the news" in r.text and "Get alerts" in r.text


def test_the_bill_page_has_its_timeline_coverage_chart_and_sources(web, archive):
    r = web("GET", "/bills/192/H135")
    assert r.status_code == 200
    assert r.text.count("<tr") >= 4 and "Referred to the committee on The Judiciary" in r.text
    assert "Lawmakers weigh facial recognition limits &lt;script&gt;" in r.text and "<script>alert" not in r.text
    assert "An Act to regulate face surveillance &lt;b&gt;now&lt;/b&gt;" in r.text
    assert "<svg" in r.text and "hearing" in r.text and "reported" in r.text  # milestones on the chart
    assert "Virtual Hearing" in r.text


def test_status_as_of_a_date(web, archive):
    r = web("GET", "/bills/192/H135?as_of=2022-01-01")
    assert r.status_code == 200
    assert 'On <time datetime="2022-01-01">Jan 1, 2022</time>: <strong>in committee</strong>' in r.text
    later = web("GET", "/bills/192/H135?as_of=2022-08-01")
    assert "Aug 1, 2022</time>: <strong>reported out of committee" in later.text and "in the committee on House Ways and Means" in later.text
    before = web("GET", "/bills/192/H135?as_of=2020-01-01")
    assert "not yet filed" in before.text
    bad = web("GET", "/bills/192/H135?as_of=yesterday")
    assert bad.status_code == 400 and "is not a date" in bad.text


def test_other_spellings_lead_to_the_bill(web, archive):
    for spelling in ("/bills/H.135", "/bills/h135", "/bills/H%20135"):
        r = web("GET", spelling)
        assert r.status_code == 308 and r.headers["location"] == "/bills/192/H135", spelling


@pytest.mark.parametrize("path, status, words", [
    ("/bills/192/H999", 404, "H.999 of the 192nd General Court is not one of the bills this site follows"),
    ("/bills/192/XYZ", 400, "not a bill number"),
    ("/bills/abc/H135", 400, "must be a General Court number"),
    ("/nowhere", 404, "nothing at /nowhere"),
    ("/search?q=" + "x" * 1001, 400, "at most 1000"),
    ("/search?q=%2A%2A%2A", 400, "no words"),
    ("/search?q=a&since=not-a-date", 400, "is not a date"),
    ("/search?q=a&kind=tweets", 400, "choose article, action, document or text"),
    ("/events?page=abc", 400, "page"),
    ("/snapshots/999999", 404, "no snapshot"),
    ("/api/bills/192/H999", 404, "H.999 of the 192nd General Court is not one of the bills this site follows"),
    ("/api/search?q=", 400, "no words"),
    ("/api/events?limit=100000", 400, "limit"),
])
def test_bad_requests_are_4xx_with_a_clear_message_never_500(web, archive, path, status, words):
    r = web("GET", path)
    assert r.status_code == status and words in r.text, r.text[:300]


@pytest.mark.parametrize("q", ['"unbalanced', "NEAR(a b)", "a OR AND", "'; DROP TABLE articles; --", "x" * 999,
                               "<script>alert(1)</script>", "café ∑ 🙂"])
def test_nasty_queries_are_answered_and_shown_escaped(web, archive, q):
    r = web("GET", "/search", params={"q": q})
    assert r.status_code in (200, 400)
    assert "<script>alert(1)</script>" not in r.text


def test_search_highlights_and_filters(web, archive):
    r = web("GET", "/search", params={"q": '"facial recognition"'})
    assert r.status_code == 200 and "<mark>" in r.text and "Lawmakers weigh" in r.text
    actions = web("GET", "/search", params={"q": "hearing", "kind": "action"})
    assert "Virtual" in actions.text and "Lawmakers weigh" not in actions.text
    dated = web("GET", "/search", params={"q": "recognition", "since": "2022-01-01"})
    assert "Lawmakers weigh" not in dated.text
    outlet = web("GET", "/search", params={"q": "recognition", "source": "Globe"})
    assert "Nothing found" in outlet.text


def test_the_event_log_filters_and_pages(web, archive):
    r = web("GET", "/events", params={"kind": "article.matched"})
    assert r.status_code == 200 and r.text.count("H.135 in the news") == 2 and "Referred to" not in r.text


def test_the_api_lists_bills_events_articles_and_search(web, archive):
    bills = web("GET", "/api/bills").json()
    assert [b["id"] for b in bills] == ["ma/192/H135"]
    one = web("GET", "/api/bills/192/H135").json()
    assert one["status"] == "in-committee" and len(one["actions"]) == 3 and len(one["articles"]) == 2
    actions = web("GET", "/api/bills/192/H135/actions").json()
    assert [a["date"] for a in actions] == ["2021-03-29", "2021-11-16", "2022-07-26"]
    events = web("GET", "/api/events", params={"kind": "bill.action", "limit": 2}).json()
    assert len(events) == 2 and all(e["bill"] == "ma/192/H135" for e in events)
    assert events[0]["id"] > events[1]["id"]  # newest first
    articles = web("GET", "/api/articles", params={"bill": "H.135"}).json()
    assert [a["title"][:9] for a in articles] == ["Face surv", "Lawmakers"]
    hits = web("GET", "/api/search", params={"q": "facial recognition", "kind": "article"}).json()
    assert hits and all(h["type"] == "article" for h in hits)


def test_every_list_downloads_as_csv_and_jsonl(web, archive):
    r = web("GET", "/api/events", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 6 and {"id", "kind", "summary", "bill"} <= set(rows[0])
    j = web("GET", "/api/bills/192/H135/actions", params={"format": "jsonl"})
    assert [json.loads(line)["date"] for line in j.text.splitlines()] == ["2021-03-29", "2021-11-16", "2022-07-26"]
    assert "attachment" in j.headers["content-disposition"]


def test_api_responses_carry_an_etag_and_answer_304(web, archive):
    first = web("GET", "/api/bills/192/H135")
    tag = first.headers["etag"]
    again = web("GET", "/api/bills/192/H135", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert web("GET", "/api/bills/192/H135", headers={"If-None-Match": '"other"'}).status_code == 200


def test_no_page_or_api_shows_subscriber_data(web, archive, sessions):
    from alerts.subscribers import subscribe

    with sessions.begin() as s:
        subscribe(s, settings_of(config()), "secret.supporter@example.org", name="Secret Supporter", confirmed=True,
                  now=NOW - timedelta(days=1))
    for path in ("/", "/bills/192/H135", "/events", "/api/events", "/api/bills", "/api/openapi.json",
                 "/api/events?format=csv", "/search?q=secret"):
        body = web("GET", path).text
        assert "secret.supporter" not in body and "Secret Supporter" not in body, path


def test_the_openapi_document_describes_the_api(web, archive):
    spec = web("GET", "/api/openapi.json").json()
    assert {"/api/bills", "/api/bills/{session}/{number}", "/api/events", "/api/articles", "/api/search"} <= \
        set(spec["paths"])
    assert not any(p.startswith(("/confirm", "/signup", "/preferences")) for p in spec["paths"])


def test_paging_keeps_the_filters(web, archive, sessions):
    with sessions.begin() as s:
        from db.models import Bill

        bill = s.scalar(select_bill())
        for i in range(60):
            add_action(s, s.get(Bill, bill), f"Filler action {i}", ["other"], date(2022, 1, 1))
    first = web("GET", "/events", params={"kind": "bill.action", "bill": "H.135"})
    assert "Older" in first.text and 'href="?kind=bill.action&amp;bill=H.135&amp;page=2"' in first.text
    second = web("GET", "/events", params={"kind": "bill.action", "bill": "H.135", "page": 2})
    assert second.status_code == 200 and "Filler action 0" in second.text and "Newer" in second.text


def select_bill():
    from sqlalchemy import select

    from db.models import Bill

    return select(Bill.id)


@pytest.mark.parametrize("path", ["/bills/192/H999", "/api/bills/192/H999", "/api/bills/192/H999/actions"])
def test_an_unknown_bill_is_a_404_in_plain_words_with_no_operator_advice(web, archive, path):
    r = web("GET", path)
    assert r.status_code == 404
    assert "H.999 of the 192nd General Court is not one of the bills this site follows" in r.text
    for operator_words in ("feeds.yaml", "tracker ", "crawl", "database", "ma/192/H999"):
        assert operator_words not in r.text, operator_words
