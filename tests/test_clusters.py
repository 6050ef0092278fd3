"""tracker.news.clusters: syndicated copies cluster, different stories on the same topic do not.

All headlines and leads below are invented test copy (no quotations), written in the shape of State House
News Service copy as WWLP and other outlets republish it.
"""

from __future__ import annotations

import itertools
import random
import string
import unicodedata

import pytest

from tracker.news.clusters import (_STOP, _WORD, SAME_STORY, _words, fingerprint, similarity, strip_dateline,
                                   strip_publisher)

# One SHNS story as two outlets ran it: different headlines, different datelines, one word edited.
WWLP_COPY = (
    "House adds facial recognition limits to court bond bill - WWLP",
    "BOSTON (SHNS) \u2013 Test copy: House lawmakers on Thursday attached rules governing police use of facial "
    "recognition technology to a bond bill for court technology upgrades, adopting the amendment on a lopsided "
    "vote after a short debate about how the state should oversee the software and who may run searches.",
)
REPORTER_COPY = (
    "Massachusetts House attaches facial recognition rules to judiciary bond bill",
    "STATE HOUSE, BOSTON, JULY 22, 2022.....Test copy: House lawmakers on Thursday attached rules governing "
    "police use of facial recognition technology to a bond bill for court technology upgrades, adopting the "
    "amendment on a lopsided vote after a brief debate about how the state should oversee the software.",
)
# Excerpt of the same copy, as a feed that cuts the lead short would carry it.
SHORT_EXCERPT = (
    "House attaches facial recognition rules to bond bill | Test Gazette",
    "BOSTON (SHNS) -- Test copy: House lawmakers on Thursday attached rules governing police use of facial "
    "recognition technology to a bond bill [\u2026]",
)

# Two other stories about facial recognition from the same week.
ADVOCATES = (
    "ACLU urges lawmakers to 'stand firm' on facial recognition",
    "BOSTON (WWLP) \u2013 Test copy: Civil liberties advocates asked legislative negotiators to keep limits on "
    "facial recognition in the final version of the police reform bill, arguing that the technology needs "
    "clear rules before police departments expand its use across the state.",
)
CHIEFS = (
    "Police chiefs seek changes to facial recognition provisions",
    "BOSTON (SHNS) \u2013 Test copy: A group representing police chiefs asked lawmakers to revise the facial "
    "recognition provisions in the police reform bill, saying the proposed limits would slow investigations "
    "and should be studied by a commission before they take effect across the state.",
)


def sim(a, b) -> float:
    return similarity(fingerprint(*a), fingerprint(*b))


class TestSameStory:
    def test_republished_copy_clusters(self):
        assert sim(WWLP_COPY, REPORTER_COPY) >= SAME_STORY

    def test_short_excerpt_clusters_with_full_copy(self):
        assert sim(SHORT_EXCERPT, WWLP_COPY) >= SAME_STORY
        assert sim(SHORT_EXCERPT, REPORTER_COPY) >= SAME_STORY

    def test_symmetric(self):
        assert sim(WWLP_COPY, REPORTER_COPY) == sim(REPORTER_COPY, WWLP_COPY)

    def test_identical(self):
        assert sim(ADVOCATES, ADVOCATES) == 1.0


class TestDifferentStories:
    @pytest.mark.parametrize("a,b", [
        (ADVOCATES, CHIEFS), (ADVOCATES, WWLP_COPY), (CHIEFS, WWLP_COPY), (CHIEFS, REPORTER_COPY),
        (ADVOCATES, SHORT_EXCERPT),
    ])
    def test_topic_overlap_does_not_cluster(self, a, b):
        assert sim(a, b) < SAME_STORY

    def test_margin_on_both_sides(self):
        same = [sim(WWLP_COPY, REPORTER_COPY), sim(SHORT_EXCERPT, WWLP_COPY), sim(SHORT_EXCERPT, REPORTER_COPY)]
        different = [sim(a, b) for a, b in itertools.combinations([ADVOCATES, CHIEFS, WWLP_COPY], 2)]
        assert min(same) - SAME_STORY >= 0.15
        assert SAME_STORY - max(different) >= 0.15


