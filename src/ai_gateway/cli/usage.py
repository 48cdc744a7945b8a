"""``ai-gateway usage quarantine list|replay``: the usage rows the database refused.

``list`` shows them with the database's reason; ``replay`` writes them to the usage log
once their cause is fixed (each row in its own transaction: one still refused stays
quarantined and does not stop the others).
"""

from __future__ import annotations

import click
from sqlalchemy.exc import SQLAlchemyError

from ai_gateway.cli._common import database, emit, json_option
from ai_gateway.errors import GatewayError
from ai_gateway.metering.usage_sinks import describe_error
from ai_gateway.storage.usage import count_quarantined, list_quarantined, redrive_quarantined

__all__ = ["register"]

_REPLAY_PAGE = 500


@click.group("usage")
def usage_group() -> None:
    """The usage log."""


@usage_group.group("quarantine")
def quarantine_group() -> None:
    """Usage rows the database refused, kept with the reason."""


@quarantine_group.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@json_option
def list_rows(limit: int, as_json: bool) -> None:
    """The newest quarantined rows and the total."""
    with database().session() as session:
        rows = list_quarantined(session, limit=limit)
        total = count_quarantined(session)
    data = [
        {
            "id": r.id,
            "client_id": r.client_id,
            "request_id": r.request_id,
            "quarantined_at": r.quarantined_at,
            "budget_applied": r.budget_applied,
            "reason": r.reason,
        }
        for r in rows
    ]
    if as_json:
        emit(
            {
                "data": [{**d, "payload": r.payload} for d, r in zip(data, rows, strict=True)],
                "count": total,
            },
            as_json=True,
        )
        return
    emit(data, as_json=False, columns=["id", "client_id", "quarantined_at", "reason"])
    click.echo(f"{total} row(s) in quarantine")


@quarantine_group.command("replay")
@json_option
def replay(as_json: bool) -> None:
    """Write the quarantined rows to the usage log; those still refused stay."""
    db = database()
    replayed, refused = 0, {}
    with db.session() as session:
        ids = [r.id for r in list_quarantined(session, limit=count_quarantined(session) or 1)]
    for row_id in ids:
        try:
            with db.write() as session:
                replayed += redrive_quarantined(session, row_id=row_id)
        except (SQLAlchemyError, GatewayError, ValueError, ArithmeticError) as exc:
            refused[row_id] = describe_error(exc)
    result = {"replayed": replayed, "still_refused": len(refused), "errors": refused}
    if as_json:
        emit(result, as_json=True)
        return
    click.echo(f"{replayed} row(s) replayed, {len(refused)} still refused")
    for row_id, error in refused.items():
        click.echo(f"  {row_id}: {error}")


def register(cli: click.Group) -> None:
    cli.add_command(usage_group)
