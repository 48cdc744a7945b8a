"""Backups of the whole database, and restoring one, with the engine's own tools.

SQLite uses the online backup API (``sqlite3.Connection.backup``): a consistent copy of a
live database, page by page, while the gateway keeps writing. PostgreSQL uses ``pg_dump``
in its custom format (compressed, restorable table by table) and ``pg_restore``; the
password goes through ``PGPASSWORD``, never the command line, which ``ps`` shows to every
user of the machine. Both report progress through a callback, so the CLI can print it.

A restore replaces what the target holds: stop the gateways first (a running replica
would keep writing into the old rows, and its caches would hold the old state).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from ai_gateway.errors import ConfigurationError, StorageError

__all__ = ["Progress", "backup_database", "default_backup_name", "restore_database"]

#: Called with a line of progress ("copied 40 of 120 pages", a table being dumped).
Progress = Callable[[str], None]

_PAGES_PER_STEP = 256


def default_backup_name(database_url: str, stamp: str) -> str:
    url = make_url(database_url)
    return f"ai-gateway-{stamp}.{'db' if url.get_backend_name() == 'sqlite' else 'dump'}"


def backup_database(database_url: str, output: Path, progress: Progress) -> Path:
    """Write a consistent copy of the database to ``output`` (refused if it exists)."""
    if output.exists():
        raise ConfigurationError(f"{output} exists; choose another --output")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(_sqlite_path(url), output, progress)
    else:
        _run_pg(
            "pg_dump",
            ["--format=custom", "--verbose", "--no-owner", f"--file={output}"],
            url,
            progress,
        )
    return output


def restore_database(database_url: str, source: Path, progress: Progress) -> None:
    """Replace the database's content with the backup ``source``."""
    if not source.is_file():
        raise ConfigurationError(f"no backup file at {source}")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _check_sqlite_file(source)
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, target, progress)
    else:
        _run_pg(
            "pg_restore",
            [
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "--verbose",
                str(source),
            ],
            url,
            progress,
        )


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise ConfigurationError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _check_sqlite_file(path: Path) -> None:
    with path.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise ConfigurationError(f"{path} is not a SQLite backup")


def _sqlite_copy(source: Path, target: Path, progress: Progress) -> None:
    def report(_status: int, remaining: int, total: int) -> None:
        progress(f"copied {total - remaining} of {total} pages")

    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        # Small steps let the gateway's writers in between; a write restarts the step.
        src.backup(dst, pages=_PAGES_PER_STEP, progress=report)
    except sqlite3.Error as exc:
        raise StorageError(f"SQLite backup failed: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _run_pg(tool: str, args: list[str], url: URL, progress: Progress) -> None:
    binary = shutil.which(tool)
    if binary is None:
        raise ConfigurationError(
            f"{tool} is not installed; install the PostgreSQL client (e.g. postgresql-client)"
        )
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    target = [
        f"--host={url.host or '127.0.0.1'}",
        f"--port={url.port or 5432}",
        f"--username={url.username or 'postgres'}",
        f"--dbname={url.database}",
    ]
    with subprocess.Popen(  # noqa: S603 - a resolved binary and our own arguments, no shell
        [binary, *target, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stderr is not None
        tail: list[str] = []
        for raw in proc.stderr:
            line = raw.rstrip()
            if line:
                progress(line)
                tail = [*tail[-4:], line]
        code = proc.wait()
    if code != 0:
        raise StorageError(f"{tool} failed: {' / '.join(tail) or f'exit {code}'}")
