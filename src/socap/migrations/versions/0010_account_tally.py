"""account_tally: campaign_account counted per scope ("any" category or one) and first run, kept by the ingest
(filled from campaign_account)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 05:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'account_tally',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=12), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_account_tally_campaign_id_campaign'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', 'scope', 'run_id', name=op.f('pk_account_tally')),
    )
    # what the ingest would have kept, from campaign_account (the same SQL as socap.reports.rollup.rebuild's)
    least = "least" if op.get_bind().dialect.name == "postgresql" else "min"
    parts = [f"SELECT campaign_id, '{c}', first_{c}, count(*) FROM campaign_account WHERE first_{c} IS NOT NULL"
             " GROUP BY 1, 3" for c in ("main", "influencer", "investor")]
    never = 2147483647
    parts.append(f"SELECT campaign_id, 'any', {least}(coalesce(first_main, {never}),"
                 f" coalesce(first_influencer, {never}), coalesce(first_investor, {never})), count(*)"
                 " FROM campaign_account WHERE first_main IS NOT NULL OR first_influencer IS NOT NULL"
                 " OR first_investor IS NOT NULL GROUP BY 1, 3")
    op.execute("INSERT INTO account_tally (campaign_id, scope, run_id, n) " + " UNION ALL ".join(parts))


def downgrade() -> None:
    op.drop_table('account_tally')
