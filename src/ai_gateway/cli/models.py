"""``ai-gateway models list``."""

from __future__ import annotations

import click

from ai_gateway.cli._common import database, emit, json_option
from ai_gateway.cli.cron import run_and_report
from ai_gateway.storage.models_registry import list_models

__all__ = ["register"]


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
    emit(
        rows,
        as_json=as_json,
        columns=[
            "id",
            "provider",
            "input_price_per_1m",
            "output_price_per_1m",
            "cached_input_price_per_1m",
            "is_active",
        ],
    )


@models_group.command("sync-pricing")
@json_option
def sync_pricing(as_json: bool) -> None:
    """Update prices from the upstream gateway's model list now (the daily job)."""
    run_and_report("sync-model-pricing", as_json=as_json)


def register(cli: click.Group) -> None:
    cli.add_command(models_group)
