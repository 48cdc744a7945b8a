"""The usage writer's idempotent insert, built once per dialect instead of per batch.

``INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id`` of a batch of usage rows is the
writer process's hottest statement. SQLAlchemy's dialect ``insert()`` has no cache key,
so that statement was compiled again for every batch, and each row's 41 parameters went
through the generic per-row parameter assembly (key lookups, defaults, processors) of an
executemany. Here the statement text is derived
once per dialect from the table, and each row becomes a tuple through the very same bind
processors SQLAlchemy would apply (``Money`` stays exact: NUMERIC on PostgreSQL, scaled
integers on SQLite), bound positionally in one multi-row ``VALUES`` per page, as
SQLAlchemy's own "insertmanyvalues" does. On psycopg the statement runs on a raw cursor
with ``$n`` placeholders (:func:`_execute_raw`).

A key the row does not carry gets the column's Python-side default (processed like a
given value), or NULL; a key that is not a column refuses the batch, as SQLAlchemy does.
"""

from __future__ import annotations

import functools
import operator
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnDefault, Table
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import CompileError, DBAPIError, StatementError
from sqlalchemy.orm import Session

__all__ = ["insert_new_rows"]

#: processes one value for the driver (a column's bind processor), or None: as is
Processor = Callable[[Any], Any] | None
_MISSING = object()


