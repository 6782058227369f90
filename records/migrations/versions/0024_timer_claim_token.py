"""timers carry the token of the claim round that holds them

A job runs only the timers still held by its claim's token, so a job that waited in the queue
past its lease (and whose timers were claimed again into another job) runs nothing twice.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("timers") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("timers") as batch:
        batch.drop_column("claim_token")
