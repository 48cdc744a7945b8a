"""``ai-gateway serve`` and ``ai-gateway migrate``."""

from __future__ import annotations

import ipaddress
import re

import click

from ai_gateway.cli._common import emit, json_option, settings
from ai_gateway.storage import migrate as migrations
from ai_gateway.storage.db import Database

__all__ = ["register"]


_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _host(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """An IP address or a host name (checked by syntax: no DNS lookup at start-up)."""
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    if len(value) > 253 or not value or not all(_HOST_LABEL.match(label) for label in labels):
        raise click.BadParameter(f"{value!r} is neither an IP address nor a host name")
    return value


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    callback=_host,
    help="Address to listen on (0.0.0.0 or :: for every interface).",
)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--demo",
    is_flag=True,
    help="Seed demo clients and three weeks of traffic first (once; prints two keys).",
)
def serve(host: str, port: int, workers: int, demo: bool) -> None:
    """Run the HTTP service (uvicorn with uvloop and httptools).

    Behind the edge guards: AI_GATEWAY_HEADER_TIMEOUT, _BODY_TIMEOUT, _KEEPALIVE_TIMEOUT,
    _MAX_CONNECTIONS, _MAX_CONCURRENT_REQUESTS, _MAX_BODY_BYTES."""
    from pydantic import ValidationError

    from ai_gateway.bootstrap import open_database
    from ai_gateway.edge import server
    from ai_gateway.logs import configure_logging

    try:
        cfg = settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"AI_GATEWAY_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise click.UsageError(f"invalid settings: {problems}") from None
    configure_logging(cfg.log_level)
    # Migrate (embedded) and bootstrap the admin key once, before workers fork.
    db = open_database(cfg)
    if demo:
        _seed_demo(db, host, port)
    db.dispose()
    if workers > 1:
        from ai_gateway.metrics_multiprocess import prepare_directory

        # Before the workers exist: each one reads it when it imports prometheus_client.
        prepare_directory(cfg.data_dir / "prometheus")
    config = server.build_config(
        "ai_gateway.app:create_app_from_env",
        cfg,
        host=host,
        port=port,
        fd_limit=server.raise_fd_limit(),
        factory=True,
        workers=workers,
        loop="uvloop",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=20,
    )
    server.run(config)


def _seed_demo(db: Database, host: str, port: int) -> None:
    from ai_gateway.demo import seed_demo

    keys = seed_demo(db)
    if keys is None:
        click.echo("Demo data is already there (its keys were printed on the first run).")
        return
    click.echo(f"Demo data seeded. Open http://{host}:{port}/signin with one of these keys:")
    click.echo(f"  admin key:  {keys.admin_key}")
    click.echo(f"  client key: {keys.client_key}  ({keys.client_name})")
    click.echo("They are shown only now: the gateway keeps only their hashes.")


@click.command("migrate")
@click.option("--revision", default="head", show_default=True)
@click.option("--downgrade", "down", is_flag=True, help="Go down to --revision (default: base).")
@json_option
def migrate(revision: str, down: bool, as_json: bool) -> None:
    """Apply (or revert) database migrations; running it twice is a no-op."""
    db = Database(settings().effective_database_url)
    try:
        before = migrations.current_revision(db)
        if down:
            migrations.downgrade(db, "base" if revision == "head" else revision)
        else:
            migrations.upgrade(db, revision)
        after = migrations.current_revision(db)
    finally:
        db.dispose()
    emit({"from": before, "to": after, "database": db.dialect}, as_json=as_json)


def register(cli: click.Group) -> None:
    cli.add_command(serve)
    cli.add_command(migrate)
