"""Alert channels: one small base class (:class:`AlertChannel`), one module per channel."""

from ai_gateway.metering.alerts.base import AlertChannel, AlertDeliveryError, AlertMessage
from ai_gateway.metering.alerts.email import EmailChannel
from ai_gateway.metering.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookChannel

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "AlertChannel",
    "AlertDeliveryError",
    "AlertMessage",
    "EmailChannel",
    "WebhookChannel",
]
