"""Tenants: create, list, change, and roll the gateway out to a share of them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ai_gateway.errors import Conflict, InvalidRequest, NotFound
from ai_gateway.storage.tables import Client, ClientBudget, PlanBudget

__all__ = [
    "CLIENT_STATUSES",
    "ClientInfo",
    "count_clients",
    "create_client",
    "get_client",
    "list_clients",
    "rollout",
    "update_client",
    "validate_timezone",
]

CLIENT_STATUSES = ("active", "paused", "suspended")


@dataclass(frozen=True, slots=True)
class ClientInfo:
    id: str
    name: str
    plan: str
    use_ai_gateway: bool
    timezone: str
    status: str
    contact_email: str | None
    alert_webhook_url: str | None
    fallback_chain: list[str] | None
    created_at: datetime
    prompt_cache_breakpoints: bool | None = None
    #: LGPD opt-in: keep this client's prompts and answers, for ``body_retention_days``.
    store_bodies: bool = False
    body_retention_days: int = 30
    semantic_cache: bool = False
    semantic_cache_threshold: float | None = None

    @classmethod
    def of(cls, row: Client) -> ClientInfo:
        return cls(
            row.id,
            row.name,
            row.plan,
            row.use_ai_gateway,
            row.timezone,
            row.status,
            row.contact_email,
            row.alert_webhook_url,
            row.fallback_chain,
            row.created_at,
            row.prompt_cache_breakpoints,
            bool(row.store_bodies),
            row.body_retention_days,
            bool(row.semantic_cache),
            row.semantic_cache_threshold,
        )


def validate_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequest(
            f"unknown timezone '{name}'; use an IANA name like America/Sao_Paulo",
            param="timezone",
            code="unknown_timezone",
        ) from exc
    return name


def _check_plan(session: Session, plan: str) -> None:
    # The key alone: a full row would name every column of the newest schema.
    if session.scalar(select(PlanBudget.plan).where(PlanBudget.plan == plan)) is None:
        known = ", ".join(session.scalars(select(PlanBudget.plan).order_by(PlanBudget.plan)))
        raise InvalidRequest(
            f"unknown plan '{plan}'; known plans: {known}", param="plan", code="unknown_plan"
        )


def create_client(
    session: Session,
    *,
    name: str,
    plan: str,
    use_ai_gateway: bool = False,
    timezone: str = "America/Sao_Paulo",
    contact_email: str | None = None,
) -> ClientInfo:
    name = name.strip()
    if not name:
        raise InvalidRequest("a client needs a name", param="name", code="field_required")
    _check_plan(session, plan)
    validate_timezone(timezone)
    if session.scalar(select(Client.id).where(Client.name == name)) is not None:
        raise Conflict(
            f"a client named '{name}' exists already; choose another name", code="name_taken"
        )
    client = Client(
        name=name,
        plan=plan,
        use_ai_gateway=use_ai_gateway,
        timezone=timezone,
        contact_email=contact_email,
    )
    session.add(client)
    session.flush()
    session.add(ClientBudget(client_id=client.id))
    session.flush()
    return ClientInfo.of(client)


def get_client(session: Session, client_id: str) -> ClientInfo:
    row = session.get(Client, client_id)
    if row is None:
        row = session.scalar(select(Client).where(Client.name == client_id))
    if row is None:
        raise NotFound(f"no client with id or name '{client_id}'")
    return ClientInfo.of(row)


def list_clients(session: Session, *, limit: int = 1000, offset: int = 0) -> list[ClientInfo]:
    rows = session.scalars(select(Client).order_by(Client.created_at).limit(limit).offset(offset))
    return [ClientInfo.of(r) for r in rows]


def count_clients(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Client)) or 0)


_UPDATABLE = (
    "plan",
    "use_ai_gateway",
    "timezone",
    "status",
    "contact_email",
    "alert_webhook_url",
    "fallback_chain",
    "name",
    "prompt_cache_breakpoints",
    "semantic_cache",
    "semantic_cache_threshold",
)


def update_client(session: Session, *, client_id: str, changes: dict[str, Any]) -> ClientInfo:
    """Apply ``changes`` (only known fields) and return the client; validation first, so a
    bad value writes nothing."""
    unknown = set(changes) - set(_UPDATABLE)
    if unknown:
        raise InvalidRequest(f"cannot change {', '.join(sorted(unknown))}")
    row = session.get(Client, get_client(session, client_id).id)
    assert row is not None
    if "plan" in changes:
        _check_plan(session, changes["plan"])
    if "timezone" in changes:
        validate_timezone(changes["timezone"])
    if "status" in changes and changes["status"] not in CLIENT_STATUSES:
        raise InvalidRequest(
            f"status must be one of {', '.join(CLIENT_STATUSES)}",
            param="status",
            code="invalid_status",
        )
    if "name" in changes:
        clash = session.scalar(
            select(Client.id).where(Client.name == changes["name"], Client.id != row.id)
        )
        if clash is not None:
            raise Conflict(f"a client named '{changes['name']}' exists already", code="name_taken")
    for field, value in changes.items():
        setattr(row, field, value)
    session.flush()
    return ClientInfo.of(row)


def rollout(session: Session, *, percent: int) -> tuple[int, int]:
    """Enable the gateway for the first ``percent`` % of clients by ``created_at`` and
    disable it for the rest, so the share on the gateway is always exactly what was asked.
    Returns (enabled, total)."""
    if not 0 <= percent <= 100:
        raise InvalidRequest(
            "percent must be between 0 and 100", param="percent", code="percent_out_of_range"
        )
    total = session.scalar(select(func.count()).select_from(Client)) or 0
    enabled = math.ceil(total * percent / 100)
    ids = session.scalars(select(Client.id).order_by(Client.created_at, Client.id)).all()
    for index, client_id in enumerate(ids):
        row = session.get(Client, client_id)
        assert row is not None
        row.use_ai_gateway = index < enabled
    session.flush()
    return enabled, total
