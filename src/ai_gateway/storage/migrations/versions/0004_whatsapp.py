"""WhatsApp numbers and messages (issue 8), with row-level security on PostgreSQL.

``whatsapp_messages.wamid`` is UNIQUE: the webhook claims an inbound message by inserting
it, so a message Meta delivers twice (or two replicas receive at once) is answered once.

Revision ID: 0004_whatsapp
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ai_gateway.storage.types

revision = "0004_whatsapp"
down_revision = "0003"
branch_labels = None
depends_on = None

ROLE = "ai_gateway_tenant"
#: table -> the column that names the owning client (the pattern of 0003)
TENANT_TABLES = {"whatsapp_numbers": "client_id", "whatsapp_messages": "client_id"}
_CONDITION = (
    "(current_setting('ai_gateway.is_admin', true) = 'on' "
    "OR {column} = current_setting('ai_gateway.client_id', true))"
)


def _datetime() -> ai_gateway.storage.types.UTCDateTime:
    return ai_gateway.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "whatsapp_numbers",
        sa.Column("phone_number_id", sa.String(length=50), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("history_length", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.CheckConstraint(
            "history_length >= 0 AND history_length <= 100", name="ck_whatsapp_history_length"
        ),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("phone_number_id"),
    )
    with op.batch_alter_table("whatsapp_numbers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_whatsapp_numbers_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "whatsapp_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("phone_number_id", sa.String(length=50), nullable=False),
        sa.Column("contact_wa_id", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("wamid", sa.String(length=255), nullable=True),
        sa.Column("message_type", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.CheckConstraint("direction IN ('in', 'out')", name="ck_whatsapp_direction"),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.ForeignKeyConstraint(["phone_number_id"], ["whatsapp_numbers.phone_number_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("wamid"),
    )
    with op.batch_alter_table("whatsapp_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_whatsapp_messages_contact",
            ["phone_number_id", "contact_wa_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_whatsapp_messages_client_time", ["client_id", "created_at"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        _enable_row_level_security()


def _enable_row_level_security() -> None:
    for table, column in TENANT_TABLES.items():
        condition = _CONDITION.format(column=column)
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING {condition} WITH CHECK {condition}"
        )
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
            op.execute(f"REVOKE ALL ON {table} FROM {ROLE}")
    with op.batch_alter_table("whatsapp_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_whatsapp_messages_client_time")
        batch_op.drop_index("ix_whatsapp_messages_contact")
    op.drop_table("whatsapp_messages")
    with op.batch_alter_table("whatsapp_numbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whatsapp_numbers_client_id"))
    op.drop_table("whatsapp_numbers")
