"""Monthly billing summaries: tokens and cost per client, by model and provider, and the
price to charge with the plan's markup (``plan_budgets.markup_percent``, 30 % by default).

Read from the monthly roll-up: a month of every client is one row per client x model.
Each line also says how many prompt tokens were read from / written to the providers'
prompt caches and what that saved (``prompt_cache_saved_*``, already netted in cost).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ai_gateway.storage.analytics import Window
from ai_gateway.storage.tables import Client, PlanBudget, UsageMonthly

__all__ = ["DEFAULT_MARKUP_PERCENT", "billing_summaries"]

DEFAULT_MARKUP_PERCENT = Decimal(30)
_EXACT = Decimal("1e-10")
ZERO = Decimal(0)
_MONEY = ("cost_usd", "cost_brl", "prompt_cache_saved_usd", "prompt_cache_saved_brl")


def _sums() -> list[Any]:
    d = UsageMonthly
    return [
        func.sum(d.requests).label("requests"),
        func.sum(d.input_tokens).label("input_tokens"),
        func.sum(d.output_tokens).label("output_tokens"),
        func.sum(d.cached_tokens).label("cached_tokens"),
        func.sum(d.cache_write_tokens).label("cache_write_tokens"),
        func.sum(d.cost_usd).label("cost_usd"),
        func.sum(d.cost_brl).label("cost_brl"),
        func.sum(d.prompt_cache_saved_usd).label("prompt_cache_saved_usd"),
        func.sum(d.prompt_cache_saved_brl).label("prompt_cache_saved_brl"),
    ]


def _line(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    for name in ("requests", "input_tokens", "output_tokens", "cached_tokens"):
        data[name] = int(data[name] or 0)
    data["cache_write_tokens"] = int(data["cache_write_tokens"] or 0)
    data["total_tokens"] = data["input_tokens"] + data["output_tokens"]
    for name in _MONEY:
        data[name] = data[name] or Decimal(0)
    return data


def billing_summaries(
    session: Session, *, window: Window, client_id: str | None
) -> list[dict[str, Any]]:
    """One summary per client with usage in the month starting at ``window.first_day``
    (or just ``client_id``'s, usage or not), ordered by cost."""
    m = UsageMonthly
    where = [m.month == window.first_day.strftime("%Y-%m")]
    if client_id is not None:
        where.append(m.client_id == client_id)
    # One row per client x model x provider; the model and provider breakdowns are
    # regroupings of those few lines.
    lines = session.execute(
        select(m.client_id, m.model_id, m.provider, *_sums())
        .where(*where)
        .group_by(m.client_id, m.model_id, m.provider)
    ).all()
    ids = {client_id} if client_id is not None else {line.client_id for line in lines}
    summaries = {cid: _summary(row) for cid, row in _clients(session, ids).items()}
    for line in lines:
        summary = summaries.get(line.client_id)
        if summary is None:
            continue
        data = _line(line)
        for dimension, name in (("by_model", line.model_id), ("by_provider", line.provider)):
            _add(summary[dimension], name, data)
    for summary in summaries.values():
        for dimension in ("by_model", "by_provider"):
            summary[dimension] = sorted(
                summary[dimension].values(), key=lambda x: (-x["cost_usd"], x["name"])
            )
        _price(summary)
    return sorted(summaries.values(), key=lambda s: (-s["cost_brl"], s["client_id"]))


def _clients(session: Session, ids: set[str]) -> dict[str, Any]:
    if not ids:
        return {}
    query = (
        select(Client.id, Client.name, Client.plan, PlanBudget.markup_percent)
        .join(PlanBudget, PlanBudget.plan == Client.plan, isouter=True)
        .where(Client.id.in_(sorted(ids)))
    )
    return {row.id: row for row in session.execute(query)}


def _summary(row: Any) -> dict[str, Any]:
    markup = row.markup_percent if row.markup_percent is not None else DEFAULT_MARKUP_PERCENT
    return {
        "client_id": row.id,
        "client_name": row.name,
        "plan": row.plan,
        "markup_percent": markup,
        "by_model": {},
        "by_provider": {},
    }


_COUNTS = (
    "requests",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "total_tokens",
)


def _add(group: dict[str, dict[str, Any]], name: str, data: dict[str, Any]) -> None:
    into = group.setdefault(
        name, {"name": name, **dict.fromkeys(_COUNTS, 0), **dict.fromkeys(_MONEY, ZERO)}
    )
    for field in (*_COUNTS, *_MONEY):
        into[field] += data[field]


def _price(summary: dict[str, Any]) -> None:
    lines = summary["by_model"]
    for name in _COUNTS:
        summary[name] = sum(line[name] for line in lines)
    for name in ("prompt_cache_saved_usd", "prompt_cache_saved_brl"):
        summary[name] = sum((line[name] for line in lines), Decimal(0))
    cost_usd = sum((line["cost_usd"] for line in lines), Decimal(0))
    cost_brl = sum((line["cost_brl"] for line in lines), Decimal(0))
    factor = 1 + summary["markup_percent"] / 100
    price_usd = (cost_usd * factor).quantize(_EXACT, ROUND_HALF_UP)
    price_brl = (cost_brl * factor).quantize(_EXACT, ROUND_HALF_UP)
    summary.update(
        cost_usd=cost_usd,
        cost_brl=cost_brl,
        suggested_price_usd=price_usd,
        suggested_price_brl=price_brl,
        margin_usd=price_usd - cost_usd,
        margin_brl=price_brl - cost_brl,
    )
