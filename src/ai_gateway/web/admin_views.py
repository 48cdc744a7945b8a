"""The operator's pages: setup, aggregated analytics, clients, models, cache, rollout.

Each page reads through the same route functions as its REST twin (so the page and the
JSON agree by construction) and its buttons call that REST API from the browser.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ai_gateway.api import cache as cache_api
from ai_gateway.api import clients as clients_api
from ai_gateway.api import config as config_api
from ai_gateway.api import metrics as metrics_api
from ai_gateway.api import models as models_api
from ai_gateway.api import rollout as rollout_api
from ai_gateway.api import semantic_cache as semantic_api
from ai_gateway.api.common import Page, Period, window_for
from ai_gateway.i18n import translations
from ai_gateway.providers import PROVIDERS
from ai_gateway.ratelimit.rules import FIELDS, MAX_LIMIT, Limits
from ai_gateway.services.rollout import rollout_health
from ai_gateway.storage.budgets import list_plans
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
    config = await config_api.read_config(gateway, viewer.principal)
    models = await models_api.read_models(gateway, viewer.principal)
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
    metrics = await metrics_api.read_metrics(
        viewer.gateway, viewer.principal, PERIODS[period], Page(limit=20, offset=0)
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
    listed = await clients_api.read_clients(gateway, viewer.principal, Page(limit=200, offset=0))

    def plans() -> list[str]:
        with gateway.db.session() as s:
            return [p.plan for p in list_plans(s)]

    plan_names = await gateway.db.run(plans)
    enabled = sum(1 for c in listed.data if c.use_ai_gateway)
    rollout = round(100 * enabled / listed.count) if listed.count else 0
    # The limits every request reads (the config snapshot), so the page shows what is enforced.
    table = (await gateway.config.get()).rate_limits
    limits = {
        c.id: {
            "own": table.clients.get(c.id, Limits()).as_dict(),
            "plan": table.plans.get(c.plan, Limits()).as_dict(),
            "effective": table.for_client(c.id, c.plan).as_dict(),
        }
        for c in listed.data
    }
    plan_limits = {p: table.plans.get(p, Limits()).as_dict() for p in plan_names}
    context = {
        "clients": listed.data,
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
    listed = await models_api.read_models(viewer.gateway, viewer.principal, include_inactive=True)
    context = {"models": listed.data, "active": "models", "providers": sorted(PROVIDERS)}
    return render(request, "models.html", context, viewer=viewer)


@router.get("/cache")
async def cache(request: Request, viewer: AdminPageDep, period: PeriodQuery = "30d") -> Response:
    found = await cache_api.read_cache(
        viewer.gateway, viewer.principal, PERIODS[period], Page(limit=100, offset=0)
    )
    listed = await clients_api.read_clients(
        viewer.gateway, viewer.principal, Page(limit=200, offset=0)
    )
    names = {c.id: c.name for c in listed.data}
    semantic = await semantic_api.read_semantic_entries(
        viewer.gateway, viewer.principal, Page(limit=100, offset=0)
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
    window = window_for(PERIODS[period])
    health = rollout_api.to_public(
        await rollout_health(viewer.gateway.db, window=window),
        period=period,
        since=window.first_day.isoformat(),
    )
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
