"""``tracker export``: the public archive as one SQLite file (ready for Datasette), or a folder of CSV or
JSON Lines files, one per table.

What is public: bills, their actions and hearings, the event log, articles with the feeds that carried
them and the bills they were linked to (and why), feeds, story clusters, the legislature's directory
(committees, and legislators with their public office contact details), and the docket: every document of
the synced General Courts (public records, with their texts as first seen). Raw snapshots are described
(id, sha256, url, status, content type, size, fetched_at) but their bodies are left out.

What never is: subscribers, their subscriptions, the outbox, the delivery ledger, the runs log, leases,
snapshot bodies, and the check state of bills, feeds and documents (ETags, hashes, error strings; a
document's ``detail_error`` is the exception: the API shows it too, and it says why a document has no text). The export reads
an explicit list of columns (``TABLES``); a table or column not named there cannot leak into it.

Rows are read in batches (a server-side cursor on PostgreSQL) inside one read-only snapshot of the
source, so an export taken while ``tracker run`` writes is still consistent. The result is written next
to PATH as ``PATH.tmp`` and renamed into place at the end: a failed export leaves any previous archive
untouched, and a reader never sees half an archive.

In the SQLite file bills are keyed by their canonical id (``ma/192/H135``), and every table that points
to a bill has a ``bill`` column holding that id, so rows read without joins. Times are ISO 8601 text in
UTC with the offset (``2022-07-01T12:00:00+00:00``), dates ``YYYY-MM-DD``, booleans 0/1, JSON values
(``kinds``, ``payload``, ``petitioners``, ``joint_sponsors``, ``cosponsors``, ``evidence``) JSON text; in JSON Lines
they are real JSON values. Documents are keyed by their integer ``id`` (the full-text index needs one that never
changes) and carry their canonical id in ``canonical``: the ``id`` of the bill that shares it, if any.

Bill texts are stored once each (``bill_texts``, keyed by the sha256 of the text, with a full-text index) and
each bill's versions point to them (``bill_text_versions``: bill, version 1..n, source, when first seen, flags);
what each version changed is in its ``bill.text`` event (word counts and the sections added, removed, changed).

The lineage is one row per edge (``from``, ``to``, ``relation``: ``new-draft``, ``study-order``, ``successor``,
``docket``), read through ``db.lineage.edges`` in the same snapshot; its ids need not be bills of the archive
(a docket number, a document of the docket), so it has no foreign key. ``successors`` holds every candidate
the successor search ranked, with its state and evidence: the same facts as the ``bill.successor`` events.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlalchemy import JSON, Boolean, Date, Float, Integer, literal, select
from sqlalchemy.orm import Session, sessionmaker

from db.lineage import edges
from db.models import (Article, ArticleBill, ArticleSource, Bill, BillAction, BillTextBlob, BillTextVersion, Cluster,
                       Committee, Document, Event, Feed, Hearing, Legislator, Snapshot, Successor)
from db.types import UTCDateTime
from spiders.billids import JURISDICTION

FORMATS = ("sqlite", "csv", "jsonl")
EXTENSIONS = {"csv": ".csv", "jsonl": ".jsonl"}
BATCH = 1000
FTS_TOKENIZER = "unicode61 remove_diacritics 2"  # the tokenizer of the database's own search (migration 0002)


class ExportError(ValueError):
    """A path the export cannot write to (exists, is the wrong kind of thing, is the source database)."""


# -- what is exported -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    name: str
    expr: Any  # a SQLAlchemy column expression, read from the source
    kind: str  # int | float | text | bool | date | time | json | zlib (compressed text, exported as text)
    not_null: bool = False
    primary_key: bool = False
    unique: bool = False
    references: str | None = None  # the table whose id this column holds ("table.column": another key)

    @property
    def sql_type(self) -> str:
        return {"int": "INTEGER", "bool": "INTEGER", "float": "REAL"}.get(self.kind, "TEXT")


def _kind(column) -> str:
    t = column.type
    if isinstance(t, UTCDateTime):
        return "time"
    if isinstance(t, Boolean):
        return "bool"
    if isinstance(t, Date):
        return "date"
    if isinstance(t, JSON):
        return "json"
    if isinstance(t, Integer):
        return "int"
    if isinstance(t, Float):
        return "float"
    return "text"


def col(attr, name: str | None = None, *, references: str | None = None, primary_key: bool = False,
        not_null: bool | None = None) -> Col:
    """A column copied from a model attribute: its type and nullability come from the model."""
    column = attr.property.columns[0]
    return Col(name or column.name, attr, _kind(column),
               not_null=(not column.nullable) if not_null is None else not_null,
               primary_key=primary_key or column.primary_key, unique=bool(column.unique), references=references)


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Col, ...]
    source: Callable[[Any], Any] | None  # select(...) -> the same select with its FROM and joins
    order_by: Any
    indexes: tuple[tuple[str, ...], ...] = ()
    unique_indexes: tuple[tuple[str, ...], ...] = ()
    fts: tuple[str, ...] = ()  # columns of a full-text index (SQLite only)
    pk: str = field(default="id")
    rows: Callable[[Session], list[tuple]] | None = None  # a table computed in Python rather than selected

    def select(self):
        stmt = select(*[c.expr.label(c.name) for c in self.columns])
        return self.source(stmt).order_by(self.order_by)


def _bill_canonical(name: str = "bill", not_null: bool = True) -> Col:
    return Col(name, Bill.canonical, "text", not_null=not_null, references="bills")


TABLES: tuple[TableSpec, ...] = (
    TableSpec("snapshots", (
        col(Snapshot.id), col(Snapshot.sha256), col(Snapshot.url), col(Snapshot.status),
        col(Snapshot.content_type), col(Snapshot.size), col(Snapshot.fetched_at),
    ), lambda q: q.select_from(Snapshot), Snapshot.id, indexes=(("fetched_at",),)),
    TableSpec("clusters", (col(Cluster.id), col(Cluster.title), col(Cluster.created_at)),
              lambda q: q.select_from(Cluster), Cluster.id),
    TableSpec("feeds", (
        col(Feed.id), col(Feed.name), col(Feed.title), col(Feed.url), col(Feed.query), col(Feed.active),
        col(Feed.last_checked_at), col(Feed.last_success_at), col(Feed.last_new_item_at), col(Feed.failing_since),
        col(Feed.error_count), col(Feed.created_at),
    ), lambda q: q.select_from(Feed), Feed.id),
    TableSpec("committees", (
        col(Committee.id), col(Committee.session), col(Committee.code), col(Committee.full_name),
        col(Committee.short_name), col(Committee.branch), col(Committee.house_chair_code),
        col(Committee.senate_chair_code), col(Committee.fetched_at),
    ), lambda q: q.select_from(Committee), Committee.id, unique_indexes=(("session", "code"),)),
    TableSpec("legislators", (
        col(Legislator.id), col(Legislator.session), col(Legislator.member_code), col(Legislator.name),
        col(Legislator.branch), col(Legislator.district), col(Legislator.party), col(Legislator.email),
        col(Legislator.phone), col(Legislator.room), col(Legislator.leadership), col(Legislator.fetched_at),
    ), lambda q: q.select_from(Legislator), Legislator.id,
        indexes=(("session", "branch", "district"),), unique_indexes=(("session", "member_code"),)),
    TableSpec("bills", (
        Col("id", Bill.canonical, "text", not_null=True, primary_key=True),
        Col("jurisdiction", literal(JURISDICTION), "text", not_null=True),
        col(Bill.session), col(Bill.number), col(Bill.title), col(Bill.sponsor), col(Bill.sponsor_code),
        col(Bill.petitioners), col(Bill.pinslip), col(Bill.docket), col(Bill.committee), col(Bill.status),
        col(Bill.url), col(Bill.tracked), col(Bill.tracked_reason), col(Bill.created_at),
        col(Bill.last_checked_at), col(Bill.last_success_at), col(Bill.position),
    ), lambda q: q.select_from(Bill), Bill.id, indexes=(("session", "number"), ("status",))),
    TableSpec("documents", (
        col(Document.id), col(Document.canonical), col(Document.session), col(Document.number),
        col(Document.docket), col(Document.title), col(Document.sponsor), col(Document.sponsor_code),
        col(Document.joint_sponsors), col(Document.cosponsors), col(Document.pinslip), col(Document.text),
        col(Document.legislation_type), col(Document.docket_book_only), col(Document.first_seen_at),
        col(Document.last_seen_at), col(Document.removed_at), col(Document.detail_fetched_at),
        col(Document.detail_error),
    ), lambda q: q.select_from(Document), Document.id, indexes=(("sponsor",), ("first_seen_at",)),
        unique_indexes=(("session", "number"), ("session", "docket")), fts=("title", "pinslip", "text")),
    TableSpec("bill_texts", (
        Col("sha256", BillTextBlob.sha256, "text", not_null=True, primary_key=True), col(BillTextBlob.size),
        col(BillTextBlob.words), Col("text", BillTextBlob.body, "zlib", not_null=True), col(BillTextBlob.stored_at),
    ), lambda q: q.select_from(BillTextBlob), BillTextBlob.sha256, fts=("text",), pk="rowid"),
    TableSpec("bill_text_versions", (
        col(BillTextVersion.id), _bill_canonical(), col(BillTextVersion.version),
        col(BillTextVersion.sha256, references="bill_texts.sha256"), col(BillTextVersion.source),
        col(BillTextVersion.seen_at), col(BillTextVersion.flags),
    ), lambda q: q.select_from(BillTextVersion).join(Bill, Bill.id == BillTextVersion.bill_id), BillTextVersion.id,
        unique_indexes=(("bill", "version"),)),
    TableSpec("bill_actions", (
        col(BillAction.id), _bill_canonical(), col(BillAction.position), col(BillAction.occurrence),
        col(BillAction.date), col(BillAction.timestamp), col(BillAction.branch), col(BillAction.action),
        col(BillAction.kinds), col(BillAction.removed_at), col(BillAction.first_seen_at),
        col(BillAction.snapshot_id, references="snapshots"),
    ), lambda q: q.select_from(BillAction).join(Bill, Bill.id == BillAction.bill_id), BillAction.id,
        indexes=(("bill", "position"), ("date",)), fts=("action",)),
    TableSpec("hearings", (
        col(Hearing.id), _bill_canonical(), col(Hearing.action_id, references="bill_actions"),
        col(Hearing.starts_at), col(Hearing.ends_at), col(Hearing.location), col(Hearing.status),
        col(Hearing.updated_at),
    ), lambda q: q.select_from(Hearing).join(Bill, Bill.id == Hearing.bill_id), Hearing.id,
        indexes=(("starts_at",),)),
    TableSpec("articles", (
        col(Article.id), col(Article.url), col(Article.title), col(Article.publisher), col(Article.author),
        col(Article.published_at), col(Article.summary_text), col(Article.full_text), col(Article.link),
        col(Article.first_seen_at), col(Article.cluster_id, references="clusters"),
        col(Article.fulltext_fetched_at),
    ), lambda q: q.select_from(Article), Article.id, indexes=(("published_at",),),
        fts=("title", "summary_text", "full_text")),
    TableSpec("article_sources", (
        col(ArticleSource.id), col(ArticleSource.article_id, references="articles"),
        col(ArticleSource.feed_id, references="feeds"), Col("feed", Feed.name, "text", not_null=True),
        col(ArticleSource.entry_url), col(ArticleSource.guid), col(ArticleSource.publisher),
        col(ArticleSource.seen_at), col(ArticleSource.snapshot_id, references="snapshots"),
    ), lambda q: q.select_from(ArticleSource).join(Feed, Feed.id == ArticleSource.feed_id), ArticleSource.id),
    TableSpec("article_bills", (
        col(ArticleBill.id), col(ArticleBill.article_id, references="articles"), _bill_canonical(),
        col(ArticleBill.reason), col(ArticleBill.term), col(ArticleBill.field), col(ArticleBill.kind),
        col(ArticleBill.created_at),
    ), lambda q: q.select_from(ArticleBill).join(Bill, Bill.id == ArticleBill.bill_id), ArticleBill.id,
        unique_indexes=(("article_id", "bill"),)),
    TableSpec("events", (
        col(Event.id), col(Event.kind), col(Event.at), col(Event.occurred_at), col(Event.occurred_on),
        _bill_canonical(not_null=False), col(Event.article_id, references="articles"), col(Event.summary),
        col(Event.payload), col(Event.snapshot_id, references="snapshots"),
    ), lambda q: q.select_from(Event).outerjoin(Bill, Bill.id == Event.bill_id), Event.id,
        indexes=(("kind",), ("at",))),
    TableSpec("successors", (
        col(Successor.id), col(Successor.bill), col(Successor.candidate), col(Successor.session),
        col(Successor.rank), col(Successor.score), col(Successor.state), col(Successor.decided_by),
        col(Successor.decided_at), col(Successor.evidence), col(Successor.found_at),
    ), lambda q: q.select_from(Successor), Successor.id, indexes=(("bill",), ("candidate",), ("state",)),
        unique_indexes=(("bill", "candidate"),)),
    TableSpec("lineage", (Col("from", None, "text", not_null=True), Col("to", None, "text", not_null=True),
                          Col("relation", None, "text", not_null=True)),
              None, None, indexes=(("from",), ("to",)), unique_indexes=(("from", "to", "relation"),),
              rows=lambda s: sorted(edges(s))),
)

PUBLIC_TABLES = tuple(t.name for t in TABLES)


# -- values ---------------------------------------------------------------------------------------------------


def _converter(kind: str, fmt: str) -> Callable[[Any], Any]:
    if kind in ("time", "date"):
        return lambda v: None if v is None else v.isoformat()
    if kind == "bool":
        if fmt == "jsonl":
            return lambda v: None if v is None else bool(v)
        return lambda v: None if v is None else int(bool(v))
    if kind == "zlib":  # a stored text, compressed in the database: the export holds it as text
        return lambda v: None if v is None else zlib.decompress(v).decode("utf-8")
    if kind == "json" and fmt != "jsonl":
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
    return lambda v: v


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# -- reading --------------------------------------------------------------------------------------------------


def _snapshot(s: Session) -> None:
    """Read every table from one consistent, read-only view of the database."""
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        s.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
    elif dialect == "sqlite":
        # pysqlite starts no transaction for SELECTs: open one, so every table is read from the same WAL snapshot
        s.connection().exec_driver_sql("BEGIN")


def _batches(s: Session, spec: TableSpec, fmt: str, batch_size: int) -> Iterator[list[tuple]]:
    convert = [_converter(c.kind, fmt) for c in spec.columns]
    if spec.rows is not None:
        rows = spec.rows(s)
        for start in range(0, len(rows), batch_size):
            yield [tuple(f(v) for f, v in zip(convert, row)) for row in rows[start:start + batch_size]]
        return
    result = s.execute(spec.select(), execution_options={"yield_per": batch_size})
    for part in result.partitions(batch_size):
        yield [tuple(f(v) for f, v in zip(convert, row)) for row in part]


# -- writing --------------------------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_table_sql(spec: TableSpec) -> str:
    parts = []
    for c in spec.columns:
        line = f"{_quote(c.name)} {c.sql_type}"
        if c.primary_key:
            line += " PRIMARY KEY"
        elif c.not_null:
            line += " NOT NULL"
        if c.unique and not c.primary_key:
            line += " UNIQUE"
        if c.references:
            table, _, key = c.references.partition(".")  # "bills" (its id) or "bill_texts.sha256"
            line += f" REFERENCES {_quote(table)}({_quote(key or 'id')})"
        parts.append(line)
    return f"CREATE TABLE {_quote(spec.name)} (\n    " + ",\n    ".join(parts) + "\n)"


def index_sql(spec: TableSpec) -> list[str]:
    out = []
    seen = set()

    def add(columns: tuple[str, ...], unique: bool = False):
        if columns in seen:
            return
        seen.add(columns)
        name = f"{'ux' if unique else 'ix'}_{spec.name}_{'_'.join(columns)}"
        out.append(f"CREATE {'UNIQUE ' if unique else ''}INDEX {_quote(name)} ON {_quote(spec.name)} "
                   f"({', '.join(_quote(c) for c in columns)})")

    for columns in spec.unique_indexes:
        add(columns, unique=True)
    for columns in spec.indexes:
        add(columns)
    for c in spec.columns:  # every join column, so Datasette's links and counts between tables stay fast
        if c.references and not any(ix[0] == c.name for ix in seen):
            add((c.name,))
    return out


def fts_sql(spec: TableSpec) -> list[str]:
    """An external-content FTS5 table named and declared as sqlite-utils expects (``<table>_fts``,
    ``content="<table>"``), which Datasette finds and offers as the table's search box and ``sqlite-utils search``
    reads; ``content_rowid`` is the table's integer id (its rowid)."""
    if not spec.fts:
        return []
    fts = f"{spec.name}_fts"
    return [
        f"CREATE VIRTUAL TABLE {_quote(fts)} USING fts5({', '.join(_quote(c) for c in spec.fts)}, "
        f'content="{spec.name}", content_rowid="{spec.pk}", tokenize="{FTS_TOKENIZER}")',
        f"INSERT INTO {_quote(fts)}({_quote(fts)}) VALUES ('rebuild')",
    ]


