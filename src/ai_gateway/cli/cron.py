"""``ai-gateway cron run JOB``: run a scheduled job now, under the same lock as the
scheduler and the HTTP route."""

from __future__ import annotations

import asyncio
import sys

import aiohttp
import click

from ai_gateway.bootstrap import master_key_for
from ai_gateway.cli._common import database, emit, json_option, settings
from ai_gateway.jobs import JOBS, JobContext, JobOutcome, get_job, run_job
from ai_gateway.metering.alerting import Alerter

__all__ = ["register", "run_and_report"]


@click.group("cron")
def cron_group() -> None:
    """Scheduled jobs."""


@cron_group.command("run")
@click.argument("job")
@json_option
def run(job: str, as_json: bool) -> None:
    """Run JOB now: sync-model-pricing, check-gateway-alerts, check-budget-alerts or
    reset-budget-periods. Exits 1 if the job failed."""
    run_and_report(job, as_json=as_json)


def run_and_report(job: str, *, as_json: bool) -> None:
    """Run a job now and print its outcome (also behind ``models sync-pricing``)."""
    get_job(job)
    outcome = asyncio.run(_run(job))
    if as_json:
        emit(outcome.as_dict(), as_json=True)
    elif outcome.status != "failed":
        click.echo(f"{job}: {outcome.status}")
        emit(outcome.result, as_json=False)
    if outcome.status == "failed":
        click.echo(f"error: job '{job}' failed: {outcome.result.get('error')}", err=True)
        sys.exit(1)


@cron_group.command("list")
@json_option
def list_(as_json: bool) -> None:
    """The jobs and their schedules."""
    rows = [
        {"job": j.name, "schedule": j.schedule.describe(), "description": j.description}
        for j in JOBS.values()
    ]
    emit(rows, as_json=as_json, columns=["job", "schedule", "description"])


async def _run(name: str) -> JobOutcome:
    db = database()
    config = settings()
    async with aiohttp.ClientSession() as http:
        alerter = Alerter(db=db, settings=config, master=master_key_for(config, db), http=http)
        ctx = JobContext(
            db=db, settings=config, master=master_key_for(config, db), http=http, alerter=alerter
        )
        try:
            return await run_job(ctx, name)
        finally:
            await alerter.close()


def register(cli: click.Group) -> None:
    cli.add_command(cron_group)
