"""The request explorer's pages: ``/dashboard/requests`` (filters, a table that becomes a
list on phones, the next page by cursor) and ``/dashboard/requests/{id}`` (every fact of
one call), and the settings form of the LGPD opt-in (store prompts and answers).

Both read through the same service as their REST twin (``services.requests``), so the
page and the JSON agree and share one tenant wall: the operator sees every client (and
may pick one), a client only its own calls. A filter the API refuses shows the form
again with the reason, never a bare error page. The opt-in is changed through the owner
of clients (``gateway.tenants``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from ai_gateway.api.common import actor
from ai_gateway.api.session import check_csrf, read_session
from ai_gateway.errors import InvalidRequest, PermissionDenied
from ai_gateway.services import requests as explorer
from ai_gateway.services.requests import RequestsPage
from ai_gateway.services.scope import scope_client
from ai_gateway.storage.clients import list_clients
from ai_gateway.storage.request_log import (
    CACHE_STATES,
    ENDPOINTS,
    ROUTES,
    STATUSES,
    RequestFilters,
)
from ai_gateway.web.auth_views import read_form
from ai_gateway.web.messages import error_catalog
from ai_gateway.web.render import ForbiddenPage, PageDep, Viewer, render

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False)

_Text = Annotated[str | None, Query(max_length=200)]
_FILTERS = (
    "client_id",
    "model",
    "endpoint",
    "status",
    "route",
    "cache",
    "fallback",
    "conversation_id",
    "date_from",
    "date_to",
)
#: The quick ranges beside the custom one: the last N days (today included).
QUICK_RANGES = (7, 30, 60, 90)
_PAGE_SIZE = 50


def _day(value: str | None, param: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidRequest(
            f"{param} must be a date like 2026-03-01", param=param, code="invalid_date_range"
        ) from exc


async def _client_names(viewer: Viewer) -> dict[str, str]:
    """Every client's name by id, for the operator's client filter and table."""
    if not viewer.principal.is_admin:
        client = viewer.principal.client
        return {client.id: client.name} if client else {}
    gateway = viewer.gateway

    def run() -> dict[str, str]:
        with gateway.db.session() as s:
            return {c.id: c.name for c in list_clients(s)}

    return await gateway.db.run(run)


def _quick(days: int, viewer: Viewer) -> dict[str, str]:
    today = datetime.now(viewer.fmt.zone).date()
    return {
        "date_from": (today - timedelta(days=days - 1)).isoformat(),
        "date_to": today.isoformat(),
    }


async def _read_page(
    viewer: Viewer, values: dict[str, str | None], cursor: str | None
) -> tuple[RequestsPage | None, str | None]:
    """The page the form asks for, or the reason it cannot be read (in words)."""
    try:
        filters = RequestFilters.of(
            model=values["model"],
            endpoint=values["endpoint"],
            status=values["status"],
            route=values["route"],
            cache=values["cache"],
            fallback=values["fallback"],
            conversation_id=values["conversation_id"],
            date_from=_day(values["date_from"], "date_from"),
            date_to=_day(values["date_to"], "date_to"),
            zone=viewer.fmt.zone,  # the days of the calendar the page shows times in
        )
        page = await explorer.explore(
            viewer.gateway.db,
            viewer.principal,
            values["client_id"],
            filters,
            limit=_PAGE_SIZE,
            cursor=cursor,
        )
    except InvalidRequest as exc:
        return None, error_catalog(viewer.locale).get(exc.code or "", exc.message)
    except PermissionDenied as exc:
        raise ForbiddenPage from exc
    return page, None


@router.get("/requests")
async def requests_page(
    request: Request,
    viewer: PageDep,
    client_id: Annotated[str | None, Query(max_length=64)] = None,
    model: _Text = None,
    endpoint: _Text = None,
    status: _Text = None,
    route: _Text = None,
    cache: _Text = None,
    fallback: _Text = None,
    conversation_id: _Text = None,
    date_from: _Text = None,
    date_to: _Text = None,
    # Longer than any cursor made here: a mangled one gets the form's message, not JSON.
    cursor: Annotated[str | None, Query(max_length=4000)] = None,
) -> Response:
    values = {
        "client_id": client_id if viewer.principal.is_admin else None,
        "model": model,
        "endpoint": endpoint,
        "status": status,
        "route": route,
        "cache": cache,
        "fallback": fallback,
        "conversation_id": conversation_id,
        "date_from": date_from,
        "date_to": date_to,
    }
    # A client key that names another client is refused, as by the API (never ignored).
    if not viewer.principal.is_admin and client_id and client_id != viewer.principal.client_id:
        raise ForbiddenPage
    names = await _client_names(viewer)
    page, error = await _read_page(viewer, values, cursor)
    kept = {k: v for k, v in values.items() if v}
    context: dict[str, Any] = {
        "page": page,
        "error": error,
        "values": values,
        "names": names,
        "statuses": STATUSES,
        "endpoints": ENDPOINTS,
        "routes": ROUTES,
        "cache_states": CACHE_STATES,
        "quick_ranges": [(d, urlencode(kept | _quick(d, viewer))) for d in QUICK_RANGES],
        "next_query": urlencode(kept | {"cursor": page.next_cursor})
        if page and page.next_cursor
        else None,
        "first_query": urlencode(kept) if cursor else None,
        "active": "requests",
    }
    return render(request, "requests.html", context, viewer=viewer)


@router.get("/requests/{request_id}")
async def request_detail(
    request: Request,
    viewer: PageDep,
    request_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> Response:
    """Every fact of one call (another client's call is a 404 page, as in the API)."""
    found = await explorer.read_request(viewer.gateway.db, viewer.principal, request_id)
    names = await _client_names(viewer)
    total_tokens = found.input_tokens + found.output_tokens
    context = {
        "r": found,
        "client_name": names.get(found.client_id, found.client_id),
        "total_tokens": total_tokens,
        "attempts": (found.telemetry or {}).get("attempts") or [],
        "active": "requests",
    }
    return render(request, "request_detail.html", context, viewer=viewer)


@router.post("/settings/bodies")
async def save_body_storage(request: Request, viewer: PageDep) -> Response:
    """The LGPD opt-in of the settings page: store prompts and answers, and for how long
    (a plain form with CSRF; the client itself or the operator for it). Audited."""
    form = await read_form(request)
    session = read_session(request)
    assert session is not None  # PageDep has checked it
    check_csrf(request, session, form.get("csrf_token"))
    try:
        tenant = scope_client(viewer.principal, form.get("client_id") or None, required=True)
    except PermissionDenied as exc:
        raise ForbiddenPage from exc
    assert tenant is not None
    store = form.get("store_bodies") == "on"
    raw_days = (form.get("body_retention_days") or "").strip()
    if not raw_days.isdigit():
        raise InvalidRequest(
            "body_retention_days must be a whole number of days",
            param="body_retention_days",
            code="retention_out_of_range",
        )
    await viewer.gateway.tenants.set_body_storage(
        tenant, actor=actor(viewer.principal), store_bodies=store, retention_days=int(raw_days)
    )
    suffix = f"&client_id={tenant}" if viewer.principal.is_admin else ""
    return RedirectResponse(f"/dashboard/settings?saved=bodies{suffix}", status_code=303)
