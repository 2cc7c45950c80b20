"""dashboard indexes: covering indexes on engagement for the campaign statistics

The dashboard's aggregates (socap.reports.queries) read engagements three ways, each index-only on
PostgreSQL (and covering on SQLite):

- per (post, action), with the run that found them: ix_engagement_campaign_post, which B-tree deduplication
  keeps small (about 11 MB for 1,000,000 engagements);
- per account, in account order (distinct engagers, their post categories; the engagements of important
  accounts for an importance filter): ix_engagement_campaign_account, widened from (campaign_id, account_id);
- by time range: ix_engagement_campaign_engaged, widened from (campaign_id, engaged_at).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 18:10:00.000000
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('engagement', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_campaign_account')
        batch_op.drop_index('ix_engagement_campaign_engaged')
        batch_op.create_index('ix_engagement_campaign_account',
                              ['campaign_id', 'account_id', 'campaign_tweet_id', 'action', 'engaged_at', 'run_id'],
                              unique=False)
        batch_op.create_index('ix_engagement_campaign_engaged',
                              ['campaign_id', 'engaged_at', 'campaign_tweet_id', 'action', 'account_id', 'run_id'],
                              unique=False)
        batch_op.create_index('ix_engagement_campaign_post', ['campaign_id', 'campaign_tweet_id', 'action', 'run_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('engagement', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_campaign_post')
        batch_op.drop_index('ix_engagement_campaign_engaged')
        batch_op.drop_index('ix_engagement_campaign_account')
        batch_op.create_index('ix_engagement_campaign_engaged', ['campaign_id', 'engaged_at'], unique=False)
        batch_op.create_index('ix_engagement_campaign_account', ['campaign_id', 'account_id'], unique=False)
