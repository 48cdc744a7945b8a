"""What every REST router shares: the error responses it documents, paging, periods,
the tenant wall, and how a change is attributed in the audit log.

The tenant wall is one function, :func:`scope_client`: an admin may name any client (or
none, for "all"); a client key may name only itself, and naming another client is a 403
before any query runs. Reads for a client key then go through
:func:`read_scoped`, which on PostgreSQL opens a ``tenant_session`` so row-level security
backs the explicit ``client_id`` filters of the storage functions.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from ai_gateway.api.openai.schema import ErrorBody
from ai_gateway.errors import InvalidRequest, PermissionDenied
from ai_gateway.gateway import Gateway
from ai_gateway.services.auth import Principal
from ai_gateway.storage.analytics import Window

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

#: Money leaves as a string so no JSON parser turns it into a float.
Money = Annotated[
    Decimal, PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json")
]

MAX_PAGE_SIZE = 200
_MAX_OFFSET = 1_000_000

Period = Literal["7d", "30d", "60d", "90d"]
_PERIOD_DAYS = {"7d": 7, "30d": 30, "60d": 60, "90d": 90}


class Page(BaseModel):
    """Paging of a list: ``limit`` above the cap is lowered to it, not refused."""

    model_config = ConfigDict(frozen=True)
    limit: int
    offset: int


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


#: Which calls one client's analytics show: every call, those through the gateway
#: (routes ``gateway`` and ``direct``), or the legacy usage imported from the old app.
Source = Literal["all", "gateway", "legacy"]
SourceParam = Annotated[
    Source, Query(description="all calls, gateway calls, or imported legacy usage")
]


def window_for(days: int, source: Source = "all") -> Window:
    return Window.last_days(days).of_source(source)


def scope_client(
    principal: Principal, client_id: str | None, *, required: bool = False
) -> str | None:
    """The client a request is about. Admins: the one named (or None = every client, unless
    ``required``). Clients: always themselves; naming another is refused."""
    if principal.is_admin:
        if required and not client_id:
            raise InvalidRequest(
                "admin keys must name a client: pass client_id",
                param="client_id",
                code="client_id_required",
            )
        return client_id or None
    own = principal.client_id
    assert own is not None
    if client_id and client_id != own:
        raise PermissionDenied("a client key can only see its own data")
    return own


async def read_scoped(
    gateway: Gateway,
    principal: Principal,
    tenant: str | None,
    fn: Callable[..., T],
    /,
    **kwargs: Any,
) -> T:
    """Run ``fn(session, **kwargs)`` off the event loop; for a client key inside its
    tenant session (row-level security on PostgreSQL)."""

    def run() -> T:
        db = gateway.db
        # SQLite has no RLS (its tenant session would only take the write lock for a
        # read): there the storage functions' explicit client_id filter is the wall.
        if not principal.is_admin and tenant is not None and not db.is_sqlite:
            with db.tenant_session(tenant) as session:
                return fn(session, **kwargs)
        with db.session() as session:
            return fn(session, **kwargs)

    return await gateway.db.run(run)


def actor(principal: Principal) -> str:
    """How the audit log names whoever made a change: the key's id."""
    return f"{principal.role}-key:{principal.key_id}"