class _SqliteWriter:
    """Written by hand rather than with sqlite-utils (issue 21; figures in bench/README.md): its ``insert_all``
    made the writer about 1.3x slower, and its public API would have turned the UNIQUE columns into separate
    indexes and dropped ``content_rowid`` from the FTS tables users query."""

    def __init__(self, path: Path):
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=OFF")  # a scratch file: a crash discards it anyway
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("BEGIN")
        for spec in TABLES:
            self.conn.execute(create_table_sql(spec))

    def table(self, spec: TableSpec):
        insert = (f"INSERT INTO {_quote(spec.name)} ({', '.join(_quote(c.name) for c in spec.columns)}) "
                  f"VALUES ({', '.join('?' for _ in spec.columns)})")
        return lambda rows: self.conn.executemany(insert, rows), lambda: None

    def finish(self) -> None:
        for spec in TABLES:
            for sql in index_sql(spec) + fts_sql(spec):
                self.conn.execute(sql)
        self.conn.execute("COMMIT")
        self.conn.execute("ANALYZE")
        self.conn.close()
        with open(self.path, "rb+") as f:
            os.fsync(f.fileno())

    def abort(self) -> None:
        self.conn.close()


class _FolderWriter:
    def __init__(self, path: Path, fmt: str):
        path.mkdir()
        self.path, self.fmt = path, fmt

    def table(self, spec: TableSpec):
        f = open(self.path / f"{spec.name}{EXTENSIONS[self.fmt]}", "w", encoding="utf-8", newline="")
        names = [c.name for c in spec.columns]
        if self.fmt == "csv":
            writer = csv.writer(f)
            writer.writerow(names)
            write = writer.writerows
        else:
            def write(rows):
                f.writelines(json.dumps(dict(zip(names, row)), ensure_ascii=False, default=_json_default) + "\n"
                             for row in rows)

        def close():
            f.flush()
            os.fsync(f.fileno())
            f.close()

        return write, close

    def finish(self) -> None:
        pass

    def abort(self) -> None:
        pass


