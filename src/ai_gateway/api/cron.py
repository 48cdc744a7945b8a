"""``POST /api/cron/{job}``: run a scheduled job now (an external cron, Vercel Cron, a test).

Authenticated by ``Authorization: Bearer $AI_GATEWAY_CRON_SECRET``, compared in constant
time. Without a configured secret every cron route answers 403: an open trigger for
paid upstream calls and alert e-mails is not a default. The job name is checked after the
secret, so an unauthenticated caller learns nothing about which jobs exist.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from ai_gateway.api.common import ERRORS
from ai_gateway.api.deps import GatewayDep
from ai_gateway.api.errors import error_response
from ai_gateway.api.openai.schema import ErrorBody
from ai_gateway.errors import AuthenticationFailed, PermissionDenied
from ai_gateway.jobs import get_job

__all__ = ["router"]

router = APIRouter(tags=["cron"], responses=ERRORS)


def _check_secret(configured: str | None, header: str | None) -> None:
    if not configured:
        raise PermissionDenied(
            "cron routes are disabled: set AI_GATEWAY_CRON_SECRET to enable them",
            code="cron_disabled",
        )
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), configured.encode()
    ):
        raise AuthenticationFailed("missing or wrong cron secret", code="invalid_cron_secret")


class JobRunPublic(BaseModel):
    """What a run did: ``ok`` or ``skipped`` (another run held the lock)."""

    job: str
    status: str
    result: dict[str, Any]
    started_at: datetime
    finished_at: datetime


_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"model": JobRunPublic, "description": "The job ran (or was skipped)"},
    401: {"model": ErrorBody, "description": "Missing or wrong cron secret"},
    403: {"model": ErrorBody, "description": "AI_GATEWAY_CRON_SECRET is not configured"},
    404: {"model": ErrorBody, "description": "No such job"},
    500: {"model": ErrorBody, "description": "The job failed"},
}


@router.post("/api/cron/{job}", summary="Run a scheduled job now", responses=_RESPONSES)
async def run_cron_job(job: str, request: Request, gateway: GatewayDep) -> Response:
    """Runs the job under its lock; 200 with the outcome (``ok`` or ``skipped``), 500 in the
    OpenAI error shape when the job failed."""
    _check_secret(gateway.settings.cron_secret, request.headers.get("authorization"))
    get_job(job)
    outcome = await gateway.run_job(job)
    if outcome.status == "failed":
        return error_response(
            500,
            f"job '{job}' failed: {outcome.result.get('error', 'unknown error')}",
            error_type="api_error",
            code="job_failed",
        )
    return Response(orjson.dumps(outcome.as_dict()), media_type="application/json")
