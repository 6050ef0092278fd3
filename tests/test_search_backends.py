"""One search interface, two backends: the same corpus gives the same results on SQLite FTS5 and on
PostgreSQL's tsvector (each test here runs on both)."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest

from db.models import Article, Bill, BillAction
from db.search import BadQuery, search

T = datetime(2022, 7, 1, tzinfo=timezone.utc)
ARTICLES = {
    "a": ("Lawmakers weigh limits on facial recognition", "The bill H.135 would regulate face surveillance."),
    "b": ("Café owners and police: reconnaissance faciale", "A story about Zoë's café and the police."),
    "c": ("Senate Bill 47 sent to a study order", "S.47 joins a study order with seven other bills."),
    "d": ("Budget talks stall", "Nothing about surveillance here, only recognition of the budget gap."),
}
ACTIONS = [("H135", "Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM in Virtual Hearing", date(2021, 11, 16)),
           ("S47", "Accompanied a study order, see S3063", date(2022, 7, 28)),
           ("S47", "Senate concurred", date(2022, 7, 25))]
QUERIES = {
    '"facial recognition"': {"a"},
    "facial recognition": {"a"},
    "recognition": {"a", "d"},
    "cafe": {"b"},  # accents folded both ways
    "ZOË": {"b"},
    "h.135": {"a"},  # "H.135" is the words h and 135 on both backends
    '"study order"': {"c", "action:S47:2022-07-28"},
    "surveillance -budget": {"d"},  # "-" is not an operator: both words are required, only d has both
    "hearing virtual": {"action:H135:2021-11-16"},
    "concurred": {"action:S47:2022-07-25"},
    "'; DROP TABLE articles; --": set(),
    'NEAR( "unbalanced': set(),
}


@pytest.fixture
def corpus(sessions):
    with sessions.begin() as s:
        for key, (title, summary) in ARTICLES.items():
            s.add(Article(url=f"https://example.org/{key}", link=f"https://example.org/{key}", title=title,
                          summary_text=summary, published_at=T, first_seen_at=T))
        bills = {}
        for number, action, day in ACTIONS:
            if number not in bills:
                bills[number] = Bill(canonical=f"ma/192/{number}", session=192, number=number, tracked=True,
                                     error_count=0, created_at=T)
                s.add(bills[number])
                s.flush()
            s.add(BillAction(bill_id=bills[number].id, position=0, occurrence=0, date=day, branch="Joint",
                             action=action, kinds=["other"], first_seen_at=T))
    return sessions


def _keys(hits) -> set[str]:
    out = set()
    for h in hits:
        if h["type"] == "article":
            out.add(h["url"].rsplit("/", 1)[1])
        else:
            out.add(f"action:{h['bill'].rsplit('/', 1)[1]}:{h['date']}")
    return out


@pytest.mark.parametrize("query", list(QUERIES))
def test_the_same_query_finds_the_same_rows(corpus, query):
    with corpus() as s:
        hits = search(s, query)
    assert _keys(hits) == QUERIES[query]


def test_snippets_mark_the_matched_words(corpus):
    with corpus() as s:
        [hit] = search(s, '"facial recognition"')
        [action] = search(s, "concurred")
    assert "[facial]" in hit["snippet"].lower() or "[facial recognition]" in hit["snippet"].lower()
    assert "[concurred]" in action["snippet"].lower()


def test_filters_and_limits_apply_on_both(corpus):
    with corpus() as s:
        assert _keys(search(s, "study order", bill="ma/192/S47")) == {"action:S47:2022-07-28"}
        assert len(search(s, "recognition", limit=1)) == 1
        assert search(s, "recognition", since=datetime(2023, 1, 1, tzinfo=timezone.utc)) == []
        with pytest.raises(BadQuery):
            search(s, "!!!")


DOCUMENTS = {  # docket: (title, pinslip, text)
    "HD1": ("An Act relative to facial recognition in schools", None, "SECTION 1. No school shall use it."),
    "HD2": ("An Act relative to the Café", "By Ms. Zoë Smith, a petition relative to face surveillance.", None),
    "HD3": ("An Act relative to the budget", None, "SECTION 1. Facial recognition of the budget gap, recognised."),
}
DOCUMENT_QUERIES = {
    '"facial recognition"': {"HD1", "HD3"},
    "cafe": {"HD2"},  # accents folded both ways, in a title
    "zoe surveillance": {"HD2"},  # in a pinslip
    '"budget gap"': {"HD3"},  # in a text
    "school": {"HD1"},  # words, not stems: "school" in HD1's text
    "'; DROP TABLE documents; --": set(),
}


@pytest.fixture
def docket(corpus):
    from db.models import Document

    with corpus.begin() as s:
        for i, (number, (title, pinslip, body)) in enumerate(DOCUMENTS.items()):
            s.add(Document(canonical=f"ma/194/{number}", session=194, docket=number, title=title, pinslip=pinslip,
                           text=body, row_hash=number, first_seen_at=datetime(2025, 1, 20 + i, tzinfo=timezone.utc),
                           last_seen_at=T))
    return corpus


@pytest.mark.parametrize("query", list(DOCUMENT_QUERIES))
def test_the_same_query_finds_the_same_documents(docket, query):
    with docket() as s:
        hits = search(s, query, kind="document")
    assert {h["docket"] for h in hits} == DOCUMENT_QUERIES[query]
    assert all(h["type"] == "document" for h in hits)


def test_documents_come_with_a_marked_snippet_and_merge_with_the_other_kinds_by_date(docket):
    with docket() as s:
        [hit] = search(s, '"budget gap"', kind="document")
        mixed = search(s, "recognition")
    # FTS5 marks the phrase as one ("[budget gap]"), ts_headline each word ("[budget] [gap]")
    assert re.search(r"\[budget( gap)?\]", hit["snippet"].lower()) and hit["date"] == "2025-01-22T00:00:00+00:00"
    # articles a and d (2022-07-01), then documents HD3 (2025-01-22) and HD1 (2025-01-20): newest first
    assert [(h["type"], h.get("docket")) for h in mixed] == [("document", "HD3"), ("document", "HD1"),
                                                             ("article", None), ("article", None)]
