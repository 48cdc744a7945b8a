"""What makes two chat requests "the same question", and which questions may be cached.

The key is ``<scope>:<sha256>`` where the digest covers a canonical JSON (orjson,
``OPT_SORT_KEYS``, no whitespace) of the model id, the messages and every parameter that can
change the answer. Parameters are *excluded by name* rather than included by name: an
unknown or future OpenAI field ends up in the key, which costs at worst a miss, while an
allow-list would silently serve one answer for two different questions.

The scope is part of the key, not a filter applied after the lookup, so in client scope a
client can never read another client's entry even if a caller forgets to check ownership.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from ai_gateway.providers.base import ChatRequest

__all__ = [
    "DEFAULT_TEMPERATURE_THRESHOLD",
    "IGNORED_PARAMS",
    "CachePolicy",
    "Scope",
    "cache_key",
    "canonical_payload",
    "not_cacheable_reason",
    "scope_prefix",
]

Scope = Literal["client", "global"]

#: Fields that never change the answer: transport (``stream``, ``stream_options``),
#: attribution (``user``, ``metadata``, ``store``, ``service_tier``) and fields the gateway
#: itself consumes before the provider sees the request.
IGNORED_PARAMS = frozenset(
    {
        "stream",
        "stream_options",
        "user",
        "metadata",
        "store",
        "service_tier",
        "conversation_id",
        "cache",
        "cache_ttl",
        "fallback_models",
    }
)

#: Cache only when ``temperature <= 1.0``. 1.0 is the OpenAI default, so a lower threshold
#: would make every request that never sets a temperature (most traffic) uncacheable;
#: values above 1.0 explicitly ask for more variety than the default, and serving them a
#: stored answer would defeat the point. Admins can lower it (e.g. 0 for "greedy only").
DEFAULT_TEMPERATURE_THRESHOLD = 1.0

#: The temperature a request gets when it does not set one (OpenAI's documented default).
_DEFAULT_TEMPERATURE = 1.0


@dataclass(slots=True, frozen=True)
class CachePolicy:
    """Which requests are cacheable. ``allow_nondeterministic`` lifts every check below:
    the admin accepts that a high-temperature, multi-choice or tool-using request gets the
    first answer it ever got."""

    temperature_threshold: float = DEFAULT_TEMPERATURE_THRESHOLD
    allow_nondeterministic: bool = False


#: Floats up to 2**53 are whole numbers exactly; beyond, ``1.0e300`` stays a float.
_EXACT_FLOAT_INT = 2**53


def _normalise(value: Any) -> Any:
    """Make numerically equal JSON values serialise alike (``1`` vs ``1.0``) and drop
    ``None`` members, which OpenAI treats exactly as absent fields."""
    if isinstance(value, bool):
        return value
    # Only where the int is exact: int(1e308) is a 1024-bit number orjson cannot write.
    if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT_FLOAT_INT:
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _normalise(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


def canonical_payload(request: ChatRequest) -> bytes:
    """The exact bytes the key hashes: stable under key order and request whitespace."""
    params = {k: v for k, v in request.params.items() if k not in IGNORED_PARAMS}
    document: dict[str, Any] = {
        "model": request.model,
        "messages": _normalise(request.messages),
        "params": _normalise(params),
    }
    # Other kinds name themselves (chat keys stay as they were); audio is keyed by the
    # file's digest, so the same voice note forwarded twice is transcribed once.
    if request.kind != "chat":
        document["kind"] = request.kind
    if request.audio is not None:
        document["audio"] = request.audio.sha256
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def scope_prefix(scope: Scope, client_id: str) -> str:
    """``client:<id>`` (the default, tenant-isolated) or ``global`` (shared by all)."""
    if scope == "global":
        return "global"
    if not client_id:
        raise ValueError("client scope needs a client id")
    return f"client:{client_id}"


def cache_key(request: ChatRequest, *, scope: Scope, client_id: str) -> str:
    """``<scope>:<sha256 hex>`` for ``request``."""
    digest = hashlib.sha256(canonical_payload(request)).hexdigest()
    return f"{scope_prefix(scope, client_id)}:{digest}"


def not_cacheable_reason(request: ChatRequest, policy: CachePolicy) -> str | None:
    """``None`` when the answer may be cached, else a short reason for logs and headers."""
    if policy.allow_nondeterministic:
        return None
    params = request.params
    temperature = params.get("temperature")
    if temperature is None:
        temperature = _DEFAULT_TEMPERATURE
    if isinstance(temperature, int | float) and temperature > policy.temperature_threshold:
        return f"temperature {temperature} above {policy.temperature_threshold}"
    n = params.get("n")
    if isinstance(n, int) and n > 1:
        return "n > 1"
    if params.get("tools") or params.get("functions"):
        return "tools present"
    return None
