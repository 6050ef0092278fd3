"""news

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:36:43.897001
"""
from alembic import op
import sqlalchemy as sa
import db.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Full-text search on SQLite: FTS5 tables with external content, kept in step by triggers.
# (PostgreSQL gets a tsvector column and a GIN index with the PostgreSQL issue.)
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, summary_text, full_text, "
    "content='articles', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN "
    "INSERT INTO articles_fts(rowid, title, summary_text, full_text) "
    "VALUES (new.id, new.title, new.summary_text, new.full_text); END",
    "CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, title, summary_text, full_text) "
    "VALUES ('delete', old.id, old.title, old.summary_text, old.full_text); END",
    "CREATE TRIGGER articles_fts_au AFTER UPDATE ON articles BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, title, summary_text, full_text) "
    "VALUES ('delete', old.id, old.title, old.summary_text, old.full_text); "
    "INSERT INTO articles_fts(rowid, title, summary_text, full_text) "
    "VALUES (new.id, new.title, new.summary_text, new.full_text); END",
    "CREATE VIRTUAL TABLE bill_actions_fts USING fts5(action, content='bill_actions', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO bill_actions_fts(rowid, action) SELECT id, action FROM bill_actions",
    "CREATE TRIGGER bill_actions_fts_ai AFTER INSERT ON bill_actions BEGIN "
    "INSERT INTO bill_actions_fts(rowid, action) VALUES (new.id, new.action); END",
    "CREATE TRIGGER bill_actions_fts_ad AFTER DELETE ON bill_actions BEGIN "
    "INSERT INTO bill_actions_fts(bill_actions_fts, rowid, action) VALUES ('delete', old.id, old.action); END",
    "CREATE TRIGGER bill_actions_fts_au AFTER UPDATE OF action ON bill_actions BEGIN "
    "INSERT INTO bill_actions_fts(bill_actions_fts, rowid, action) VALUES ('delete', old.id, old.action); "
    "INSERT INTO bill_actions_fts(rowid, action) VALUES (new.id, new.action); END",
]
SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS articles_fts_ai", "DROP TRIGGER IF EXISTS articles_fts_ad",
    "DROP TRIGGER IF EXISTS articles_fts_au", "DROP TABLE IF EXISTS articles_fts",
    "DROP TRIGGER IF EXISTS bill_actions_fts_ai", "DROP TRIGGER IF EXISTS bill_actions_fts_ad",
    "DROP TRIGGER IF EXISTS bill_actions_fts_au", "DROP TABLE IF EXISTS bill_actions_fts",
]


def upgrade() -> None:
    op.create_table('clusters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('query', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('next_check_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('last_checked_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_new_item_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('failing_since', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feeds_next_check_at'), ['next_check_at'], unique=False)

    op.create_table('articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('link', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('publisher', sa.Text(), nullable=True),
    sa.Column('author', sa.Text(), nullable=True),
    sa.Column('summary_html', sa.Text(), nullable=True),
    sa.Column('summary_text', sa.Text(), nullable=False),
    sa.Column('full_text', sa.Text(), nullable=True),
    sa.Column('published_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=True),
    sa.Column('fetch_article', sa.Boolean(), nullable=False),
    sa.Column('fulltext_fetched_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fulltext_attempts', sa.Integer(), nullable=False),
    sa.Column('fulltext_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('url')
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articles_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_published_at'), ['published_at'], unique=False)

    op.create_table('article_bills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('term', sa.Text(), nullable=False),
    sa.Column('field', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('article_id', 'bill_id', name='uq_article_bills_article_bill')
    )
    with op.batch_alter_table('article_bills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_bills_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_bills_bill_id'), ['bill_id'], unique=False)

    op.create_table('article_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('feed_id', sa.Integer(), nullable=False),
    sa.Column('entry_url', sa.Text(), nullable=True),
    sa.Column('guid', sa.Text(), nullable=True),
    sa.Column('publisher', sa.Text(), nullable=True),
    sa.Column('seen_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['feed_id'], ['feeds.id'], ),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('article_id', 'feed_id', name='uq_article_sources_article_feed')
    )
    with op.batch_alter_table('article_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_sources_article_id'), ['article_id'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
    with op.batch_alter_table('article_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_sources_article_id'))

    op.drop_table('article_sources')
    with op.batch_alter_table('article_bills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_bills_bill_id'))
        batch_op.drop_index(batch_op.f('ix_article_bills_article_id'))

    op.drop_table('article_bills')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articles_published_at'))
        batch_op.drop_index(batch_op.f('ix_articles_cluster_id'))

    op.drop_table('articles')
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feeds_next_check_at'))

    op.drop_table('feeds')
    op.drop_table('clusters')
