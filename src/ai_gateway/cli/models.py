"""``ai-gateway models list|add|set|disable|sync-pricing``.

Writes validate through the REST API's own schemas (``api.models.ModelCreate`` /
``ModelUpdate``) and go through the service the REST API uses
(:class:`~ai_gateway.services.models.ModelService`: a price change opens a
``model_price_history`` row, audited in the same transaction). Each is announced on the
change bus (``models``: a version bump, and Redis at once), so every running gateway
reloads its registry within seconds.
"""

from __future__ import annotations

from typing import Any

import click
from pydantic import BaseModel, ValidationError

from ai_gateway.cli._common import CLI_ACTOR, announcer, database, emit, json_option, run_async
from ai_gateway.cli.cron import run_and_report
from ai_gateway.errors import InvalidRequest
from ai_gateway.services.models import ModelService
from ai_gateway.storage.models_registry import list_models

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


def _service() -> ModelService:
    """The service the REST API uses, announcing each change to running gateways."""
    return ModelService(database(), publish=announcer(), source="cli")


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
    checked.pop("id")
    if inactive:
        checked["is_active"] = False
    model = run_async(_service().add_model(model_id, actor=CLI_ACTOR, values=checked))
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
    model = run_async(_service().change_model(model_id, actor=CLI_ACTOR, changes=changes))
    emit(model, as_json=as_json, columns=_COLUMNS)


@models_group.command("disable")
@click.argument("model_id")
@json_option
def disable(model_id: str, as_json: bool) -> None:
    """Disable a model: callers get 404 for it; its row and history are kept."""
    model = run_async(_service().deactivate(model_id, actor=CLI_ACTOR))
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
