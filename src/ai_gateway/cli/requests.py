"""``ai-gateway requests list|store|purge``: the request explorer from the shell.

``list`` pages through the usage log with the explorer's filters (``--cursor`` takes the
``next_cursor`` a previous page printed); ``store`` turns the LGPD opt-in of a client on
or off (with its retention); ``purge`` deletes stored prompts and answers -- one client's
(all, or older than N days: a data subject's request) or every client's expired ones.
"""

from __future__ import annotations

from datetime import datetime

import click

from ai_gateway.cli._common import CLI_ACTOR, database, emit, json_option, run_async
from ai_gateway.cli.clients import tenants
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.clients import get_client
from ai_gateway.storage.request_bodies import (
    MAX_RETENTION_DAYS,
    purge_bodies,
    purge_expired_bodies,
)
from ai_gateway.storage.request_log import (
    CACHE_STATES,
    ENDPOINTS,
    FALLBACK_STATES,
    ROUTES,
    STATUSES,
    RequestFilters,
    decode_cursor,
    list_requests,
)

__all__ = ["register"]

_COLUMNS = ["created_at", "id", "client_id", "model_used", "status", "cost_brl", "latency_ms"]


@click.group("requests")
def requests_group() -> None:
    """The request explorer: list calls; store or purge prompts and answers (LGPD)."""


@requests_group.command("list")
@click.option("--client", "client", help="a client's name or id (default: every client)")
@click.option("--model")
@click.option("--endpoint", type=click.Choice(ENDPOINTS))
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--route", type=click.Choice(ROUTES))
@click.option("--cache", type=click.Choice(CACHE_STATES))
@click.option("--fallback", type=click.Choice(FALLBACK_STATES))
@click.option("--conversation")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="first day (UTC)")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="last day included")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 200))
@click.option("--cursor", help="the next_cursor of a previous page")
@json_option
def list_command(
    client: str | None,
    model: str | None,
    endpoint: str | None,
    status: str | None,
    route: str | None,
    cache: str | None,
    fallback: str | None,
    conversation: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """One page of calls, newest first."""
    filters = RequestFilters.of(
        model=model,
        endpoint=endpoint,
        status=status,
        route=route,
        cache=cache,
        fallback=fallback,
        conversation_id=conversation,
        date_from=since.date() if since else None,
        date_to=until.date() if until else None,
    )
    after = decode_cursor(cursor) if cursor else None
    with database().session() as session:
        client_id = get_client(session, client).id if client else None
        page = list_requests(
            session, client_id=client_id, filters=filters, limit=limit, cursor=after
        )
    if as_json:
        emit({"data": page.rows, "next_cursor": page.next_cursor}, as_json=True)
        return
    emit(page.rows, as_json=False, columns=_COLUMNS)
    if page.next_cursor:
        click.echo(f"next page: --cursor {page.next_cursor}")


@requests_group.command("store")
@click.option("--client", "client", required=True, help="a client's name or id")
@click.option("--on/--off", "store", required=True, help="keep prompts and answers, or not")
@click.option(
    "--retention-days",
    default=30,
    show_default=True,
    type=click.IntRange(1, MAX_RETENTION_DAYS),
)
@json_option
def store_command(client: str, store: bool, retention_days: int, as_json: bool) -> None:
    """Turn a client's body storage on or off (off deletes what was kept)."""
    found = run_async(
        tenants().set_body_storage(
            client, actor=CLI_ACTOR, store_bodies=store, retention_days=retention_days
        )
    )
    emit(
        {
            "client_id": found.client_id,
            "store_bodies": found.store_bodies,
            "retention_days": found.retention_days,
        },
        as_json=as_json,
    )


@requests_group.command("purge")
@click.option("--client", "client", help="one client's bodies (default: every client's expired)")
@click.option(
    "--older-than-days",
    type=click.IntRange(0, 100_000),
    help="with --client: only bodies older than this",
)
@json_option
def purge_command(client: str | None, older_than_days: int | None, as_json: bool) -> None:
    """Delete stored prompts and answers."""
    if older_than_days is not None and client is None:
        raise click.UsageError("--older-than-days needs --client")
    with database().write() as session:
        if client is None:
            deleted = purge_expired_bodies(session)
        else:
            client_id = get_client(session, client).id
            deleted = purge_bodies(session, client_id=client_id, older_than_days=older_than_days)
            record_audit(
                session,
                actor=CLI_ACTOR,
                action="client.body_purge",
                client_id=client_id,
                target=client_id,
                details={"deleted": deleted, "older_than_days": older_than_days},
            )
    if as_json:
        emit({"deleted": deleted}, as_json=True)
        return
    click.echo(f"{deleted} stored bod{'y' if deleted == 1 else 'ies'} deleted")


def register(cli: click.Group) -> None:
    cli.add_command(requests_group)
