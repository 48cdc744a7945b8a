"""The usage writer's child process ends when its serving process is killed outright
(``kill -9``): nothing else would ever shut its pool down."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose; it only waits for init to reap it.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_the_writer_child_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, signal
        from ai_gateway.metering.usage_sinks import ProcessSink

        sink = ProcessSink("sqlite:///{tmp_path / "gw.db"}")
        print(sink._executor().submit(os.getpid).result(), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    # Popen and one line, not run(): an orphaned child would hold the pipe open forever.
    proc = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    assert proc.wait(timeout=30) == -9
    proc.stdout.close()
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(child):
        os.kill(child, 9)  # leave nothing behind, then fail
        raise AssertionError("the writer process outlived its killed parent")


def test_the_writer_child_exits_when_its_parent_dies_while_it_starts(tmp_path: Path) -> None:
    """Killed before the child ran its initializer: the child must not take the process
    that adopted it for its parent (and watch that one forever)."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from ai_gateway.metering.usage_sinks import ProcessSink

        pool = ProcessSink("sqlite:///{tmp_path / "gw.db"}")._executor()
        pool.submit(os.getpid)  # starts the child; its interpreter is still loading
        print(*pool._processes, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    children = [int(pid) for pid in proc.stdout.readline().split()]
    assert proc.wait(timeout=30) == -9
    proc.stdout.close()
    assert children
    deadline = time.monotonic() + 15
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [c for c in children if _alive(c)]
    for child in left:
        os.kill(child, 9)  # leave nothing behind, then fail
    assert not left, "the writer process outlived a parent killed while it started"
