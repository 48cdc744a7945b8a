"""A client's pages: its analytics and its settings (its data only).

An admin may open them for one client with ``?client_id=``; a client key never names
another client (``scope_client`` refuses it, as in the REST API). The pages read through
the same services as their REST twins (``services.analytics``, ``services.budget_reads``)
and change through the same owners (``gateway.tenants``), so the two cannot disagree.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from ai_gateway.api.common import actor
from ai_gateway.api.session import check_csrf, read_session
from ai_gateway.errors import PermissionDenied
from ai_gateway.i18n import Formatter
from ai_gateway.rules.budget_rules import LIMIT_MAX
from ai_gateway.services import budget_reads
from ai_gateway.services.analytics import ClientAnalytics
from ai_gateway.services.budget_reads import BudgetConfigPublic, CurrentUsagePublic
from ai_gateway.services.scope import Page, Source, scope_client
from ai_gateway.storage.clients import ClientInfo
from ai_gateway.web.admin_views import PERIODS, PeriodQuery
from ai_gateway.web.auth_views import read_form
from ai_gateway.web.charts import savings_chart
from ai_gateway.web.paging import MAX_OFFSET, offset_pager
from ai_gateway.web.render import ForbiddenPage, PageDep, Viewer, render

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False)

ClientQuery = Annotated[str | None, Query(max_length=64)]
#: The migration's legacy/gateway toggle (see ``storage.analytics.SOURCES``).
SourceQuery = Annotated[Source, Query()]
#: Where a truncated list's page starts (its pager's links).
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
_CONVERSATIONS_PAGE = 25
_FALLBACKS_PAGE = 10


async def _client(viewer: Viewer, client_id: str | None) -> ClientInfo | None:
    """The client the page is about (None: an admin that named none)."""
    try:
        tenant = scope_client(viewer.principal, client_id)
    except PermissionDenied as exc:
        raise ForbiddenPage from exc
    if tenant is None:
        return None
    client = await viewer.gateway.tenants.get_client(tenant)
    viewer.fmt = Formatter(viewer.locale, client.timezone)
    return client


def _tone(usage: CurrentUsagePublic) -> str:
    """The budget bar's colour, from the usage AND where the period is heading: green,
    yellow (70 % used, or a projection past 90 %), orange (85 % used, or a projection past
    the limit), red (the limit reached, or a projection past twice the limit)."""
    used = usage.percentage
    limit = usage.limit
    projected = usage.projected_usage
    if used >= 100 or (limit > 0 and projected >= 2 * limit):
        return "red"
    if used >= 85 or (limit > 0 and projected > limit):
        return "orange"
    if used >= 70 or (limit > 0 and projected * 10 > limit * 9):
        return "yellow"
    return "green"


async def _budget_bar(
    viewer: Viewer, client: ClientInfo, budget: BudgetConfigPublic | None = None
) -> dict[str, Any]:
    """What the BudgetProgressBar shows: usage, colour, and whether a full budget pauses
    the client (its words depend on it: only then are new calls refused). ``budget``:
    already read by the caller."""
    db, principal = viewer.gateway.db, viewer.principal
    usage = await budget_reads.read_current_usage(db, principal, client.id)
    if budget is None:
        budget = await budget_reads.read_budget(db, principal, client.id)
    return {
        "usage": usage,
        "tone": _tone(usage),
        "pause_at_limit": budget.pause_at_limit,
        "paused": client.status == "paused",
        "over_projection": usage.limit > 0 and usage.projected_usage > usage.limit,
    }


@router.get("/analytics")
async def analytics(
    request: Request,
    viewer: PageDep,
    period: PeriodQuery = "30d",
    client_id: ClientQuery = None,
    source: SourceQuery = "all",
    conversations_offset: OffsetQuery = 0,
    fallbacks_offset: OffsetQuery = 0,
) -> Response:
    client = await _client(viewer, client_id)
    if client is None:
        return RedirectResponse("/dashboard/ai-gateway/clients", status_code=303)
    principal = viewer.principal
    page = Page(limit=_CONVERSATIONS_PAGE, offset=conversations_offset)
    bar = await _budget_bar(viewer, client)
    query = ClientAnalytics(viewer.gateway.db, principal, client.id, PERIODS[period], source)
    found = await query.summary()
    conversations = await query.conversations(page)
    fallback_page = Page(limit=_FALLBACKS_PAGE, offset=fallbacks_offset)
    fallbacks = await query.fallbacks(fallback_page)
    admin_query = f"&client_id={client.id}" if principal.is_admin else ""
    context: dict[str, Any] = {
        "client": client,
        **bar,
        "a": found,
        "conversations": conversations,
        "fallbacks": fallbacks,
        "conversations_pager": offset_pager(
            request,
            param="conversations_offset",
            offset=page.offset,
            limit=page.limit,
            shown=len(conversations.data),
            count=conversations.count,
            anchor="conversations",
        ),
        "fallbacks_pager": offset_pager(
            request,
            param="fallbacks_offset",
            offset=fallback_page.offset,
            limit=fallback_page.limit,
            shown=len(fallbacks.data),
            count=fallbacks.count,
            anchor="fallback-events",
        ),
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
            "savings": savings_chart(found.savings, viewer.fmt),
        },
    }
    return render(request, "client_analytics.html", context, viewer=viewer)


@router.get("/budget-bar")
async def budget_bar(request: Request, viewer: PageDep, client_id: ClientQuery = None) -> Response:
    """The BudgetProgressBar alone: the pages poll it every 5 minutes (htmx)."""
    client = await _client(viewer, client_id)
    if client is None:
        return Response(status_code=404)
    context = {**await _budget_bar(viewer, client), "client": client}
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
    query = ClientAnalytics(viewer.gateway.db, viewer.principal, client.id)
    calls = await query.conversation(conversation_id, Page(limit=200, offset=0))
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
    principal = viewer.principal
    # With the plan's ceiling, shown by the limit field and in the form's refusal.
    enforced = await budget_reads.read_effective_budget(viewer.gateway.db, principal, client.id)
    budget = BudgetConfigPublic.of(enforced)
    bar = await _budget_bar(viewer, client, budget)
    return render(
        request,
        "settings.html",
        {
            "client": client,
            "budget": budget,
            "ceiling": enforced.client_max,
            "ceiling_type": enforced.plan_budget_type,
            "limit_max": LIMIT_MAX,
            **bar,
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
    # The owner of clients writes, audits and tells every replica, as for PATCH /api/clients.
    await viewer.gateway.tenants.update_client(
        client.id, actor=actor(viewer.principal), changes={"use_ai_gateway": enabled}
    )
    suffix = f"&client_id={client.id}" if viewer.principal.is_admin else ""
    return RedirectResponse(f"/dashboard/settings?saved=gateway{suffix}", status_code=303)