# -- the target path ------------------------------------------------------------------------------------------


def _is_export_folder(path: Path) -> bool:
    return all(p.is_file() and not p.is_symlink() and p.suffix in EXTENSIONS.values() for p in path.iterdir())


def _check_target(path: Path, fmt: str, force: bool, source_db: str | None) -> None:
    if source_db and os.path.realpath(source_db) in (os.path.realpath(path), os.path.realpath(_tmp(path))):
        raise ExportError(f"{path} is the database being exported; choose another path")
    if fmt == "sqlite":
        if path.is_dir():
            raise ExportError(f"{path} is a folder; --format sqlite writes one file (e.g. {path / 'archive.sqlite'})")
        if path.exists() and not force:
            raise ExportError(f"{path} already exists; use --force to replace it")
        if path.exists() and not path.is_file():
            raise ExportError(f"{path} is not a regular file; refusing to replace it")
        return
    if path.exists() and not path.is_dir():
        raise ExportError(f"{path} is a file; --format {fmt} writes a folder with one {EXTENSIONS[fmt]} file per table")
    if path.is_dir() and any(path.iterdir()):
        if not force:
            raise ExportError(f"{path} already exists and is not empty; use --force to replace it")
        if not _is_export_folder(path):
            raise ExportError(f"{path} holds files that are not an export's (only .csv and .jsonl files are "
                              "replaced); refusing to replace it")


