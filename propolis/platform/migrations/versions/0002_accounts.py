"""accounts: token devices, login history, login throttle, captchas

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("access_tokens") as batch:
        batch.add_column(sa.Column("public_id", sa.String(26)))
        batch.add_column(sa.Column("user_agent", sa.String(300)))
        batch.add_column(sa.Column("ip", sa.String(64)))
        batch.add_column(sa.Column("device_id", sa.String(64)))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("flags", sa.JSON))
    # tokens issued before this revision get an id derived from their hash
    op.execute("UPDATE access_tokens SET public_id = substr(token_hash, 1, 26), "
               "flags = '[]'")
    with op.batch_alter_table("access_tokens") as batch:
        batch.alter_column("public_id", existing_type=sa.String(26), nullable=False)
        batch.alter_column("flags", existing_type=sa.JSON, nullable=False)
        batch.create_unique_constraint("uq_access_tokens_public_id", ["public_id"])

    op.create_table(
        "login_events",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("enterprise_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("ip_range", sa.String(64)),
        sa.Column("user_agent", sa.String(300)),
        sa.Column("device_id", sa.String(64)),
        sa.Column("flags", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_events"),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name="fk_login_events_enterprise_id_enterprises",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_login_events_user_id_at", "login_events", ["user_id", "at"])
    op.create_index("ix_login_events_enterprise_id_at", "login_events",
                    ["enterprise_id", "at"])

    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("key", name="pk_login_throttle"),
    )
    op.create_index("ix_login_throttle_last_failure_at", "login_throttle",
                    ["last_failure_at"])

    op.create_table(
        "captchas",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("answer_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_captchas"),
    )
    op.create_index("ix_captchas_expires_at", "captchas", ["expires_at"])


def downgrade() -> None:
    op.drop_table("captchas")
    op.drop_table("login_throttle")
    op.drop_table("login_events")
    with op.batch_alter_table("access_tokens") as batch:
        batch.drop_constraint("uq_access_tokens_public_id", type_="unique")
        for name in ("flags", "last_used_at", "device_id", "ip", "user_agent",
                     "public_id"):
            batch.drop_column(name)
