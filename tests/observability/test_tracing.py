"""OpenTelemetry traces: one span per request, pipeline step and upstream attempt, each
with the request id; exported over OTLP/HTTP by a real ``serve`` process when
``AI_GATEWAY_OTLP_ENDPOINT`` is set, and nothing at all when it is not."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from ai_gateway import tracing
from ai_gateway.storage.db import Database
from ai_gateway.storage.migrate import upgrade
from tests.conftest import free_port
from tests.fakes.fake_providers import FakeProviders
from tests.harness import Harness, harness_settings, seed
from tests.serve_processes import serve_env, start_serve, stop_serve, wait_ready

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "olá"}]}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Tracing does not depend on the engine: SQLite only."""
    return sqlite_url


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install_tracer_provider(provider)
    yield exporter
    tracing.shutdown_tracing()


def _by_name(finished: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {s.name: s for s in finished}


async def test_a_call_is_one_trace_with_a_span_per_step(
    harness: Harness, spans: InMemorySpanExporter
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            harness.url + "/v1/chat/completions",
            json=CHAT,
            headers=harness.headers(**{"x-request-id": "trace-me-1", "Cache-Control": "no-store"}),
        ) as resp,
    ):
        assert resp.status == 200
    named = _by_name(spans.get_finished_spans())
    root = named["POST /v1/chat/completions"]
    assert root.parent is None
    for step in ("gateway.plan", "gateway.upstream", "gateway.meter"):
        assert named[step].parent is not None, step
        assert named[step].context.trace_id == root.context.trace_id, step
    assert named["gateway.upstream"].attributes["ai_gateway.provider"] == "openai"
    assert named["gateway.plan"].attributes["ai_gateway.model"] == "openai/gpt-4o-mini"
    for span in named.values():
        assert span.attributes[tracing.REQUEST_ID] == "trace-me-1", span.name
    assert root.attributes["ai_gateway.client_id"] == str(harness.client.id)


async def test_a_refused_call_marks_its_root_span_failed(
    harness: Harness, spans: InMemorySpanExporter
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            harness.url + "/v1/chat/completions",
            json={"model": "openai/gpt-4o-mini", "messages": "not a list"},
            headers=harness.headers(),
        ) as resp,
    ):
        assert resp.status == 400
        code = (await resp.json())["error"]["code"]
    root = _by_name(spans.get_finished_spans())["POST /v1/chat/completions"]
    assert root.status.status_code is StatusCode.ERROR
    assert root.attributes["http.status_code"] == 400
    assert root.attributes["ai_gateway.error_code"] == code == "invalid_value"


async def test_off_by_default_no_span_is_made(harness: Harness) -> None:
    assert tracing.span("anything") is tracing.span("other")  # the one shared no-op
    with tracing.span("x") as current:
        assert current is None


async def test_serve_exports_spans_to_an_otlp_collector(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    received: list[ExportTraceServiceRequest] = []

    async def collect(request: web.Request) -> web.Response:
        assert request.content_type == "application/x-protobuf"
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.read())
        received.append(message)
        return web.Response(body=b"", content_type="application/x-protobuf")

    collector = web.Application()
    collector.router.add_post("/v1/traces", collect)
    runner = web.AppRunner(collector)
    await runner.setup()
    collector_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", collector_port).start()

    url = f"sqlite:///{tmp_path / 'gw.db'}"
    db = Database(url)
    upgrade(db)
    settings = harness_settings(url, tmp_path / "data", fake_providers)
    _, key, _ = seed(db, settings)
    db.dispose()
    port = free_port()
    env = serve_env(
        settings,
        AI_GATEWAY_OTLP_ENDPOINT=f"http://127.0.0.1:{collector_port}/v1/traces",
        AI_GATEWAY_OTEL_SERVICE_NAME="gateway-under-test",
    )
    proc = start_serve(env, port, tmp_path)
    try:
        await wait_ready([f"http://127.0.0.1:{port}"], timeout=60)
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"http://127.0.0.1:{port}/v1/chat/completions",
                json=CHAT,
                headers={"Authorization": f"Bearer {key}", "x-request-id": "exported-1"},
            ) as resp,
        ):
            assert resp.status == 200
    finally:
        await stop_serve([proc])  # the shutdown flushes the batch processor
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.1)
        await runner.cleanup()
    exported = [
        (resource_spans.resource, span)
        for message in received
        for resource_spans in message.resource_spans
        for scope in resource_spans.scope_spans
        for span in scope.spans
    ]
    names = {span.name for _, span in exported}
    assert {"POST /v1/chat/completions", "gateway.plan", "gateway.upstream"} <= names
    services = {
        attr.value.string_value
        for resource, _ in exported
        for attr in resource.attributes
        if attr.key == "service.name"
    }
    assert services == {"gateway-under-test"}
    request_ids = {
        attr.value.string_value
        for _, span in exported
        for attr in span.attributes
        if attr.key == tracing.REQUEST_ID
    }
    assert request_ids == {"exported-1"}
