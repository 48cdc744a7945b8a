"""``ai-gateway models list|add|set|disable|sync-pricing``.

Writes validate through the REST API's own schemas (``api.models.ModelCreate`` /
``ModelUpdate``), go through ``storage.models_registry`` (a price change opens a
``model_price_history`` row) and are audited in the same transaction. They bump the
shared config's version and are announced on the change bus (``models``), so every
running gateway reloads its registry within seconds (at once with Redis).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click
from pydantic import BaseModel, ValidationError

from ai_gateway.cli._common import CLI_ACTOR, announce, database, emit, json_option
from ai_gateway.cli.cron import run_and_report
from ai_gateway.errors import InvalidRequest
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.models_registry import (
    ModelInfo,
    create_model,
    get_model,
    list_models,
    update_model,
)
from ai_gateway.storage.shared_config import read_version, update_shared_config

__all__ = ["register"]

_COLUMNS = [
    "id",
    "provider",
    "input_price_per_1m",
    "output_price_per_1m",
    "cached_input_price_per_1m",
    "is_active",
]
_CAPABILITIES = ("chat", "vision", "tools", "json", "streaming", "embeddings", "transcription")
_KINDS = ("chat", "embedding", "transcription")


@click.group("models")
def models_group() -> None:
    """The model registry and its prices."""


@models_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include inactive models.")
@json_option
def list_(show_all: bool, as_json: bool) -> None:
    """List models with their USD prices per 1M tokens."""
    with database().session() as session:
        rows = list_models(session, active_only=not show_all)
    emit(rows, as_json=as_json, columns=_COLUMNS)


def _validated(schema: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` checked by the REST API's schema; the first problem names its option."""
    try:
        checked = schema.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        option = "--" + field.replace("_per_1m", "").replace("_", "-")
        raise InvalidRequest(f"{option}: {first['msg']}", param=field) from exc
    return checked.model_dump(exclude_unset=True)


def _check_provider(provider: str | None) -> None:
    from ai_gateway.api.models import check_provider

    check_provider(provider)


def _write(action: str, model_id: str, apply: Any, details: dict[str, Any]) -> ModelInfo:
    """Run ``apply(session)``, audit it and bump the config version, in one transaction."""
    with database().write() as session:
        model: ModelInfo = apply(session)
        record_audit(
            session,
            actor=CLI_ACTOR,
            action=action,
            target=model_id,
            details={k: str(v) if isinstance(v, Decimal) else v for k, v in details.items()},
        )
        # The registry is part of the config snapshot: a version bump makes every running
        # replica reload it (the 2 s version poll), as an admin change would.
        update_shared_config(session, changes={})
        version = read_version(session)
    announce("models", version=version)  # and at once over Redis, like the REST API's change
    return model


_PRICE_OPTIONS = [
    click.option("--input-price", default=None, help="USD per 1M input tokens."),
    click.option("--output-price", default=None, help="USD per 1M output tokens."),
    click.option("--cached-input-price", default=None, help="USD per 1M cached input tokens."),
    click.option(
        "--price-per-minute", default=None, help="USD per minute of audio (transcription)."
    ),
    click.option(
        "--kind", type=click.Choice(_KINDS), default=None, help="Which endpoint may call it."
    ),
    click.option("--display-name", default=None),
    click.option("--context-window", type=int, default=None, help="Tokens."),
    click.option(
        "--capability",
        "capabilities",
        multiple=True,
        type=click.Choice(_CAPABILITIES),
        help="Repeat for each capability (replaces the list).",
    ),
]


def _price_options(fn: Any) -> Any:
    for option in reversed(_PRICE_OPTIONS):
        fn = option(fn)
    return fn


def _given(**values: Any) -> dict[str, Any]:
    """The options actually given, under the schema's field names."""
    names = {
        "input_price": "input_price_per_1m",
        "output_price": "output_price_per_1m",
        "cached_input_price": "cached_input_price_per_1m",
    }
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or value == ():
            continue
        out[names.get(key, key)] = list(value) if isinstance(value, tuple) else value
    return out


@models_group.command("add")
@click.argument("model_id")
@click.option("--provider", default=None, help="Default: the part of MODEL_ID before '/'.")
@click.option("--model-name", default=None, help="Upstream name (default: after the '/').")
@_price_options
@click.option("--alias", "aliases", multiple=True, help="Another name callers may use.")
@click.option("--inactive", is_flag=True, help="Add it disabled.")
@json_option
def add(
    model_id: str,
    provider: str | None,
    model_name: str | None,
    inactive: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Add a model to the registry (its first prices open its price history)."""
    prefix, _, rest = model_id.partition("/")
    values = {
        "id": model_id,
        "provider": provider or prefix,
        "model_name": model_name or rest or model_id,
        "display_name": options.pop("display_name") or model_id,
        **_given(**options),
    }
    checked = _validated(_create_schema(), values)
    _check_provider(checked["provider"])
    checked.pop("id")
    if inactive:
        checked["is_active"] = False
    model = _write(
        "model.create",
        model_id,
        lambda s: create_model(s, model_id=model_id, values=checked, source="cli"),
        checked,
    )
    emit(model, as_json=as_json, columns=_COLUMNS)


@models_group.command("set")
@click.argument("model_id")
@click.option("--provider", default=None)
@click.option("--model-name", default=None, help="Upstream name.")
@_price_options
@click.option("--active/--inactive", "is_active", default=None, help="Enable or disable it.")
@json_option
def set_(model_id: str, as_json: bool, **options: Any) -> None:
    """Change a model: prices (kept in the price history), names, capabilities, active."""
    changes = _validated(_update_schema(), _given(**options))
    if not changes:
        raise click.UsageError("nothing to change; give at least one option")
    _check_provider(changes.get("provider"))

    def apply(s: Any) -> ModelInfo:
        model, repriced = update_model(s, model_id=model_id, changes=changes, source="cli")
        changes["repriced"] = repriced
        return model

    model = _write("model.update", model_id, apply, changes)
    emit(model, as_json=as_json, columns=_COLUMNS)


@models_group.command("disable")
@click.argument("model_id")
@json_option
def disable(model_id: str, as_json: bool) -> None:
    """Disable a model: callers get 404 for it; its row and history are kept."""

    def apply(s: Any) -> ModelInfo:
        get_model(s, model_id=model_id)
        model, _ = update_model(s, model_id=model_id, changes={"is_active": False}, source="cli")
        return model

    model = _write("model.deactivate", model_id, apply, {})
    emit(model, as_json=as_json, columns=_COLUMNS)


def _create_schema() -> type[BaseModel]:
    from ai_gateway.api.models import ModelCreate

    return ModelCreate


def _update_schema() -> type[BaseModel]:
    from ai_gateway.api.models import ModelUpdate

    return ModelUpdate


@models_group.command("sync-pricing")
@json_option
def sync_pricing(as_json: bool) -> None:
    """Update prices from the upstream gateway's model list now (the daily job)."""
    run_and_report("sync-model-pricing", as_json=as_json)


def register(cli: click.Group) -> None:
    cli.add_command(models_group)
