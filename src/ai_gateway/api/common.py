"""What every REST router shares: the error responses it documents, paging and period
parameters, the tenant wall, and how a change is attributed in the audit log.

The tenant wall (:func:`scope_client`, :func:`read_scoped`) and the paging and period
types are :mod:`ai_gateway.services.scope`'s, which the pages' services use too; they are
re-exported here for the routers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from pydantic import Field

from ai_gateway.api.openai.schema import ErrorBody
from ai_gateway.gateway import Gateway
from ai_gateway.services import scope
from ai_gateway.services.auth import Principal
from ai_gateway.services.schemas import Money
from ai_gateway.services.scope import Page, Period, Source, scope_client, window_for

__all__ = [
    "ERRORS",
    "MAX_PAGE_SIZE",
    "Email",
    "Money",
    "Page",
    "PageDep",
    "Period",
    "PeriodDep",
    "Source",
    "SourceParam",
    "actor",
    "read_scoped",
    "scope_client",
    "window_for",
]

T = TypeVar("T")

#: Documented on every REST route: the OpenAI error shape.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed or invalid request"},
    401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    403: {"model": ErrorBody, "description": "Not allowed for this key"},
    404: {"model": ErrorBody, "description": "No such resource (for this key)"},
}

#: An e-mail address, checked for shape only (delivery is the real test).
Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]

MAX_PAGE_SIZE = 200
_MAX_OFFSET = 1_000_000

_PERIOD_DAYS = {"7d": 7, "30d": 30, "60d": 60, "90d": 90}


def _page(
    limit: Annotated[int, Query(ge=1, description=f"page size (capped at {MAX_PAGE_SIZE})")] = 50,
    offset: Annotated[int, Query(ge=0, le=_MAX_OFFSET)] = 0,
) -> Page:
    return Page(limit=min(limit, MAX_PAGE_SIZE), offset=offset)


PageDep = Annotated[Page, Depends(_page)]


def _period(period: Annotated[Period, Query(description="the last N days, UTC")] = "30d") -> int:
    return _PERIOD_DAYS[period]


#: The period asked for, in days.
PeriodDep = Annotated[int, Depends(_period)]


SourceParam = Annotated[
    Source, Query(description="all calls, gateway calls, or imported legacy usage")
]


async def read_scoped(
    gateway: Gateway,
    principal: Principal,
    tenant: str | None,
    fn: Callable[..., T],
    /,
    **kwargs: Any,
) -> T:
    """``services.scope.read_scoped`` on the gateway's database."""
    return await scope.read_scoped(gateway.db, principal, tenant, fn, **kwargs)


def actor(principal: Principal) -> str:
    """How the audit log names whoever made a change: the key's id."""
    return f"{principal.role}-key:{principal.key_id}"
