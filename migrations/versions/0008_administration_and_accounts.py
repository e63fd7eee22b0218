"""administration and accounts: agencies' SLAs per kind and contact, services' order and SLA, account
life-cycle (one-time e-mail tokens, verification, session epoch), two-factor sign-in (TOTP secret,
recovery codes), national single sign-on links, display names, per account-and-client sign-in
failures (replacing the per-account lockout), and award branches an administrator adds and describes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 19:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_BRANCHES = ('g2c', 'g2b', 'g2g', 'e_leadership', 'e_participation', 'smart_devices', 'e_contribution')


def _stamps() -> list[sa.Column]:
    return [sa.Column('created_at', _TS, nullable=False), sa.Column('updated_at', _TS, nullable=False)]


def upgrade() -> None:
    op.create_table(
        'sign_in_failure',
        sa.Column('id', _ID, nullable=False),
        sa.Column('account', sa.String(length=300), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('blocked_until', _TS, nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failure')),
        sa.UniqueConstraint('account', 'client', name='uq_sign_in_failure_account_client'))
    op.create_index(op.f('ix_sign_in_failure_account'), 'sign_in_failure', ['account'], unique=False)
    op.create_table(
        'account_token',
        sa.Column('id', _ID, nullable=False),
        sa.Column('user_id', _ID, nullable=False),
        sa.Column('purpose', sa.Enum('invitation', 'password_reset', 'email_verification', name='token_purpose',
                                     native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('expires_at', _TS, nullable=False),
        sa.Column('used_at', _TS, nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_account_token_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_token')),
        sa.UniqueConstraint('digest', name=op.f('uq_account_token_digest')))
    op.create_index(op.f('ix_account_token_user_id'), 'account_token', ['user_id'], unique=False)
    op.create_table(
        'recovery_code',
        sa.Column('id', _ID, nullable=False),
        sa.Column('user_id', _ID, nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('used_at', _TS, nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_recovery_code_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')))
    op.create_index(op.f('ix_recovery_code_user_id'), 'recovery_code', ['user_id'], unique=False)

    op.add_column('agency', sa.Column('sla_by_kind', postgresql.JSONB(astext_type=sa.Text()), server_default='{}',
                                      nullable=False))
    op.add_column('agency', sa.Column('contact_email', sa.String(length=254), server_default='', nullable=False))
    op.add_column('service', sa.Column('position', sa.SmallInteger(), server_default='0', nullable=False))
    op.add_column('service', sa.Column('sla_days', sa.Integer(), nullable=True))

    # Branches: a slug (the code for the award's seven) identifies a branch in its edition, so an
    # administrator can add branches of the new 'custom' kind.
    op.add_column('award_branch', sa.Column('slug', sa.String(length=64), nullable=True))
    op.execute("UPDATE award_branch SET slug = code")
    op.alter_column('award_branch', 'slug', nullable=False)
    op.add_column('award_branch', sa.Column('description_ar', sa.Text(), server_default='', nullable=False))
    op.add_column('award_branch', sa.Column('description_en', sa.Text(), server_default='', nullable=False))
    op.drop_constraint('uq_award_branch_edition_code', 'award_branch', type_='unique')
    op.create_index('uq_award_branch_edition_code', 'award_branch', ['edition_id', 'code'], unique=True,
                    postgresql_where=sa.text("code <> 'custom'"))
    op.create_unique_constraint('uq_award_branch_edition_slug', 'award_branch', ['edition_id', 'slug'])
    op.drop_constraint(op.f('ck_award_branch_branch_code'), 'award_branch', type_='check')
    op.create_check_constraint('branch_code', 'award_branch', sa.column('code').in_([*_BRANCHES, 'custom']))
    op.add_column('award_conflict', sa.Column('recorded_by_id', _ID, nullable=True))
    op.create_foreign_key(op.f('fk_award_conflict_recorded_by_id_user_account'), 'award_conflict', 'user_account',
                          ['recorded_by_id'], ['id'], ondelete='SET NULL')
    op.add_column('award_criterion', sa.Column('description_ar', sa.Text(), server_default='', nullable=False))

    op.add_column('user_account', sa.Column('display_name', sa.String(length=80), nullable=True))
    op.add_column('user_account', sa.Column('national_id', sa.String(length=10), nullable=True))
    op.add_column('user_account', sa.Column('oidc_subject', sa.String(length=255), nullable=True))
    op.add_column('user_account', sa.Column('email_verified_at', _TS, nullable=True))
    op.add_column('user_account', sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))
    op.add_column('user_account', sa.Column('totp_secret', sa.String(length=64), nullable=True))
    op.add_column('user_account', sa.Column('totp_enabled_at', _TS, nullable=True))
    op.add_column('user_account', sa.Column('erased_at', _TS, nullable=True))
    op.create_unique_constraint(op.f('uq_user_account_national_id'), 'user_account', ['national_id'])
    op.create_unique_constraint(op.f('uq_user_account_oidc_subject'), 'user_account', ['oidc_subject'])
    # Accounts made before verification existed keep signing in: their e-mail counts as verified.
    op.execute("UPDATE user_account SET email_verified_at = created_at")
    op.drop_column('user_account', 'locked_until')
    op.drop_column('user_account', 'failed_logins')


def downgrade() -> None:
    op.add_column('user_account', sa.Column('failed_logins', sa.INTEGER(), server_default='0', nullable=False))
    op.add_column('user_account', sa.Column('locked_until', postgresql.TIMESTAMP(timezone=True), nullable=True))
    op.drop_constraint(op.f('uq_user_account_oidc_subject'), 'user_account', type_='unique')
    op.drop_constraint(op.f('uq_user_account_national_id'), 'user_account', type_='unique')
    for column in ('erased_at', 'totp_enabled_at', 'totp_secret', 'session_epoch', 'email_verified_at',
                   'oidc_subject', 'national_id', 'display_name'):
        op.drop_column('user_account', column)
    op.drop_column('award_criterion', 'description_ar')
    op.drop_constraint(op.f('fk_award_conflict_recorded_by_id_user_account'), 'award_conflict', type_='foreignkey')
    op.drop_column('award_conflict', 'recorded_by_id')
    op.execute("DELETE FROM award_branch WHERE code = 'custom'")
    op.drop_constraint(op.f('ck_award_branch_branch_code'), 'award_branch', type_='check')
    op.create_check_constraint('branch_code', 'award_branch', sa.column('code').in_(_BRANCHES))
    op.drop_constraint('uq_award_branch_edition_slug', 'award_branch', type_='unique')
    op.drop_index('uq_award_branch_edition_code', table_name='award_branch',
                  postgresql_where=sa.text("code <> 'custom'"))
    op.create_unique_constraint('uq_award_branch_edition_code', 'award_branch', ['edition_id', 'code'])
    for column in ('description_en', 'description_ar', 'slug'):
        op.drop_column('award_branch', column)
    op.drop_column('service', 'sla_days')
    op.drop_column('service', 'position')
    op.drop_column('agency', 'contact_email')
    op.drop_column('agency', 'sla_by_kind')
    op.drop_index(op.f('ix_recovery_code_user_id'), table_name='recovery_code')
    op.drop_table('recovery_code')
    op.drop_index(op.f('ix_account_token_user_id'), table_name='account_token')
    op.drop_table('account_token')
    op.drop_index(op.f('ix_sign_in_failure_account'), table_name='sign_in_failure')
    op.drop_table('sign_in_failure')
