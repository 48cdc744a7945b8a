"""``/api/billing/summary``: a month's tokens and cost per client, by model and provider,
with the price to charge at the plan's markup and the margin it leaves. A client key sees
its own summary; an admin key one client's (``client_id``) or every client's."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ai_gateway.api.common import ERRORS, Money, read_scoped, scope_client
from ai_gateway.api.deps import GatewayDep, PrincipalDep
from ai_gateway.errors import InvalidRequest, NotFound
from ai_gateway.storage.analytics import Window
from ai_gateway.storage.billing import billing_summaries

__all__ = ["router"]

router = APIRouter(prefix="/api/billing", tags=["billing"], responses=ERRORS)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class BillingTotals(BaseModel):
    """What a month adds up to: the tokens and what they cost."""

    requests: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cache_write_tokens: int
    total_tokens: int
    cost_usd: Money
    cost_brl: Money
    #: What the providers' prompt caches saved (already netted in ``cost_*``).
    prompt_cache_saved_usd: Money
    prompt_cache_saved_brl: Money


class BillingLine(BillingTotals):
    """One model's or one provider's share of a client's month."""

    name: str


class BillingSummary(BillingTotals):
    """A client's month, with the price to charge at its plan's markup."""

    client_id: str
    client_name: str
    plan: str
    markup_percent: Money
    suggested_price_usd: Money
    suggested_price_brl: Money
    margin_usd: Money
    margin_brl: Money
    by_model: list[BillingLine]
    by_provider: list[BillingLine]


class BillingSummariesPublic(BaseModel):
    month: str
    data: list[BillingSummary]
    count: int


def parse_month(value: str | None) -> date:
    if value is None:
        return date.today().replace(day=1)
    match = _MONTH.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise InvalidRequest("month must look like 2026-11 (YYYY-MM)", param="month")
    return date(int(match.group(1)), int(match.group(2)), 1)


@router.get("/summary", summary="A month's usage, cost and suggested price")
async def read_summary(
    gateway: GatewayDep,
    principal: PrincipalDep,
    month: Annotated[str | None, Query(max_length=7, description="YYYY-MM; default: now")] = None,
    client_id: Annotated[str | None, Query(max_length=64)] = None,
) -> BillingSummariesPublic:
    first = parse_month(month)
    tenant = scope_client(principal, client_id)
    rows: list[dict[str, Any]] = await read_scoped(
        gateway, principal, tenant, billing_summaries, window=Window.month(first), client_id=tenant
    )
    if client_id and not rows:
        raise NotFound(f"no client with id '{client_id}'")
    return BillingSummariesPublic(
        month=first.strftime("%Y-%m"),
        data=[BillingSummary(**r) for r in rows],
        count=len(rows),
    )
