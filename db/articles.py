"""Reading the news archive: the articles kept, newest first, with their sources and bills (``tracker articles``,
``/api/articles``), and the article rows of a search (``db.search``).

Plain functions over a Session; a bill is named by its canonical id (``ma/192/H135``). Every query has a LIMIT.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import text
from sqlalchemy.orm import Session

MAX_LIMIT = 500


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return value.isoformat()


ARTICLE_ORDER = "ORDER BY COALESCE(a.published_at, a.first_seen_at) DESC, a.id DESC"


def article_page(s: Session, where: str, params: dict, join: str = "", limit: int = 100,
                 offset: int = 0) -> list[tuple[int, str]]:
    """(id, sort key) of the articles matching ``where``, newest first: filtered, then paged, in SQL. The sort
    key is when the article was published (else first seen), as ISO text in UTC."""
    rows = s.execute(text(f"SELECT a.id, a.published_at, a.first_seen_at FROM articles a {join} WHERE {where} "
                          f"{ARTICLE_ORDER} LIMIT :limit OFFSET :offset"), params | {"limit": limit, "offset": offset})
    return [(r.id, _iso(_as_utc(r.published_at or r.first_seen_at).astimezone(timezone.utc))) for r in rows]


def article_rows(s: Session, ids: list[int], where: str = "1=1", params: dict | None = None,
                 snippet_sql: str = "NULL", join: str = "") -> dict[int, dict]:
    """The articles with these ids, by id, with their sources and bills. ``snippet_sql`` gives each a snippet;
    it needs the ``where`` and ``join`` of the search that found them (an FTS5 snippet needs its MATCH).
    Snippets are made for these rows only: a snippet per match of a word found in most articles was most of a
    broad query's time (bench/README.md, "Search benchmark")."""
    if not ids:
        return {}
    marks = ",".join(str(int(i)) for i in ids)
    rows = s.execute(text(f"""
        SELECT a.id, a.url, a.link, a.title, a.published_at, a.publisher, a.summary_text, {snippet_sql} AS snip
        FROM articles a {join}
        WHERE ({where}) AND a.id IN ({marks})
    """), params or {}).all()
    sources: dict[int, list] = {r.id: [] for r in rows}
    bills: dict[int, list] = {r.id: [] for r in rows}
    for aid, feed, url in s.execute(text(
            f"SELECT src.article_id, f.name, src.entry_url FROM article_sources src JOIN feeds f ON f.id = src.feed_id "
            f"WHERE src.article_id IN ({marks}) ORDER BY src.id")):
        sources[aid].append({"feed": feed, "url": url})
    for aid, canonical, reason in s.execute(text(
            f"SELECT ab.article_id, b.canonical, ab.reason FROM article_bills ab JOIN bills b ON b.id = ab.bill_id "
            f"WHERE ab.article_id IN ({marks}) ORDER BY ab.id")):
        bills[aid].append({"id": canonical, "reason": reason})
    out = {}
    for r in rows:
        snippet = r.snip if r.snip is not None else (r.summary_text or "")[:240]
        out[r.id] = {"type": "article", "id": r.id, "url": r.url, "link": r.link or r.url, "title": r.title,
                     "published_at": _iso(_as_utc(r.published_at)), "source": r.publisher,
                     "sources": sources[r.id], "bills": bills[r.id], "snippet": snippet}
    return out


def _as_utc(value):
    """SQLite hands back naive UTC text or datetimes; give ISO with the offset."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def time_param(s: Session, value: datetime):
    """A time for a raw-SQL comparison: SQLite stores naive UTC text; PostgreSQL a timestamptz."""
    if s.get_bind().dialect.name == "postgresql":
        return value.astimezone(timezone.utc)
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")


def list_articles(s: Session, bill: str | None = None, since: datetime | None = None,
                  limit: int = 100, offset: int = 0) -> list[dict]:
    """Articles newest first (of one bill, by canonical id; published or first seen since ``since``), paged."""
    where, params = ["1=1"], {}
    if bill is not None:
        where.append("a.id IN (SELECT ab.article_id FROM article_bills ab JOIN bills b ON b.id = ab.bill_id "
                     "WHERE b.canonical = :bill)")
        params["bill"] = bill
    if since is not None:
        where.append("COALESCE(a.published_at, a.first_seen_at) >= :since")
        params["since"] = time_param(s, since)
    page = [i for i, _ in article_page(s, " AND ".join(where), params, limit=max(1, min(limit, MAX_LIMIT)),
                                       offset=max(0, offset))]
    found = article_rows(s, page)
    rows = [found[i] for i in page if i in found]  # (one deleted meanwhile is left out)
    for r in rows:
        r.pop("type")
    return rows
