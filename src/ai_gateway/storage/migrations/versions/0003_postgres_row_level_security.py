"""Row-level security on every tenant table (PostgreSQL only; a no-op on SQLite).

A tenant-scoped transaction switches to the ``ai_gateway_tenant`` role and sets
``ai_gateway.client_id``; the policies then show and accept only that client's rows, even
for a query that forgets its WHERE. The owner role (the service's own connection) is not
subject to RLS, which is how admin work and the background writers see every row; a
tenant-role transaction that sets ``ai_gateway.is_admin = on`` sees all rows as well.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ROLE = "ai_gateway_tenant"
#: table -> the column that names the owning client
TENANT_TABLES = {
    "clients": "id",
    "api_keys": "client_id",
    "gateway_usage_logs": "client_id",
    "gateway_cache_performance": "client_id",
    "client_budgets": "client_id",
    "budget_alerts": "client_id",
    "audit_logs": "client_id",
}
_CONDITION = (
    "(current_setting('ai_gateway.is_admin', true) = 'on' "
    "OR {column} = current_setting('ai_gateway.client_id', true))"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
                CREATE ROLE {ROLE} NOLOGIN;
            END IF;
        END $$;
    """)
    op.execute(f"GRANT {ROLE} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
    op.execute(
        "GRANT SELECT ON ai_models_registry, plan_budgets, model_price_history, "
        f"exchange_rates TO {ROLE}"
    )
    for table, column in TENANT_TABLES.items():
        condition = _CONDITION.format(column=column)
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING {condition} WITH CHECK {condition}"
        )
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON {table} FROM {ROLE}")
    op.execute(
        "REVOKE ALL ON ai_models_registry, plan_budgets, model_price_history, "
        f"exchange_rates FROM {ROLE}"
    )
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {ROLE}")
