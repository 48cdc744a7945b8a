"""The WhatsApp Business Cloud API bot: webhook payloads, signatures, the answer step and
the long-lived service that ties them to the gateway (issue 8)."""

from ai_gateway.whatsapp.payload import InboundMessage, parse_notification
from ai_gateway.whatsapp.responder import Reply, generate_ai_response
from ai_gateway.whatsapp.service import WebhookSecrets, WhatsAppService
from ai_gateway.whatsapp.signature import sign, signature_is_valid

__all__ = [
    "InboundMessage",
    "Reply",
    "WebhookSecrets",
    "WhatsAppService",
    "generate_ai_response",
    "parse_notification",
    "sign",
    "signature_is_valid",
]
