"""enterprises and access tokens

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "enterprises",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account", sa.String(31), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("extensions", sa.JSON, nullable=False),
        sa.Column("metadata_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True),
                  server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enterprises"),
        sa.UniqueConstraint("account", name="uq_enterprises_account"),
    )
    op.create_table(
        "access_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("enterprise_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("token_hash", name="pk_access_tokens"),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name="fk_access_tokens_enterprise_id_enterprises",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_access_tokens_enterprise_id", "access_tokens",
                    ["enterprise_id"])
    op.create_index("ix_access_tokens_user_id", "access_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_table("access_tokens")
    op.drop_table("enterprises")
