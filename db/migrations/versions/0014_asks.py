"""asks: each supporter's answer to an ask (who, from which alert, what they let us show), each letter to a
legislator (one per supporter, ask, occasion and recipient), the legislators' addresses that bounced; and an
index on the outbox by address and sending time, for the letters-per-recipient-per-day limit

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa
import db.types


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ask_responses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ask', sa.String(length=80), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('bill', sa.String(length=40), nullable=False),
        sa.Column('occasion', sa.String(length=80), nullable=False),
        sa.Column('subscriber_id', sa.Integer(), nullable=True),
        sa.Column('alert_event_id', sa.Integer(), nullable=True),
        sa.Column('via', sa.String(length=12), nullable=True),
        sa.Column('first_name', sa.Text(), nullable=True),
        sa.Column('last_name', sa.Text(), nullable=True),
        sa.Column('town', sa.Text(), nullable=True),
        sa.Column('show_public', sa.Boolean(), nullable=False),
        sa.Column('house_district', sa.Text(), nullable=True),
        sa.Column('senate_district', sa.Text(), nullable=True),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('drafts', sa.JSON(), nullable=True),
        sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_ask_responses_ask_created', 'ask_responses', ['ask', 'created_at'])
    op.create_index(op.f('ix_ask_responses_subscriber_id'), 'ask_responses', ['subscriber_id'])
    op.create_table(
        'ask_letters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('subscriber_id', sa.Integer(), nullable=True),
        sa.Column('ask', sa.String(length=80), nullable=False),
        sa.Column('occasion', sa.String(length=80), nullable=False),
        sa.Column('bill', sa.String(length=40), nullable=False),
        sa.Column('recipient_code', sa.String(length=20), nullable=False),
        sa.Column('recipient_name', sa.Text(), nullable=False),
        sa.Column('recipient_addr', sa.String(length=320), nullable=False),
        sa.Column('recipient_branch', sa.String(length=20), nullable=True),
        sa.Column('recipient_district', sa.Text(), nullable=True),
        sa.Column('variant', sa.String(length=10), nullable=False),
        sa.Column('outbox_id', sa.Integer(), nullable=True),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['response_id'], ['ask_responses.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('subscriber_id', 'ask', 'occasion', 'recipient_code', name='uq_ask_letters_once'),
    )
    op.create_index('ix_ask_letters_ask_state', 'ask_letters', ['ask', 'state'])
    op.create_index(op.f('ix_ask_letters_response_id'), 'ask_letters', ['response_id'])
    op.create_index(op.f('ix_ask_letters_outbox_id'), 'ask_letters', ['outbox_id'])
    op.create_table(
        'failing_addresses',
        sa.Column('addr', sa.String(length=320), nullable=False),
        sa.Column('since', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('bounces', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('addr'),
    )
    op.create_index('ix_outbox_to_sent', 'outbox', ['to_addr', 'sent_at'])


def downgrade() -> None:
    op.drop_index('ix_outbox_to_sent', table_name='outbox')
    op.drop_table('failing_addresses')
    op.drop_index(op.f('ix_ask_letters_outbox_id'), table_name='ask_letters')
    op.drop_index(op.f('ix_ask_letters_response_id'), table_name='ask_letters')
    op.drop_index('ix_ask_letters_ask_state', table_name='ask_letters')
    op.drop_table('ask_letters')
    op.drop_index(op.f('ix_ask_responses_subscriber_id'), table_name='ask_responses')
    op.drop_index('ix_ask_responses_ask_created', table_name='ask_responses')
    op.drop_table('ask_responses')
