"""successors across sessions: each ranked candidate of a followed bill in the next General Court (its score,
evidence and state), and what the API's Similar answered for a document

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import db.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('successors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill', sa.String(length=40), nullable=False),
    sa.Column('candidate', sa.String(length=40), nullable=False),
    sa.Column('session', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('decided_by', sa.String(length=10), nullable=True),
    sa.Column('decided_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('found_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bill', 'candidate', name='uq_successors_bill_candidate')
    )
    op.create_index('ix_successors_bill', 'successors', ['bill'])
    op.create_index('ix_successors_candidate', 'successors', ['candidate'])
    op.create_table('similar_lists',
    sa.Column('canonical', sa.String(length=40), nullable=False),
    sa.Column('similar', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('fetched_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('canonical')
    )


def downgrade() -> None:
    op.drop_table('similar_lists')
    op.drop_index('ix_successors_candidate', table_name='successors')
    op.drop_index('ix_successors_bill', table_name='successors')
    op.drop_table('successors')
