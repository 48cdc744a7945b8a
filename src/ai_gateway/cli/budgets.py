"""``ai-gateway budgets set|show|reset``: a client's own budget or a plan's default."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import click

from ai_gateway.cli._common import CLI_ACTOR, announce, database, emit, json_option
from ai_gateway.errors import InvalidRequest
from ai_gateway.metering.budget_rules import BUDGET_TYPES, DEFAULT_THRESHOLDS
from ai_gateway.metering.current_usage import current_usage
from ai_gateway.metering.periods import PERIODS
from ai_gateway.storage import budgets as store
from ai_gateway.storage.clients import get_client

__all__ = ["register"]


@click.group("budgets")
def budgets_group() -> None:
    """Budgets: per client, or the defaults of a plan."""


def _decimal(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise InvalidRequest(f"limit '{value}' is not a number", param="limit") from exc
    return number


def _thresholds(value: str) -> list[int]:
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise InvalidRequest(
            f"thresholds '{value}' must be whole percentages like 80,90,100",
            param="alert_thresholds",
        ) from exc


@budgets_group.command("set")
@click.option("--client", default=None, help="Client id or name (its own budget).")
@click.option("--plan", default=None, help="Plan name (the default of its clients).")
@click.option("--type", "budget_type", type=click.Choice(BUDGET_TYPES), default=None)
@click.option("--limit", default=None, help="Limit in the budget's unit (e.g. 100 or 12.50).")
@click.option("--period", type=click.Choice(PERIODS), default=None)
@click.option(
    "--thresholds",
    default=",".join(str(t) for t in DEFAULT_THRESHOLDS),
    show_default=True,
    help="Alert thresholds in percent, ascending.",
)
@click.option("--pause/--no-pause", default=False, help="Pause the client at 100 %.")
@click.option("--clear", is_flag=True, help="Drop the client's own budget: use its plan's.")
@json_option
def set_(
    client: str | None,
    plan: str | None,
    budget_type: str | None,
    limit: str | None,
    period: str | None,
    thresholds: str,
    pause: bool,
    clear: bool,
    as_json: bool,
) -> None:
    """Set a client's own budget (--client) or a plan's default (--plan)."""
    if (client is None) == (plan is None):
        raise click.UsageError("give exactly one of --client or --plan")
    if clear:
        if client is None:
            raise click.UsageError("--clear applies to a client's own budget")
        with database().write() as session:
            client_id = get_client(session, client).id
            store.clear_client_budget(session, client_id=client_id, actor=CLI_ACTOR)
            view = current_usage(session, client_id=client_id)
        announce("budgets", client_id)
        emit(view, as_json=as_json)
        return
    if budget_type is None or limit is None or period is None:
        raise click.UsageError("--type, --limit and --period are required")
    settings = store.BudgetSettings(
        budget_type=budget_type,
        limit=_decimal(limit),
        period=period,
        alert_thresholds=_thresholds(thresholds),
        pause_at_limit=pause,
    )
    with database().write() as session:
        if plan is not None:
            info = store.set_plan_budget(session, plan=plan, settings=settings, actor=CLI_ACTOR)
        else:
            assert client is not None
            client_id = get_client(session, client).id
            store.set_client_budget(
                session, client_id=client_id, settings=settings, actor=CLI_ACTOR
            )
            view = current_usage(session, client_id=client_id)
    if plan is not None:
        announce("budgets")
        emit(info, as_json=as_json)
        return
    announce("budgets", client_id)
    emit(view, as_json=as_json)


@budgets_group.command("show")
@click.option("--client", required=True, help="Client id or name.")
@json_option
def show(client: str, as_json: bool) -> None:
    """Current usage: usage, limit, percentage, remaining, days left, projection."""
    with database().session() as session:
        view = current_usage(session, client_id=get_client(session, client).id)
    emit(view, as_json=as_json)


@budgets_group.command("reset")
@click.option("--client", required=True, help="Client id or name.")
@json_option
def reset(client: str, as_json: bool) -> None:
    """Start the client's period afresh: usage 0, unpaused (audited)."""
    with database().write() as session:
        client_id = get_client(session, client).id
        store.reset_client_period(session, client_id=client_id, actor=CLI_ACTOR)
        view = current_usage(session, client_id=client_id)
    announce("budgets", client_id)
    emit(view, as_json=as_json)


def register(cli: click.Group) -> None:
    cli.add_command(budgets_group)
