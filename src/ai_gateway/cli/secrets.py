"""``ai-gateway secrets set|list|rotate-master``: provider keys in the vault.

Keys are read from standard input, never from the command line, where they would land
in shell history and in ``ps`` output.
"""

from __future__ import annotations

import sys

import click

from ai_gateway.bootstrap import require_master_key
from ai_gateway.cli._common import CLI_ACTOR, database, emit, json_option, settings
from ai_gateway.errors import InvalidRequest
from ai_gateway.storage import secrets as store
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.clients import get_client
from ai_gateway.storage.shared_config import update_shared_config
from ai_gateway.vault import MasterKey, generate_master_key, write_key_file

__all__ = ["register"]


@click.group("secrets")
def secrets_group() -> None:
    """Provider keys, sealed with AES-256-GCM."""


@secrets_group.command("set")
@click.argument("provider", type=click.Choice(store.SECRET_NAMES))
@json_option
def set_(provider: str, as_json: bool) -> None:
    """Store PROVIDER's key, read from stdin (e.g. `ai-gateway secrets set openai < key.txt`)."""
    if sys.stdin.isatty():
        value = click.prompt(f"{provider} key", hide_input=True)
    else:
        value = sys.stdin.read()
    db = database()
    master = require_master_key(settings(), db)
    with db.write() as session:
        info = store.set_secret(session, master=master, secret_id=provider, value=value)
        update_shared_config(session, changes={f"{provider}_secret_id": provider})
        record_audit(
            session,
            actor=CLI_ACTOR,
            action="secret.set",
            target=provider,
            details={"masked": info.masked},
        )
    emit({"id": info.id, "masked": info.masked}, as_json=as_json, columns=["id", "masked"])


@secrets_group.command("set-webhook")
@click.argument("owner")
@json_option
def set_webhook(owner: str, as_json: bool) -> None:
    """Store the alert webhook signing secret of client OWNER (id or name), or of the
    operator (OWNER = admin), read from stdin."""
    value = sys.stdin.read()
    db = database()
    master = require_master_key(settings(), db)
    with db.write() as session:
        owner_id = "admin" if owner == "admin" else get_client(session, owner).id
        secret_id = f"webhook:{owner_id}"
        info = store.set_secret(session, master=master, secret_id=secret_id, value=value)
        record_audit(
            session,
            actor=CLI_ACTOR,
            action="secret.set",
            client_id=None if owner == "admin" else owner_id,
            target=secret_id,
            details={"masked": info.masked},
        )
    emit({"id": info.id, "masked": info.masked}, as_json=as_json, columns=["id", "masked"])


@secrets_group.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List stored secrets, masked."""
    with database().session() as session:
        rows = store.list_secrets(session)
    emit(rows, as_json=as_json, columns=["id", "masked", "updated_at"])


@secrets_group.command("rotate-master")
@click.option(
    "--new-key-stdin",
    is_flag=True,
    help="Read the new master key (base64) from stdin instead of generating one.",
)
@json_option
def rotate_master(new_key_stdin: bool, as_json: bool) -> None:
    """Re-encrypt every secret under a new master key, in one transaction."""
    cfg, db = settings(), database()
    old = require_master_key(cfg, db)
    embedded = cfg.master_key is None and db.sqlite_path is not None
    if not embedded and not new_key_stdin:
        raise InvalidRequest(
            "the master key comes from AI_GATEWAY_MASTER_KEY; give the new one on stdin "
            "with --new-key-stdin, then update the environment"
        )
    new_text = sys.stdin.read().strip() if new_key_stdin else generate_master_key()
    new = MasterKey.from_base64(new_text)
    if new.key_id == old.key_id:
        raise InvalidRequest("the new master key is the current one")
    with db.write() as session:
        count = store.reseal_all(session, old=old, new=new)
        record_audit(
            session,
            actor=CLI_ACTOR,
            action="vault.rotate_master",
            details={"secrets": count, "key_id": new.key_id},
        )
        if embedded:
            # Still inside the transaction: if writing the file fails, nothing commits.
            assert db.sqlite_path is not None
            write_key_file(db.sqlite_path.parent, new_text)
    result = {"resealed": count, "key_id": new.key_id, "key_file_updated": embedded}
    if as_json:
        emit(result, as_json=True)
        return
    click.echo(f"{count} secrets re-encrypted under key {new.key_id}")
    if not embedded:
        click.echo("set AI_GATEWAY_MASTER_KEY to the new key before the next start")


def register(cli: click.Group) -> None:
    cli.add_command(secrets_group)
