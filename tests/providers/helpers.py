"""Small builders shared by the provider tests."""

from typing import Any

from ai_gateway.providers import ChatRequest, ChunkStream, Target


def chat(*messages: dict[str, Any], include_usage: bool = True, **params: Any) -> ChatRequest:
    return ChatRequest(
        model="x", messages=list(messages), params=params, include_usage=include_usage
    )


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


TARGETS = {
    "openai": Target("openai/gpt-4o", "openai", "gpt-4o"),
    "groq": Target("groq/llama-3.3-70b", "groq", "llama-3.3-70b-versatile"),
    "anthropic": Target("anthropic/claude-3-5-sonnet", "anthropic", "claude-3-5-sonnet-latest"),
    "google": Target("google/gemini-2.0-flash", "google", "gemini-2.0-flash"),
    "gateway": Target("openai/gpt-4o", "openai", "gpt-4o"),
    "simulated": Target("simulated/echo", "simulated", "echo"),
}


async def drain(stream: ChunkStream) -> list[dict[str, Any]]:
    return [chunk async for chunk in stream]


def streamed_text(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
