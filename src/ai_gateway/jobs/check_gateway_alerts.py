"""``check-gateway-alerts`` (hourly): tell the operator about an error rate or a cost spike.

The window is the last *full* clock hour (a run at 14:00 or 14:35 looks at 13:00-14:00),
so every run over one window sees the same numbers and the ``gateway_alerts`` unique key
(kind + scope + window start) makes a second run, or another replica, send nothing.

- ``error_rate``: more than 5 % of the hour's calls failed, once the hour has at least
  :data:`MIN_CALLS` calls (two failures out of three calls is noise, not an incident).
  Refused calls (budget, bad input) are the caller's doing and are not counted.
- ``cost_spike``: the hour cost more than 3x the average hour of the 7 days before it
  ("> 200 %" in the seed), and at least :data:`MIN_SPIKE_USD`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from ai_gateway.jobs.base import Job, JobContext, Schedule
from ai_gateway.metering.alerts import AlertMessage
from ai_gateway.storage.usage_stats import WindowStats, window_stats

__all__ = ["ERROR_RATE_PERCENT", "JOB", "MIN_CALLS", "MIN_SPIKE_USD", "SPIKE_FACTOR"]

ERROR_RATE_PERCENT: Final = 5
MIN_CALLS: Final = 20
SPIKE_FACTOR: Final = 3
MIN_SPIKE_USD: Final = Decimal("0.01")
_HOUR = timedelta(hours=1)
_BASELINE = timedelta(days=7)


async def run(ctx: JobContext) -> dict[str, Any]:
    end = ctx.clock().replace(minute=0, second=0, microsecond=0)
    start = end - _HOUR
    hour, week = await ctx.db.run(_stats, ctx, start, end)
    baseline = week.cost_usd / Decimal(_BASELINE // _HOUR)
    sent: list[str] = []
    failing = hour.calls >= MIN_CALLS and hour.errors * 100 > ERROR_RATE_PERCENT * hour.calls
    if failing and await ctx.alerter.gateway_alert(
        kind="error_rate", scope="global", window=start, message=_error_message(start, hour)
    ):
        sent.append("error_rate")
    if baseline > 0 and hour.cost_usd >= MIN_SPIKE_USD and hour.cost_usd > SPIKE_FACTOR * baseline:
        message = _spike_message(start, hour, baseline)
        if await ctx.alerter.gateway_alert(
            kind="cost_spike", scope="global", window=start, message=message
        ):
            sent.append("cost_spike")
    return {
        "window_start": start.isoformat(),
        "calls": hour.calls,
        "errors": hour.errors,
        "cost_usd": str(hour.cost_usd),
        "baseline_hour_usd": str(baseline.quantize(Decimal("1e-10"))),
        "alerts_sent": sent,
    }


def _stats(ctx: JobContext, start: datetime, end: datetime) -> tuple[WindowStats, WindowStats]:
    with ctx.db.session() as session:
        hour = window_stats(session, start=start, end=end)
        week = window_stats(session, start=start - _BASELINE, end=start)
    return hour, week


def _error_message(start: datetime, hour: WindowStats) -> AlertMessage:
    rate = (Decimal(hour.errors) * 100 / hour.calls).quantize(Decimal("0.1"))
    return AlertMessage(
        subject=f"[AI Gateway] error rate {rate}% in the hour from {start:%Y-%m-%d %H:%M} UTC",
        text=f"{hour.errors} of {hour.calls} calls failed after the fallback chain.",
        payload={
            "type": "gateway.error_rate",
            "window_start": start.isoformat(),
            "calls": hour.calls,
            "errors": hour.errors,
            "error_rate_percent": rate,
        },
    )


def _spike_message(start: datetime, hour: WindowStats, baseline: Decimal) -> AlertMessage:
    return AlertMessage(
        subject=f"[AI Gateway] cost spike in the hour from {start:%Y-%m-%d %H:%M} UTC",
        text=(
            f"The hour cost USD {hour.cost_usd}; the average hour of the previous 7 days "
            f"cost USD {baseline.quantize(Decimal('0.0001'))}."
        ),
        payload={
            "type": "gateway.cost_spike",
            "window_start": start.isoformat(),
            "cost_usd": hour.cost_usd,
            "baseline_hour_usd": baseline.quantize(Decimal("1e-10")),
        },
    )


JOB = Job(
    name="check-gateway-alerts",
    description="Alert the operator about a high error rate or a cost spike in the last hour.",
    run=run,
    schedule=Schedule(_HOUR),
)
