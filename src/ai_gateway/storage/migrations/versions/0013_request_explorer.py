"""The request explorer's opt-in body storage (LGPD).

* ``clients.store_bodies`` (off by default) and ``clients.body_retention_days``: a client
  (or the operator for it) may choose to keep its prompts and answers, for that many days.
* ``request_bodies``: one row per call of a client that opted in, keyed by the usage
  row's id, with an expiry; a tenant table (RLS on PostgreSQL). The daily
  ``purge-request-bodies`` job deletes expired rows.

Revision ID: 0013_request_explorer
Revises: 0011_endpoints
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ai_gateway.storage.types import UTCDateTime

revision = "0013_request_explorer"
down_revision = "0011_endpoints"
branch_labels = None
depends_on = None

ROLE = "ai_gateway_tenant"
_CONDITION = (
    "(current_setting('ai_gateway.is_admin', true) = 'on' "
    "OR client_id = current_setting('ai_gateway.client_id', true))"
)


def upgrade() -> None:
    op.add_column(
        "clients",
        sa.Column("store_bodies", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "clients",
        sa.Column("body_retention_days", sa.Integer(), nullable=False, server_default="30"),
    )
    op.create_table(
        "request_bodies",
        sa.Column("usage_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("request", sa.JSON(), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("usage_id"),
    )
    op.create_index("ix_request_bodies_client", "request_bodies", ["client_id", "created_at"])
    op.create_index("ix_request_bodies_expiry", "request_bodies", ["expires_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON request_bodies TO {ROLE}")
        op.execute("ALTER TABLE request_bodies ENABLE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY tenant_isolation ON request_bodies "
            f"USING {_CONDITION} WITH CHECK {_CONDITION}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS tenant_isolation ON request_bodies")
        op.execute(f"REVOKE ALL ON request_bodies FROM {ROLE}")
    op.drop_index("ix_request_bodies_expiry", table_name="request_bodies")
    op.drop_index("ix_request_bodies_client", table_name="request_bodies")
    op.drop_table("request_bodies")
    op.execute("ALTER TABLE clients DROP COLUMN body_retention_days")
    op.execute("ALTER TABLE clients DROP COLUMN store_bodies")
