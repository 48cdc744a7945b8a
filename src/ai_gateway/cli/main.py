"""The ``ai-gateway`` command: noun groups with verbs, thin over library functions.

Errors from the library (:class:`ai_gateway.errors.GatewayError`) become one line on
stderr and exit code 1 — never a traceback.

Start-up is lazy: the command modules pull in SQLAlchemy, aiohttp and FastAPI (~2 s of
imports on a small machine), so ``ai-gateway --help`` and ``--version`` list the commands
from :data:`COMMANDS` and import nothing heavy; a command's module is imported only
when that command runs. ``tests/cli/test_startup.py`` checks the table against the
modules' own commands.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

__all__ = ["COMMANDS", "MODULES", "cli", "main"]

#: The modules that register commands (``module.register(group)``).
MODULES = (
    "service",
    "clients",
    "keys",
    "secrets",
    "models",
    "budgets",
    "limits",
    "cron",
    "db",
    "whatsapp",
    "legacy",
    "usage",
    "requests",
)

#: command -> (module, short help shown by ``--help``), in the order ``--help`` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("service", "Run the HTTP service (uvicorn with uvloop and httptools)."),
    "migrate": ("service", "Apply (or revert) database migrations; running it twice is a no-op."),
    "clients": ("clients", "Tenants: create, list and change them."),
    "rollout": ("clients", "Enable the gateway for the first N % of clients by creation date."),
    "keys": ("keys", "API keys for clients and admins."),
    "secrets": ("secrets", "Provider keys, sealed with AES-256-GCM."),
    "models": ("models", "The model registry and its prices."),
    "budgets": ("budgets", "Budgets: per client, or the defaults and ceiling of a plan."),
    "limits": (
        "limits",
        "Rate limits: requests/tokens per minute and concurrency, per client or plan.",
    ),
    "cron": ("cron", "Scheduled jobs."),
    "db": ("db", "Back up and restore the gateway's database."),
    "whatsapp": (
        "whatsapp",
        "WhatsApp Business numbers answered by the gateway (webhook /webhooks/whatsapp).",
    ),
    "import-legacy-usage": (
        "legacy",
        "Import historical usage rows (CSV with a header, or JSON lines) into "
        "gateway_usage_logs with route 'legacy'.",
    ),
    "usage": ("usage", "The usage log."),
    "requests": (
        "requests",
        "The request explorer: list calls; store or purge prompts and answers (LGPD).",
    ),
}


class _Cli(click.Group):
    """A group that imports a command's module only when the command is used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: set[str] = set()

    def _load(self, module: str) -> None:
        if module not in self._loaded:
            self._loaded.add(module)
            importlib.import_module(f"ai_gateway.cli.{module}").register(self)

    def load_all(self) -> None:
        """Import every command module (what ``--help`` avoids)."""
        for module in MODULES:
            self._load(module)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(dict.fromkeys([*COMMANDS, *self.commands]))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            known = COMMANDS.get(cmd_name)
            if known is not None:
                self._load(known[0])
            else:
                self.load_all()  # a command this table does not know yet
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self._short_help(name, formatter.width)) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def _short_help(self, name: str, width: int) -> str:
        if name in COMMANDS:
            return COMMANDS[name][1]
        return self.commands[name].get_short_help_str(max(width - 6 - len(name), 45))

    def invoke(self, ctx: click.Context) -> Any:
        from ai_gateway.errors import GatewayError

        try:
            return super().invoke(ctx)
        except GatewayError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(1)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ai-gateway")
def cli() -> None:
    """AI Gateway: one service between your tenants and their LLM providers."""


def main() -> None:
    cli(prog_name="ai-gateway")
