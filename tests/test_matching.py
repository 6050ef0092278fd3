"""spiders.matching: bill numbers in every spelling (dated), keywords (undated)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from spiders.billids import BillId
from spiders.matching import BillMatcher, BillTerm, Match, keyword_hits, session_window

H135 = BillId(192, "H135")
S47 = BillId(192, "S47")
H1946 = BillId(194, "H1946")
IN_192 = datetime(2021, 11, 23, 15, 0, tzinfo=timezone.utc)


def matcher(**kw) -> BillMatcher:
    return BillMatcher([(H135, ["face surveillance", "facial recognition"]), (S47, [])], **kw)


def numbers(text: str, when: datetime = IN_192) -> list[str]:
    return [m.bill for m in matcher().match(text, "", None, when) if m.reason == "number"]


class TestNumberSpellings:
    @pytest.mark.parametrize("text", [
        "Hearing on H.135 today", "Hearing on H 135 today", "Hearing on H135 today", "Hearing on H. 135 today",
        "Hearing on House Bill 135 today", "Hearing on House Bill No. 135 today", "Hearing on House No. 135 today",
        "Hearing on House, No. 135 today", "Hearing on HB 135 today", "Hearing on HB135 today",
        "Hearing on H.B. 135 today", "HEARING ON HOUSE BILL 135", "a house bill 135 hearing", "(H.135)",
        "H.135, S.47", "bills H.135/S.47",
    ])
    def test_house_spellings(self, text):
        assert "ma/192/H135" in numbers(text)

    @pytest.mark.parametrize("text", [
        "S.47", "S 47", "S47", "S. 47", "Senate Bill 47", "Senate Bill No. 47", "Senate No. 47", "Senate, No. 47",
        "SB 47", "SB47",
    ])
    def test_senate_spellings(self, text):
        assert numbers(f"Vote on {text} expected") == ["ma/192/S47"]

    @pytest.mark.parametrize("text", [
        "H.1350", "H.13", "H 1351", "HB1355", "CH.135", "House 135-20 vote", "the house at 135 Main St",
        "House Bill 1,350", "Route H135A",
    ])
    def test_house_non_matches(self, text):
        assert "ma/192/H135" not in numbers(text)

    @pytest.mark.parametrize("text", [
        "US 47", "U.S. 47", "S.470", "S.4", "it's 47 degrees", "BUS 47", "the Senate 47-0 vote", "SS 47",
    ])
    def test_senate_non_matches(self, text):
        assert "ma/192/S47" not in numbers(text)

    def test_term_is_the_text_as_found(self):
        [m] = [x for x in matcher().match("Judiciary hears House Bill No. 135", "", None, IN_192) if x.reason == "number"]
        assert m == Match("ma/192/H135", "House Bill No. 135", "title", "number")

    def test_bill_term_spellings_all_match(self):
        term = BillTerm.from_bill(H135)
        assert term.key == ("H", 135)
        for spelling in term.spellings():
            found = term.find(f"about {spelling}.")
            assert found is not None and found.group(0) == spelling
        assert term.find("H.1350 and H.13") is None

    def test_docket_numbers(self):
        term = BillTerm.from_bill(BillId(192, "HD3228"))
        assert term.find("filed as HD.3228") is not None
        assert term.find("House Docket, No. 3228") is not None
        assert term.find("H.3228") is None
        assert BillTerm.from_bill(H135).find("HD 135") is None


class TestSessionWindow:
    def test_window_bounds(self):
        start, end = session_window(192)
        assert (start.year, start.month, start.day) == (2020, 10, 1)
        assert (end.year, end.month, end.day) == (2023, 1, 1)

    @pytest.mark.parametrize("when,expected", [
        (datetime(2020, 9, 30, 12, tzinfo=timezone.utc), False),    # before the three months
        (datetime(2020, 10, 1, 12, tzinfo=timezone.utc), True),     # filing season
        (datetime(2021, 3, 29, tzinfo=timezone.utc), True),
        (datetime(2022, 12, 31, 12, tzinfo=timezone.utc), True),
        (datetime(2023, 1, 2, tzinfo=timezone.utc), False),         # 193rd: H.135 is another bill
        (datetime(2025, 7, 15, tzinfo=timezone.utc), False),
    ])
    def test_numbers_count_only_in_the_window(self, when, expected):
        assert (numbers("Update on H.135", when) == ["ma/192/H135"]) is expected

    def test_naive_datetime_is_utc(self):
        assert numbers("H.135", datetime(2021, 5, 1)) == ["ma/192/H135"]

    def test_undated_article_is_treated_as_now(self):
        m_2021 = matcher(clock=lambda: datetime(2021, 6, 1, tzinfo=timezone.utc))
        m_2025 = matcher(clock=lambda: datetime(2025, 6, 1, tzinfo=timezone.utc))
        assert [x.bill for x in m_2021.match("H.135", "", None, None)] == ["ma/192/H135"]
        assert m_2025.match("H.135", "", None, None) == []

    def test_keywords_ignore_the_date(self):
        old = datetime(2030, 1, 1, tzinfo=timezone.utc)
        assert matcher().match("Facial recognition debate", "", None, old) == [
            Match("ma/192/H135", "Facial recognition", "title", "keyword")]

    def test_same_number_tracked_in_two_sessions(self):
        m = BillMatcher([(BillId(192, "H135"), []), (BillId(193, "H135"), [])])
        late_2022 = datetime(2022, 11, 15, tzinfo=timezone.utc)   # 192nd sitting, 193rd in its lead-in
        early_2023 = datetime(2023, 2, 1, tzinfo=timezone.utc)
        assert [x.bill for x in m.match("H.135", "", None, late_2022)] == ["ma/192/H135"]
        assert [x.bill for x in m.match("H.135", "", None, early_2023)] == ["ma/193/H135"]


class TestMatchResults:
    def test_one_match_per_bill_and_reason_preferring_title(self):
        got = matcher().match(
            "Lawmakers weigh H.135 and facial recognition",
            "More on H.135 and House Bill 135; face surveillance too",
            "Full text: S.47, facial recognition, H 135",
            IN_192,
        )
        assert got == [
            Match("ma/192/H135", "H.135", "title", "number"),
            Match("ma/192/H135", "facial recognition", "title", "keyword"),
            Match("ma/192/S47", "S.47", "full_text", "number"),
        ]

    def test_summary_before_full_text(self):
        got = matcher().match("Unrelated headline", "Test summary naming House, No. 135", "H.135 again", IN_192)
        assert got == [Match("ma/192/H135", "House, No. 135", "summary", "number")]

    def test_nothing(self):
        assert matcher().match("Weather", "Rain", None, IN_192) == []
        assert matcher().match("", "", "", IN_192) == []


class TestKeywords:
    def kw(self, text: str, keywords=("face surveillance", "Facial Récognition")) -> list[str]:
        m = BillMatcher([(H135, list(keywords))])
        return [x.term for x in m.match(text, "", None, datetime(2030, 1, 1, tzinfo=timezone.utc))]

    def test_case_and_accent_insensitive(self):
        assert self.kw("New facial recognition rules") == ["facial recognition"]
        assert self.kw("FACIAL RECOGNITION") == ["FACIAL RECOGNITION"]
        assert self.kw("facial récognition") == ["facial récognition"]
        assert self.kw("facial re\u0301cognition") == ["facial re\u0301cognition"]  # combining accent

    def test_word_boundaries(self):
        assert self.kw("interface surveillance rules") == []
        assert self.kw("face surveillanced") == []
        assert self.kw("anti-face surveillance") == ["face surveillance"]  # a hyphen is a boundary

    def test_flexible_separators(self):
        assert self.kw("a face-surveillance ban") == ["face-surveillance"]
        assert self.kw("a face\u2013surveillance ban") == ["face\u2013surveillance"]
        assert self.kw("a face \n  surveillance ban") == ["face \n  surveillance"]

    def test_quoted_keyword_is_the_phrase(self):
        assert self.kw("on face surveillance", keywords=['"face surveillance"']) == ["face surveillance"]
        assert self.kw("on face surveillance", keywords=["\u201cface surveillance\u201d"]) == ["face surveillance"]

    def test_keyword_with_hyphen_matches_spaces(self):
        assert self.kw("the face surveillance bill", keywords=["face-surveillance"]) == ["face surveillance"]

    def test_keyword_without_letters(self):
        assert self.kw("costs $$ now", keywords=["$$"]) == ["$$"]

    def test_empty_keywords_ignored(self):
        assert self.kw("anything", keywords=["", '""', "   "]) == []

    def test_regex_characters_are_literal(self):
        assert self.kw("a C++ (test) story", keywords=["(test)"]) == ["(test)"]
        assert self.kw("a C++ x(test) story", keywords=["(test)"]) == []  # word character right before
        assert self.kw("costs $5.00 today", keywords=["5.00"]) == ["5.00"]
        assert self.kw("costs 5x00 today", keywords=["5.00"]) == []


class TestKeywordHits:
    def test_hits_in_config_order_once_each(self):
        hits = keyword_hits("Facial Recognition story", None, "more facial recognition and a MBTA note",
                            keywords=["MBTA", '"facial recognition"', "surveillance"])
        assert hits == ["MBTA", "facial recognition"]

    def test_no_texts(self):
        assert keyword_hits(None, "", keywords=["x"]) == []
        assert keyword_hits("text", keywords=[]) == []


def test_speed_thousand_articles_ten_bills():
    bills = [(BillId(192, f"H{n}"), [f"topic {n}", "drone rules"]) for n in range(130, 135)]
    bills += [(BillId(192, f"S{n}"), ["biometric data"]) for n in range(40, 45)]
    bills.append((H135, ["face surveillance"]))
    m = BillMatcher(bills)
    title = "Lawmakers weigh H.135 as advocates press on police technology"
    summary = ("Test summary text for a speed check. " * 12) + "It mentions Senate Bill 47 and face-surveillance."
    full_text = ("Test body paragraph about the State House and the budget. " * 80) + "House Bill No. 135."
    started = time.perf_counter()
    for i in range(1000):
        got = m.match(title, summary, full_text if i % 2 else None, IN_192)
    elapsed = time.perf_counter() - started
    assert [(x.bill, x.reason, x.where) for x in got] == [
        ("ma/192/H135", "number", "title"), ("ma/192/H135", "keyword", "summary")]
    assert elapsed < 1.0, f"{elapsed:.2f}s"


def test_ascii_text_folds_as_the_unicode_path_does():
    """ASCII text skips the normalisation (a shortcut for speed) and folds to what the full path gives."""
    import random
    import string
    import unicodedata

    from spiders.matching import _COMBINING, _fold

    rng = random.Random(3)
    for _ in range(3000):
        text = "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 60)))
        assert _fold(text) == _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()
    assert _fold("Facial RÉCOGNITION") == "facial recognition"
