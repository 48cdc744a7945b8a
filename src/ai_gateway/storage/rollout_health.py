"""What the rollout gates of the migration are judged on: the usage log split into the
gateway's calls and the legacy ones over a window, and how many clients use the gateway,
the dashboard and the budget system.

Calls are grouped by the route each row records (the analytics' ``source``: calls through
this gateway, routes ``gateway`` and ``direct``, against the old application's usage
imported as route ``legacy``), not by today's client flags: a client moved mid-window
counts on each side for the calls it made there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, distinct, func, or_, select
from sqlalchemy.orm import Session

from ai_gateway.storage.analytics import SOURCES
from ai_gateway.storage.percentiles import exact_percentiles
from ai_gateway.storage.rollups import ERROR_STATUSES
from ai_gateway.storage.tables import AuditLog, Client, ClientBudget, UsageLog

__all__ = [
    "GATEWAY_ROUTES",
    "LEGACY_ROUTES",
    "SIGN_IN_ACTION",
    "Adoption",
    "CallGroup",
    "adoption",
    "call_groups",
]

GATEWAY_ROUTES: tuple[str, ...] = SOURCES["gateway"] or ()
LEGACY_ROUTES: tuple[str, ...] = SOURCES["legacy"] or ()
#: The audit action a dashboard sign-in records (what "dashboard used" counts).
SIGN_IN_ACTION = "dashboard.sign_in"


@dataclass(frozen=True, slots=True)
class CallGroup:
    """One side of the comparison over the window."""

    requests: int
    errors: int
    cache_hits: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cost_brl: Decimal
    saved_brl: Decimal
    conversations: int


@dataclass(frozen=True, slots=True)
class Adoption:
    clients: int
    gateway_clients: int
    dashboard_users: int
    budget_users: int


def _group() -> Any:
    return case((UsageLog.route.in_(GATEWAY_ROUTES), "gateway"), else_="legacy")


def call_groups(session: Session, *, since: datetime, until: datetime) -> dict[str, CallGroup]:
    """``{"gateway": ..., "legacy": ...}`` over ``since <= created_at < until``."""
    group = _group()
    where = [UsageLog.created_at >= since, UsageLog.created_at < until]
    sums = session.execute(
        select(
            group,
            func.count(),
            func.sum(case((UsageLog.status.in_(ERROR_STATUSES), 1), else_=0)),
            func.sum(case((UsageLog.cache_hit, 1), else_=0)),
            func.count(distinct(UsageLog.conversation_id)),
            # SUM keeps the Money type: exact on both engines (scaled integers on SQLite).
            func.sum(UsageLog.cost_brl),
            func.sum(UsageLog.saved_brl),
        )
        .where(*where)
        .group_by(group)
    ).all()
    latency = exact_percentiles(
        session,
        value=UsageLog.latency_ms,
        group=group,
        where=[*where, UsageLog.status == "success", UsageLog.cache_hit.is_(False)],
    )
    found = {
        name: CallGroup(
            requests=int(requests),
            errors=int(errors or 0),
            cache_hits=int(hits or 0),
            p50_ms=latency.get(name, {}).get("p50", 0.0),
            p95_ms=latency.get(name, {}).get("p95", 0.0),
            p99_ms=latency.get(name, {}).get("p99", 0.0),
            cost_brl=cost or Decimal(0),
            saved_brl=saved or Decimal(0),
            conversations=int(conversations),
        )
        for name, requests, errors, hits, conversations, cost, saved in sums
    }
    empty = CallGroup(0, 0, 0, 0.0, 0.0, 0.0, Decimal(0), Decimal(0), 0)
    return {name: found.get(name, empty) for name in ("gateway", "legacy")}


def adoption(session: Session, *, since: datetime) -> Adoption:
    """How many clients there are, use the gateway, signed in to the dashboard since
    ``since``, and use the budget system (their own budget, or an alert contact)."""
    clients, gateway_clients = session.execute(
        select(func.count(), func.sum(case((Client.use_ai_gateway, 1), else_=0)))
    ).one()
    dashboard_users = session.scalar(
        select(func.count(distinct(AuditLog.client_id))).where(
            AuditLog.action == SIGN_IN_ACTION,
            AuditLog.client_id.is_not(None),
            AuditLog.created_at >= since,
        )
    )
    own_budget = select(ClientBudget.client_id).where(
        ClientBudget.client_id == Client.id, ClientBudget.is_custom.is_(True)
    )
    budget_users = session.scalar(
        select(func.count()).where(
            or_(
                own_budget.exists(),
                Client.contact_email.is_not(None),
                Client.alert_webhook_url.is_not(None),
            )
        )
    )
    return Adoption(
        clients=int(clients),
        gateway_clients=int(gateway_clients or 0),
        dashboard_users=int(dashboard_users or 0),
        budget_users=int(budget_users or 0),
    )
