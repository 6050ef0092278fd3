"""Renders the news replica: RSS 2.0 (WordPress, Arc XP and plain flavours), Atom 1.0, RSS 1.0 (RDF),
Google News search RSS, article HTML pages, the anti-bot wall and error pages.

Every renderer takes the server's base URL (``http://127.0.0.1:PORT``) and writes base-relative
links (``/wwlp/news/...``) as absolute URLs on it. Feed renderers return text; :func:`feed_bytes`
applies the body variants (huge, dates, charset, truncation) and encodes.
"""

from __future__ import annotations

import email.utils
import html
import json
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from urllib.parse import quote_plus

from tracker.replica.news_model import GoogleResult, NewsArticle, NewsFeed, NewsItem, encode_article_id

UTC = timezone.utc
WP_GENERATOR = "https://wordpress.org/?v=6.0.1"
FUTURE_BASE = datetime(2099, 1, 1, 12, 0, tzinfo=UTC)
_TAG = re.compile(r"<[^>]*>")
_PARA_END = re.compile(r"</p\s*>|<br\s*/?>", re.IGNORECASE)
CHARSET_PROBE = " \u2013 caf\u00e9\u2019s r\u00e9sum\u00e9"  # "– café’s résumé": cp1252 bytes 96 e9 92 e9

_NS_WORDPRESS = (
    'xmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
    '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
    '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
    '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
    '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
    '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/"'
)
_NS_ARC = (
    'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" '
    'xmlns:media="http://search.yahoo.com/mrss/"'
)


def esc(text: str | None) -> str:
    """XML/HTML text and attribute escaping (``& < > "``)."""
    return html.escape(text or "", quote=True).replace("&#x27;", "'")


def cdata(text: str | None) -> str:
    """``<![CDATA[...]]>``, splitting any ``]]>`` inside."""
    return "<![CDATA[" + (text or "").replace("]]>", "]]]]><![CDATA[>") + "]]>"


def absolute(link: str | None, base: str) -> str:
    """A base-relative path (``/x/``) on the server's base URL; absolute URLs unchanged."""
    if not link:
        return base + "/"
    if link.startswith("/") and not link.startswith("//"):
        return base + link
    return link


def rfc822(dt: datetime, gmt: bool = False) -> str:
    """``Fri, 22 Jul 2022 18:05:00 +0000`` (WordPress) or ``... GMT`` (Google)."""
    return email.utils.format_datetime(dt.astimezone(UTC), usegmt=gmt)


