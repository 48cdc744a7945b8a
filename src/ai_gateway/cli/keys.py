"""``ai-gateway keys issue|revoke|list``."""

from __future__ import annotations

import click

from ai_gateway.cli._common import CLI_ACTOR, announce, database, emit, json_option, run_async
from ai_gateway.cli.clients import tenants
from ai_gateway.storage import api_keys as store
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.clients import get_client

__all__ = ["register"]


@click.group("keys")
def keys_group() -> None:
    """API keys for clients and admins."""


@keys_group.command("issue")
@click.option("--client", "client", default=None, help="Client id or name (client key).")
@click.option("--admin", is_flag=True, help="Issue an admin key instead.")
@click.option("--name", default=None, help="A label for the key.")
@json_option
def issue(client: str | None, admin: bool, name: str | None, as_json: bool) -> None:
    """Issue a new key; it is printed once and stored only as a hash."""
    if admin == (client is not None):
        raise click.UsageError("give either --client CLIENT or --admin")
    with database().write() as session:
        client_id = get_client(session, client).id if client else None
        key = store.issue_key(
            session, role="admin" if admin else "client", client_id=client_id, name=name
        )
        record_audit(
            session,
            actor=CLI_ACTOR,
            action="key.issue",
            client_id=client_id,
            target=key.info.id,
            details={"role": key.info.role},
        )
    announce("keys", client_id)
    if as_json:
        emit(
            {
                "key": key.plain,
                "id": key.info.id,
                "prefix": key.info.prefix,
                "role": key.info.role,
                "client_id": client_id,
            },
            as_json=True,
        )
    else:
        click.echo(f"key {key.info.id} ({key.info.role}) issued")
        click.echo(f"API key (shown once, store it now): {key.plain}")


@keys_group.command("revoke")
@click.argument("key_id")
@json_option
def revoke(key_id: str, as_json: bool) -> None:
    """Revoke a key by id or prefix; it stops working at once."""
    info = run_async(tenants().revoke_key(key_id, actor=CLI_ACTOR))
    emit(info, as_json=as_json, columns=["id", "prefix", "role", "client_id", "revoked_at"])


@keys_group.command("list")
@click.option("--client", default=None, help="Only this client's keys.")
@json_option
def list_(client: str | None, as_json: bool) -> None:
    """List keys (prefixes only; keys are never stored in clear)."""
    with database().session() as session:
        client_id = get_client(session, client).id if client else None
        rows = store.list_keys(session, client_id=client_id)
    emit(
        rows,
        as_json=as_json,
        columns=["id", "prefix", "role", "client_id", "name", "revoked_at", "last_used_at"],
    )


def register(cli: click.Group) -> None:
    cli.add_command(keys_group)
