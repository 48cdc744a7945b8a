"""The operator's management pages: one client (its contacts, plan, keys and alerts) and
the operator's own alert settings.

Like every page, they read through the services the REST API uses
(:class:`~ai_gateway.services.tenants.TenantService`,
:class:`~ai_gateway.services.alerts.AlertService`), and their buttons call the REST API
from the browser (``static/operator.js``) with the session cookie and the CSRF header, so
a change made here is validated, audited and published exactly as one made over REST.
A client's session gets the 403 page (``AdminPageDep``); the REST routes refuse it too.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from ai_gateway.web.render import AdminPageDep, render

__all__ = ["router"]

router = APIRouter(prefix="/dashboard/ai-gateway", include_in_schema=False)

ClientPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@lru_cache(maxsize=1)
def timezones() -> list[str]:
    """IANA names offered by the time zone field (any other name is refused on save)."""
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


@router.get("/clients/{client_id}")
async def client_page(request: Request, viewer: AdminPageDep, client_id: ClientPath) -> Response:
    gateway = viewer.gateway
    client = await gateway.tenants.get_client(client_id)
    keys = await gateway.tenants.list_keys(client.id)
    alerts = await gateway.alerts.read(client.id)
    context = {
        "client": client,
        "keys": sorted(keys, key=lambda k: (k.revoked_at is not None, k.created_at), reverse=False),
        "alerts": alerts,
        "plans": await gateway.budget_service.plan_names(),
        "timezones": timezones(),
        "created": request.query_params.get("created") == "1",
        "active": "clients",
    }
    return render(request, "operator_client.html", context, viewer=viewer)


@router.get("/alerts")
async def alerts_page(request: Request, viewer: AdminPageDep) -> Response:
    alerts = await viewer.gateway.alerts.read(None)
    return render(
        request, "operator_alerts.html", {"alerts": alerts, "active": "alerts"}, viewer=viewer
    )
