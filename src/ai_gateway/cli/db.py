"""``ai-gateway db backup|restore``: the whole database, with the engine's own tools.

Progress goes to stderr, so ``--json`` output on stdout stays one document.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import click

from ai_gateway.cli._common import emit, json_option, settings
from ai_gateway.storage.backup import (
    Progress,
    backup_database,
    default_backup_name,
    restore_database,
)

__all__ = ["register"]


@click.group("db")
def db_group() -> None:
    """Back up and restore the gateway's database."""


def _printer(quiet: bool) -> Progress:
    def show(line: str) -> None:
        if not quiet:
            click.echo(line, err=True)

    return show


@db_group.command("backup")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Backup file (default: ai-gateway-<UTC time>.db|.dump here).",
)
@click.option("--quiet", is_flag=True, help="No progress lines.")
@json_option
def backup(output: Path | None, quiet: bool, as_json: bool) -> None:
    """A consistent copy of the live database (SQLite backup API, or pg_dump)."""
    url = settings().effective_database_url
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = output or Path(default_backup_name(url, stamp))
    started = time.monotonic()
    backup_database(url, target, _printer(quiet))
    emit(
        {
            "file": str(target),
            "bytes": target.stat().st_size,
            "seconds": round(time.monotonic() - started, 3),
        },
        as_json=as_json,
    )


@db_group.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask; the database's content is replaced.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@json_option
def restore(source: Path, yes: bool, quiet: bool, as_json: bool) -> None:
    """Replace the database's content with a backup. Stop every gateway first."""
    url = settings().effective_database_url
    if not yes:
        click.confirm("This replaces everything in the configured database. Continue?", abort=True)
    started = time.monotonic()
    restore_database(url, source, _printer(quiet))
    emit(
        {"restored": str(source), "seconds": round(time.monotonic() - started, 3)},
        as_json=as_json,
    )


def register(cli: click.Group) -> None:
    cli.add_command(db_group)
