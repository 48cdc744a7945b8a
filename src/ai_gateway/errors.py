"""The error tree: every exception the gateway raises on purpose is an ``AIGatewayError``.

Two branches. ``GatewayError`` is what a caller is shown: each class knows its HTTP status
and its OpenAI error ``type``/``code``, so every boundary (HTTP, CLI, ``call_ai``) renders
them the same way (one writer per wire format: ``Codec.error_body`` on the model routes,
``api/errors.py`` for FastAPI). ``InternalError`` never reaches a caller as such: it is
raised and caught inside the gateway, and translated once, where it is caught::

    AIGatewayError
    ├── InternalError                 caught inside; translated where it is caught
    │   ├── ProviderError             providers/base.py  -> a fallback, else ChainFailed
    │   ├── ChainFailed               pipeline/dispatch.py -> its UpstreamError, metered
    │   ├── CacheUnavailable          cache/base.py      -> logged, served as a miss
    │   ├── WriteFailed               metering/usage_sinks.py -> retried, then the spool
    │   ├── AlertDeliveryError        metering/alerts/base.py -> recorded on the alert
    │   ├── SignInRequired            web/render.py      -> a redirect to /signin
    │   └── ForbiddenPage             web/render.py      -> the HTML 403 page
    └── GatewayError                  500 api_error (never raised for bad input)
    ├── InvalidRequest                400 invalid_request_error
    │   └── PayloadTooLarge           413 invalid_request_error
    ├── AuthenticationFailed          401 authentication_error
    ├── PermissionDenied              403 permission_error
    │   └── ClientPaused              403 permission_error / client_paused
    ├── NotFound                      404 not_found_error
    │   └── ModelNotFound             404 not_found_error / model_not_found
    ├── Conflict                      409 invalid_request_error / conflict
    ├── BudgetExceeded                402 insufficient_quota / budget_exceeded
    ├── RateLimited                   429 rate_limit_error
    ├── UpstreamError                 502 upstream_error   (after the fallback chain)
    │   └── UpstreamTimeout           504 upstream_error / upstream_timeout
    ├── ConfigurationError            500 configuration_error (operator must act)
    │   └── VaultError                500 configuration_error / vault_error
    └── StorageError                  503 service_unavailable
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AIGatewayError",
    "AuthenticationFailed",
    "BudgetExceeded",
    "ClientPaused",
    "ConfigurationError",
    "Conflict",
    "GatewayError",
    "InternalError",
    "InvalidRequest",
    "ModelNotFound",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "StorageError",
    "UpstreamError",
    "UpstreamTimeout",
    "VaultError",
]


class AIGatewayError(Exception):
    """The root: ``except AIGatewayError`` catches what the gateway raises on purpose and
    nothing foreign (a foreign error is translated into one of these at its boundary)."""


class InternalError(AIGatewayError):
    """A failure the gateway handles itself; its message may name internals (a provider's
    reply, a database error), so it is logged or recorded, never written as such into an
    API response."""


class GatewayError(AIGatewayError):
    """Base of every error the gateway reports; ``message`` is safe to show a caller.

    ``code`` is stable (never None): the dashboard translates an error by its code, since
    the English ``message`` may carry details (a field, a value) a page cannot translate.
    """

    status: ClassVar[int] = 500
    error_type: ClassVar[str] = "api_error"
    default_code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param
        #: Extra response headers (a 429's ``Retry-After`` and ``x-ratelimit-*``).
        self.headers: dict[str, str] = {}

    def to_body(self) -> dict[str, Any]:
        """The OpenAI error shape: ``{"error": {"message", "type", "code", "param"}}``."""
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "code": self.code,
                "param": self.param,
            }
        }


class InvalidRequest(GatewayError):
    status = 400
    error_type = "invalid_request_error"
    default_code = "invalid_request"


class PayloadTooLarge(InvalidRequest):
    status = 413
    default_code = "payload_too_large"


class AuthenticationFailed(GatewayError):
    status = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDenied(GatewayError):
    status = 403
    error_type = "permission_error"
    default_code = "forbidden"


class ClientPaused(PermissionDenied):
    default_code = "client_paused"


class NotFound(GatewayError):
    status = 404
    error_type = "not_found_error"
    default_code = "not_found"


class ModelNotFound(NotFound):
    default_code = "model_not_found"


class Conflict(GatewayError):
    status = 409
    error_type = "invalid_request_error"
    default_code = "conflict"


class BudgetExceeded(GatewayError):
    status = 402
    error_type = "insufficient_quota"
    default_code = "budget_exceeded"


class RateLimited(GatewayError):
    status = 429
    error_type = "rate_limit_error"
    default_code = "rate_limited"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message, code=code, param=param)
        self.headers = dict(headers or {})


class UpstreamError(GatewayError):
    status = 502
    error_type = "upstream_error"
    default_code = "upstream_failed"


class UpstreamTimeout(UpstreamError):
    status = 504
    default_code = "upstream_timeout"


class ConfigurationError(GatewayError):
    status = 500
    error_type = "configuration_error"
    default_code = "configuration_error"


class VaultError(ConfigurationError):
    default_code = "vault_error"


class StorageError(GatewayError):
    status = 503
    error_type = "service_unavailable"
    default_code = "storage_unavailable"
