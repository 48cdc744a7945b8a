"""``ai-gateway budgets set|show|reset``: a client's own budget, a plan's default and the
plan's ceiling on its clients' own limits (``--client-max``).

Thin over :class:`~ai_gateway.services.budgets.BudgetService`, like the REST API: the same
validation, ceiling and audit rows (actor ``cli``), and the same change-bus announcement
(every running gateway re-reads the budget within its poll, at once with Redis).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from ai_gateway.cli._common import CLI_ACTOR, announcer, database, emit, json_option
from ai_gateway.errors import InvalidRequest
from ai_gateway.rules.budget_rules import BUDGET_TYPES, DEFAULT_THRESHOLDS, parse_amount
from ai_gateway.rules.periods import PERIODS
from ai_gateway.services.budgets import BudgetService
from ai_gateway.storage.budgets import BudgetSettings, PlanCeiling
from ai_gateway.storage.clients import get_client

__all__ = ["register"]

T = TypeVar("T")


@click.group("budgets")
def budgets_group() -> None:
    """Budgets: per client, or the defaults and ceiling of a plan."""


def _run(work: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(work)


def _service() -> BudgetService:
    """The service, publishing each change so running gateways re-read it at once."""
    return BudgetService(database(), publish=announcer())


def _client_id(name_or_id: str) -> str:
    with database().session() as session:
        return get_client(session, name_or_id).id


def _thresholds(value: str) -> list[int]:
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise InvalidRequest(
            f"thresholds '{value}' must be whole percentages like 80,90,100",
            param="alert_thresholds",
        ) from exc


def _ceiling(value: str | None) -> PlanCeiling | None:
    if value is None:
        return None
    if value.strip().lower() == "none":
        return PlanCeiling(None)
    return PlanCeiling(parse_amount(value, param="client_max"))


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
@click.option(
    "--client-max",
    default=None,
    metavar="N|none",
    help="With --plan: the highest limit its clients may set themselves, in the plan's unit.",
)
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
    client_max: str | None,
    as_json: bool,
) -> None:
    """Set a client's own budget (--client) or a plan's default and ceiling (--plan)."""
    if (client is None) == (plan is None):
        raise click.UsageError("give exactly one of --client or --plan")
    if client_max is not None and plan is None:
        raise click.UsageError("--client-max applies to a plan")
    service = _service()
    if clear:
        if client is None:
            raise click.UsageError("--clear applies to a client's own budget")
        client_id = _client_id(client)
        _run(service.clear_client_budget(client_id, actor=CLI_ACTOR))
        emit(_run(service.view(client_id)), as_json=as_json)
        return
    given = (budget_type, limit, period)
    if plan is not None and client_max is not None and given == (None, None, None):
        info = _run(service.set_plan(plan, actor=CLI_ACTOR, ceiling=_ceiling(client_max)))
        emit(info, as_json=as_json)
        return
    if budget_type is None or limit is None or period is None:
        raise click.UsageError("--type, --limit and --period are required")
    settings = BudgetSettings(
        budget_type=budget_type,
        limit=parse_amount(limit, param="limit"),
        period=period,
        alert_thresholds=_thresholds(thresholds),
        pause_at_limit=pause,
    )
    if plan is not None:
        info = _run(
            service.set_plan(plan, actor=CLI_ACTOR, settings=settings, ceiling=_ceiling(client_max))
        )
        emit(info, as_json=as_json)
        return
    assert client is not None
    client_id = _client_id(client)
    _run(service.set_client_budget(client_id, settings, actor=CLI_ACTOR))
    emit(_run(service.view(client_id)), as_json=as_json)


@budgets_group.command("show")
@click.option("--client", default=None, help="Client id or name: its current usage.")
@click.option("--plan", default=None, help="Plan name: its default budget and ceiling.")
@json_option
def show(client: str | None, plan: str | None, as_json: bool) -> None:
    """A client's current usage (usage, limit, percentage, remaining, days left,
    projection, its plan's ceiling), or a plan's default budget and ceiling."""
    if (client is None) == (plan is None):
        raise click.UsageError("give exactly one of --client or --plan")
    service = BudgetService(database())
    if plan is not None:
        emit(_run(service.plan(plan)), as_json=as_json)
        return
    assert client is not None
    emit(_run(service.view(_client_id(client))), as_json=as_json)


@budgets_group.command("reset")
@click.option("--client", required=True, help="Client id or name.")
@json_option
def reset(client: str, as_json: bool) -> None:
    """Start the client's period afresh: usage 0, unpaused (audited)."""
    service = _service()
    client_id = _client_id(client)
    _run(service.reset_period(client_id, actor=CLI_ACTOR))
    emit(_run(service.view(client_id)), as_json=as_json)


def register(cli: click.Group) -> None:
    cli.add_command(budgets_group)
