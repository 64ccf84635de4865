"""enterprises.time_zone: the enterprise's own clock

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    # existing enterprises keep the clock every page used before: China's
    with op.batch_alter_table("enterprises") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=False,
                                   server_default="Asia/Shanghai"))


def downgrade() -> None:
    with op.batch_alter_table("enterprises") as batch:
        batch.drop_column("time_zone")
