"""A client's pages: its analytics and its settings (its data only).

An admin may open them for one client with ``?client_id=``; a client key never names
another client (``scope_client`` refuses it, as in the REST API).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from ai_gateway.api import analytics as analytics_api
from ai_gateway.api import budget as budget_api
from ai_gateway.api.common import Page, Source, actor, scope_client
from ai_gateway.errors import PermissionDenied
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.clients import ClientInfo, get_client, update_client
from ai_gateway.web.admin_views import PERIODS, PeriodQuery
from ai_gateway.web.auth_views import read_form
from ai_gateway.web.i18n import Formatter
from ai_gateway.web.render import ForbiddenPage, PageDep, Viewer, render
from ai_gateway.web.session import check_csrf, read_session

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False)

ClientQuery = Annotated[str | None, Query(max_length=64)]
#: The migration's legacy/gateway toggle (see ``storage.analytics.SOURCES``).
SourceQuery = Annotated[Source, Query()]


async def _client(viewer: Viewer, client_id: str | None) -> ClientInfo | None:
    """The client the page is about (None: an admin that named none)."""
    try:
        tenant = scope_client(viewer.principal, client_id)
    except PermissionDenied as exc:
        raise ForbiddenPage from exc
    if tenant is None:
        return None
    gateway = viewer.gateway

    def run() -> ClientInfo:
        with gateway.db.session() as s:
            return get_client(s, tenant)

    client = await gateway.db.run(run)
    viewer.fmt = Formatter(viewer.locale, client.timezone)
    return client


def _tone(percentage: float) -> str:
    """The budget bar's colour: green, yellow (70 %), orange (85 %), red (100 %)."""
    if percentage >= 100:
        return "red"
    if percentage >= 85:
        return "orange"
    if percentage >= 70:
        return "yellow"
    return "green"


@router.get("/analytics")
async def analytics(
    request: Request,
    viewer: PageDep,
    period: PeriodQuery = "30d",
    client_id: ClientQuery = None,
    source: SourceQuery = "all",
) -> Response:
    client = await _client(viewer, client_id)
    if client is None:
        return RedirectResponse("/dashboard/ai-gateway/clients", status_code=303)
    gateway, principal, days = viewer.gateway, viewer.principal, PERIODS[period]
    page = Page(limit=25, offset=0)
    usage = await budget_api.read_current_usage(gateway, principal, client.id)
    found = await analytics_api.read_analytics(gateway, principal, days, client.id, source)
    conversations = await analytics_api.read_conversations(
        gateway, principal, days, page, client.id, source
    )
    fallbacks = await analytics_api.read_fallbacks(
        gateway, principal, days, Page(limit=10, offset=0), client.id, source
    )
    admin_query = f"&client_id={client.id}" if principal.is_admin else ""
    context: dict[str, Any] = {
        "client": client,
        "usage": usage,
        "tone": _tone(float(usage.percentage)),
        "a": found,
        "conversations": conversations,
        "fallbacks": fallbacks,
        "period": period,
        "periods": PERIODS,
        "active": "client_analytics",
        "source": source,
        "admin_query": admin_query,
        # Kept by the period links and the CSV export.
        "client_query": admin_query + (f"&source={source}" if source != "all" else ""),
        "charts": {
            "latency_by_model": {
                "labels": [m.model_id for m in found.by_model],
                "p50": [m.latency.p50 for m in found.by_model],
                "p95": [m.latency.p95 for m in found.by_model],
                "p99": [m.latency.p99 for m in found.by_model],
            },
            "latency": {
                "labels": [viewer.fmt.day(d.day) for d in found.series],
                "p50": [d.p50 for d in found.series],
                "p95": [d.p95 for d in found.series],
                "p99": [d.p99 for d in found.series],
            },
        },
    }
    return render(request, "client_analytics.html", context, viewer=viewer)


@router.get("/budget-bar")
async def budget_bar(request: Request, viewer: PageDep, client_id: ClientQuery = None) -> Response:
    """The BudgetProgressBar alone: the pages poll it every 5 minutes (htmx)."""
    client = await _client(viewer, client_id)
    if client is None:
        return Response(status_code=404)
    usage = await budget_api.read_current_usage(viewer.gateway, viewer.principal, client.id)
    context = {"usage": usage, "tone": _tone(float(usage.percentage)), "client": client}
    return render(request, "_budget_progress_bar.html", context, viewer=viewer)


@router.get("/analytics/conversations/{conversation_id}")
async def conversation(
    request: Request,
    viewer: PageDep,
    conversation_id: Annotated[str, Path(min_length=1, max_length=200)],
    client_id: ClientQuery = None,
) -> Response:
    """The drill-down of one conversation (an HTMX fragment)."""
    client = await _client(viewer, client_id)
    if client is None:
        return Response(status_code=404)
    calls = await analytics_api.read_conversation(
        viewer.gateway, viewer.principal, conversation_id, Page(limit=200, offset=0), client.id
    )
    return render(
        request,
        "_conversation_calls.html",
        {"calls": calls, "conversation_id": conversation_id},
        viewer=viewer,
    )


@router.get("/settings")
async def settings(request: Request, viewer: PageDep, client_id: ClientQuery = None) -> Response:
    client = await _client(viewer, client_id)
    if client is None:
        return RedirectResponse("/dashboard/ai-gateway/clients", status_code=303)
    gateway, principal = viewer.gateway, viewer.principal
    budget = await budget_api.read_budget(gateway, principal, client.id)
    usage = await budget_api.read_current_usage(gateway, principal, client.id)
    return render(
        request,
        "settings.html",
        {
            "client": client,
            "budget": budget,
            "usage": usage,
            "tone": _tone(float(usage.percentage)),
            "saved": request.query_params.get("saved"),
            "active": "settings",
            "client_query": f"?client_id={client.id}" if principal.is_admin else "",
        },
        viewer=viewer,
    )


@router.post("/settings/gateway")
async def toggle_gateway(request: Request, viewer: PageDep) -> Response:
    """The "use the AI Gateway" switch of the settings page (a plain form with CSRF)."""
    form = await read_form(request)
    session = read_session(request)
    assert session is not None  # PageDep has checked it
    check_csrf(request, session, form.get("csrf_token"))
    client = await _client(viewer, form.get("client_id") or None)
    if client is None:
        return RedirectResponse("/dashboard/ai-gateway/clients", status_code=303)
    enabled = form.get("use_ai_gateway") == "on"
    gateway, who = viewer.gateway, actor(viewer.principal)

    def run() -> None:
        with gateway.db.write() as s:
            update_client(s, client_id=client.id, changes={"use_ai_gateway": enabled})
            record_audit(
                s,
                actor=who,
                action="client.update",
                client_id=client.id,
                target=client.name,
                details={"use_ai_gateway": enabled},
            )

    await gateway.db.run(run)
    await gateway.publish_change("clients", client_id=client.id)
    suffix = f"&client_id={client.id}" if viewer.principal.is_admin else ""
    return RedirectResponse(f"/dashboard/settings?saved=gateway{suffix}", status_code=303)
