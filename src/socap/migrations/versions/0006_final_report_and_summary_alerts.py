"""final report: campaign_report (frozen at completion); alerts of kind "summary" (no engagement)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 18:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
import socap.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'campaign_report',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('generated_at', socap.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('data_version', sa.BigInteger(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_report_campaign_id_campaign'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_campaign_report')),
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='engagement', nullable=False))
        batch_op.alter_column('engagement_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM alert WHERE engagement_id IS NULL")
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.alter_column('engagement_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('kind')
    op.drop_table('campaign_report')