class UnknownColumns(CompileError):
    """A row names columns the table does not have (a bug upstream: refuse the batch, as
    SQLAlchemy's "Unconsumed column names" did)."""


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    process: Processor
    #: the processor maps None to None, so a None need not go through it (not JSON's)
    keeps_none: bool
    #: what a row without this key gets: a (processed) default, made per row if callable
    default: Any
    default_is_callable: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything about one table's insert on one dialect that does not depend on the
    rows: computed once, reused for every batch."""

    columns: tuple[_Column, ...]
    names: frozenset[str]
    #: every column's value of a full row, in column order, in one C call
    fetch: Callable[[dict[str, Any]], tuple[Any, ...]]
    #: (position, processor, keeps_none) of the columns whose values need processing
    processed: tuple[tuple[int, Callable[[Any], Any], bool], ...]
    head: str
    one_row: str
    tail: str
    rows_per_statement: int
    #: psycopg: the statement goes to a raw cursor with ``$n`` placeholders (below)
    raw: bool

    def sql(self, rows: int) -> str:
        if self.raw:
            return _numbered(self, rows)
        return self.head + ", ".join([self.one_row] * rows) + self.tail

    def complete(self, row: dict[str, Any]) -> list[Any]:
        """The parameters of a row that lacks some columns (the slow path): a missing
        column gets its default (processed at plan time, or made now if callable)."""
        if not row.keys() <= self.names:
            unknown = ", ".join(sorted(row.keys() - self.names))
            raise UnknownColumns(f"not columns of the usage log: {unknown}")
        values: list[Any] = []
        for column in self.columns:
            value = row.get(column.name, _MISSING)
            if value is _MISSING:
                if not column.default_is_callable:
                    values.append(column.default)
                    continue
                value = column.default(None)
            if column.process is not None and (value is not None or not column.keeps_none):
                value = column.process(value)
            values.append(value)
        return values


@functools.lru_cache(maxsize=8)
def _numbered(plan: _Plan, rows: int) -> str:
    """The statement with PostgreSQL's own ``$1, $2, ...`` placeholders (a batch is
    mostly the same size as the last: kept)."""
    width = len(plan.columns)
    values = ", ".join(
        "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(rows)
    )
    return plan.head + values + plan.tail


_PLANS: weakref.WeakKeyDictionary[Dialect, dict[str, _Plan]] = weakref.WeakKeyDictionary()


def _placeholder(dialect: Dialect) -> str:
    style = dialect.paramstyle
    if style == "qmark":
        return "?"
    if style in ("format", "pyformat"):
        return "%s"
    raise NotImplementedError(f"paramstyle {style!r} is not supported by the usage insert")


def _column(column: Column[Any], dialect: Dialect) -> _Column:
    process: Processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    keeps_none = process is None or process(None) is None
    default = column.default
    if default is None:
        if column.server_default is not None:
            # Omitting the column would let the server fill it; a NULL would not.
            raise NotImplementedError(f"{column.name}: a server-only default is not supported")
        # SQLAlchemy leaves such a column out of the statement: NULL, not a processed None
        # (for JSON that would be the text 'null').
        return _Column(column.name, process, keeps_none, None, False)
    if not isinstance(default, ColumnDefault) or not (default.is_scalar or default.is_callable):
        raise NotImplementedError(f"{column.name}: only scalar or callable defaults")
    if default.is_callable:
        return _Column(column.name, process, keeps_none, default.arg, True)
    value = default.arg if process is None else process(default.arg)
    return _Column(column.name, process, keeps_none, value, False)


def _plan(table: Table, dialect: Dialect, key: str) -> _Plan:
    plans = _PLANS.setdefault(dialect, {})
    plan = plans.get(table.name)
    if plan is not None:
        return plan
    columns = tuple(_column(c, dialect) for c in table.columns)
    quote = dialect.identifier_preparer.quote
    raw = dialect.driver == "psycopg"
    mark = "" if raw else _placeholder(dialect)
    plan = _Plan(
        columns=columns,
        names=frozenset(c.name for c in columns),
        fetch=operator.itemgetter(*(c.name for c in columns)),
        processed=tuple(
            (i, c.process, c.keeps_none) for i, c in enumerate(columns) if c.process is not None
        ),
        head=f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) "
        "VALUES ",
        one_row="(" + ", ".join([mark] * len(columns)) + ")",
        tail=f" ON CONFLICT ({quote(key)}) DO NOTHING RETURNING {quote(key)}",
        rows_per_statement=max(
            1,
            min(
                dialect.insertmanyvalues_page_size,
                dialect.insertmanyvalues_max_parameters // len(columns),
            ),
        ),
        raw=raw,
    )
    plans[table.name] = plan
    return plan


def _values(plan: _Plan, rows: list[dict[str, Any]]) -> list[Any]:
    """Every row's parameters, flat, in column order, processed for the driver. The
    meter's rows carry every column: one ``itemgetter`` call each, then the processors
    of the few columns that have one (Money, the UTC datetime, JSON, booleans)."""
    flat: list[Any] = []
    extend = flat.extend
    fetch, names, processed = plan.fetch, plan.names, plan.processed
    for row in rows:
        if row.keys() != names:
            extend(plan.complete(row))
            continue
        start = len(flat)
        extend(fetch(row))
        for index, process, keeps_none in processed:
            value = flat[start + index]
            if value is not None or not keeps_none:
                flat[start + index] = process(value)
    return flat


def insert_new_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> set[Any]:
    """Insert ``rows`` into ``table`` except those whose ``id`` is already there; return
    the ids of the rows inserted (in the session's transaction)."""
    if not rows:
        return set()
    connection = session.connection()
    plan = _plan(table, connection.dialect, "id")
    width = len(plan.columns)
    try:
        values = _values(plan, rows)
    except UnknownColumns:
        raise
    except Exception as exc:
        # A value a column type refuses (Money beyond its precision, a naive datetime):
        # said as SQLAlchemy says it, the exception's type in the message.
        kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
        raise StatementError(f"({kind}) {exc}", plan.head, None, exc) from exc
    inserted: set[Any] = set()
    step = plan.rows_per_statement
    for start in range(0, len(rows), step):
        count = min(step, len(rows) - start)
        params = tuple(values[start * width : (start + count) * width])
        if plan.raw:
            inserted.update(_execute_raw(connection, plan.sql(count), params))
            continue
        result = connection.exec_driver_sql(plan.sql(count), params)
        inserted.update(result.scalars().all())
    return inserted


def _execute_raw(connection: Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    """Run ``sql`` on psycopg's raw cursor, in the session's transaction. Why: psycopg
    turns ``%s`` into ``$n`` in Python and caches that only for statements of at most 50
    parameters; for a page of usage rows it cost ~210 µs per row (measured, 41
    parameters a row), most of the writer's CPU on PostgreSQL. Errors are SQLAlchemy's,
    as if it had run the statement, so the writer tells an outage from a refusal."""
    import psycopg  # only ever on a psycopg engine

    driver = connection.connection.driver_connection
    try:
        with psycopg.RawCursor(driver) as cursor:  # type: ignore[arg-type]
            cursor.execute(sql.encode(), params)
            return [row[0] for row in cursor.fetchall()]
    except psycopg.Error as exc:
        raise DBAPIError.instance(
            sql[:200], None, exc, psycopg.Error, dialect=connection.dialect
        ) from exc
