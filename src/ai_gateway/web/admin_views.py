"""The operator's pages: setup, aggregated analytics, clients, models, cache, rollout.

Each page reads through the same services as its REST twin (so the page and the JSON
agree by construction) and its buttons call that REST API from the browser.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ai_gateway.i18n import translations
from ai_gateway.providers import PROVIDERS
from ai_gateway.ratelimit.rules import FIELDS, MAX_LIMIT, Limits
from ai_gateway.services import cache as cache_service
from ai_gateway.services import config as config_service
from ai_gateway.services import metrics as metrics_service
from ai_gateway.services import rollout_report
from ai_gateway.services.scope import Page, Period
from ai_gateway.web.charts import savings_chart
from ai_gateway.web.render import AdminPageDep, render

__all__ = ["PERIODS", "router"]

router = APIRouter(prefix="/dashboard/ai-gateway", include_in_schema=False)

PERIODS: dict[str, int] = {"7d": 7, "30d": 30, "60d": 60, "90d": 90}
PeriodQuery = Annotated[Period, Query()]
_PROVIDERS = ("gateway", "openai", "groq", "anthropic", "google")


@router.get("/setup")
async def setup(request: Request, viewer: AdminPageDep) -> Response:
    gateway = viewer.gateway
    config = await config_service.read_config(gateway.db)
    models = await gateway.model_service.read_models(viewer.principal)
    return render(
        request,
        "setup.html",
        {
            "config": config,
            "providers": _PROVIDERS,
            "models": [m.model_dump(mode="json") for m in models.data],
            "active": "setup",
        },
        viewer=viewer,
    )


@router.get("/analytics")
async def analytics(
    request: Request, viewer: AdminPageDep, period: PeriodQuery = "30d", fragment: bool = False
) -> Response:
    metrics = await metrics_service.read_metrics(
        viewer.gateway.db, days=PERIODS[period], page=Page(limit=20, offset=0)
    )
    context: dict[str, Any] = {
        "m": metrics,
        "period": period,
        "periods": PERIODS,
        "active": "analytics",
        "charts": {
            "clients": {
                "labels": [c.client_name for c in metrics.top_clients],
                "requests": [c.requests for c in metrics.top_clients],
                # Exact decimal strings; Chart.js's linear scale parses them itself.
                "cost": [format(c.cost_brl, "f") for c in metrics.top_clients],
            },
            "providers": {
                "labels": [p.provider for p in metrics.by_provider],
                "values": [p.requests for p in metrics.by_provider],
            },
            "latency": {
                "labels": [viewer.fmt.day(d.day) for d in metrics.series],
                "p50": [d.p50 for d in metrics.series],
                "p95": [d.p95 for d in metrics.series],
                "p99": [d.p99 for d in metrics.series],
            },
            "savings": savings_chart(metrics.savings, viewer.fmt),
        },
    }
    template = "_admin_analytics_body.html" if fragment else "admin_analytics.html"
    return render(request, template, context, viewer=viewer)


@router.get("/clients")
async def clients(request: Request, viewer: AdminPageDep) -> Response:
    gateway = viewer.gateway
    listed, count = await gateway.tenants.list_clients(limit=200, offset=0)
    plan_names = await gateway.budget_service.plan_names()
    enabled = sum(1 for c in listed if c.use_ai_gateway)
    rollout = round(100 * enabled / count) if count else 0
    # The limits every request reads (the config snapshot), so the page shows what is enforced.
    table = (await gateway.config.get()).rate_limits
    limits = {
        c.id: {
            "own": table.clients.get(c.id, Limits()).as_dict(),
            "plan": table.plans.get(c.plan, Limits()).as_dict(),
            "effective": table.for_client(c.id, c.plan).as_dict(),
        }
        for c in listed
    }
    plan_limits = {p: table.plans.get(p, Limits()).as_dict() for p in plan_names}
    context = {
        "clients": listed,
        "plans": plan_names,
        "rollout": rollout,
        "active": "clients",
        "limits": limits,
        "plan_limits": plan_limits,
        "limit_fields": FIELDS,
        "max_limit": MAX_LIMIT,
    }
    return render(request, "clients.html", context, viewer=viewer)


@router.get("/models")
async def models(request: Request, viewer: AdminPageDep) -> Response:
    listed = await viewer.gateway.model_service.read_models(viewer.principal, include_inactive=True)
    context = {"models": listed.data, "active": "models", "providers": sorted(PROVIDERS)}
    return render(request, "models.html", context, viewer=viewer)


@router.get("/cache")
async def cache(request: Request, viewer: AdminPageDep, period: PeriodQuery = "30d") -> Response:
    gateway = viewer.gateway
    found = await cache_service.read_cache(
        gateway.db,
        gateway.cache,
        viewer.principal,
        days=PERIODS[period],
        page=Page(limit=100, offset=0),
    )
    listed, _count = await gateway.tenants.list_clients(limit=200, offset=0)
    names = {c.id: c.name for c in listed}
    semantic = await cache_service.read_semantic_entries(
        gateway.semantic_cache, page=Page(limit=100, offset=0)
    )
    return render(
        request,
        "cache.html",
        {
            "cache": found,
            "semantic": semantic,
            "names": names,
            "period": period,
            "periods": PERIODS,
            "active": "cache",
        },
        viewer=viewer,
    )


@router.get("/rollout")
async def rollout(request: Request, viewer: AdminPageDep, period: PeriodQuery = "30d") -> Response:
    health = await rollout_report.read_rollout_health(viewer.gateway.db, days=PERIODS[period])
    _ = translations(viewer.locale).gettext
    chart = {
        "labels": [_("Gateway"), _("Legacy")],
        "p50": [health.gateway.p50_ms, health.legacy.p50_ms],
        "p95": [health.gateway.p95_ms, health.legacy.p95_ms],
        "p99": [health.gateway.p99_ms, health.legacy.p99_ms],
    }
    return render(
        request,
        "rollout.html",
        {
            "h": health,
            "period": period,
            "periods": PERIODS,
            "active": "rollout",
            "chart": chart,
        },
        viewer=viewer,
    )
