"""The upstream gateway: registry model id, BYOK and fallbacks in the body, telemetry."""

from ai_gateway.providers.base import Telemetry
from ai_gateway.providers.upstream import UpstreamGatewayProvider, gateway_options
from tests.providers.helpers import TARGETS, chat, drain, user

TARGET = TARGETS["gateway"]
BYOK = {"openai": "sk-shared-openai", "anthropic": "sk-ant-shared"}


def test_gateway_options_shape() -> None:
    assert gateway_options({"byok": BYOK, "fallback_models": ["anthropic/claude-3-5-sonnet"]}) == {
        "byok": {
            "openai": [{"apiKey": "sk-shared-openai"}],
            "anthropic": [{"apiKey": "sk-ant-shared"}],
        },
        "models": ["anthropic/claude-3-5-sonnet"],
    }
    assert gateway_options({}) == {}


async def test_byok_and_fallbacks_go_upstream(http, upstream_for, fake_providers) -> None:
    upstream = upstream_for(
        "gateway", api_key="vck_test123456", byok=BYOK, fallback_models=["google/gemini-2.0-flash"]
    )
    await UpstreamGatewayProvider(http).complete(chat(user("hi")), TARGET, upstream)
    sent = fake_providers.last_request("gateway")
    assert sent.path == "/gateway/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer vck_test123456"
    assert sent.body["model"] == "openai/gpt-4o"  # the registry id, not gpt-4o
    gateway = sent.body["providerOptions"]["gateway"]
    assert gateway["byok"]["openai"] == [{"apiKey": "sk-shared-openai"}]
    assert gateway["byok"]["anthropic"] == [{"apiKey": "sk-ant-shared"}]
    assert gateway["models"] == ["google/gemini-2.0-flash"]


async def test_no_options_no_provider_options(http, upstream_for, fake_providers) -> None:
    await UpstreamGatewayProvider(http).complete(chat(user("hi")), TARGET, upstream_for("gateway"))
    assert "providerOptions" not in fake_providers.last_request("gateway").body


async def test_telemetry_from_headers_and_metadata(http, upstream_for, fake_providers) -> None:
    metadata = {
        "routing": {
            "resolvedProvider": "openai",
            "finalProvider": "azure",
            "attempts": [
                {"provider": "openai", "success": False},
                {"provider": "azure", "success": True},
            ],
        },
        "cost": 0.00042,
        "generationId": "gen_abc",
    }
    fake_providers.enqueue("gateway", metadata=metadata, headers={"x-vercel-cache": "HIT"})
    completion = await UpstreamGatewayProvider(http).complete(
        chat(user("hi")), TARGET, upstream_for("gateway")
    )
    telemetry = completion.telemetry
    assert telemetry.upstream_provider == "azure"
    assert telemetry.upstream_cost == "0.00042"
    assert telemetry.generation_id == "gen_abc"
    assert telemetry.routing_attempts is not None and len(telemetry.routing_attempts) == 2
    assert telemetry.upstream_cache == "HIT"
    assert telemetry.headers["x-vercel-id"].startswith("gru1::")
    assert telemetry.upstream_request_id is not None


async def test_stream_telemetry_from_final_chunk(http, upstream_for, fake_providers) -> None:
    fake_providers.enqueue(
        "gateway", metadata={"routing": {"finalProvider": "bedrock"}, "cost": "0.1"}
    )
    stream = await UpstreamGatewayProvider(http).stream(
        chat(user("hi")), TARGET, upstream_for("gateway")
    )
    await drain(stream)
    assert stream.telemetry.upstream_provider == "bedrock"
    assert stream.telemetry.upstream_cost == "0.1"
    assert stream.telemetry.headers["x-vercel-ai-provider"] == "openai"


def test_the_gateways_usage_cost_is_kept_and_metadata_wins(http) -> None:
    provider = UpstreamGatewayProvider(http)
    telemetry = Telemetry()
    provider.read_body_telemetry({"usage": {"prompt_tokens": 1, "cost": 0.0042}}, telemetry)
    assert telemetry.upstream_cost == "0.0042"
    body = {"usage": {"cost": 0.0042}, "providerMetadata": {"gateway": {"cost": "0.0041"}}}
    provider.read_body_telemetry(body, telemetry)
    assert telemetry.upstream_cost == "0.0041"
