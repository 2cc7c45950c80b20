"""dashboard roll-ups kept by the ingest: post_tally, run_tally, campaign_account (filled from the engagements)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 21:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'post_tally',
        sa.Column('campaign_tweet_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=8), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_post_tally_campaign_id_campaign'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['campaign_tweet_id'], ['campaign_tweet.id'],
                                name=op.f('fk_post_tally_campaign_tweet_id_campaign_tweet'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_tweet_id', 'action', name=op.f('pk_post_tally')),
    )
    op.create_index(op.f('ix_post_tally_campaign_id'), 'post_tally', ['campaign_id'], unique=False)
    op.create_table(
        'run_tally',
        sa.Column('campaign_tweet_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=8), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_run_tally_campaign_id_campaign'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['campaign_tweet_id'], ['campaign_tweet.id'],
                                name=op.f('fk_run_tally_campaign_tweet_id_campaign_tweet'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_tweet_id', 'action', 'run_id', name=op.f('pk_run_tally')),
    )
    op.create_index('ix_run_tally_campaign_run', 'run_tally', ['campaign_id', 'run_id'], unique=False)
    op.create_table(
        'campaign_account',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=False),
        sa.Column('first_main', sa.Integer(), nullable=True),
        sa.Column('first_influencer', sa.Integer(), nullable=True),
        sa.Column('first_investor', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'],
                                name=op.f('fk_campaign_account_campaign_id_campaign'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', 'account_id', name=op.f('pk_campaign_account')),
    )
    # what the ingest would have kept, from the engagements already stored
    op.execute(
        "INSERT INTO post_tally (campaign_tweet_id, action, campaign_id, n)"
        " SELECT campaign_tweet_id, action, min(campaign_id), count(*) FROM engagement"
        " GROUP BY campaign_tweet_id, action")
    op.execute(
        "INSERT INTO run_tally (campaign_tweet_id, action, run_id, campaign_id, n)"
        " SELECT campaign_tweet_id, action, coalesce(run_id, 0), min(campaign_id), count(*) FROM engagement"
        " GROUP BY campaign_tweet_id, action, coalesce(run_id, 0)")
    op.execute(
        "INSERT INTO campaign_account (campaign_id, account_id, first_main, first_influencer, first_investor)"
        " SELECT e.campaign_id, e.account_id,"
        " min(CASE WHEN t.category = 'main' THEN coalesce(e.run_id, 0) END),"
        " min(CASE WHEN t.category = 'influencer' THEN coalesce(e.run_id, 0) END),"
        " min(CASE WHEN t.category = 'investor' THEN coalesce(e.run_id, 0) END)"
        " FROM engagement e JOIN campaign_tweet t ON t.id = e.campaign_tweet_id"
        " GROUP BY e.campaign_id, e.account_id")


def downgrade() -> None:
    op.drop_table('campaign_account')
    op.drop_index('ix_run_tally_campaign_run', table_name='run_tally')
    op.drop_table('run_tally')
    op.drop_index(op.f('ix_post_tally_campaign_id'), table_name='post_tally')
    op.drop_table('post_tally')
