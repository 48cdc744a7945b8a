"""``/api/alerts``: where alerts go, their webhook signing secrets, and a test alert (admin
only). The contacts themselves are set with ``PATCH /api/clients/{id}`` (a client's) and
``PUT /api/ai-gateway/config`` (the operator's); all of it is :mod:`ai_gateway.services.alerts`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ai_gateway.api.common import ERRORS, actor
from ai_gateway.api.deps import AdminDep, GatewayDep
from ai_gateway.services.alerts import AlertSettings, TestReport

__all__ = ["router"]

router = APIRouter(prefix="/api/alerts", tags=["alerts"], responses=ERRORS)

OwnerId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
OwnerQuery = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class AlertSettingsPublic(BaseModel):
    client_id: str | None = Field(description="None: the operator's own alerts")
    email: str | None
    webhook_url: str | None
    webhook_secret: str | None = Field(description="The signing secret, masked")
    thresholds: list[int]
    smtp_configured: bool
    master_key_configured: bool

    @classmethod
    def of(cls, found: AlertSettings) -> AlertSettingsPublic:
        return cls(
            client_id=found.client_id,
            email=found.email,
            webhook_url=found.webhook_url,
            webhook_secret=found.webhook_secret,
            thresholds=found.thresholds,
            smtp_configured=found.smtp_configured,
            master_key_configured=found.master_key_configured,
        )


class SecretSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: OwnerId | None = None
    #: None or empty: a new random secret is generated
    secret: SecretStr | None = Field(None, max_length=512)


class SecretPublic(BaseModel):
    masked: str
    secret: str = Field(description="The signing secret itself: shown this once")


class TestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: OwnerId | None = None


class DeliveryPublic(BaseModel):
    channel: str
    recipient: str
    ok: bool
    code: str | None
    error: str | None


class TestReportPublic(BaseModel):
    client_id: str | None
    code: str | None = Field(description="no_alert_contact when there was nowhere to send")
    data: list[DeliveryPublic]
    count: int

    @classmethod
    def of(cls, report: TestReport) -> TestReportPublic:
        data = [
            DeliveryPublic(
                channel=d.channel, recipient=d.recipient, ok=d.ok, code=d.code, error=d.error
            )
            for d in report.deliveries
        ]
        return cls(client_id=report.client_id, code=report.code, data=data, count=len(data))


@router.get("/settings", summary="Where alerts go: the operator's, or a client's")
async def read_settings(
    gateway: GatewayDep, _admin: AdminDep, client_id: OwnerQuery = None
) -> AlertSettingsPublic:
    return AlertSettingsPublic.of(await gateway.alerts.read(client_id))


@router.put("/webhook-secret", summary="Store a webhook signing secret (shown once)")
async def set_webhook_secret(gateway: GatewayDep, admin: AdminDep, body: SecretSet) -> SecretPublic:
    masked, secret = await gateway.alerts.set_webhook_secret(
        body.client_id,
        actor=actor(admin),
        secret=body.secret.get_secret_value() if body.secret else None,
    )
    return SecretPublic(masked=masked, secret=secret)


@router.post("/test", summary="Send a test alert through every configured channel")
async def send_test(
    gateway: GatewayDep, admin: AdminDep, body: TestRequest | None = None
) -> TestReportPublic:
    report = await gateway.alerts.send_test(body.client_id if body else None, actor=actor(admin))
    return TestReportPublic.of(report)
