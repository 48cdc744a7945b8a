"""What every command shares: settings, the database, and JSON or table output."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

import click
import orjson

from ai_gateway.bootstrap import open_database
from ai_gateway.changes import Change, ChangeKind, Publish, out_of_process_publisher, publish_sync
from ai_gateway.settings import Settings
from ai_gateway.storage.db import Database

_T = TypeVar("_T")

__all__ = [
    "CLI_ACTOR",
    "announce",
    "announcer",
    "database",
    "emit",
    "json_option",
    "run_async",
    "settings",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The audit log's actor for changes made from the command line.
CLI_ACTOR = "cli"


@cache
def settings() -> Settings:
    return Settings()


@cache
def database() -> Database:
    return open_database(settings())


def announce(kind: ChangeKind, client_id: str | None = None, *, version: int | None = None) -> None:
    """Tell running gateways about a change made here (after its commit): the version
    bump reaches them at their next poll, the Redis message at once. ``version``: the
    counter the change already moved in its own transaction (then it is not bumped again)."""
    from ai_gateway.storage.shared_config import bump_version

    if version is None:
        with database().write() as session:
            version = bump_version(session)
    publish_sync(settings().redis_url, Change(kind, client_id, version, origin=CLI_ACTOR))


def announcer() -> Publish:
    """:func:`announce` for the services (``BudgetService``, ``RateLimitService``) that
    publish their own changes: what they call after each commit when run from here."""
    return out_of_process_publisher(database(), settings().redis_url, origin=CLI_ACTOR)


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")(fn)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Exact, and readable: 250.0000000000 -> "250", 0E-10 -> "0" (never a float).
        normalized = value.normalize()
        return format(normalized, "f") if normalized else "0"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def to_jsonable(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value, default=_default))


def emit(data: Any, *, as_json: bool, columns: Sequence[str] | None = None) -> None:
    """Print ``data`` as JSON, or as a plain table (rows of dicts) for people."""
    if as_json:
        click.echo(orjson.dumps(data, default=_default, option=orjson.OPT_INDENT_2).decode())
        return
    rows = to_jsonable(data)
    if isinstance(rows, dict):
        rows = [rows] if columns else [{"key": k, "value": v} for k, v in rows.items()]
        columns = columns or ["key", "value"]
    if not rows:
        click.echo("(none)")
        return
    columns = columns or list(rows[0].keys())
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def run_async(work: Coroutine[Any, Any, _T]) -> _T:
    """Run a service's coroutine from a command. A command is synchronous, but it may be
    invoked where an event loop is already running (a test, an embedding program): then
    the coroutine gets its own loop in a worker thread."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()
