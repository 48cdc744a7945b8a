"""The contract every alert channel implements: one method, :meth:`AlertChannel.send`.

Budget and anomaly jobs build an :class:`AlertMessage` once and hand it to each configured
channel; they record success or the :class:`AlertDeliveryError` in ``budget_alerts`` /
``gateway_alerts``. A channel either delivers or raises that one error type, so callers
never need to know which library a channel uses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

import orjson

from ai_gateway.errors import InternalError

__all__ = ["AlertChannel", "AlertDeliveryError", "AlertMessage", "encode_json"]


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """What to say: a subject line, a human text, and machine-readable details."""

    subject: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)


class AlertDeliveryError(InternalError):
    """A channel could not deliver; ``message`` is safe to store and show (no secrets)."""

    def __init__(self, message: str, *, channel: str) -> None:
        super().__init__(message)
        self.message = message
        self.channel = channel


class AlertChannel(ABC):
    """A way to reach a person or a system. ``name`` is what ``budget_alerts.channel``
    records."""

    name: ClassVar[str]

    @abstractmethod
    async def send(self, alert: AlertMessage) -> None:
        """Deliver ``alert`` or raise :class:`AlertDeliveryError`."""


def encode_json(value: Any) -> bytes:
    """JSON for alerts. Decimals become strings, so amounts keep every digit (a JSON
    number would be read back as a float by most receivers)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_SORT_KEYS)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
