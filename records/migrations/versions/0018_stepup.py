"""step-up confirmation: pending binding decisions, passkeys, TOTP secrets, registration challenges

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stepup_requests",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("record_id", BigId, nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("step_position", sa.Integer(), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("challenge", sa.String(length=128), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stepup_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_stepup_requests_token_hash")),
    )
    op.create_index(op.f("ix_stepup_requests_user_id"), "stepup_requests", ["user_id"], unique=False)
    op.create_table(
        "stepup_passkeys",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("credential_id", sa.String(length=1024), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", BigId, nullable=False),
        sa.Column("transports", sa.JSON(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stepup_passkeys")),
    )
    op.create_index(op.f("ix_stepup_passkeys_user_id"), "stepup_passkeys", ["user_id"], unique=False)
    op.create_index("ix_stepup_passkeys_credential_id", "stepup_passkeys", ["credential_id"], unique=True)
    op.create_table(
        "stepup_totp",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", BigId, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_stepup_totp")),
    )
    op.create_table(
        "stepup_registrations",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("challenge", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_stepup_registrations")),
    )


def downgrade() -> None:
    op.drop_table("stepup_registrations")
    op.drop_table("stepup_totp")
    op.drop_index("ix_stepup_passkeys_credential_id", table_name="stepup_passkeys")
    op.drop_index(op.f("ix_stepup_passkeys_user_id"), table_name="stepup_passkeys")
    op.drop_table("stepup_passkeys")
    op.drop_index(op.f("ix_stepup_requests_user_id"), table_name="stepup_requests")
    op.drop_table("stepup_requests")
