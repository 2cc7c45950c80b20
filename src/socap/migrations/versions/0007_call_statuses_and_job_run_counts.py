"""observability: API calls by endpoint and status per run; how often each poll job ran and failed

`/metrics` reads its figures from the database at scrape time (any number of worker processes write them):
run.calls_by_status ("endpoint status" → attempts, as the client's CallStats counts them) and the running
totals poll_job.run_count / poll_job.failure_count (one per finished pass or recorded failure).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calls_by_status', sa.JSON(), server_default='{}', nullable=False))
    with op.batch_alter_table('poll_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('run_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('failure_count', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('poll_job', schema=None) as batch_op:
        batch_op.drop_column('failure_count')
        batch_op.drop_column('run_count')
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_column('calls_by_status')
