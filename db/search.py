"""Full-text search over the news archive, the bills' histories, the docket's documents and the bills' texts.

One interface, two backends: SQLite FTS5 (external content tables) and
PostgreSQL (stored ``tsvector`` columns with GIN indexes, migration 0005), with
words folded the same way on both. Queries are never passed on as written:
words and "quoted phrases" are taken out of the text and each becomes a quoted
FTS5 string or a bound ``phraseto_tsquery`` parameter, so no input can be a
syntax error or reach SQL. Every query has a LIMIT.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import text
from sqlalchemy.orm import Session

from db.articles import MAX_LIMIT, article_page, article_rows, time_param

MAX_QUERY_CHARS = 1000
MAX_TERMS = 32
MAX_OFFSET = 10_000  # deeper pages are empty: narrow the query down instead
KINDS = (None, "article", "action", "document", "text")
DOCUMENT_TEXT_SNIPPET = 200_000  # characters of a text a PostgreSQL snippet reads: what its index holds (0009)
_TERM = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


class BadQuery(ValueError):
    pass


def query_terms(query: str) -> list[str]:
    """User text -> its terms: each a word or a quoted phrase, as space-separated words; all required. Only the
    first ``MAX_TERMS`` are searched (``unsearched_terms``: the others)."""
    return _all_terms(query)[:MAX_TERMS]


def unsearched_terms(query: str) -> list[str]:
    """The terms of ``query`` beyond the first ``MAX_TERMS``, which are not searched."""
    return _all_terms(query)[MAX_TERMS:]


def _all_terms(query: str) -> list[str]:
    if len(query) > MAX_QUERY_CHARS:
        raise BadQuery(f"the query is {len(query)} characters long; at most {MAX_QUERY_CHARS} are searched")
    terms = []
    for phrase, word in _TERM.findall(query):
        words = _WORD.findall(phrase if phrase else word)
        if words:
            terms.append(" ".join(words))
    if not terms:
        raise BadQuery(f"{query!r} has no words to search for")
    return terms


def fts_query(query: str) -> str:
    """User text -> a safe FTS5 expression: every term quoted, all required (AND)."""
    return _fts_expression(query_terms(query))


def _fts_expression(terms: list[str]) -> str:
    return " ".join(f'"{t}"' for t in terms)


def _pg_tsquery(terms: list[str], params: dict) -> str:
    """The terms as one tsquery expression over bound parameters (``phraseto_tsquery`` each, ANDed)."""
    parts = []
    for i, term in enumerate(terms):
        params[f"t{i}"] = term
        parts.append(f"phraseto_tsquery('simple', public.tracker_fold(:t{i}))")
    return "(" + " && ".join(parts) + ")"


PG_HEADLINE = "'StartSel=[, StopSel=], MaxWords=16, MinWords=6, ShortWord=1, MaxFragments=1, FragmentDelimiter=…'"


def _like_part(text_: str) -> str:
    """A LIKE pattern matching ``text_`` anywhere, its own ``%``, ``_`` and ``\\`` taken literally."""
    return "%" + text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(s: Session, query: str, since: datetime | None = None, until: datetime | None = None,
           bill: str | None = None, limit: int = 50, offset: int = 0, kind: str | None = None,
           source: str | None = None, session: int | None = None) -> list[dict]:
    """Articles, bill actions, the docket's documents and the bills' texts matching ``query``, newest first (a
    document's date is when the docket first listed it, a text's when its version was first seen; a bill's
    text is one result, its latest version that matches).

    Every filter is applied in SQL before the page is cut, so a page is full whenever there are enough
    matches: ``since``/``until``, ``bill`` (a canonical id), ``session`` (a General Court: the bills and
    documents of it, and the articles about its bills), ``kind`` (``article``, ``action``, ``document`` or
    ``text``) and ``source`` (part of an article's outlet, any case; articles only). Then
    ``offset``/``limit``."""
    terms = query_terms(query)
    if kind not in KINDS:
        raise BadQuery(f"kind={str(kind)[:20]!r}: choose article, action, document or text")
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    if offset > MAX_OFFSET:
        return []
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
        document_where = [f"d.search_vector @@ {tsquery}", "d.removed_at IS NULL"]
        document_snippet = (f"ts_headline('simple', concat_ws(' ', d.title, d.pinslip, "
                            f"left(d.text, {DOCUMENT_TEXT_SNIPPET})), {tsquery}, {PG_HEADLINE})")
        document_from = "documents d"
        chunk_match = f"c.search_vector @@ {tsquery}"
        chunk_from = "bill_text_chunks c"
        chunk_snippet = f"ts_headline('simple', c.body, {tsquery}, {PG_HEADLINE})"
    else:
        params["match"] = _fts_expression(terms)
        where = ["articles_fts MATCH :match"]
        action_where = ["bill_actions_fts MATCH :match", "ba.removed_at IS NULL"]
        article_snippet = "snippet(articles_fts, -1, '[', ']', '…', 16)"
        article_join = "JOIN articles_fts ON articles_fts.rowid = a.id"
        action_snippet = "snippet(bill_actions_fts, 0, '[', ']', '…', 16)"
        action_from = "bill_actions_fts JOIN bill_actions ba ON ba.id = bill_actions_fts.rowid"
        document_where = ["documents_fts MATCH :match", "d.removed_at IS NULL"]
        document_snippet = "snippet(documents_fts, -1, '[', ']', '…', 16)"
        document_from = "documents_fts JOIN documents d ON d.id = documents_fts.rowid"
        chunk_match = "bill_text_chunks_fts MATCH :match"
        chunk_from = "bill_text_chunks_fts JOIN bill_text_chunks c ON c.id = bill_text_chunks_fts.rowid"
        chunk_snippet = "snippet(bill_text_chunks_fts, 0, '[', ']', '…', 16)"
    text_where = ["1 = 1"]
    if since is not None:
        params["since"] = time_param(s, since)
        params["since_day"] = since.date().isoformat()
        where.append("COALESCE(a.published_at, a.first_seen_at) >= :since")
        action_where.append("ba.date >= :since_day")
        document_where.append("d.first_seen_at >= :since")
        text_where.append("v.seen_at >= :since")
    if until is not None:
        params["until"] = time_param(s, until)
        params["until_day"] = until.date().isoformat()
        where.append("COALESCE(a.published_at, a.first_seen_at) <= :until")
        action_where.append("ba.date <= :until_day")
        document_where.append("d.first_seen_at <= :until")
        text_where.append("v.seen_at <= :until")
    if bill is not None:
        params["bill"] = bill
        where.append("a.id IN (SELECT ab.article_id FROM article_bills ab JOIN bills b ON b.id = ab.bill_id "
                     "WHERE b.canonical = :bill)")
        action_where.append("b.canonical = :bill")
        document_where.append("d.canonical = :bill")
        text_where.append("b.canonical = :bill")
    if session is not None:
        params["session"] = int(session)
        where.append("a.id IN (SELECT ab.article_id FROM article_bills ab JOIN bills b ON b.id = ab.bill_id "
                     "WHERE b.session = :session)")
        action_where.append("b.session = :session")
        document_where.append("d.session = :session")
        text_where.append("b.session = :session")
    if source:
        params["source"] = _like_part(source.lower())
        where.append("LOWER(COALESCE(a.publisher, '')) LIKE :source ESCAPE '\\'")
    article_sql, action_sql, document_sql = " AND ".join(where), " AND ".join(action_where), " AND ".join(document_where)
    # a bill's text: the latest of its versions whose text has a piece that matches
    text_tables = (f"bill_text_versions v JOIN bills b ON b.id = v.bill_id JOIN ("
                   f"SELECT v2.bill_id, MAX(v2.version) AS version FROM bill_text_versions v2 WHERE v2.sha256 IN "
                   f"(SELECT c.sha256 FROM {chunk_from} WHERE {chunk_match}) GROUP BY v2.bill_id"
                   f") best ON best.bill_id = v.bill_id AND best.version = v.version")
    text_sql = " AND ".join(text_where)
    action_tables = f"{action_from} JOIN bills b ON b.id = ba.bill_id"

    def articles(n: int, skip: int) -> list[tuple[str, int, str]]:
        return [("article", i, key) for i, key in article_page(s, article_sql, params, article_join, n, skip)]

    def actions(n: int, skip: int) -> list[tuple[str, int, str]]:
        # undated rows last on both databases (PostgreSQL puts NULLs first in a DESC order)
        rows = s.execute(text(f"SELECT ba.id, ba.date FROM {action_tables} WHERE {action_sql} "
                              f"ORDER BY ba.date IS NULL, ba.date DESC, ba.id DESC LIMIT :limit OFFSET :offset"),
                         params | {"limit": n, "offset": skip})
        return [("action", r.id, _day(r.date) or "") for r in rows]

    def documents(n: int, skip: int) -> list[tuple[str, int, str]]:
        rows = s.execute(text(f"SELECT d.id, d.first_seen_at FROM {document_from} WHERE {document_sql} "
                              f"ORDER BY d.first_seen_at DESC, d.id DESC LIMIT :limit OFFSET :offset"),
                         params | {"limit": n, "offset": skip})
        return [("document", r.id, _utc_key(r.first_seen_at)) for r in rows]

    def texts(n: int, skip: int) -> list[tuple[str, int, str]]:
        rows = s.execute(text(f"SELECT v.id, v.seen_at FROM {text_tables} WHERE {text_sql} "
                              f"ORDER BY v.seen_at DESC, v.id DESC LIMIT :limit OFFSET :offset"),
                         params | {"limit": n, "offset": skip})
        return [("text", r.id, _utc_key(r.seen_at)) for r in rows]

    wanted = [fetch for name, fetch in (("article", articles), ("action", actions), ("document", documents),
                                        ("text", texts))
              if kind in (None, name) and (name == "article" or not source)]  # an outlet means articles
    if len(wanted) > 1:
        # Several kinds, newest first: the page lies within the first offset+limit of each kind. Equal keys
        # keep articles first, then actions, then documents (the sort is stable), as before.
        merged = [row for fetch in wanted for row in fetch(offset + limit, 0)]
        page = sorted(merged, key=lambda row: row[2], reverse=True)[offset:offset + limit]
    elif wanted:
        page = wanted[0](limit, offset)
    else:
        page = []

    found_articles = article_rows(s, [i for t, i, _ in page if t == "article"], article_sql, params,
                                  snippet_sql=article_snippet, join=article_join)
    found_actions = {}
    action_ids = [i for t, i, _ in page if t == "action"]
    if action_ids:
        marks = ",".join(str(int(i)) for i in action_ids)
        for r in s.execute(text(f"SELECT ba.id, b.canonical, ba.date, ba.branch, ba.action, {action_snippet} AS snip "
                                f"FROM {action_tables} WHERE ({action_sql}) AND ba.id IN ({marks})"), params):
            found_actions[r.id] = {"type": "action", "bill": r.canonical, "date": _day(r.date), "branch": r.branch,
                                   "action": r.action, "snippet": r.snip}
    found_documents = {}
    document_ids = [i for t, i, _ in page if t == "document"]
    if document_ids:
        marks = ",".join(str(int(i)) for i in document_ids)
        for r in s.execute(text(f"SELECT d.id, d.canonical, d.session, d.number, d.docket, d.title, d.sponsor, "
                                f"d.first_seen_at, {document_snippet} AS snip FROM {document_from} "
                                f"WHERE ({document_sql}) AND d.id IN ({marks})"), params):
            found_documents[r.id] = {"type": "document", "id": r.canonical, "session": r.session,
                                     "number": r.number, "docket": r.docket, "title": r.title,
                                     "sponsor": r.sponsor, "snippet": r.snip, "date": _utc_key(r.first_seen_at)}
    found_texts = {}
    for version_id in [i for t, i, _ in page if t == "text"]:
        r = s.execute(text("SELECT b.canonical, v.version, v.seen_at, v.sha256 FROM bill_text_versions v "
                           "JOIN bills b ON b.id = v.bill_id WHERE v.id = :vid"), {"vid": version_id}).first()
        snip = s.scalar(text(f"SELECT {chunk_snippet} FROM {chunk_from} WHERE {chunk_match} AND c.sha256 = :sha "
                             f"ORDER BY c.position LIMIT 1"), params | {"sha": r.sha256})
        found_texts[version_id] = {"type": "text", "bill": r.canonical, "version": r.version, "snippet": snip,
                                   "date": _utc_key(r.seen_at)}
    found = {"article": found_articles, "action": found_actions, "document": found_documents, "text": found_texts}
    return [found[t][i] for t, i, _ in page if i in found[t]]


def _utc_key(value) -> str:
    """A time read by raw SQL (naive UTC text or a datetime on SQLite, aware on PostgreSQL) as ISO 8601 in UTC
    with the offset: the sort key the kinds are merged by, and a document's ``date``."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()


def _day(value) -> str | None:
    return value if isinstance(value, (str, type(None))) else value.isoformat()


def article_ids_with_any(s: Session, terms: list[str], since: datetime | None = None,
                         until: datetime | None = None, after: int = 0, limit: int = 1000) -> list[int]:
    """Ids of the articles whose title, summary or full text holds any of ``terms`` (each a word or a phrase of
    words, taken literally), dated (published, else first seen) in [``since``, ``until``), above ``after``, in
    id order, at most ``limit``: page on with ``after`` = the last id. Through the full-text index (FTS5 on
    SQLite, the GIN ``search_vector`` on PostgreSQL), never a scan of the texts."""
    phrases = [" ".join(_WORD.findall(t)) for t in terms]
    phrases = [p for p in dict.fromkeys(phrases) if p]
    if not phrases:
        return []
    params: dict = {"after": int(after), "limit": max(1, int(limit))}
    if s.get_bind().dialect.name == "postgresql":
        parts = []
        for i, phrase in enumerate(phrases):
            params[f"t{i}"] = phrase
            parts.append(f"phraseto_tsquery('simple', public.tracker_fold(:t{i}))")
        tables, where = "articles a", [f"a.search_vector @@ ({' || '.join(parts)})"]
    else:
        params["match"] = " OR ".join('"' + p.replace('"', "") + '"' for p in phrases)
        tables = "articles_fts JOIN articles a ON a.id = articles_fts.rowid"
        where = ["articles_fts MATCH :match"]
    where.append("a.id > :after")
    if since is not None:
        params["since"] = time_param(s, since)
        where.append("COALESCE(a.published_at, a.first_seen_at) >= :since")
    if until is not None:
        params["until"] = time_param(s, until)
        where.append("COALESCE(a.published_at, a.first_seen_at) < :until")
    rows = s.execute(text(f"SELECT a.id FROM {tables} WHERE {' AND '.join(where)} ORDER BY a.id LIMIT :limit"),
                     params)
    return [r.id for r in rows]
