from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ai_gateway.errors import InvalidRequest
from ai_gateway.rules.periods import days_left, period_bounds, projection


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_starts_at_local_midnight() -> None:
    # 01:30 UTC on the 10th is still the 9th in São Paulo (UTC-3).
    start, reset = period_bounds(
        period="daily", tz="America/Sao_Paulo", now=utc(2025, 6, 10, 1, 30)
    )
    assert (start, reset) == (utc(2025, 6, 9, 3), utc(2025, 6, 10, 3))


def test_a_spring_forward_day_is_23_hours() -> None:
    start, reset = period_bounds(period="daily", tz="America/New_York", now=utc(2025, 3, 9, 12))
    assert (start, reset) == (utc(2025, 3, 9, 5), utc(2025, 3, 10, 4))
    assert reset - start == timedelta(hours=23)


def test_a_fall_back_day_is_25_hours() -> None:
    start, reset = period_bounds(period="daily", tz="America/New_York", now=utc(2025, 11, 2, 12))
    assert (start, reset) == (utc(2025, 11, 2, 4), utc(2025, 11, 3, 5))
    assert reset - start == timedelta(hours=25)


def test_a_month_spanning_a_dst_change_ends_at_local_midnight() -> None:
    start, reset = period_bounds(period="monthly", tz="Europe/Berlin", now=utc(2025, 3, 15))
    assert start == utc(2025, 2, 28, 23)  # CET, UTC+1
    assert reset == utc(2025, 3, 31, 22)  # CEST, UTC+2


def test_a_day_whose_midnight_never_happened_starts_when_the_clock_jumped() -> None:
    # São Paulo's DST began at 00:00 on 2018-11-04: clocks went from 23:59:59 to 01:00.
    start, reset = period_bounds(period="daily", tz="America/Sao_Paulo", now=utc(2018, 11, 4, 12))
    assert start == utc(2018, 11, 4, 3)
    assert reset == utc(2018, 11, 5, 2)


@pytest.mark.parametrize(
    ("now", "tz", "expected"),
    [
        # The last evening of January in São Paulo is already February in UTC.
        (utc(2025, 1, 31, 23, 30), "America/Sao_Paulo", (utc(2025, 1, 1, 3), utc(2025, 2, 1, 3))),
        # ...and February has begun in Tokyo.
        (utc(2025, 1, 31, 16), "Asia/Tokyo", (utc(2025, 1, 31, 15), utc(2025, 2, 28, 15))),
        (utc(2024, 2, 29, 12), "UTC", (utc(2024, 2, 1), utc(2024, 3, 1))),
        (utc(2025, 12, 31, 12), "America/Sao_Paulo", (utc(2025, 12, 1, 3), utc(2026, 1, 1, 3))),
    ],
)
def test_monthly_periods_follow_the_local_calendar(
    now: datetime, tz: str, expected: tuple[datetime, datetime]
) -> None:
    assert period_bounds(period="monthly", tz=tz, now=now) == expected


def test_weekly_starts_on_monday() -> None:
    # Sunday 2025-06-01 noon in São Paulo.
    start, reset = period_bounds(period="weekly", tz="America/Sao_Paulo", now=utc(2025, 6, 1, 15))
    assert (start, reset) == (utc(2025, 5, 26, 3), utc(2025, 6, 2, 3))
    # Monday 00:00 local is the first instant of the next week.
    assert period_bounds(period="weekly", tz="America/Sao_Paulo", now=reset)[0] == reset


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"period": "yearly", "tz": "UTC"}, "period"),
        ({"period": "daily", "tz": "Mars/Olympus_Mons"}, "timezone"),
        ({"period": "daily", "tz": "../../etc/passwd"}, "timezone"),
        ({"period": "daily", "tz": ""}, "timezone"),
    ],
)
def test_bad_names_are_invalid_requests(kwargs: dict, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        period_bounds(now=utc(2025, 1, 1), **kwargs)
    assert caught.value.param == param


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        period_bounds(period="daily", tz="UTC", now=datetime(2025, 1, 1))


def test_days_left_counts_local_calendar_days() -> None:
    tz = "America/Sao_Paulo"
    _, reset = period_bounds(period="monthly", tz=tz, now=utc(2025, 1, 15))
    assert days_left(tz=tz, now=utc(2025, 1, 1, 3), next_reset=reset) == 31
    assert days_left(tz=tz, now=utc(2025, 2, 1, 2, 59), next_reset=reset) == 1  # 23:59 Jan 31
    assert days_left(tz=tz, now=reset, next_reset=reset) == 0


def test_days_left_across_a_dst_change() -> None:
    tz = "Europe/Berlin"
    _, reset = period_bounds(period="monthly", tz=tz, now=utc(2025, 3, 15))
    assert days_left(tz=tz, now=utc(2025, 3, 29, 12), next_reset=reset) == 3  # 29, 30, 31


def test_projection_extrapolates_the_rate_so_far() -> None:
    start, end = utc(2025, 1, 1), utc(2025, 1, 31)
    assert projection(usage=Decimal(50), start=start, end=end, now=utc(2025, 1, 16)) == 100
    assert projection(usage=Decimal(10), start=start, end=end, now=utc(2025, 1, 10)) == Decimal(
        "33.3333333333"
    )


def test_projection_before_any_time_or_after_the_end_is_the_usage() -> None:
    start, end = utc(2025, 1, 1), utc(2025, 1, 31)
    assert projection(usage=Decimal(7), start=start, end=end, now=start) == 7
    assert projection(usage=Decimal(7), start=start, end=end, now=utc(2025, 2, 3)) == 7