class TestFingerprint:
    def test_datelines_do_not_count(self):
        lead = "Test copy: lawmakers debated the bond bill on Thursday afternoon."
        assert fingerprint("Same", f"BOSTON (SHNS) \u2013 {lead}") == fingerprint("Same", lead)
        assert fingerprint("Same", f"STATE HOUSE, BOSTON, FEB. 19, 2025.....{lead}") == fingerprint("Same", lead)
        assert fingerprint("Same", f"SPRINGFIELD, Mass. (WWLP) - {lead}") == fingerprint("Same", lead)

    def test_publisher_suffix_does_not_count(self):
        assert fingerprint("Bond bill gains facial recognition rules - WWLP", "") == fingerprint(
            "Bond bill gains facial recognition rules", "")
        assert fingerprint("Bond bill gains facial recognition rules | MassLive.com", "") == fingerprint(
            "Bond bill gains facial recognition rules", "")

    def test_normalisation(self):
        assert fingerprint("Facial R\u00e9cognition RULES", "") == fingerprint("facial recognition rules", "")
        assert fingerprint("Lawmakers\u2019 vote", "") == fingerprint("Lawmakers' vote", "")
        assert fingerprint("the vote of the House", "") == frozenset({"vote house"})  # stop words dropped

    def test_only_the_first_forty_words_of_the_lead(self):
        lead = " ".join(f"w{i}" for i in range(100))
        fp = fingerprint("", lead)
        assert "w38 w39" in fp and "w39 w40" not in fp

    def test_wordpress_boilerplate_dropped(self):
        lead = "Test copy sentence here. The post Test headline appeared first on WWLP."
        assert fingerprint("", lead) == fingerprint("", "Test copy sentence here.")

    def test_empty(self):
        assert fingerprint("", "") == frozenset()
        assert similarity(frozenset(), fingerprint("a b", "")) == 0.0


def test_strip_dateline_leaves_ordinary_leads():
    assert strip_dateline("The House voted \u2013 again \u2013 on the bill.") == "The House voted \u2013 again \u2013 on the bill."
    assert strip_dateline("ACLU urges lawmakers to act") == "ACLU urges lawmakers to act"
    assert strip_dateline("BOSTON (SHNS) \u2013 Lawmakers met.") == "Lawmakers met."


def test_strip_publisher_leaves_ordinary_dashes():
    assert strip_publisher("Senate passes bill - again") == "Senate passes bill - again"
    assert strip_publisher("Bond bill \u2013 Boston Herald") == "Bond bill"
    assert strip_publisher("Senate passes bill - again - WWLP") == "Senate passes bill - again"
    assert strip_publisher("WWLP") == "WWLP"


def test_read_more_only_at_the_end():
    lead = "Test copy: lawmakers read more than forty bills this week and voted on two."
    assert "voted two" in fingerprint("", lead)
    assert fingerprint("", "Test copy sentence. Continue reading \u2026") == fingerprint("", "Test copy sentence.")


def test_ascii_headlines_fold_as_unicode_ones_do():
    """Plain ASCII text skips the Unicode normalisation (a shortcut for speed): its words are those the full
    folding gives, so a story clusters the same whichever path its headline took."""
    def folded(text):
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
        text = text.replace("'", "").replace("\u2019", "").replace("\u2018", "")
        return [w for w in _WORD.findall(text) if w not in _STOP]

    rng = random.Random(7)
    texts = ["Senate PASSES face-surveillance bill, 39-0", "It's the State House's turn", "H.135: what's next?"]
    texts += ["".join(rng.choice(string.printable) for _ in range(rng.randint(0, 60))) for _ in range(3000)]
    for text in texts:
        assert _words(text) == folded(text), text
    assert _words("Café résumé") == folded("Café résumé") == ["cafe", "resume"]
