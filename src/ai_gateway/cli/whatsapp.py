"""``ai-gateway whatsapp add-number|list|set-secret``: the clients' WhatsApp numbers.

Access tokens and webhook secrets are read from standard input, never from the command
line, where they would land in shell history and in ``ps`` output.
"""

from __future__ import annotations

import sys

import click

from ai_gateway.bootstrap import require_master_key
from ai_gateway.cli._common import CLI_ACTOR, database, emit, json_option, settings
from ai_gateway.storage import whatsapp as store
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.clients import get_client
from ai_gateway.storage.secrets import set_secret
from ai_gateway.whatsapp.replies import LANGUAGES
from ai_gateway.whatsapp.service import APP_SECRET_ID, VERIFY_TOKEN_ID

__all__ = ["register"]

_COLUMNS = [
    "phone_number_id",
    "client_id",
    "model",
    "history_length",
    "language",
    "token_masked",
    "created_at",
]
_SECRET_IDS = {"verify-token": VERIFY_TOKEN_ID, "app-secret": APP_SECRET_ID}


def _read_stdin(prompt: str) -> str:
    if sys.stdin.isatty():
        return str(click.prompt(prompt, hide_input=True))
    return sys.stdin.read()


@click.group("whatsapp")
def whatsapp_group() -> None:
    """WhatsApp Business numbers answered by the gateway (webhook /webhooks/whatsapp)."""


@whatsapp_group.command("add-number")
@click.option("--client", "client", required=True, help="Client id or name that owns it.")
@click.option("--phone-number-id", required=True, help="Meta's numeric phone number id.")
@click.option("--model", required=True, help="Registry model id, e.g. openai/gpt-4o-mini.")
@click.option("--system-prompt", default=None, help="The bot's instructions.")
@click.option(
    "--history",
    default=10,
    show_default=True,
    type=click.IntRange(0, 100),
    help="How many earlier messages of the contact the model sees.",
)
@click.option(
    "--language",
    default="pt-BR",
    show_default=True,
    type=click.Choice(sorted(LANGUAGES)),
    help="Language of the canned replies (budget, pause, apology, text only).",
)
@click.option(
    "--reply",
    "replies",
    multiple=True,
    metavar="KIND=TEXT",
    help="Override one canned reply; KIND is budget, paused, apology, text_only or "
    "voice_too_long "
    "(text_only= with no text: ignore non-text messages). Repeatable.",
)
@json_option
def add_number(
    client: str,
    phone_number_id: str,
    model: str,
    system_prompt: str | None,
    history: int,
    language: str,
    replies: tuple[str, ...],
    as_json: bool,
) -> None:
    """Add (or re-configure) a number; its access token is read from stdin
    (e.g. `ai-gateway whatsapp add-number ... < token.txt`)."""
    overrides: dict[str, str] = {}
    for item in replies:
        kind, sep, text = item.partition("=")
        if not sep:
            raise click.BadParameter(f"'{item}' is not KIND=TEXT", param_hint="--reply")
        overrides[kind.strip()] = text
    token = _read_stdin("access token")
    db = database()
    master = require_master_key(settings(), db)
    with db.write() as session:
        info = store.add_number(
            session,
            master=master,
            client_id=client,
            phone_number_id=phone_number_id,
            model=model,
            access_token=token,
            system_prompt=system_prompt,
            history_length=history,
            language=language,
            replies=overrides,
        )
        record_audit(
            session,
            actor=CLI_ACTOR,
            action="whatsapp.number.set",
            client_id=info.client_id,
            target=phone_number_id,
            details={"model": model, "history": history, "language": language},
        )
    emit(info, as_json=as_json, columns=_COLUMNS)


@whatsapp_group.command("list")
@click.option("--client", "client", default=None, help="Only this client's numbers.")
@json_option
def list_(client: str | None, as_json: bool) -> None:
    """List numbers (access tokens masked)."""
    with database().session() as session:
        client_id = get_client(session, client).id if client else None
        rows = store.list_numbers(session, client_id=client_id)
    emit(rows, as_json=as_json, columns=_COLUMNS)


@whatsapp_group.command("set-secret")
@click.argument("name", type=click.Choice(sorted(_SECRET_IDS)))
@json_option
def set_secret_(name: str, as_json: bool) -> None:
    """Store the webhook's verify token or app secret in the vault, read from stdin
    (AI_GATEWAY_WHATSAPP_VERIFY_TOKEN / _APP_SECRET take precedence when set)."""
    value = _read_stdin(name)
    db = database()
    master = require_master_key(settings(), db)
    with db.write() as session:
        info = set_secret(session, master=master, secret_id=_SECRET_IDS[name], value=value)
        record_audit(session, actor=CLI_ACTOR, action="secret.set", target=info.id)
    emit({"id": info.id, "masked": info.masked}, as_json=as_json, columns=["id", "masked"])


def register(cli: click.Group) -> None:
    cli.add_command(whatsapp_group)
