"""Demo data for ``ai-gateway serve --demo``: a few clients and three weeks of traffic.

Seeding is idempotent: the first run creates the clients, their budgets, an admin key and
a client key (printed once: keys are stored only as hashes) and writes ~3 weeks of usage
rows; later runs find the demo clients and change nothing. The rows go through
``storage.usage.write_usage_batch``, the usage writer's own function, so the daily
roll-ups, the latency histograms, the cache roll-up and the budget counters move exactly
as with live traffic. Calls are attributed to the ``simulated`` provider (no network; the
model ``simulated/demo-chat`` is added and made the default, so live calls work offline)
and to the seeded real models, whose prices make the costs realistic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ai_gateway.rules.budget_rules import DEFAULT_THRESHOLDS
from ai_gateway.rules.periods import period_bounds
from ai_gateway.storage.api_keys import issue_key
from ai_gateway.storage.budgets import BudgetSettings, effective_budget, set_client_budget
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.models_registry import create_model, update_model
from ai_gateway.storage.shared_config import get_shared_config, update_shared_config
from ai_gateway.storage.tables import AiModel, Client, new_id
from ai_gateway.storage.usage import UsageRecord, write_usage_batch

__all__ = ["DEMO_MODEL", "DemoKeys", "seed_demo"]

DEMO_MODEL = "simulated/demo-chat"
DAYS = 21
RATE = Decimal("5.20")  # BRL per USD for the demo rows
_ACTOR = "demo-seed"


@dataclass(frozen=True)
class _DemoClient:
    name: str
    plan: str
    calls_per_day: int
    budget: BudgetSettings
    conversations: int


CLIENTS = (
    _DemoClient("Loja Aurora", "pro", 160, BudgetSettings("brl", Decimal("10"), "monthly"), 60),
    _DemoClient(
        "Clínica Sorriso",
        "enterprise",
        110,
        BudgetSettings("tokens", Decimal("2000000"), "monthly", DEFAULT_THRESHOLDS, True),
        40,
    ),
    _DemoClient("Pizzaria Napoli", "pro", 70, BudgetSettings("brl", Decimal("0.40"), "weekly"), 30),
    _DemoClient(
        "Imobiliária Horizonte", "pro", 35, BudgetSettings("usd", Decimal("0.50"), "monthly"), 15
    ),
)

#: model -> (provider, share of calls, median latency ms, USD per 1M in/out)
_TRAFFIC = {
    DEMO_MODEL: ("simulated", 0.30, 380, ("0.10", "0.40")),
    "openai/gpt-4o-mini": ("openai", 0.35, 620, ("0.15", "0.60")),
    "groq/llama-3.3-70b": ("groq", 0.20, 240, ("0.59", "0.79")),
    "anthropic/claude-3-5-sonnet": ("anthropic", 0.10, 1400, ("3.00", "15.00")),
    "google/gemini-2.0-flash": ("google", 0.05, 520, ("0.10", "0.40")),
}


@dataclass(frozen=True)
class DemoKeys:
    admin_key: str
    client_key: str
    client_name: str


def seed_demo(
    db: Database, *, now: datetime | None = None, seed: int = 7, scale: float = 1.0
) -> DemoKeys | None:
    """Seed once; returns the new keys, or None when the demo data was already there.
    ``scale`` multiplies the traffic (tests use less)."""
    now = now or datetime.now(UTC)
    with db.write() as s:
        if s.scalar(select(Client.id).where(Client.name == CLIENTS[0].name)) is not None:
            return None
        _ensure_demo_model(s)
        rng = random.Random(seed)
        client_key = ""
        for spec in CLIENTS:
            client = create_client(s, name=spec.name, plan=spec.plan, use_ai_gateway=True)
            set_client_budget(
                s, client_id=client.id, settings=_scaled(spec.budget, scale), actor=_ACTOR, now=now
            )
            budget = effective_budget(s, client_id=client.id)
            start = (
                budget.period_start
                or period_bounds(period=budget.period, tz=budget.timezone, now=now)[0]
            )
            records = [
                _record(row, spec.budget.budget_type, start)
                for row in _traffic(rng, client.id, spec, now, scale)
            ]
            for i in range(0, len(records), 1000):
                write_usage_batch(s, records[i : i + 1000])
            if not client_key:
                client_key = issue_key(s, role="client", client_id=client.id, name="demo").plain
        admin_key = issue_key(s, role="admin", name="demo admin").plain
    return DemoKeys(admin_key=admin_key, client_key=client_key, client_name=CLIENTS[0].name)


def _scaled(budget: BudgetSettings, scale: float) -> BudgetSettings:
    """The budget for ``scale`` times the traffic, so the bars look the same."""
    limit = (budget.limit * Decimal(str(scale))).quantize(Decimal("0.01"))
    if budget.budget_type == "tokens":
        limit = limit.to_integral_value()
    return replace(budget, limit=limit)


def _ensure_demo_model(s: Session) -> None:
    """The ``simulated`` model (active) as the default, and a fallback chain if none."""
    if s.get(AiModel, DEMO_MODEL) is None:
        create_model(
            s,
            model_id=DEMO_MODEL,
            values={
                "provider": "simulated",
                "model_name": "demo-chat",
                "display_name": "Simulated demo chat",
                "input_price_per_1m": Decimal("0.10"),
                "output_price_per_1m": Decimal("0.40"),
                "context_window": 128_000,
                "capabilities": ["chat", "streaming", "json"],
                "aliases": [],
            },
            source="demo",
        )
    else:
        update_model(s, model_id=DEMO_MODEL, changes={"is_active": True}, source="demo")
    changes: dict[str, object] = {"default_model": DEMO_MODEL}
    if not get_shared_config(s).fallback_chain:
        changes["fallback_chain"] = [DEMO_MODEL, "openai/gpt-4o-mini", "groq/llama-3.3-70b"]
    update_shared_config(s, changes=changes)


def _record(row: dict[str, object], budget_type: str, period_start: datetime) -> UsageRecord:
    """The row, counted in the client's budget when it falls in the current period."""
    amount = Decimal(0)
    created = row["created_at"]
    assert isinstance(created, datetime)
    if created >= period_start and row["status"] == "success":
        if budget_type == "tokens":
            if not row["cache_hit"]:
                amount = Decimal(int(str(row["input_tokens"])) + int(str(row["output_tokens"])))
        else:
            amount = Decimal(str(row["cost_brl" if budget_type == "brl" else "cost_usd"]))
    return UsageRecord(row=row, budget_amount=amount, cache_lookup=True)


