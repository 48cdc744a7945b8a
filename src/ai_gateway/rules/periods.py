"""Budget periods on the client's own calendar.

A "daily" budget for a client in São Paulo resets at midnight in São Paulo, a "weekly" one
on Monday at midnight and a "monthly" one on the 1st: what the client sees on a wall clock,
not what UTC says. Bounds are built as local wall times and only then converted to UTC, so a
day that is 23 or 25 hours long (a DST change) still ends at the next local midnight. Where
midnight itself does not exist (a DST jump at 00:00, as São Paulo had until 2019), zoneinfo's
``fold=0`` reads it with the offset before the jump, which is the instant the day began.

Every function takes and returns aware datetimes; the callers store UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Final, Literal, cast, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ai_gateway.errors import InvalidRequest
from ai_gateway.rules.money import MONEY_QUANTUM

__all__ = [
    "PERIODS",
    "Period",
    "days_left",
    "load_timezone",
    "period_bounds",
    "projection",
]

Period = Literal["daily", "weekly", "monthly"]
PERIODS: Final[tuple[str, ...]] = get_args(Period)

_MICROSECOND = timedelta(microseconds=1)
# Usage x microseconds needs ~40 digits; the default 28 would round before the quantize.
_EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN)


def load_timezone(tz: str) -> ZoneInfo:
    """An IANA zone, or ``InvalidRequest`` naming the bad value."""
    if not isinstance(tz, str) or not tz or tz.startswith(("/", ".")) or ".." in tz:
        # zoneinfo raises ValueError (not "not found") for path-like keys.
        raise InvalidRequest(f"timezone '{tz}' is not an IANA time zone", param="timezone")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequest(
            f"timezone '{tz}' is not an IANA time zone (e.g. America/Sao_Paulo)",
            param="timezone",
        ) from exc


def period_bounds(*, period: str, tz: str, now: datetime) -> tuple[datetime, datetime]:
    """``(start, next_reset)`` in UTC of the period that contains ``now``."""
    zone = load_timezone(tz)
    today = _require_aware(now).astimezone(zone).date()
    first, after = _local_dates(_check_period(period), today)
    return _local_midnight_utc(first, zone), _local_midnight_utc(after, zone)


def days_left(*, tz: str, now: datetime, next_reset: datetime) -> int:
    """Calendar days left in the period, today included (1 on its last day, 0 once it has
    reset). Counted on the local calendar, so a 23-hour DST day still counts as one."""
    zone = load_timezone(tz)
    now = _require_aware(now)
    if now >= _require_aware(next_reset):
        return 0
    # next_reset is a local midnight: the days before it are the days left.
    return (next_reset.astimezone(zone).date() - now.astimezone(zone).date()).days


def projection(*, usage: Decimal, start: datetime, end: datetime, now: datetime) -> Decimal:
    """Usage expected at ``end`` if it keeps growing at its average rate since ``start``.

    Before any time has passed there is no rate to extrapolate, and after ``end`` the
    usage is final; both return ``usage`` unchanged."""
    elapsed = _require_aware(now) - _require_aware(start)
    length = _require_aware(end) - start
    if elapsed <= timedelta(0) or elapsed >= length:
        return usage
    with localcontext(_EXACT):
        projected = usage * Decimal(length // _MICROSECOND) / Decimal(elapsed // _MICROSECOND)
        return projected.quantize(MONEY_QUANTUM)


def _check_period(period: str) -> Period:
    if period in PERIODS:
        return cast(Period, period)
    raise InvalidRequest(f"period '{period}' is not one of {', '.join(PERIODS)}", param="period")


def _local_dates(period: Period, today: date) -> tuple[date, date]:
    if period == "daily":
        return today, today + timedelta(days=1)
    if period == "weekly":
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=7)
    first = today.replace(day=1)
    if first.month == 12:
        return first, first.replace(year=first.year + 1, month=1)
    return first, first.replace(month=first.month + 1)


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime given; pass an aware (UTC) datetime")
    return moment
