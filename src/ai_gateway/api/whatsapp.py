"""``/webhooks/whatsapp``: Meta's webhook for the WhatsApp Business Cloud API.

``GET`` is the subscription handshake: with ``hub.mode=subscribe`` and the right
``hub.verify_token`` it echoes ``hub.challenge`` as text/plain; anything else is a 403.
``POST`` carries notifications signed with ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw
body under the app secret): a bad or missing signature is a 401 and nothing is read.
A verified notification is handed to the gateway's WhatsApp service and answered 200 at
once — Meta redelivers anything not acknowledged quickly, and the service deduplicates by
message id. With no verify token or app secret configured the webhook refuses everything.
"""

from __future__ import annotations

import hmac
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from ai_gateway.api.deps import GatewayDep
from ai_gateway.api.errors import error_response
from ai_gateway.errors import (
    AuthenticationFailed,
    InvalidRequest,
    PayloadTooLarge,
    PermissionDenied,
)
from ai_gateway.whatsapp.signature import signature_is_valid

__all__ = ["PATH", "router"]

PATH = "/webhooks/whatsapp"

router = APIRouter(tags=["whatsapp"])


@router.get(PATH, response_class=PlainTextResponse)
async def verify_subscription(
    gateway: GatewayDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    """Meta's subscription check: answer the challenge when the verify token matches."""
    expected = (await gateway.whatsapp.webhook_secrets()).verify_token
    if not expected:
        raise PermissionDenied("the WhatsApp webhook is not configured (no verify token)")
    if (
        mode != "subscribe"
        or token is None
        or not hmac.compare_digest(token.encode(), expected.encode())
    ):
        raise PermissionDenied("verification failed")
    return PlainTextResponse(challenge or "")


@router.post(PATH)
async def receive_notification(request: Request, gateway: GatewayDep) -> Response:
    """A signed notification: acknowledged at once, processed in the background."""
    app_secret = (await gateway.whatsapp.webhook_secrets()).app_secret
    if not app_secret:
        raise PermissionDenied("the WhatsApp webhook is not configured (no app secret)")
    body = await _read_body(request, gateway.settings.max_body_bytes)
    if not signature_is_valid(body, request.headers.get("x-hub-signature-256"), app_secret):
        raise AuthenticationFailed(
            "missing or invalid X-Hub-Signature-256", code="invalid_signature"
        )
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest("the notification is not valid JSON") from exc
    if not gateway.whatsapp.accepting:
        # Shutting down: a non-2xx makes Meta deliver it again, to a replica that is up.
        return error_response(503, "shutting down; deliver again", code="shutting_down")
    gateway.whatsapp.accept(payload)
    return Response(b'{"status":"received"}', media_type="application/json")


async def _read_body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the notification is larger than {limit} bytes")
    return bytes(body)
