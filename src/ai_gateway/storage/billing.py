"""Monthly billing summaries: tokens and cost per client, by model and provider, and the
price to charge with the plan's markup (``plan_budgets.markup_percent``, 30 % by default).

Read from the daily roll-up, so a month of every client is a few thousand rows at most.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session

from ai_gateway.storage.analytics import Window
from ai_gateway.storage.tables import Client, PlanBudget, UsageDaily

__all__ = ["DEFAULT_MARKUP_PERCENT", "billing_summaries"]

DEFAULT_MARKUP_PERCENT = Decimal(30)
_EXACT = Decimal("1e-10")


def _sums() -> list[Any]:
    d = UsageDaily
    return [
        func.sum(d.requests).label("requests"),
        func.sum(d.input_tokens).label("input_tokens"),
        func.sum(d.output_tokens).label("output_tokens"),
        func.sum(d.cached_tokens).label("cached_tokens"),
        func.sum(d.cost_usd).label("cost_usd"),
        func.sum(d.cost_brl).label("cost_brl"),
    ]


def _line(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    for name in ("requests", "input_tokens", "output_tokens", "cached_tokens"):
        data[name] = int(data[name] or 0)
    data["total_tokens"] = data["input_tokens"] + data["output_tokens"]
    data["cost_usd"] = data["cost_usd"] or Decimal(0)
    data["cost_brl"] = data["cost_brl"] or Decimal(0)
    return data


def billing_summaries(
    session: Session, *, window: Window, client_id: str | None
) -> list[dict[str, Any]]:
    """One summary per client with usage in the window (or just ``client_id``'s, usage or
    not), ordered by cost."""
    first, end = window.days()
    where = [UsageDaily.day >= first, UsageDaily.day < end]
    clients = select(Client.id, Client.name, Client.plan, PlanBudget.markup_percent).join(
        PlanBudget, PlanBudget.plan == Client.plan, isouter=True
    )
    if client_id is not None:
        where.append(UsageDaily.client_id == client_id)
        clients = clients.where(Client.id == client_id)
    else:
        active = select(UsageDaily.client_id).where(*where).distinct()
        clients = clients.where(Client.id.in_(active))
    info = {row.id: row for row in session.execute(clients)}
    summaries: dict[str, dict[str, Any]] = {}
    for cid, row in info.items():
        summaries[cid] = {
            "client_id": cid,
            "client_name": row.name,
            "plan": row.plan,
            "markup_percent": row.markup_percent
            if row.markup_percent is not None
            else DEFAULT_MARKUP_PERCENT,
            "by_model": [],
            "by_provider": [],
        }
    for dimension, column in (
        ("by_model", UsageDaily.model_id),
        ("by_provider", UsageDaily.provider),
    ):
        query = (
            select(UsageDaily.client_id, column.label("name"), *_sums())
            .where(*where)
            .group_by(UsageDaily.client_id, column)
            .order_by(desc("cost_usd"), column)
        )
        for line in session.execute(query):
            if line.client_id in summaries:
                data = _line(line)
                data.pop("client_id")
                summaries[line.client_id][dimension].append(data)
    for summary in summaries.values():
        _price(summary)
    return sorted(summaries.values(), key=lambda s: (-s["cost_brl"], s["client_id"]))


def _price(summary: dict[str, Any]) -> None:
    lines = summary["by_model"]
    for name in ("requests", "input_tokens", "output_tokens", "cached_tokens", "total_tokens"):
        summary[name] = sum(line[name] for line in lines)
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
