"""web_session: dashboard sessions kept on the server (the cookie holds only a random id), so signing out,
a password change or expiry really ends a session, and a cookie signed with a known SOCAP_SECRET_KEY alone
signs nobody in

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 22:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import socap.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_session',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', socap.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', socap.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_web_session_user_id_app_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_web_session')),
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_session_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_table('web_session')
