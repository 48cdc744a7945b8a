"""Which route (via the upstream gateway, or direct), which models in which order, and how
to reach each one. Pure functions over the config snapshot: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ai_gateway.errors import InvalidRequest, ModelNotFound
from ai_gateway.pipeline.config_cache import ConfigSnapshot
from ai_gateway.providers.base import Target, Upstream
from ai_gateway.storage.clients import ClientInfo
from ai_gateway.storage.models_registry import ModelInfo

__all__ = [
    "GATEWAY_KINDS",
    "GATEWAY_PROVIDER",
    "Attempt",
    "choose_route",
    "plan_attempts",
    "resolve_model",
    "served_route",
]

#: The provider adapter that speaks to the upstream managed gateway.
GATEWAY_PROVIDER = "gateway"
#: Model kinds the upstream gateway serves (it has chat and embeddings, no audio); other
#: kinds go direct to their provider even when the gateway route is on.
GATEWAY_KINDS = frozenset({"chat", "embedding"})


@dataclass(frozen=True, slots=True)
class Attempt:
    """One step of the chain: a registry model and how to reach it."""

    model: ModelInfo
    provider: str
    target: Target
    upstream: Upstream


def choose_route(*, global_flag: bool, client: ClientInfo) -> str:
    """The seed's two-level flag: both on -> via the upstream gateway; else direct."""
    return "gateway" if global_flag and client.use_ai_gateway else "direct"


def served_route(route: str, model: ModelInfo) -> str:
    """The route a call of ``model`` really takes (see :data:`GATEWAY_KINDS`)."""
    return route if model.kind in GATEWAY_KINDS else "direct"


def resolve_model(
    snapshot: ConfigSnapshot, name: str, *, param: str = "model", kind: str | None = None
) -> ModelInfo:
    """An active registry model by id or alias; with ``kind``, one of that kind (an
    embedding model sent to a chat endpoint is the caller's mistake: 400, no call)."""
    model = snapshot.resolve_model(name)
    if model is None or not model.is_active:
        available = ", ".join(snapshot.active_model_ids()) or "none"
        state = "is inactive" if model is not None else "does not exist"
        raise ModelNotFound(
            f"the model '{name}' {state}; available models: {available}", param=param
        )
    if kind is not None and model.kind != kind:
        fitting = sorted(m.id for m in snapshot.models.values() if m.is_active and m.kind == kind)
        raise InvalidRequest(
            f"the model '{name}' is a {model.kind} model and this endpoint needs a {kind} "
            f"model; {kind} models: {', '.join(fitting) or 'none'}",
            param=param,
            code="model_kind_mismatch",
        )
    return model


def _chain(
    snapshot: ConfigSnapshot,
    first: ModelInfo,
    requested_fallbacks: Sequence[str] | None,
    client: ClientInfo,
) -> list[ModelInfo]:
    chain = [first]
    if requested_fallbacks is not None:
        # The caller named these: an unknown one is its mistake, said plainly.
        extra = [
            resolve_model(snapshot, m, param="fallback_models", kind=first.kind)
            for m in requested_fallbacks
        ]
    else:
        names = (
            client.fallback_chain
            if client.fallback_chain is not None
            else (snapshot.fallback_chain)
        )
        # Configured chains may name models retired since; those are skipped, and so are
        # models of another kind (a chat chain says nothing about embeddings).
        extra = [
            m
            for m in (snapshot.resolve_model(n) for n in names)
            if m and m.is_active and m.kind == first.kind
        ]
    for model in extra:
        if all(model.id != seen.id for seen in chain):
            chain.append(model)
    return chain


#: Attempt plans one config snapshot keeps (models x clients with a chain of their own).
_PLANS_PER_SNAPSHOT = 4096


def plan_attempts(
    snapshot: ConfigSnapshot,
    *,
    route: str,
    model: ModelInfo,
    requested_fallbacks: Sequence[str] | None,
    client: ClientInfo,
) -> tuple[Attempt, ...]:
    """Every attempt the call may make, in order.

    A plan depends only on the snapshot, the route, the model and the client's own chain,
    so one built from the configured chains is kept on the snapshot and shared by every
    call that needs it (attempts are never changed once built); a chain the request names
    itself is built for that call alone.
    """
    if requested_fallbacks is not None:
        return _build_attempts(
            snapshot, route, _chain(snapshot, model, requested_fallbacks, client), client
        )
    chain = client.fallback_chain
    key = (
        route,
        model.id,
        None if chain is None else tuple(chain),
        client.prompt_cache_breakpoints,
    )
    plans = snapshot.attempt_plans
    plan = plans.get(key)
    if plan is None:
        if len(plans) >= _PLANS_PER_SNAPSHOT:
            plans.clear()
        plan = plans[key] = _build_attempts(
            snapshot, route, _chain(snapshot, model, None, client), client
        )
    return plan


def _build_attempts(
    snapshot: ConfigSnapshot, route: str, chain: list[ModelInfo], client: ClientInfo
) -> tuple[Attempt, ...]:
    if len(chain) > 10:
        raise InvalidRequest("a fallback chain may hold at most 10 models", param="fallback_models")
    timeouts = snapshot.timeouts
    attempts: list[Attempt] = []
    for index, step in enumerate(chain):
        if route == "gateway":
            provider = GATEWAY_PROVIDER
            options = dict(snapshot.provider_options.get(GATEWAY_PROVIDER, {}))
            options["byok"] = {p: k for p, k in snapshot.keys.items() if p != GATEWAY_PROVIDER}
            options["fallback_models"] = [m.id for m in chain[index + 1 :]]
        else:
            provider = step.provider
            options = dict(snapshot.provider_options.get(provider, {}))
            if client.prompt_cache_breakpoints is not None:
                options["cache_breakpoints"] = client.prompt_cache_breakpoints
        upstream = Upstream(
            base_url=snapshot.base_urls.get(provider, ""),
            api_key=snapshot.keys.get(provider),
            timeouts=timeouts,
            options=options,
        )
        target = Target(model_id=step.id, provider=step.provider, upstream_model=step.model_name)
        attempts.append(Attempt(step, provider, target, upstream))
    return tuple(attempts)
