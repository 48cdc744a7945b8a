"""Rate-limit rows: a plan's defaults, a client's own limits, the provider ceilings.

Values arrive validated (:func:`ai_gateway.ratelimit.rules.validate_limits`, called by
the service that owns these settings). Every write also bumps the shared config
``version``: the request path reads limits from the config snapshot, so the version poll
that already carries config changes to every replica carries these too.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from ai_gateway.errors import NotFound
from ai_gateway.ratelimit.rules import Limits, ProviderCeiling, RateLimitTable
from ai_gateway.storage.shared_config import get_shared_config
from ai_gateway.storage.tables import ClientRateLimit, PlanBudget, PlanRateLimit

__all__ = [
    "get_client_limits",
    "get_plan_limits",
    "get_provider_ceilings",
    "load_rate_limit_table",
    "set_client_limits",
    "set_plan_limits",
    "set_provider_ceiling",
]


def _limits(row: ClientRateLimit | PlanRateLimit | None) -> Limits:
    if row is None:
        return Limits()
    return Limits(rpm=row.rpm, tpm=row.tpm, concurrency=row.concurrency)


def _ceilings(raw: Mapping[str, object] | None) -> dict[str, ProviderCeiling]:
    ceilings: dict[str, ProviderCeiling] = {}
    for provider, values in (raw or {}).items():
        if isinstance(values, dict):
            ceilings[provider] = ProviderCeiling(rpm=values.get("rpm"), tpm=values.get("tpm"))
    return ceilings


def load_rate_limit_table(session: Session) -> RateLimitTable:
    """Every setting at once, for the config snapshot (rows exist only where set)."""
    plans = {r.plan: _limits(r) for r in session.scalars(select(PlanRateLimit))}
    clients = {r.client_id: _limits(r) for r in session.scalars(select(ClientRateLimit))}
    return RateLimitTable(
        plans=MappingProxyType(plans),
        clients=MappingProxyType(clients),
        providers=MappingProxyType(get_provider_ceilings(session)),
    )


def get_client_limits(session: Session, *, client_id: str) -> Limits:
    return _limits(session.get(ClientRateLimit, client_id))


def get_plan_limits(session: Session, *, plan: str) -> Limits:
    if session.get(PlanBudget, plan) is None:
        raise NotFound(f"no plan '{plan}'")
    return _limits(session.get(PlanRateLimit, plan))


def get_provider_ceilings(session: Session) -> dict[str, ProviderCeiling]:
    return _ceilings(get_shared_config(session).provider_rate_limits)


def _bump_version(session: Session) -> None:
    get_shared_config(session).version += 1


def _store(
    session: Session,
    row: ClientRateLimit | PlanRateLimit | None,
    build: type[ClientRateLimit] | type[PlanRateLimit],
    key: dict[str, str],
    values: Mapping[str, int | None],
) -> Limits:
    limits = Limits(**{**_limits(row).as_dict(), **values})
    if limits.empty:
        # Nothing set: no row at all, so "follows the plan" has one representation.
        if row is not None:
            session.delete(row)
    else:
        if row is None:
            row = build(**key)
            session.add(row)
        for name, value in limits.as_dict().items():
            setattr(row, name, value)
    _bump_version(session)
    session.flush()
    return limits


def set_client_limits(
    session: Session, *, client_id: str, values: Mapping[str, int | None]
) -> Limits:
    """Set the given fields (``None`` = follow the plan); a row left with nothing set is
    deleted, so the client follows its plan entirely."""
    row = session.get(ClientRateLimit, client_id)
    return _store(session, row, ClientRateLimit, {"client_id": client_id}, values)


def set_plan_limits(session: Session, *, plan: str, values: Mapping[str, int | None]) -> Limits:
    get_plan_limits(session, plan=plan)
    row = session.get(PlanRateLimit, plan)
    return _store(session, row, PlanRateLimit, {"plan": plan}, values)


def set_provider_ceiling(
    session: Session, *, provider: str, values: Mapping[str, int | None]
) -> ProviderCeiling:
    config = get_shared_config(session)
    current = dict(config.provider_rate_limits or {})
    merged = {**current.get(provider, {}), **values}
    ceiling = ProviderCeiling(rpm=merged.get("rpm"), tpm=merged.get("tpm"))
    if ceiling.empty:
        current.pop(provider, None)
    else:
        current[provider] = ceiling.as_dict()
    # A new dict, so the JSON column sees the change.
    config.provider_rate_limits = current
    config.version += 1
    session.flush()
    return ceiling