def iso_z(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _newest(items: list[NewsItem]) -> datetime | None:
    dates = [i.published for i in items if i.published is not None]
    return max(dates) if dates else None


def _build_date(feed: NewsFeed, items: list[NewsItem]) -> datetime:
    return _newest(items) or datetime.fromtimestamp(feed.modified, UTC)


# --------------------------------------------------------------------------- RSS 2.0


def rss_wordpress(feed: NewsFeed, items: list[NewsItem], base: str, decl: str, description: str) -> str:
    self_url = absolute(feed.path, base)
    out = [
        decl,
        f'<rss version="2.0"\n\t{_NS_WORDPRESS}\n\t>\n',
        "<channel>\n",
        f"\t<title>{esc(feed.title)}</title>\n",
        f'\t<atom:link href="{esc(self_url)}" rel="self" type="application/rss+xml" />\n',
        f"\t<link>{esc(absolute(feed.site_url, base))}</link>\n",
        f"\t<description>{esc(description)}</description>\n",
        f"\t<lastBuildDate>{rfc822(_build_date(feed, items))}</lastBuildDate>\n",
        f"\t<language>{esc(feed.language)}</language>\n",
        "\t<sy:updatePeriod>\n\thourly\t</sy:updatePeriod>\n",
        "\t<sy:updateFrequency>\n\t1\t</sy:updateFrequency>\n",
        f"\t<generator>{WP_GENERATOR}</generator>\n",
    ]
    if feed.ttl_minutes is not None:
        out.append(f"\t<ttl>{int(feed.ttl_minutes)}</ttl>\n")
    for it in items:
        out.append("\t<item>\n")
        out.append(f"\t\t<title>{esc(it.title)}</title>\n")
        out.append(f"\t\t<link>{esc(absolute(it.link, base))}</link>\n")
        if it.author:
            out.append(f"\t\t<dc:creator>{cdata(it.author)}</dc:creator>\n")
        if it.published is not None:
            out.append(f"\t\t<pubDate>{rfc822(it.published)}</pubDate>\n")
        for c in it.categories:
            out.append(f"\t\t<category>{cdata(c)}</category>\n")
        out.append(f'\t\t<guid isPermaLink="false">{esc(absolute(it.guid, base))}</guid>\n')
        if it.summary_html is not None:
            out.append(f"\t\t<description>{cdata(it.summary_html)}</description>\n")
        if it.content_html is not None:
            out.append(f"\t\t<content:encoded>{cdata(it.content_html)}</content:encoded>\n")
        out.append("\t\t<slash:comments>0</slash:comments>\n")
        out.append("\t</item>\n")
    out.append("\t</channel>\n</rss>\n")
    return "".join(out)


def rss_arc(feed: NewsFeed, items: list[NewsItem], base: str, decl: str, description: str) -> str:
    """Arc XP outboundfeeds style: one line, CDATA titles, guid = the article URL."""
    self_url = absolute(feed.path, base) + "?outputType=xml"
    out = [
        decl.rstrip("\n"),
        f'<rss {_NS_ARC} version="2.0"><channel>',
        f"<title>{cdata(feed.title)}</title>",
        f"<link>{esc(absolute(feed.site_url, base))}</link>",
        f'<atom:link href="{esc(self_url)}" rel="self" type="application/rss+xml"/>',
        f"<description>{cdata(description)}</description>",
        f"<lastBuildDate>{rfc822(_build_date(feed, items))}</lastBuildDate>",
        f"<language>{esc(feed.language)}</language>",
    ]
    if feed.ttl_minutes is not None:
        out.append(f"<ttl>{int(feed.ttl_minutes)}</ttl>")
    out.append("<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>1</sy:updateFrequency>")
    for it in items:
        guid = absolute(it.guid, base)
        perma = "true" if guid.startswith(("http://", "https://")) else "false"
        out.append("<item>")
        out.append(f"<title>{cdata(it.title)}</title>")
        out.append(f"<link>{esc(absolute(it.link, base))}</link>")
        out.append(f'<guid isPermaLink="{perma}">{esc(guid)}</guid>')
        if it.author:
            out.append(f"<dc:creator>{cdata(it.author)}</dc:creator>")
        if it.summary_html is not None:
            out.append(f"<description>{cdata(it.summary_html)}</description>")
        if it.published is not None:
            out.append(f"<pubDate>{rfc822(it.published)}</pubDate>")
        for c in it.categories:
            out.append(f"<category>{cdata(c)}</category>")
        if it.content_html is not None:
            out.append(f"<content:encoded>{cdata(it.content_html)}</content:encoded>")
        out.append("</item>")
    out.append("</channel></rss>")
    return "".join(out)


def rss_plain(feed: NewsFeed, items: list[NewsItem], base: str, decl: str, description: str) -> str:
    out = [
        decl,
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n',
        f"<title>{esc(feed.title)}</title>\n",
        f"<link>{esc(absolute(feed.site_url, base))}</link>\n",
        f"<description>{esc(description)}</description>\n",
        f"<language>{esc(feed.language)}</language>\n",
        f"<lastBuildDate>{rfc822(_build_date(feed, items))}</lastBuildDate>\n",
    ]
    if feed.ttl_minutes is not None:
        out.append(f"<ttl>{int(feed.ttl_minutes)}</ttl>\n")
    for it in items:
        guid = absolute(it.guid, base)
        perma = "true" if guid == absolute(it.link, base) else "false"
        out.append("<item>\n")
        out.append(f"<title>{esc(it.title)}</title>\n<link>{esc(absolute(it.link, base))}</link>\n")
        out.append(f'<guid isPermaLink="{perma}">{esc(guid)}</guid>\n')
        if it.published is not None:
            out.append(f"<pubDate>{rfc822(it.published)}</pubDate>\n")
        if it.author:
            out.append(f"<dc:creator>{esc(it.author)}</dc:creator>\n")
        for c in it.categories:
            out.append(f"<category>{esc(c)}</category>\n")
        if it.summary_html is not None:
            out.append(f"<description>{esc(it.summary_html)}</description>\n")
        out.append("</item>\n")
    out.append("</channel>\n</rss>\n")
    return "".join(out)


# --------------------------------------------------------------------------- Atom 1.0 and RSS 1.0


def atom(feed: NewsFeed, items: list[NewsItem], base: str, decl: str, description: str) -> str:
    """WordPress-style Atom 1.0 (``/feed/atom/``)."""
    self_url = absolute(feed.path, base)
    site = absolute(feed.site_url, base)
    out = [
        decl,
        f'<feed\n  xmlns="http://www.w3.org/2005/Atom"\n  xmlns:thr="http://purl.org/syndication/thread/1.0"\n'
        f'  xml:lang="{esc(feed.language)}"\n  >\n',
        f'\t<title type="text">{esc(feed.title)}</title>\n',
        f'\t<subtitle type="text">{esc(description)}</subtitle>\n',
        f"\t<updated>{iso_z(_build_date(feed, items))}</updated>\n",
        f'\t<link rel="alternate" type="text/html" href="{esc(site)}" />\n',
        f"\t<id>{esc(self_url)}</id>\n",
        f'\t<link rel="self" type="application/atom+xml" href="{esc(self_url)}" />\n',
        '\t<generator uri="https://wordpress.org/" version="6.0.1">WordPress</generator>\n',
    ]
    for it in items:
        out.append("\t<entry>\n")
        if it.author:
            out.append(f"\t\t<author>\n\t\t\t<name>{esc(it.author)}</name>\n\t\t</author>\n")
        out.append(f'\t\t<title type="html">{cdata(it.title)}</title>\n')
        out.append(f'\t\t<link rel="alternate" type="text/html" href="{esc(absolute(it.link, base))}" />\n')
        out.append(f"\t\t<id>{esc(absolute(it.guid, base))}</id>\n")
        updated = it.updated or it.published
        if updated is not None:
            out.append(f"\t\t<updated>{iso_z(updated)}</updated>\n")
        if it.published is not None:
            out.append(f"\t\t<published>{iso_z(it.published)}</published>\n")
        for c in it.categories:
            out.append(f'\t\t<category scheme="{esc(site)}" term="{esc(c)}" />\n')
        if it.summary_html is not None:
            out.append(f'\t\t<summary type="html">{cdata(it.summary_html)}</summary>\n')
        if it.content_html is not None:
            xml_base = esc(absolute(it.link, base))
            out.append(f'\t\t<content type="html" xml:base="{xml_base}">{cdata(it.content_html)}</content>\n')
        out.append("\t</entry>\n")
    out.append("</feed>\n")
    return "".join(out)


def rdf(feed: NewsFeed, items: list[NewsItem], base: str, decl: str, description: str) -> str:
    """RSS 1.0: ``rdf:RDF`` with a channel whose ``items`` Seq lists every ``item``'s ``rdf:about``."""
    self_url = absolute(feed.path, base)
    abouts = [absolute(it.guid, base) for it in items]
    out = [
        decl,
        '<rdf:RDF\n  xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"\n  xmlns="http://purl.org/rss/1.0/"\n'
        '  xmlns:dc="http://purl.org/dc/elements/1.1/"\n  xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
        '  xmlns:content="http://purl.org/rss/1.0/modules/content/"\n  xmlns:admin="http://webns.net/mvcb/"\n>\n',
        f'<channel rdf:about="{esc(self_url)}">\n',
        f"\t<title>{esc(feed.title)}</title>\n",
        f"\t<link>{esc(absolute(feed.site_url, base))}</link>\n",
        f"\t<description>{esc(description)}</description>\n",
        f"\t<dc:language>{esc(feed.language)}</dc:language>\n",
        f"\t<dc:date>{iso_z(_build_date(feed, items))}</dc:date>\n",
        "\t<sy:updatePeriod>hourly</sy:updatePeriod>\n\t<sy:updateFrequency>1</sy:updateFrequency>\n",
        "\t<items>\n\t\t<rdf:Seq>\n",
    ]
    for about in abouts:
        out.append(f'\t\t\t<rdf:li rdf:resource="{esc(about)}" />\n')
    out.append("\t\t</rdf:Seq>\n\t</items>\n</channel>\n")
    for it, about in zip(items, abouts):
        out.append(f'<item rdf:about="{esc(about)}">\n')
        out.append(f"\t<title>{esc(it.title)}</title>\n")
        out.append(f"\t<link>{esc(absolute(it.link, base))}</link>\n")
        if it.summary_html is not None:
            out.append(f"\t<description>{esc(it.summary_html)}</description>\n")
        if it.author:
            out.append(f"\t<dc:creator>{esc(it.author)}</dc:creator>\n")
        if it.published is not None:
            out.append(f"\t<dc:date>{iso_z(it.published)}</dc:date>\n")
        for c in it.categories:
            out.append(f"\t<dc:subject>{esc(c)}</dc:subject>\n")
        if it.content_html is not None:
            out.append(f"\t<content:encoded>{cdata(it.content_html)}</content:encoded>\n")
        out.append("</item>\n")
    out.append("</rdf:RDF>\n")
    return "".join(out)


_RENDERERS = {("rss", "wordpress"): rss_wordpress, ("rss", "arc"): rss_arc, ("rss", "plain"): rss_plain}


def render_feed_text(feed: NewsFeed, items: list[NewsItem], base: str, decl: str, description: str) -> str:
    if feed.format == "atom":
        return atom(feed, items, base, decl, description)
    if feed.format == "rdf":
        return rdf(feed, items, base, decl, description)
    return _RENDERERS[("rss", feed.flavor)](feed, items, base, decl, description)


# --------------------------------------------------------------------------- body variants


def xml_decl(charset: bool) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n' if charset else '<?xml version="1.0"?>\n'


def _filler(feed: NewsFeed, n: int) -> NewsItem:
    site = feed.site_url if feed.site_url.startswith("/") else "/"
    text = (
        f"Filler paragraph {n} of a padded replica feed. It repeats neutral words so that the feed body "
        "grows past two megabytes; nothing here is news. "
    ) * 6
    return NewsItem(
        guid=f"{site}?p=filler-{n}",
        title=f"Replica filler item {n}",
        link=f"{site.rstrip('/')}/news/replica-filler-{n}/",
        published=datetime(2001, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
        author="Replica Filler",
        categories=["Filler"],
        summary_html=f"<p>Filler item {n}.</p>",
        content_html=f"<p>{text}</p>",
    )


def feed_variant_items(
    feed: NewsFeed, *, future_dates: bool = False, no_dates: bool = False, huge: bool = False, filler: int = 0
) -> list[NewsItem]:
    items = list(feed.visible_items())
    if huge:
        items += [_filler(feed, n) for n in range(filler)]
    if future_dates:
        items = [
            replace(it, published=FUTURE_BASE - timedelta(hours=k), updated=None) for k, it in enumerate(items)
        ]
    if no_dates:
        items = [replace(it, published=None, updated=None) for it in items]
    return items


def feed_bytes(
    feed: NewsFeed,
    base: str,
    *,
    malformed: bool = False,
    wrong_charset: bool = False,
    no_charset: bool = False,
    huge: bool = False,
    future_dates: bool = False,
    no_dates: bool = False,
    huge_bytes: int = 2 * 1024 * 1024,
) -> bytes:
    """The feed's body with the given variants applied (see :class:`NewsReplica`)."""
    description = feed.description + (CHARSET_PROBE if wrong_charset else "")
    decl = xml_decl(charset=not no_charset)

    def text_for(filler: int) -> str:
        items = feed_variant_items(feed, future_dates=future_dates, no_dates=no_dates, huge=huge, filler=filler)
        return render_feed_text(feed, items, base, decl, description)

    text = text_for(0)
    if huge:
        plain_len, filler = len(text), 256
        text = text_for(filler)
        while len(text) <= huge_bytes:
            per_item = max(1, (len(text) - plain_len) // filler)
            filler += (huge_bytes - len(text)) // per_item + 16
            text = text_for(filler)
    if wrong_charset:
        data = text.encode("cp1252", errors="xmlcharrefreplace")
    else:
        data = text.encode("utf-8")
    if malformed:
        data = truncate(data)
    return data


def truncate(data: bytes) -> bytes:
    """About half the bytes, cut just inside a tag so no parser can close the document."""
    cut = max(1, len(data) // 2)
    lt = data.rfind(b"<", 0, cut)
    if lt > 0:
        cut = min(len(data) - 1, lt + 3)
    return data[:cut]


# --------------------------------------------------------------------------- Google News


def google_search_text(query: str, results: list[GoogleResult], base: str, hl: str = "en-US", gl: str = "US",
                       ceid: str = "US:en", build: datetime | None = None) -> str:
    """``news.google.com/rss/search`` in shape: RSS 2.0, links to ``/rss/articles/<id>?oc=5``."""
    search_link = f"{base}/search?q={quote_plus(query)}&hl={quote_plus(hl)}&gl={quote_plus(gl)}&ceid={quote_plus(ceid)}"
    build = build or datetime.now(UTC).replace(microsecond=0)
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<rss xmlns:media="http://search.yahoo.com/mrss/" version="2.0"><channel>',
        "<generator>NFE/5.0</generator>",
        f"<title>{esc(query)} - Google News</title>",
        f"<link>{esc(search_link)}</link>",
        f"<language>{esc(hl)}</language>",
        "<webMaster>news-webmaster@google.com</webMaster>",
        "<copyright>Replica of a news search feed, for tests</copyright>",
        f"<lastBuildDate>{rfc822(build, gmt=True)}</lastBuildDate>",
        "<description>Google News</description>",
    ]
    for r in results:
        target = absolute(r.url, base)
        art_id = encode_article_id(target)
        link = f"{base}/rss/articles/{art_id}?oc=5"
        headline = r.title
        suffix = f" - {r.publisher}"
        if headline.endswith(suffix):
            headline = headline[: -len(suffix)]
        desc = r.description_html
        if desc is None:
            desc = (
                f'<a href="{esc(link)}" target="_blank">{esc(headline)}</a>'
                f'&nbsp;&nbsp;<font color="#6f6f6f">{esc(r.publisher)}</font>'
            )
        out.append("<item>")
        out.append(f"<title>{esc(r.title)}</title>")
        out.append(f"<link>{esc(link)}</link>")
        out.append(f'<guid isPermaLink="false">{esc(art_id)}</guid>')
        if r.published is not None:
            out.append(f"<pubDate>{rfc822(r.published, gmt=True)}</pubDate>")
        out.append(f"<description>{esc(desc)}</description>")
        out.append(f'<source url="{esc(absolute(r.publisher_url, base))}">{esc(r.publisher)}</source>')
        out.append("</item>")
    out.append("</channel></rss>")
    return "".join(out)


# --------------------------------------------------------------------------- HTML pages


def _human_date(dt: datetime) -> str:
    return f"{dt.strftime('%b')} {dt.day}, {dt.year}"


def article_html(article: NewsArticle, base: str) -> str:
    url = absolute(article.path, base)
    canonical = absolute(article.canonical or article.path, base)
    site = article.site_name or "Replica News"
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "mainEntityOfPage": canonical,
        "publisher": {"@type": "Organization", "name": site},
    }
    meta = [
        f'<link rel="canonical" href="{esc(canonical)}" />',
        '<meta property="og:type" content="article" />',
        f'<meta property="og:title" content="{esc(article.title)}" />',
        f'<meta property="og:url" content="{esc(canonical)}" />',
        f'<meta property="og:site_name" content="{esc(site)}" />',
    ]
    byline = ""
    if article.published is not None:
        iso = article.published.isoformat()
        ld["datePublished"] = iso
        meta.append(f'<meta property="article:published_time" content="{esc(iso)}" />')
        byline = f'<time class="article-date" datetime="{esc(iso)}">{esc(_human_date(article.published))}</time>'
    if article.author:
        ld["author"] = {"@type": "Person", "name": article.author}
        meta.append(f'<meta name="author" content="{esc(article.author)}" />')
        byline = f'by <span class="author">{esc(article.author)}</span> ' + byline
    ld_text = json.dumps(ld, ensure_ascii=True).replace("</", "<\\/")
    paragraphs = "\n".join(f"<p>{esc(p)}</p>" for p in article.paragraphs)
    head_meta = "\n".join(meta)
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>{esc(article.title)} | {esc(site)}</title>
{head_meta}
<script type="application/ld+json">{ld_text}</script>
</head>
<body class="single single-post">
<header class="site-header"><a class="site-title" href="{esc(absolute('/', base))}">{esc(site)}</a></header>
<main id="main">
<article class="article" data-url="{esc(url)}">
<header class="article-header">
<h1 class="article-title">{esc(article.title)}</h1>
<p class="article-byline">{byline}</p>
</header>
<div class="article-content">
{paragraphs}
</div>
</article>
</main>
<footer class="site-footer"><p>Replica page for tests.</p></footer>
</body>
</html>
"""


def html_paragraphs(fragment: str | None) -> list[str]:
    """The plain text of each paragraph of an HTML fragment."""
    out = []
    for part in _PARA_END.split(fragment or ""):
        text = " ".join(html.unescape(_TAG.sub(" ", part)).split())
        if text:
            out.append(text)
    return out


def item_article(feed: NewsFeed, item: NewsItem) -> NewsArticle:
    """A page for an item that has no article of its own: its title and its content's paragraphs."""
    return NewsArticle(
        path=item.link.split("?", 1)[0],
        title=item.title,
        published=item.published,
        paragraphs=html_paragraphs(item.content_html or item.summary_html),
        author=item.author,
        site_name=feed.title,
    )


def bot_wall_html() -> str:
    """An anti-bot interstitial page, as CDNs serve to scripted clients (200, HTML, no feed)."""
    return """<!DOCTYPE html>
<html lang="en-US">
<head>
<title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta http-equiv="X-UA-Compatible" content="IE=Edge" />
<meta name="robots" content="noindex,nofollow" />
<meta name="viewport" content="width=device-width,initial-scale=1" />
</head>
<body class="no-js">
<div class="main-wrapper" role="main">
<div class="main-content">
<h1 class="zone-name-title h1">Checking if the site connection is secure</h1>
<h2 class="h2" id="challenge-running">Just a moment...</h2>
<noscript><div id="challenge-error-title">Enable JavaScript and cookies to continue</div></noscript>
<p>This replica page stands in for an anti-bot check; it never resolves.</p>
</div>
</div>
</body>
</html>
"""


def error_html(status: int, reason: str) -> str:
    return (
        f"<!DOCTYPE html>\n<html><head><title>{status} {esc(reason)}</title></head>"
        f"<body><h1>{status} {esc(reason)}</h1><p>Replica news server.</p></body></html>\n"
    )
