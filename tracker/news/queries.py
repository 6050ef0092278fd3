"""Reading the news archive: ``articles`` and full-text ``search``.

One interface, two backends: SQLite FTS5 (external content tables) and
PostgreSQL (stored ``tsvector`` columns with GIN indexes, migration 0005), with
words folded the same way on both. Queries are never passed on as written:
words and "quoted phrases" are taken out of the text and each becomes a quoted
FTS5 string or a bound ``phraseto_tsquery`` parameter, so no input can be a
syntax error or reach SQL. Every query has a LIMIT.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from spiders.billids import BillId

MAX_QUERY_CHARS = 1000
MAX_TERMS = 32
MAX_LIMIT = 500
_TERM = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


class BadQuery(ValueError):
    pass


def query_terms(query: str) -> list[str]:
    """User text -> its terms: each a word or a quoted phrase, as space-separated words; all required."""
    if len(query) > MAX_QUERY_CHARS:
        raise BadQuery(f"the query is {len(query)} characters long; at most {MAX_QUERY_CHARS} are searched")
    terms = []
    for phrase, word in _TERM.findall(query):
        words = _WORD.findall(phrase if phrase else word)
        if words:
            terms.append(" ".join(words))
    if not terms:
        raise BadQuery(f"{query!r} has no words to search for")
    return terms[:MAX_TERMS]


def fts_query(query: str) -> str:
    """User text -> a safe FTS5 expression: every term quoted, all required (AND)."""
    return " ".join(f'"{t}"' for t in query_terms(query))


def _pg_tsquery(terms: list[str], params: dict) -> str:
    """The terms as one tsquery expression over bound parameters (``phraseto_tsquery`` each, ANDed)."""
    parts = []
    for i, term in enumerate(terms):
        params[f"t{i}"] = term
        parts.append(f"phraseto_tsquery('simple', public.tracker_fold(:t{i}))")
    return "(" + " && ".join(parts) + ")"


PG_HEADLINE = "'StartSel=[, StopSel=], MaxWords=16, MinWords=6, ShortWord=1, MaxFragments=1, FragmentDelimiter=…'"


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return value.isoformat()


def _article_rows(s: Session, where: str, params: dict, snippet_sql: str = "NULL", join: str = "",
                  limit: int = 100) -> list[dict]:
    order = "ORDER BY COALESCE(a.published_at, a.first_seen_at) DESC, a.id DESC"
    if snippet_sql != "NULL":
        # The page first, then snippets for its rows only: a snippet per match of a word found in most
        # articles was most of a broad query's time (bench/README.md, "Search benchmark").
        page = [r.id for r in s.execute(text(f"SELECT a.id FROM articles a {join} WHERE {where} {order} LIMIT :limit"),
                                        params | {"limit": limit})]
        if not page:
            return []
        where = f"({where}) AND a.id IN ({','.join(str(int(i)) for i in page)})"
    sql = f"""
        SELECT a.id, a.url, a.title, a.published_at, a.publisher, a.summary_text, {snippet_sql} AS snip,
               a.first_seen_at
        FROM articles a {join}
        WHERE {where}
        {order}
        LIMIT :limit
    """
    rows = s.execute(text(sql), params | {"limit": limit}).all()
    ids = [r.id for r in rows]
    sources: dict[int, list] = {i: [] for i in ids}
    bills: dict[int, list] = {i: [] for i in ids}
    if ids:
        marks = ",".join(str(int(i)) for i in ids)
        for aid, feed, url in s.execute(text(
                f"SELECT src.article_id, f.name, src.entry_url FROM article_sources src JOIN feeds f ON f.id = src.feed_id "
                f"WHERE src.article_id IN ({marks}) ORDER BY src.id")):
            sources[aid].append({"feed": feed, "url": url})
        for aid, canonical, reason in s.execute(text(
                f"SELECT ab.article_id, b.canonical, ab.reason FROM article_bills ab JOIN bills b ON b.id = ab.bill_id "
                f"WHERE ab.article_id IN ({marks}) ORDER BY ab.id")):
            bills[aid].append({"id": canonical, "reason": reason})
    out = []
    for r in rows:
        snippet = r.snip if r.snip is not None else (r.summary_text or "")[:240]
        out.append({"type": "article", "id": r.id, "url": r.url, "title": r.title,
                    "published_at": _iso(_as_utc(r.published_at)), "source": r.publisher,
                    "sources": sources[r.id], "bills": bills[r.id], "snippet": snippet,
                    "_sort": _iso(_as_utc(r.published_at or r.first_seen_at))})
    return out


def _as_utc(value):
    """SQLite hands back naive UTC text or datetimes; give ISO with the offset."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        from datetime import timezone

        value = value.replace(tzinfo=timezone.utc)
    return value


