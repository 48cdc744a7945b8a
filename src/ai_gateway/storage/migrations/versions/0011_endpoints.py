"""Endpoints beside chat: a model ``kind``, a per-minute price, the usage row's
``endpoint``, stored Responses, and the embedding / transcription / simulated models.

* ``ai_models_registry.kind`` (``chat``, ``embedding``, ``transcription``) tells which
  endpoint may call a model; ``price_per_minute`` (USD per minute of audio) prices
  transcriptions, which have no tokens.
* ``gateway_usage_logs.endpoint`` records which wire format the call came in on
  (``chat.completions``, ``responses``, ``messages``, ``embeddings``,
  ``audio.transcriptions``); old rows are chat completions, the only endpoint there was.
* ``stored_responses`` keeps ``/v1/responses`` conversations (``store`` +
  ``previous_response_id``) per client, with an expiry; a tenant table (RLS on PostgreSQL).

``0012_simulated_models_active`` (which runs first) already seeds ``simulated/demo-chat``:
only missing models are inserted here, and a model that already exists keeps its row and
prices but gets the kind this migration knows for it. The downgrade leaves
``simulated/demo-chat`` to 0012's downgrade.

Revision ID: 0011_endpoints
Revises: 0012_simulated_models_active
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

from ai_gateway.storage.types import Money, UTCDateTime

revision = "0011_endpoints"
down_revision = "0012_simulated_models_active"
branch_labels = None
depends_on = None

ROLE = "ai_gateway_tenant"
_CONDITION = (
    "(current_setting('ai_gateway.is_admin', true) = 'on' "
    "OR client_id = current_setting('ai_gateway.client_id', true))"
)

# id, provider, upstream name, display name, kind, input/1M, output/1M, per minute, caps
MODELS: list[tuple[str, str, str, str, str, str | None, str | None, str | None, list[str]]] = [
    (
        "simulated/demo-chat",
        "simulated",
        "demo-chat",
        "Simulated demo chat",
        "chat",
        "0.10",
        "0.40",
        None,
        ["chat", "streaming", "json"],
    ),
    (
        "simulated/demo-embed",
        "simulated",
        "demo-embed",
        "Simulated demo embeddings",
        "embedding",
        "0.02",
        "0",
        None,
        ["embeddings"],
    ),
    (
        "simulated/demo-transcribe",
        "simulated",
        "demo-transcribe",
        "Simulated demo transcription",
        "transcription",
        None,
        None,
        "0.006",
        ["transcription"],
    ),
    (
        "openai/text-embedding-3-small",
        "openai",
        "text-embedding-3-small",
        "text-embedding-3-small",
        "embedding",
        "0.02",
        "0",
        None,
        ["embeddings"],
    ),
    (
        "openai/text-embedding-3-large",
        "openai",
        "text-embedding-3-large",
        "text-embedding-3-large",
        "embedding",
        "0.13",
        "0",
        None,
        ["embeddings"],
    ),
    (
        "google/gemini-embedding-001",
        "google",
        "gemini-embedding-001",
        "Gemini Embedding 001",
        "embedding",
        "0.15",
        "0",
        None,
        ["embeddings"],
    ),
    (
        "openai/whisper-1",
        "openai",
        "whisper-1",
        "Whisper",
        "transcription",
        None,
        None,
        "0.006",
        ["transcription"],
    ),
    (
        "openai/gpt-4o-mini-transcribe",
        "openai",
        "gpt-4o-mini-transcribe",
        "GPT-4o mini Transcribe",
        "transcription",
        None,
        None,
        "0.003",
        ["transcription"],
    ),
    # Groq lists $0.111 and $0.04 per hour of audio.
    (
        "groq/whisper-large-v3",
        "groq",
        "whisper-large-v3",
        "Whisper Large v3 (Groq)",
        "transcription",
        None,
        None,
        "0.00185",
        ["transcription"],
    ),
    (
        "groq/whisper-large-v3-turbo",
        "groq",
        "whisper-large-v3-turbo",
        "Whisper Large v3 Turbo (Groq)",
        "transcription",
        None,
        None,
        "0.000667",
        ["transcription"],
    ),
]

_models = sa.table(
    "ai_models_registry",
    sa.column("id", sa.String),
    sa.column("provider", sa.String),
    sa.column("model_name", sa.String),
    sa.column("display_name", sa.String),
    sa.column("kind", sa.String),
    sa.column("input_price_per_1m", Money(18, 6)),
    sa.column("output_price_per_1m", Money(18, 6)),
    sa.column("price_per_minute", Money(18, 6)),
    sa.column("capabilities", sa.JSON),
    sa.column("aliases", sa.JSON),
    sa.column("is_active", sa.Boolean),
    sa.column("created_at", UTCDateTime),
    sa.column("updated_at", UTCDateTime),
)
_history = sa.table(
    "model_price_history",
    sa.column("model_id", sa.String),
    sa.column("input_price_per_1m", Money(18, 6)),
    sa.column("output_price_per_1m", Money(18, 6)),
    sa.column("source", sa.String),
    sa.column("effective_at", UTCDateTime),
)


def _price(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _row(model: tuple[Any, ...], now: datetime) -> dict[str, Any]:
    model_id, provider, name, display, kind, input_price, output_price, per_minute, caps = model
    return {
        "id": model_id,
        "provider": provider,
        "model_name": name,
        "display_name": display,
        "kind": kind,
        "input_price_per_1m": _price(input_price),
        "output_price_per_1m": _price(output_price),
        "price_per_minute": _price(per_minute),
        "capabilities": caps,
        "aliases": [],
        "is_active": True,
        "created_at": now,
        "updated_at": now,
    }


def upgrade() -> None:
    op.add_column(
        "ai_models_registry",
        sa.Column("kind", sa.String(length=16), nullable=False, server_default="chat"),
    )
    op.add_column("ai_models_registry", sa.Column("price_per_minute", Money(18, 6)))
    op.add_column(
        "gateway_usage_logs",
        sa.Column(
            "endpoint", sa.String(length=32), nullable=False, server_default="chat.completions"
        ),
    )
    op.create_table(
        "stored_responses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("conversation", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stored_responses_client", "stored_responses", ["client_id", "created_at"])
    op.create_index("ix_stored_responses_expiry", "stored_responses", ["expires_at"])

    now = datetime.now(UTC)
    existing = set(op.get_bind().scalars(sa.select(_models.c.id)))
    rows = [_row(model, now) for model in MODELS if model[0] not in existing]
    # 0012 (or `serve --demo`) may have added simulated/demo-chat already: keep that row,
    # and give every model that already exists the kind it has here.
    for model in MODELS:
        if model[0] in existing:
            op.execute(
                sa.update(_models)
                .where(_models.c.id == model[0], _models.c.kind != model[4])
                .values(kind=model[4])
            )
    if rows:
        op.bulk_insert(_models, rows)
        op.bulk_insert(
            _history,
            [
                {
                    "model_id": row["id"],
                    "input_price_per_1m": row["input_price_per_1m"],
                    "output_price_per_1m": row["output_price_per_1m"],
                    "source": "seed",
                    "effective_at": now,
                }
                for row in rows
            ],
        )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON stored_responses TO {ROLE}")
        op.execute("ALTER TABLE stored_responses ENABLE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY tenant_isolation ON stored_responses "
            f"USING {_CONDITION} WITH CHECK {_CONDITION}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS tenant_isolation ON stored_responses")
        op.execute(f"REVOKE ALL ON stored_responses FROM {ROLE}")
    ids = [m[0] for m in MODELS if m[0] != "simulated/demo-chat"]
    op.execute(sa.delete(_history).where(_history.c.model_id.in_(ids)))
    op.execute(sa.delete(_models).where(_models.c.id.in_(ids)))
    op.drop_index("ix_stored_responses_expiry", table_name="stored_responses")
    op.drop_index("ix_stored_responses_client", table_name="stored_responses")
    op.drop_table("stored_responses")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 has it): a batch copy of
    # ai_models_registry would drop a table that model_price_history references.
    op.execute("ALTER TABLE gateway_usage_logs DROP COLUMN endpoint")
    op.execute("ALTER TABLE ai_models_registry DROP COLUMN price_per_minute")
    op.execute("ALTER TABLE ai_models_registry DROP COLUMN kind")