def _tmp(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _install(tmp: Path, path: Path) -> None:
    """Move the finished export into place: one rename for a file; for a folder, the old one is moved
    aside first (a folder cannot be renamed over a non-empty one), then removed."""
    if tmp.is_dir() and path.is_dir():
        aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
        os.replace(path, aside / path.name)
        os.replace(tmp, path)
        shutil.rmtree(aside)
    else:
        os.replace(tmp, path)
    _fsync_dir(path.parent)


# -- the export -----------------------------------------------------------------------------------------------


def export(sessions: sessionmaker[Session], fmt: str, path: str | os.PathLike, *, force: bool = False,
           batch_size: int = BATCH, on_table: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Write the public archive to ``path`` in ``fmt`` (``sqlite``: one file; ``csv``/``jsonl``: a folder of
    one file per table) and return the number of rows written per table, in the order written.

    Refuses (``ExportError``) an existing ``path`` unless ``force``, a folder for ``sqlite`` or a file for
    the others, and the source database itself. ``on_table(name, rows)`` is called as each table is done.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: expected sqlite, csv or jsonl")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    path = Path(path)
    counts: dict[str, int] = {}
    with sessions() as s:
        bind = s.get_bind()
        source_db = bind.url.database if bind.dialect.name == "sqlite" else None
        _check_target(path, fmt, force, source_db)
        tmp = _tmp(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if tmp.is_dir() and not _is_export_folder(tmp):
                raise ExportError(f"{tmp} exists and is not a previous export's scratch folder; move it away")
            _remove(tmp)  # left by an export that was killed
        except OSError as exc:
            raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
        _snapshot(s)
        try:
            writer = _SqliteWriter(tmp) if fmt == "sqlite" else _FolderWriter(tmp, fmt)
        except (OSError, sqlite3.Error) as exc:
            _remove(tmp)
            raise ExportError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            for spec in TABLES:
                write, close = writer.table(spec)
                n = 0
                try:
                    for rows in _batches(s, spec, fmt, batch_size):
                        write(rows)
                        n += len(rows)
                finally:
                    close()
                counts[spec.name] = n
                if on_table is not None:
                    on_table(spec.name, n)
            writer.finish()
            _install(tmp, path)
        except BaseException:
            writer.abort()
            _remove(tmp)
            raise
        finally:
            s.rollback()
    return counts
