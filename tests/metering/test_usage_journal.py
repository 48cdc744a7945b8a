"""A process killed without warning leaves its unwritten usage rows in its journal; the
next process to start replays them, once. A live process's journal is never taken."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

from ai_gateway.metering.usage_journal import UsageJournal
from ai_gateway.metering.usage_sinks import BatchSink
from ai_gateway.metering.usage_writer import UsageWriter
from ai_gateway.storage.usage import UsageRecord, WriteResult
from tests.metering.test_usage_sinks import _record

ROOT = Path(__file__).resolve().parents[2]


class _Recording(BatchSink):
    def __init__(self) -> None:
        self.rows: list[str] = []

    async def write(self, batch: list[UsageRecord]) -> WriteResult:
        self.rows.extend(r.row["request_id"] for r in batch)
        return WriteResult(inserted=len(batch))

    async def quarantine(self, batch: list[UsageRecord], reason: str) -> WriteResult:
        # Nothing is refused here; the sink interface (main's quarantine) needs it.
        return WriteResult()

    async def close(self) -> None:
        return None


def _die_with_rows(spool: Path, count: int) -> list[str]:
    """A child writer journals ``count`` rows and is killed (SIGKILL) before any flush."""
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal, sys
        from decimal import Decimal
        from pathlib import Path
        from ai_gateway.metering.usage_writer import UsageWriter
        from tests.metering.test_usage_journal import _Recording
        from tests.metering.test_usage_sinks import _record

        async def main():
            writer = UsageWriter(_Recording(), spool_dir=Path({str(spool)!r}), flush_interval=3600)
            writer.start()
            for _ in range({count}):
                record = _record("c1", Decimal("0.01"))
                writer.submit(record)
                print(record.row["request_id"], flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == -9, proc.stderr
    return proc.stdout.split()


async def test_rows_of_a_killed_process_are_replayed_once(tmp_path: Path) -> None:
    lost = _die_with_rows(tmp_path, 25)
    assert len(lost) == 25
    sink = _Recording()
    writer = UsageWriter(sink, spool_dir=tmp_path, flush_interval=0.01)
    writer.start()
    await writer.drain()
    await writer.stop()
    assert sorted(sink.rows) == sorted(lost)
    # Claimed and gone: a third process finds nothing to replay.
    again = _Recording()
    third = UsageWriter(again, spool_dir=tmp_path, flush_interval=0.01)
    third.start()
    await third.drain()
    await third.stop()
    assert again.rows == []
    assert list((tmp_path / "journal").iterdir()) == []


async def test_a_live_journal_is_not_claimed_and_written_rows_leave_it(tmp_path: Path) -> None:
    live = UsageJournal(tmp_path / "journal")
    assert live.open() == []
    live.append(b'{"row": {}}')
    other = UsageJournal(tmp_path / "journal")
    assert other.open() == []  # the owner holds its lock
    live.seal()
    live.written()
    live.close(everything_written=True)
    other.close(everything_written=True)
    assert list((tmp_path / "journal").iterdir()) == []


async def test_a_clean_stop_leaves_no_journal(tmp_path: Path) -> None:
    sink = _Recording()
    writer = UsageWriter(sink, spool_dir=tmp_path, flush_interval=0.01)
    writer.start()
    for _ in range(10):
        writer.submit(_record("c1", Decimal("0.01")))
    await writer.drain()
    await writer.stop()
    assert len(sink.rows) == 10
    assert list((tmp_path / "journal").iterdir()) == []
