"""Optional OpenTelemetry traces: a span per request, per pipeline step and per upstream
attempt, each carrying the request id.

Off unless ``AI_GATEWAY_OTLP_ENDPOINT`` names an OTLP/HTTP collector (e.g.
``http://collector:4318/v1/traces``) and the ``otel`` extra is installed
(``pip install 'ai-gateway[otel]'``). While off, :func:`span` hands back one shared no-op
context manager: the hot path pays a global read and a ``with``, nothing else. Spans are
exported in batches from a background thread (the SDK's ``BatchSpanProcessor``), never on
the request path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ai_gateway.errors import ConfigurationError
from ai_gateway.logs import current_request_id

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer

__all__ = ["configure_tracing", "install_tracer_provider", "shutdown_tracing", "span"]

#: The attribute every span carries (the same id as the logs and ``x-request-id``).
REQUEST_ID = "ai_gateway.request_id"

_NOOP: AbstractContextManager[None] = contextlib.nullcontext()
_tracer: Tracer | None = None
_provider: TracerProvider | None = None


def span(name: str) -> AbstractContextManager[Span | None]:
    """A child of the current span (or a root), or a no-op while tracing is off. The
    value of the ``with`` is the span (``None`` when off): set attributes on it."""
    if _tracer is None:
        return _NOOP
    return _started(_tracer, name)


@contextlib.contextmanager
def _started(tracer: Tracer, name: str) -> Iterator[Span]:
    with tracer.start_as_current_span(name) as current:
        request_id = current_request_id()
        if request_id is not None:
            current.set_attribute(REQUEST_ID, request_id)
        yield current


def configure_tracing(endpoint: str | None, *, service_name: str = "ai-gateway") -> None:
    """Export spans to ``endpoint`` over OTLP/HTTP, or keep tracing off (``None``)."""
    if not endpoint:
        return
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:  # pragma: no cover - depends on the install
        raise ConfigurationError(
            "AI_GATEWAY_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
            "pip install 'ai-gateway[otel]'",
            code="otel_missing",
        ) from None
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    install_tracer_provider(provider)


def install_tracer_provider(provider: TracerProvider) -> None:
    """Trace into ``provider`` (tests give one with an in-memory exporter)."""
    global _tracer, _provider
    _provider = provider
    _tracer = provider.get_tracer("ai_gateway")


def shutdown_tracing() -> None:
    """Flush what is buffered and turn tracing off."""
    global _tracer, _provider
    provider, _provider, _tracer = _provider, None, None
    if provider is not None:
        provider.shutdown()


def record_error(current: Span | None, exc: BaseException, **attributes: Any) -> None:
    """Mark ``current`` failed with the gateway's error code (no message: it may quote a
    caller's input)."""
    if current is None:
        return
    from opentelemetry.trace import Status, StatusCode

    code = getattr(exc, "code", None) or type(exc).__name__
    current.set_status(Status(StatusCode.ERROR, str(code)))
    current.set_attribute("ai_gateway.error_code", str(code))
    for key, value in attributes.items():
        current.set_attribute(key, value)