def _traffic(
    rng: random.Random, client_id: str, spec: _DemoClient, now: datetime, scale: float
) -> list[dict[str, object]]:
    models = list(_TRAFFIC)
    weights = [_TRAFFIC[m][1] for m in models]
    rows: list[dict[str, object]] = []
    for day in range(DAYS, -1, -1):
        # Weekdays are busier; traffic grows a little over the three weeks.
        base = now - timedelta(days=day)
        weekday = 0.6 if base.weekday() >= 5 else 1.0
        volume = spec.calls_per_day * scale * weekday * (1 + (DAYS - day) / 60)
        for _ in range(int(rng.gauss(volume, volume * 0.1))):
            created = base.replace(hour=0, minute=0, second=0) + timedelta(
                seconds=rng.triangular(7 * 3600, 23.5 * 3600, 14 * 3600) + 3 * 3600
            )
            if created > now:
                continue
            model = rng.choices(models, weights)[0]
            conversation = f"wa:55119{rng.randrange(spec.conversations):07d}"
            rows.append(_call(rng, client_id, model, conversation, created))
    return rows


def _call(
    rng: random.Random, client_id: str, model: str, conversation: str, created: datetime
) -> dict[str, object]:
    provider, _share, median, (price_in, price_out) = _TRAFFIC[model]
    input_tokens = int(rng.lognormvariate(6.2, 0.5))  # ~500 tokens of history + prompt
    output_tokens = int(rng.lognormvariate(4.6, 0.6))  # ~100 tokens of answer
    cache_hit = rng.random() < 0.18
    failed = not cache_hit and rng.random() < 0.02
    fallback = not cache_hit and not failed and rng.random() < 0.03
    model_used, fallback_from = model, None
    if fallback:
        fallback_from = model
        model_used = "groq/llama-3.3-70b" if model != "groq/llama-3.3-70b" else DEMO_MODEL
        provider = _TRAFFIC[model_used][0]
    latency = 4 if cache_hit else int(rng.lognormvariate(0, 0.45) * median * (2 if fallback else 1))
    cost_usd = (
        Decimal(input_tokens) * Decimal(price_in) + Decimal(output_tokens) * Decimal(price_out)
    ) / Decimal(1_000_000)
    cost_usd = cost_usd.quantize(Decimal("0.0000000001"))
    charged = Decimal(0) if cache_hit or failed else cost_usd
    return {
        "id": new_id(),
        "client_id": client_id,
        "conversation_id": conversation,
        "request_id": new_id(),
        "model_requested": model,
        "model_used": None if failed else model_used,
        "provider": provider,
        "route": "direct",
        "is_stream": rng.random() < 0.3,
        "input_tokens": 0 if failed else input_tokens,
        "output_tokens": 0 if failed else output_tokens,
        "cached_tokens": 0,
        "cost_usd": charged,
        "cost_brl": (charged * RATE).quantize(Decimal("0.0000000001")),
        "exchange_rate": RATE,
        "input_price_per_1m": Decimal(price_in),
        "output_price_per_1m": Decimal(price_out),
        "latency_ms": 0 if failed else latency,
        "cache_hit": cache_hit,
        "saved_usd": cost_usd if cache_hit else Decimal(0),
        "saved_brl": (cost_usd * RATE).quantize(Decimal("0.0000000001"))
        if cache_hit
        else Decimal(0),
        "fallback_from": fallback_from,
        "fallback_attempts": 1 if fallback else 0,
        "fallback_reason": "server_error" if fallback else None,
        "status": "error" if failed else "success",
        "error_code": "upstream_error" if failed else None,
        "created_at": created,
    }
