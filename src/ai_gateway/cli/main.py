"""The ``ai-gateway`` command: noun groups with verbs, thin over library functions.

Errors from the library (:class:`ai_gateway.errors.GatewayError`) become one line on
stderr and exit code 1 — never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from ai_gateway.cli import (
    budgets,
    clients,
    cron,
    db,
    keys,
    legacy,
    limits,
    models,
    secrets,
    service,
    whatsapp,
)
from ai_gateway.errors import GatewayError

__all__ = ["cli", "main"]


class _Cli(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GatewayError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(1)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ai-gateway")
def cli() -> None:
    """AI Gateway: one service between your tenants and their LLM providers."""


for module in (
    service,
    clients,
    keys,
    secrets,
    models,
    budgets,
    limits,
    cron,
    db,
    whatsapp,
    legacy,
):
    module.register(cli)


def main() -> None:
    cli(prog_name="ai-gateway")
