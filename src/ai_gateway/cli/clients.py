"""``ai-gateway clients create|list|set`` and ``ai-gateway rollout``."""

from __future__ import annotations

from typing import Any

import click

from ai_gateway.cli._common import (
    CLI_ACTOR,
    announce,
    announcer,
    database,
    emit,
    json_option,
    run_async,
    settings,
)
from ai_gateway.pipeline.config_cache import ConfigCache
from ai_gateway.services.budgets import BudgetService
from ai_gateway.services.tenants import TenantService
from ai_gateway.storage import clients as store
from ai_gateway.storage.api_keys import issue_key
from ai_gateway.storage.audit import record_audit

__all__ = ["register"]

_COLUMNS = ["id", "name", "plan", "use_ai_gateway", "timezone", "status", "created_at"]


@click.group("clients")
def clients_group() -> None:
    """Tenants: create, list and change them."""


@clients_group.command("create")
@click.option("--name", required=True, help="Unique client name.")
@click.option("--plan", required=True, help="free, basic, pro or enterprise.")
@click.option("--timezone", default="America/Sao_Paulo", show_default=True)
@click.option("--gateway/--no-gateway", default=False, help="Route via the upstream gateway.")
@click.option("--email", default=None, help="Contact e-mail for budget alerts.")
@json_option
def create(
    name: str, plan: str, timezone: str, gateway: bool, email: str | None, as_json: bool
) -> None:
    """Create a client and print its first API key (shown once)."""
    with database().write() as session:
        client = store.create_client(
            session,
            name=name,
            plan=plan,
            use_ai_gateway=gateway,
            timezone=timezone,
            contact_email=email,
        )
        key = issue_key(session, role="client", client_id=client.id, name="default")
        record_audit(
            session,
            actor=CLI_ACTOR,
            action="client.create",
            client_id=client.id,
            details={"name": name, "plan": plan},
        )
    if as_json:
        emit({"client": client, "key": key.plain, "key_prefix": key.info.prefix}, as_json=True)
    else:
        click.echo(f"client {client.id} ({client.name}, plan {client.plan}) created")
        click.echo(f"API key (shown once, store it now): {key.plain}")


@clients_group.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List every client."""
    with database().session() as session:
        rows = store.list_clients(session)
    emit(rows, as_json=as_json, columns=_COLUMNS)


@clients_group.command("set")
@click.argument("client")
@click.option("--plan", default=None)
@click.option("--gateway/--no-gateway", default=None, help="The client's use_ai_gateway flag.")
@click.option("--timezone", default=None)
@click.option("--status", type=click.Choice(store.CLIENT_STATUSES), default=None)
@click.option("--email", default=None, help="Contact e-mail for budget alerts.")
@click.option("--webhook", default=None, help="Webhook URL for budget alerts.")
@click.option(
    "--prompt-cache-breakpoints/--no-prompt-cache-breakpoints",
    default=None,
    help="Mark long stable prompt prefixes for Anthropic's prompt cache (default: the config).",
)
@click.option(
    "--semantic-cache/--no-semantic-cache",
    default=None,
    help="Opt the client in to the semantic cache (answers reused for the same meaning).",
)
@click.option(
    "--semantic-threshold",
    type=click.FloatRange(0.5, 1.0),
    default=None,
    help="The similarity a semantic hit needs for this client (default: the gateway's).",
)
@json_option
def set_(
    client: str,
    plan: str | None,
    gateway: bool | None,
    timezone: str | None,
    status: str | None,
    email: str | None,
    webhook: str | None,
    prompt_cache_breakpoints: bool | None,
    semantic_cache: bool | None,
    semantic_threshold: float | None,
    as_json: bool,
) -> None:
    """Change a client's plan, gateway flag, timezone, status or alert contacts."""
    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "plan": plan,
            "use_ai_gateway": gateway,
            "timezone": timezone,
            "status": status,
            "contact_email": email,
            "alert_webhook_url": webhook,
            "prompt_cache_breakpoints": prompt_cache_breakpoints,
            "semantic_cache": semantic_cache,
            "semantic_cache_threshold": semantic_threshold,
        }.items()
        if v is not None
    }
    if not changes:
        raise click.UsageError("nothing to change; give at least one option")
    # The REST API's owner: the same checks (a webhook on a private address is refused,
    # a new plan's ceiling applies to the client's budget), audit and announcement.
    info = run_async(tenants().update_client(client, actor=CLI_ACTOR, changes=changes))
    emit(info, as_json=as_json, columns=_COLUMNS)


def tenants() -> TenantService:
    """:class:`TenantService` for a command: it announces each change to running gateways."""
    db, publish = database(), announcer()
    return TenantService(
        db,
        config=ConfigCache(db, None, settings()),
        budgets=BudgetService(db, publish=publish),
        publish=publish,
        allow_private_webhooks=settings().allow_private_webhooks,
    )


@click.command("rollout")
@click.option(
    "--percent",
    type=click.IntRange(0, 100),
    required=True,
    help="Share of clients (oldest first) routed via the gateway.",
)
@json_option
def rollout(percent: int, as_json: bool) -> None:
    """Enable the gateway for the first N % of clients by creation date."""
    with database().write() as session:
        enabled, total = store.rollout(session, percent=percent)
        record_audit(
            session,
            actor=CLI_ACTOR,
            action="rollout",
            details={"percent": percent, "enabled": enabled, "total": total},
        )
    announce("clients")
    if as_json:
        emit({"percent": percent, "enabled": enabled, "total": total}, as_json=True)
    else:
        click.echo(f"gateway enabled for {enabled} of {total} clients ({percent} %)")


def register(cli: click.Group) -> None:
    cli.add_command(clients_group)
    cli.add_command(rollout)
