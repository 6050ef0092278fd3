"""bill texts: each distinct text stored once (content-addressed by the sha256 of the normalised text,
zlib-compressed, with its size and word count), the versions of each bill's text, and the pieces the full-text
index reads; on bills, when the text page was last asked for and since when the text has come back empty

The index reads each text by section, a section longer than 50,000 characters cut into parts (at a line or a
word boundary): an FTS5 table kept in step by triggers on SQLite, a stored tsvector with a GIN index on
PostgreSQL (folded like 0005). So on both backends the whole of every text is indexed, and no PostgreSQL
tsvector comes near its 1 MB limit or its 16,383 word positions (a phrase stays findable in a long text).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-12
"""
from alembic import op
import sqlalchemy as sa
import db.types


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE bill_text_chunks_fts USING fts5(body, content='bill_text_chunks', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER bill_text_chunks_fts_ai AFTER INSERT ON bill_text_chunks BEGIN "
    "INSERT INTO bill_text_chunks_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER bill_text_chunks_fts_ad AFTER DELETE ON bill_text_chunks BEGIN "
    "INSERT INTO bill_text_chunks_fts(bill_text_chunks_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
]
SQLITE_FTS_DROP = ["DROP TRIGGER IF EXISTS bill_text_chunks_fts_ai", "DROP TRIGGER IF EXISTS bill_text_chunks_fts_ad",
                   "DROP TABLE IF EXISTS bill_text_chunks_fts"]
PG_SEARCH = [
    "ALTER TABLE bill_text_chunks ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "to_tsvector('simple', public.tracker_fold(body))) STORED",
    "CREATE INDEX ix_bill_text_chunks_search ON bill_text_chunks USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table('bill_text_blobs',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('words', sa.Integer(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('stored_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('bill_text_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('seen_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['bill_text_blobs.sha256'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bill_id', 'version', name='uq_bill_text_versions')
    )
    op.create_index('ix_bill_text_versions_sha256', 'bill_text_versions', ['sha256'], unique=False)
    op.create_table('bill_text_chunks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=20), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['bill_text_blobs.sha256'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_bill_text_chunks_sha256', 'bill_text_chunks', ['sha256', 'position'], unique=False)
    with op.batch_alter_table('bills') as batch:
        batch.add_column(sa.Column('text_checked_at', db.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('text_actions', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('text_empty_since', db.types.UTCDateTime(timezone=True), nullable=True))
    for statement in SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else PG_SEARCH:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
    with op.batch_alter_table('bills') as batch:
        batch.drop_column('text_empty_since')
        batch.drop_column('text_actions')
        batch.drop_column('text_checked_at')
    op.drop_index('ix_bill_text_chunks_sha256', table_name='bill_text_chunks')
    op.drop_table('bill_text_chunks')
    op.drop_index('ix_bill_text_versions_sha256', table_name='bill_text_versions')
    op.drop_table('bill_text_versions')
    op.drop_table('bill_text_blobs')
