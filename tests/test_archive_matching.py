"""Every tracked bill's number is matched in the news, new drafts and successors included, and the articles
already stored are matched again, once, when a bill becomes tracked (issue 16, item 3). Both backends."""

from __future__ import annotations

from db.models import Event, Successor
from spiders.billids import parse_bill_id
from tests.alerts_world import NOW
from tracker.bill_writer import ensure_bill
from tracker.config import parse_config

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
