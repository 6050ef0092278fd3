"""spiders.extract: article text and metadata from a hand-written WordPress-like page (test copy)."""

from __future__ import annotations

import pytest

import spiders.extract as extract_mod
from spiders.extract import Extracted, extract_article

URL = "https://www.wwlp.com/news/state-politics/aclu-urges-lawmakers-to-stand-firm-on-facial-recognition/?utm_source=x"
CANONICAL = "https://www.wwlp.com/news/state-politics/aclu-urges-lawmakers-to-stand-firm-on-facial-recognition/"

PARAGRAPHS = [
    "BOSTON (SHNS) \u2013 This is the first paragraph of test copy for the extraction tests. It describes, in "
    "invented words, a request from civil liberties advocates about facial recognition rules in a police bill.",
    "The second paragraph of test copy adds more sentences so that the extractor sees a real body of text. "
    "It mentions H.135 and S.47, the face surveillance bills, only as sample bill numbers.",
    "A third paragraph of test copy closes the article with a sentence about the conference committee and "
    "the timeline that the legislature set for itself before the end of the formal session.",
]

PAGE = f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<title>ACLU urges lawmakers to &#8216;stand firm&#8217; on facial recognition | WWLP</title>
<link rel="canonical" href="{CANONICAL}">
<meta property="og:type" content="article">
<meta property="og:title" content="ACLU urges lawmakers to &#8216;stand firm&#8217; on facial recognition">
<meta property="og:url" content="https://www.wwlp.com/?p=900001">
<meta property="article:published_time" content="2020-12-11T17:15:00-05:00">
<meta property="article:modified_time" content="2020-12-12T09:00:00-05:00">
<script>window.dataLayer = [{{"page": "article"}}];</script>
<style>.site-header {{ color: red }}</style>
</head>
<body class="post-template-default single single-post">
<header class="site-header"><nav><ul><li><a href="/">Home</a></li><li><a href="/news/">News</a></li>
<li><a href="/weather/">Weather</a></li><li><a href="/sports/">Sports</a></li></ul></nav></header>
<main id="main">
<article class="post type-post status-publish">
<header class="entry-header"><h1 class="entry-title">ACLU urges lawmakers to &#8216;stand firm&#8217; on facial recognition</h1>
<div class="entry-meta">by <span class="author">Test Reporter</span> <time class="entry-date published" datetime="2020-12-11T17:15:00-05:00">December 11, 2020</time></div></header>
<div class="entry-content">
{"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}
<div class="sharedaddy"><h3>Share this:</h3><ul><li><a href="https://twitter.com/share">Twitter</a></li></ul></div>
</div>
</article>
<aside class="widget-area"><section><h2>Trending Stories</h2><ul><li><a href="/a/">Unrelated trending headline one</a></li>
<li><a href="/b/">Unrelated trending headline two</a></li></ul></section></aside>
</main>
<footer class="site-footer"><p>Copyright 2020 Test Footer. All rights reserved.</p></footer>
<script>console.log("tracking")</script>
</body>
</html>
"""


@pytest.fixture(scope="module")
def extracted() -> Extracted:
    return extract_article(PAGE.encode("utf-8"), URL)


def test_title(extracted):
    assert extracted.title is not None
    assert extracted.title.startswith("ACLU urges lawmakers to \u2018stand firm\u2019 on facial recognition")


def test_text_holds_the_paragraphs_and_not_the_chrome(extracted):
    assert extracted.text == "\n".join(PARAGRAPHS)  # trafilatura 2.3 output, one line per paragraph
    for paragraph in PARAGRAPHS:
        assert paragraph in extracted.text
    for chrome in ("Trending Stories", "Unrelated trending", "Copyright 2020", "tracking", "dataLayer", "Weather"):
        assert chrome not in extracted.text
    assert extracted.text.index(PARAGRAPHS[0]) < extracted.text.index(PARAGRAPHS[2])


def test_canonical_from_link_rel(extracted):
    assert extracted.canonical_url == CANONICAL


def test_published_at_in_utc(extracted):
    assert extracted.published_at == "2020-12-11T22:15:00+00:00"


def test_str_input_gives_the_same_result(extracted):
    assert extract_article(PAGE, URL) == extracted


def test_og_url_when_no_canonical_link():
    page = PAGE.replace(f'<link rel="canonical" href="{CANONICAL}">', "")
    assert extract_article(page, URL).canonical_url == "https://www.wwlp.com/?p=900001"


def test_no_canonical_at_all():
    page = PAGE.replace(f'<link rel="canonical" href="{CANONICAL}">', "").replace(
        '<meta property="og:url" content="https://www.wwlp.com/?p=900001">', "")
    assert extract_article(page, URL).canonical_url is None


def test_relative_canonical_made_absolute():
    page = PAGE.replace(f'href="{CANONICAL}"', 'href="/news/state-politics/relative-canonical/"')
    assert extract_article(page, URL).canonical_url == "https://www.wwlp.com/news/state-politics/relative-canonical/"


def test_json_ld_date_when_no_meta():
    page = PAGE.replace('<meta property="article:published_time" content="2020-12-11T17:15:00-05:00">',
                        '<script type="application/ld+json">{"@context":"https://schema.org","@graph":['
                        '{"@type":"WebPage","name":"x"},{"@type":"NewsArticle","datePublished":"2020-12-11T22:15:00Z"}]}'
                        "</script>")
    page = page.replace('datetime="2020-12-11T17:15:00-05:00"', "")
    assert extract_article(page, URL).published_at == "2020-12-11T22:15:00+00:00"


def test_naive_timestamp_is_boston_time():
    page = PAGE.replace('content="2020-12-11T17:15:00-05:00"', 'content="2020-12-11T17:15:00"')
    assert extract_article(page, URL).published_at == "2020-12-11T22:15:00+00:00"


def test_bare_day():
    page = PAGE.replace('content="2020-12-11T17:15:00-05:00"', 'content="2020-12-11"')
    assert extract_article(page, URL).published_at == "2020-12-11"


def test_latin1_bytes():
    page = PAGE.replace('<meta charset="UTF-8">', '<meta charset="ISO-8859-1">').replace(
        "first paragraph of test copy", "first paragraph of test copy (caf\u00e9)")
    got = extract_article(page.encode("latin-1", "xmlcharrefreplace"), URL)
    assert "first paragraph of test copy (caf\u00e9)" in got.text


def test_fallback_when_trafilatura_finds_nothing(monkeypatch):
    monkeypatch.setattr(extract_mod.trafilatura, "bare_extraction", lambda *a, **k: None)
    got = extract_article(PAGE, URL)
    assert got.text == "\n".join(PARAGRAPHS)  # the <article>'s paragraphs, without nav/aside/footer
    assert got.title == "ACLU urges lawmakers to \u2018stand firm\u2019 on facial recognition"  # og:title
    assert got.canonical_url == CANONICAL
    assert got.published_at == "2020-12-11T22:15:00+00:00"


def test_fallback_without_article_picks_the_biggest_block(monkeypatch):
    monkeypatch.setattr(extract_mod.trafilatura, "bare_extraction", lambda *a, **k: None)
    page = ("<html><body><div id='side'><p>Short side note.</p></div><div id='story'>"
            + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</div><footer><p>Footer text</p></footer></body></html>")
    assert extract_article(page, URL).text == "\n".join(PARAGRAPHS)


def test_fallback_when_trafilatura_raises(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("test failure")

    monkeypatch.setattr(extract_mod.trafilatura, "bare_extraction", boom)
    assert extract_article(PAGE, URL).text == "\n".join(PARAGRAPHS)


@pytest.mark.parametrize("empty", [b"", "", "   "])
def test_empty_page(empty):
    assert extract_article(empty, URL) == Extracted(None, "", None, None)


def test_garbage_page_does_not_raise():
    got = extract_article(b"\x00\xff<<<>>>not html at all", URL)
    assert got.canonical_url is None and got.published_at is None
