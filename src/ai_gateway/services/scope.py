"""What a read is about: the tenant wall, the period, the page, and the tenant session.

The tenant wall is one function, :func:`scope_client`: an admin may name any client (or
none, for "all"); a client key may name only itself, and naming another client is a 403
before any query runs. Reads for a client key then go through :func:`read_scoped`, which
on PostgreSQL opens a ``tenant_session`` so row-level security backs the explicit
``client_id`` filters of the storage functions. The REST API and the dashboard pages
both read through the services that use these, so they share one wall.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from ai_gateway.errors import InvalidRequest, PermissionDenied
from ai_gateway.services.auth import Principal
from ai_gateway.storage.analytics import Window
from ai_gateway.storage.db import Database

__all__ = ["Page", "Period", "Source", "period_of", "read_scoped", "scope_client", "window_for"]

T = TypeVar("T")

Period = Literal["7d", "30d", "60d", "90d"]

#: Which calls one client's analytics show: every call, those through the gateway
#: (routes ``gateway`` and ``direct``), or the legacy usage imported from the old app.
Source = Literal["all", "gateway", "legacy"]


class Page(BaseModel):
    """Paging of a list: ``limit`` above the cap is lowered to it, not refused."""

    model_config = ConfigDict(frozen=True)
    limit: int
    offset: int


def window_for(days: int, source: Source = "all") -> Window:
    return Window.last_days(days).of_source(source)


def period_of(days: int) -> Period:
    """The period name of ``days`` (7, 30, 60 or 90), as the responses carry it."""
    return f"{days}d"  # type: ignore[return-value]


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
    db: Database,
    principal: Principal,
    tenant: str | None,
    fn: Callable[..., T],
    /,
    **kwargs: Any,
) -> T:
    """Run ``fn(session, **kwargs)`` off the event loop; for a client key inside its
    tenant session (row-level security on PostgreSQL)."""

    def run() -> T:
        # SQLite has no RLS (its tenant session would only take the write lock for a
        # read): there the storage functions' explicit client_id filter is the wall.
        if not principal.is_admin and tenant is not None and not db.is_sqlite:
            with db.tenant_session(tenant) as session:
                return fn(session, **kwargs)
        with db.session() as session:
            return fn(session, **kwargs)

    return await db.run(run)
