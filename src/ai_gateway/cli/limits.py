"""``ai-gateway limits set|show``: rate limits of a client, a plan, or a shared provider
key. Thin over :class:`~ai_gateway.services.rate_limits.RateLimitService`, which
validates, writes, audits and bumps the config version; the change is then announced on
the change bus (``limits``): a running gateway applies it within its version poll, at
once with Redis."""

from __future__ import annotations

from typing import Any

import click

from ai_gateway.cli._common import CLI_ACTOR, announce, database, emit, json_option
from ai_gateway.ratelimit.rules import FIELDS
from ai_gateway.services.rate_limits import RateLimitService
from ai_gateway.storage.shared_config import read_version

__all__ = ["register"]


@click.group("limits")
def limits_group() -> None:
    """Rate limits: requests/tokens per minute and concurrency, per client or plan."""


def _target(client: str | None, plan: str | None, provider: str | None) -> None:
    if sum(x is not None for x in (client, plan, provider)) != 1:
        raise click.UsageError("give exactly one of --client, --plan or --provider")


def _show(
    service: RateLimitService, client: str | None, plan: str | None, provider: str | None
) -> Any:
    with database().session() as session:
        if client is not None:
            return service.client_limits(session, client=client).as_dict()
        if plan is not None:
            return service.plan_limits(session, plan=plan).as_dict()
        assert provider is not None
        return service.provider_limits(session, provider=provider).as_dict()


@limits_group.command("set")
@click.option("--client", default=None, help="Client id or name (its own limits).")
@click.option("--plan", default=None, help="Plan name (the default of its clients).")
@click.option("--provider", default=None, help="Provider whose shared key has a ceiling.")
@click.option("--rpm", type=int, default=None, help="Requests per minute.")
@click.option("--tpm", type=int, default=None, help="Tokens per minute.")
@click.option("--concurrency", type=int, default=None, help="Requests in flight at once.")
@click.option(
    "--clear",
    is_flag=True,
    help="Drop every limit first (a client then follows its plan; a plan or key: none).",
)
@json_option
def set_(
    client: str | None,
    plan: str | None,
    provider: str | None,
    rpm: int | None,
    tpm: int | None,
    concurrency: int | None,
    clear: bool,
    as_json: bool,
) -> None:
    """Set the limits given; the others keep their value (unless --clear)."""
    _target(client, plan, provider)
    given = {"rpm": rpm, "tpm": tpm, "concurrency": concurrency}
    values = {k: v for k, v in given.items() if v is not None}
    service = RateLimitService(database())
    client_id: str | None = None
    with database().write() as session:
        if client is not None:
            view = service.set_client(
                session, client=client, values=values, actor=CLI_ACTOR, clear=clear
            )
            client_id = view.client_id
        elif plan is not None:
            service.set_plan(session, plan=plan, values=values, actor=CLI_ACTOR, clear=clear)
        else:
            assert provider is not None
            service.set_provider(
                session, provider=provider, values=values, actor=CLI_ACTOR, clear=clear
            )
        version = read_version(session)  # the write moved it already
    # Running gateways reload their limits (at their next poll; with Redis, at once).
    announce("limits", client_id, version=version)
    _emit(_show(service, client, plan, provider), as_json=as_json)


@limits_group.command("show")
@click.option("--client", default=None, help="Client id or name.")
@click.option("--plan", default=None, help="Plan name.")
@click.option("--provider", default=None, help="Provider name.")
@json_option
def show(client: str | None, plan: str | None, provider: str | None, as_json: bool) -> None:
    """A client's own, plan and effective limits; a plan's; or a key's ceiling."""
    _target(client, plan, provider)
    _emit(_show(RateLimitService(database()), client, plan, provider), as_json=as_json)


def _emit(data: dict[str, Any], *, as_json: bool) -> None:
    if as_json or "effective" not in data:
        emit(data, as_json=as_json)
        return
    # People read a client's limits as one row per limit: own, plan, enforced.
    rows = [
        {
            "limit": name,
            "own": data["own"][name],
            "plan": data["plan_limits"][name],
            "effective": data["effective"][name],
        }
        for name in FIELDS
    ]
    emit(rows, as_json=False)


def register(cli: click.Group) -> None:
    cli.add_command(limits_group)
