"""The job lock: one run at a time across processes; a scheduled slot runs once; outcomes
are recorded in ``job_runs``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from ai_gateway.jobs import Schedule, run_job
from ai_gateway.storage.db import Database
from ai_gateway.storage.job_runs import acquire_job_lock, get_job_run, release_job_lock
from tests.jobs.conftest import NOW

LEASE = timedelta(minutes=30)


def test_concurrent_acquires_give_the_lock_to_exactly_one(db: Database, database_url: str) -> None:
    def attempt(i: int) -> bool:
        other = Database(database_url)
        try:
            return acquire_job_lock(other, name="demo", owner=f"w{i}", now=NOW, lease=LEASE)
        finally:
            other.dispose()

    for _round in range(2):  # the first INSERT race, then the UPDATE race
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(attempt, range(8)))
        assert results.count(True) == 1
        holder = get_job_run(db, name="demo")
        assert holder is not None and holder.locked_by is not None
        release_job_lock(
            db, name="demo", owner=holder.locked_by, finished_at=NOW, status="ok", result={}
        )
    assert acquire_job_lock(db, name="demo", owner="a", now=NOW, lease=LEASE)
    assert not acquire_job_lock(db, name="demo", owner="b", now=NOW + LEASE / 2, lease=LEASE)
    # a crashed holder's lease expires
    assert acquire_job_lock(db, name="demo", owner="b", now=NOW + LEASE * 2, lease=LEASE)


async def test_a_held_lock_skips_and_a_served_slot_is_not_run_again(db: Database, make_ctx) -> None:
    acquire_job_lock(db, name="reset-budget-periods", owner="elsewhere", now=NOW, lease=LEASE)
    skipped = await run_job(make_ctx(), "reset-budget-periods")
    assert skipped.status == "skipped"
    release_job_lock(
        db, name="reset-budget-periods", owner="elsewhere", finished_at=NOW, status="ok", result={}
    )

    slot = datetime(2025, 6, 6, 15, 0, tzinfo=UTC)
    later = slot + timedelta(seconds=2)
    first = await run_job(make_ctx(now=later), "reset-budget-periods", slot=slot)
    # another replica's scheduler, waking a moment later for the same slot
    second = await run_job(make_ctx(now=later), "reset-budget-periods", slot=slot)
    assert (first.status, second.status) == ("ok", "skipped")
    record = get_job_run(db, name="reset-budget-periods")
    assert record is not None and record.locked_until is None
    assert (record.last_status, record.last_result) == ("ok", {"due": 0, "reset": []})
    assert record.last_finished_at == later


def test_schedules() -> None:
    daily_2am = Schedule(timedelta(days=1), timedelta(hours=2))
    assert daily_2am.next_after(NOW) == datetime(2025, 6, 7, 2, 0, tzinfo=UTC)
    assert daily_2am.next_after(datetime(2025, 6, 7, 1, 59, tzinfo=UTC)) == datetime(
        2025, 6, 7, 2, 0, tzinfo=UTC
    )
    hourly = Schedule(timedelta(hours=1))
    assert hourly.next_after(NOW) == datetime(2025, 6, 6, 15, 0, tzinfo=UTC)
    assert hourly.next_after(datetime(2025, 6, 6, 15, 0, tzinfo=UTC)) == datetime(
        2025, 6, 6, 16, 0, tzinfo=UTC
    )
    assert (
        daily_2am.describe() == "daily at 02:00 UTC" and hourly.describe() == "hourly at minute 0"
    )