def _time_param(s: Session, value: datetime):
    """A time for a raw-SQL comparison: SQLite stores naive UTC text; PostgreSQL a timestamptz."""
    from datetime import timezone

    if s.get_bind().dialect.name == "postgresql":
        return value.astimezone(timezone.utc)
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")


def list_articles(s: Session, bill: BillId | None = None, since: datetime | None = None,
                  limit: int = 100) -> list[dict]:
    where, params = ["1=1"], {}
    if bill is not None:
        where.append("a.id IN (SELECT ab.article_id FROM article_bills ab JOIN bills b ON b.id = ab.bill_id "
                     "WHERE b.canonical = :bill)")
        params["bill"] = bill.canonical
    if since is not None:
        where.append("COALESCE(a.published_at, a.first_seen_at) >= :since")
        params["since"] = _time_param(s, since)
    rows = _article_rows(s, " AND ".join(where), params, limit=min(limit, MAX_LIMIT))
    for r in rows:
        r.pop("type"), r.pop("_sort")
    return rows


def search(s: Session, query: str, since: datetime | None = None, until: datetime | None = None,
           bill: BillId | None = None, limit: int = 50) -> list[dict]:
    """Articles and bill actions matching ``query``, newest first."""
    terms = query_terms(query)
    limit = max(1, min(limit, MAX_LIMIT))
    params: dict = {}
    postgres = s.get_bind().dialect.name == "postgresql"
    if postgres:
        tsquery = _pg_tsquery(terms, params)
        where = [f"a.search_vector @@ {tsquery}"]
        action_where = [f"ba.search_vector @@ {tsquery}", "ba.removed_at IS NULL"]
        article_snippet = (f"ts_headline('simple', concat_ws(' ', a.title, a.summary_text, a.full_text), "
                           f"{tsquery}, {PG_HEADLINE})")
        article_join = ""
        action_snippet = f"ts_headline('simple', ba.action, {tsquery}, {PG_HEADLINE})"
        action_from = "bill_actions ba"
    else:
        params["match"] = " ".join(f'"{t}"' for t in terms)
        where = ["articles_fts MATCH :match"]
        action_where = ["bill_actions_fts MATCH :match", "ba.removed_at IS NULL"]
        article_snippet = "snippet(articles_fts, -1, '[', ']', '…', 16)"
        article_join = "JOIN articles_fts ON articles_fts.rowid = a.id"
        action_snippet = "snippet(bill_actions_fts, 0, '[', ']', '…', 16)"
        action_from = "bill_actions_fts JOIN bill_actions ba ON ba.id = bill_actions_fts.rowid"
    if since is not None:
        params["since"] = _time_param(s, since)
        params["since_day"] = since.date().isoformat()
        where.append("COALESCE(a.published_at, a.first_seen_at) >= :since")
        action_where.append("ba.date >= :since_day")
    if until is not None:
        params["until"] = _time_param(s, until)
        params["until_day"] = until.date().isoformat()
        where.append("COALESCE(a.published_at, a.first_seen_at) <= :until")
        action_where.append("ba.date <= :until_day")
    if bill is not None:
        params["bill"] = bill.canonical
        where.append("a.id IN (SELECT ab.article_id FROM article_bills ab JOIN bills b ON b.id = ab.bill_id "
                     "WHERE b.canonical = :bill)")
        action_where.append("b.canonical = :bill")
    articles = _article_rows(s, " AND ".join(where), params, snippet_sql=article_snippet, join=article_join,
                             limit=limit)
    actions = []
    for r in s.execute(text(f"""
            SELECT b.canonical, ba.date, ba.branch, ba.action, {action_snippet} AS snip
            FROM {action_from}
            JOIN bills b ON b.id = ba.bill_id
            WHERE {' AND '.join(action_where)}
            ORDER BY ba.date DESC, ba.id DESC LIMIT :limit"""), params | {"limit": limit}):
        day = r.date if isinstance(r.date, (str, type(None))) else r.date.isoformat()
        actions.append({"type": "action", "bill": r.canonical, "date": day, "branch": r.branch,
                        "action": r.action, "snippet": r.snip, "_sort": day or ""})
    merged = sorted(articles + actions, key=lambda r: r["_sort"] or "", reverse=True)[:limit]
    for r in merged:
        r.pop("_sort")
    return merged
