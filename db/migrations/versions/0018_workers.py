"""workers: a heartbeat row per running worker

A worker killed on another machine left its outbox claims and job leases to wait for ``mail.stale_claim``
and ``schedule.lease_ttl`` (its pid means nothing here). Each worker now renews its row every
``workers.heartbeat`` by the database's clock; the others take its claims and leases back once it has
missed three beats (``db.heartbeat``).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa
import db.types


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workers',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('every_s', sa.Float(), nullable=False),
    sa.Column('started_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('beat_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('workers')
