"""the docket: every document of the synced General Courts, where each sync stands, what the watches
matched, each document's swept history, and the position of each followed bill (a bill and its document
share their canonical id)

Titles, pinslips and texts are full-text indexed: an FTS5 table kept in step by triggers on SQLite, a
stored tsvector with a GIN index on PostgreSQL (folded like the search of 0005). PostgreSQL's tsvector
holds at most 1 MB, so its index reads the first 200,000 characters of a text (the longest bill texts
run to a few hundred thousand); SQLite indexes all of it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import db.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TEXT_INDEXED = 200_000  # characters of a document's text in PostgreSQL's index

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE documents_fts USING fts5(title, pinslip, text, content='documents', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN "
    "INSERT INTO documents_fts(rowid, title, pinslip, text) VALUES (new.id, new.title, new.pinslip, new.text); END",
    "CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, title, pinslip, text) "
    "VALUES ('delete', old.id, old.title, old.pinslip, old.text); END",
    "CREATE TRIGGER documents_fts_au AFTER UPDATE OF title, pinslip, text ON documents BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, title, pinslip, text) "
    "VALUES ('delete', old.id, old.title, old.pinslip, old.text); "
    "INSERT INTO documents_fts(rowid, title, pinslip, text) VALUES (new.id, new.title, new.pinslip, new.text); END",
]
SQLITE_FTS_DROP = ["DROP TRIGGER IF EXISTS documents_fts_ai", "DROP TRIGGER IF EXISTS documents_fts_ad",
                   "DROP TRIGGER IF EXISTS documents_fts_au", "DROP TABLE IF EXISTS documents_fts"]
FOLD = "public.tracker_fold"
PG_SEARCH = [
    # weights: the title (A) counts more than the pinslip (B) and the text (C) when results are ranked
    "ALTER TABLE documents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    f"setweight(to_tsvector('simple', {FOLD}(title)), 'A') || "
    f"setweight(to_tsvector('simple', {FOLD}(pinslip)), 'B') || "
    f"setweight(to_tsvector('simple', {FOLD}(left(text, {TEXT_INDEXED}))), 'C')) STORED",
    "CREATE INDEX ix_documents_search ON documents USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('canonical', sa.String(length=40), nullable=False),
    sa.Column('session', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('docket', sa.String(length=20), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('sponsor', sa.Text(), nullable=True),
    sa.Column('sponsor_code', sa.String(length=20), nullable=True),
    sa.Column('joint_sponsors', sa.JSON(), nullable=True),
    sa.Column('cosponsors', sa.JSON(), nullable=True),
    sa.Column('pinslip', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('legislation_type', sa.String(length=60), nullable=True),
    sa.Column('docket_book_only', sa.Boolean(), nullable=False),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.Column('detail_row_hash', sa.String(length=64), nullable=True),
    sa.Column('detail_fetched_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('detail_error', sa.Text(), nullable=True),
    sa.Column('first_seen_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('removed_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('history_checked_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('history_hash', sa.String(length=64), nullable=True),
    sa.Column('history_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('canonical'),
    sa.UniqueConstraint('session', 'docket', name='uq_documents_docket'),
    sa.UniqueConstraint('session', 'number', name='uq_documents_number')
    )
    op.create_table('docket_syncs',
    sa.Column('session', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('list_hash', sa.String(length=64), nullable=True),
    sa.Column('documents', sa.Integer(), nullable=False),
    sa.Column('last_synced_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_attempt_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('session')
    )
    op.create_table('document_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('branch', sa.String(length=20), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_document_actions_document_position', 'document_actions', ['document_id', 'position'],
                    unique=False)
    op.create_table('watch_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('watch', sa.String(length=120), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('matched_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('watch', 'document_id', name='uq_watch_matches')
    )
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.String(length=10), nullable=True))
    # every bill followed so far was listed in feeds.yaml: the campaign supports it
    op.execute("UPDATE bills SET position = 'support' WHERE tracked")
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    else:
        for statement in PG_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
    else:
        op.execute("DROP INDEX IF EXISTS ix_documents_search")
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.drop_column('position')
    op.drop_table('watch_matches')
    op.drop_index('ix_document_actions_document_position', table_name='document_actions')
    op.drop_table('document_actions')
    op.drop_table('docket_syncs')
    op.drop_table('documents')
