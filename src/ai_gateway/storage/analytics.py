"""Read-only aggregates for the dashboards and the REST API, computed in the database.

Every function is keyword-only and takes the tenant explicitly: ``client_id=None`` means
"every client" and is only reached from admin routes; a client-scoped caller passes its own
id (and, on PostgreSQL, a ``tenant_session`` whose row-level security backs the filter).

Views over all clients read the daily roll-ups (``rollups``); views of one client read its
roll-up rows (totals, models, endpoints, conversations) and, for exact latency
percentiles, its usage rows through the ``(client_id, created_at)`` index.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Numeric,
    Select,
    String,
    case,
    cast,
    desc,
    false,
    func,
    select,
)
from sqlalchemy.orm import Session

from ai_gateway.storage.percentiles import exact_percentiles, histogram_percentiles
from ai_gateway.storage.rollups import ERROR_STATUSES, OTHER_MODEL
from ai_gateway.storage.tables import (
    CacheDailyTotal,
    CachePerformance,
    Client,
    UsageDaily,
    UsageDailyClient,
    UsageDailyConversation,
    UsageDailyEndpoint,
    UsageDailyTotal,
    UsageLog,
)

__all__ = [
    "MAX_MODEL_LINES",
    "Window",
    "by_dimension",
    "by_endpoint",
    "cache_savings",
    "conversation_calls",
    "conversations",
    "daily_series",
    "fallback_events",
    "iter_conversations",
    "latency_by_model",
    "log_day",
    "log_where",
    "model_usage",
    "overall_percentiles",
    "recent_requests",
    "top_clients",
    "totals",
]

ZERO = Decimal(0)


#: The data sources one client's analytics can show (the migration's legacy/gateway
#: toggle): the routes of their usage rows; "all" (None) reads the roll-ups.
SOURCES: dict[str, tuple[str, ...] | None] = {
    "all": None,
    "gateway": ("gateway", "direct"),
    "legacy": ("legacy",),
}


@dataclass(frozen=True, slots=True)
class Window:
    """Whole UTC days: ``[first_day 00:00, end_day 00:00)``; ``routes`` keeps only the
    calls of those routes (``None``: every call)."""

    first_day: date
    end_day: date
    routes: tuple[str, ...] | None = None

    def of_source(self, source: str) -> Window:
        return replace(self, routes=SOURCES[source])

    @classmethod
    def last_days(cls, days: int, *, today: date | None = None) -> Window:
        today = today or datetime.now(UTC).date()
        return cls(today - timedelta(days=days - 1), today + timedelta(days=1))

    @classmethod
    def month(cls, first: date) -> Window:
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return cls(first, following)

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first_day, datetime.min.time(), UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end_day, datetime.min.time(), UTC)

    def days(self) -> tuple[str, str]:
        return self.first_day.isoformat(), self.end_day.isoformat()


def _rollup(client_id: str | None) -> Any:
    """One client: its rows of the client x model roll-up (via ``(client_id, day)``);
    every client: the roll-up without a client dimension."""
    return UsageDaily if client_id is not None else UsageDailyTotal


def _daily_where(
    window: Window, client_id: str | None, table: Any = None
) -> list[ColumnElement[bool]]:
    table = table if table is not None else _rollup(client_id)
    first, end = window.days()
    where = [table.day >= first, table.day < end]
    if client_id is not None:
        where.append(table.client_id == client_id)
    return where


def log_where(window: Window, client_id: str | None) -> list[ColumnElement[bool]]:
    """The usage-log filter of ``window`` (days and routes) and one client or all."""
    where = [UsageLog.created_at >= window.since, UsageLog.created_at < window.until]
    if client_id is not None:
        where.append(UsageLog.client_id == client_id)
    if window.routes is not None:
        where.append(UsageLog.route.in_(window.routes))
    return where


def _raw_sums() -> list[Any]:
    """:func:`_sums` over the usage rows themselves: the roll-ups have no route, so a
    source-filtered view (one client's, never the all-client one) adds up its rows."""
    return [
        func.count().label("requests"),
        func.coalesce(func.sum(case((UsageLog.status.in_(ERROR_STATUSES), 1), else_=0)), 0).label(
            "errors"
        ),
        func.coalesce(func.sum(case((UsageLog.cache_hit.is_(True), 1), else_=0)), 0).label(
            "cache_hits"
        ),
        func.coalesce(func.sum(case((UsageLog.fallback_from.is_not(None), 1), else_=0)), 0).label(
            "fallbacks"
        ),
        func.coalesce(func.sum(UsageLog.input_tokens), 0).label("input_tokens"),
        func.coalesce(func.sum(UsageLog.output_tokens), 0).label("output_tokens"),
        func.coalesce(func.sum(UsageLog.cached_tokens), 0).label("cached_tokens"),
        func.coalesce(func.sum(UsageLog.cache_write_tokens), 0).label("cache_write_tokens"),
        func.sum(UsageLog.cost_usd).label("cost_usd"),
        func.sum(UsageLog.cost_brl).label("cost_brl"),
        func.sum(UsageLog.prompt_cache_saved_usd).label("prompt_cache_saved_usd"),
        func.sum(UsageLog.prompt_cache_saved_brl).label("prompt_cache_saved_brl"),
        func.coalesce(func.sum(UsageLog.latency_ms), 0).label("latency_ms_sum"),
    ]


def log_day(session: Session) -> ColumnElement[Any]:
    """A usage row's UTC day as ``YYYY-MM-DD`` on either engine."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", UsageLog.created_at), "YYYY-MM-DD")
    return func.substr(cast(UsageLog.created_at, String), 1, 10)


def _sums(d: Any) -> list[Any]:
    return [
        func.coalesce(func.sum(d.requests), 0).label("requests"),
        func.coalesce(func.sum(d.errors), 0).label("errors"),
        func.coalesce(func.sum(d.cache_hits), 0).label("cache_hits"),
        func.coalesce(func.sum(d.fallbacks), 0).label("fallbacks"),
        func.coalesce(func.sum(d.input_tokens), 0).label("input_tokens"),
        func.coalesce(func.sum(d.output_tokens), 0).label("output_tokens"),
        func.coalesce(func.sum(d.cached_tokens), 0).label("cached_tokens"),
        func.coalesce(func.sum(d.cache_write_tokens), 0).label("cache_write_tokens"),
        func.sum(d.cost_usd).label("cost_usd"),
        func.sum(d.cost_brl).label("cost_brl"),
        func.sum(d.prompt_cache_saved_usd).label("prompt_cache_saved_usd"),
        func.sum(d.prompt_cache_saved_brl).label("prompt_cache_saved_brl"),
        func.coalesce(func.sum(d.latency_ms_sum), 0).label("latency_ms_sum"),
    ]


def _shape(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    requests = int(data["requests"] or 0)
    for name in ("cost_usd", "cost_brl", "prompt_cache_saved_usd", "prompt_cache_saved_brl"):
        data[name] = data[name] or ZERO
    data["error_rate"] = round(int(data["errors"]) / requests, 4) if requests else 0.0
    data["cache_hit_rate"] = round(int(data["cache_hits"]) / requests, 4) if requests else 0.0
    data["avg_latency_ms"] = round(int(data.pop("latency_ms_sum")) / requests, 1) if requests else 0
    return data


def totals(session: Session, *, window: Window, client_id: str | None) -> dict[str, Any]:
    if window.routes is not None:
        return _shape(
            session.execute(select(*_raw_sums()).where(*log_where(window, client_id))).one()
        )
    table = _rollup(client_id)
    row = session.execute(select(*_sums(table)).where(*_daily_where(window, client_id))).one()
    return _shape(row)


def by_dimension(
    session: Session, *, window: Window, client_id: str | None, dimension: str
) -> list[dict[str, Any]]:
    """Totals per ``provider`` or ``model_id``, largest cost first."""
    if window.routes is not None:
        raw = {
            "provider": func.coalesce(UsageLog.provider, ""),
            "model_id": func.coalesce(
                UsageLog.model_used,
                case(
                    (UsageLog.error_code == "model_not_found", OTHER_MODEL),
                    else_=UsageLog.model_requested,
                ),
            ),
        }[dimension]
        raw_query = (
            select(raw.label(dimension), *_raw_sums())
            .where(*log_where(window, client_id))
            .group_by(raw)
            .order_by(desc("cost_usd"), raw)
        )
        return [_shape(r) for r in session.execute(raw_query)]
    table = _rollup(client_id)
    column = {"provider": table.provider, "model_id": table.model_id}[dimension]
    query = (
        select(column.label(dimension), *_sums(table))
        .where(*_daily_where(window, client_id))
        .group_by(column)
        .order_by(desc("cost_usd"), column)
    )
    return [_shape(r) for r in session.execute(query)]


def by_endpoint(session: Session, *, window: Window, client_id: str) -> list[dict[str, Any]]:
    """One client's totals per endpoint (chat.completions, responses, messages,
    embeddings, audio.transcriptions), largest cost first. From the per-endpoint roll-up;
    a source-filtered view adds up the client's rows (the roll-ups have no route)."""
    if window.routes is not None:
        raw_query = (
            select(UsageLog.endpoint.label("endpoint"), *_raw_sums())
            .where(*log_where(window, client_id))
            .group_by(UsageLog.endpoint)
            .order_by(desc("cost_usd"), UsageLog.endpoint)
        )
        return [_shape(r) for r in session.execute(raw_query)]
    table = UsageDailyEndpoint
    query = (
        select(table.endpoint.label("endpoint"), *_sums(table))
        .where(*_daily_where(window, client_id, table))
        .group_by(table.endpoint)
        .order_by(desc("cost_usd"), table.endpoint)
    )
    return [_shape(r) for r in session.execute(query)]


def top_clients(session: Session, *, window: Window, limit: int = 10) -> list[dict[str, Any]]:
    table = UsageDailyClient
    ranked = (
        select(table.client_id, *_sums(table))
        .where(*_daily_where(window, None, table))
        .group_by(table.client_id)
        .order_by(desc("cost_usd"), desc("requests"), table.client_id)
        .limit(limit)
        .subquery()
    )
    query = select(ranked, Client.name.label("client_name")).join(
        Client, Client.id == ranked.c.client_id
    )
    rows = [_shape(r) for r in session.execute(query)]
    return sorted(rows, key=lambda r: (-r["cost_usd"], -r["requests"], r["client_id"]))


def daily_series(
    session: Session, *, window: Window, client_id: str | None
) -> list[dict[str, Any]]:
    """One point per day with calls (requests, cost, latency percentiles): chart-ready."""
    if window.routes is not None:
        day_of = log_day(session)
        query = (
            select(day_of.label("day"), *_raw_sums())
            .where(*log_where(window, client_id))
            .group_by(day_of)
            .order_by(day_of)
        )
    else:
        table = _rollup(client_id)
        query = (
            select(table.day, *_sums(table))
            .where(*_daily_where(window, client_id))
            .group_by(table.day)
            .order_by(table.day)
        )
    points = [_shape(r) for r in session.execute(query)]
    if client_id is None:
        latency = histogram_percentiles(session, since_day=window.days()[0], by="day")
    else:
        latency = exact_percentiles(
            session,
            value=UsageLog.latency_ms,
            group=log_day(session),
            where=log_where(window, client_id),
        )
    for point in points:
        point.update(latency.get(point["day"], {"p50": 0.0, "p95": 0.0, "p99": 0.0}))
    return points


def overall_percentiles(
    session: Session, *, window: Window, client_id: str | None
) -> dict[str, float]:
    if client_id is None:
        found = histogram_percentiles(session, since_day=window.days()[0])
    else:
        found = exact_percentiles(
            session, value=UsageLog.latency_ms, group=None, where=log_where(window, client_id)
        )
    return next(iter(found.values()), {"p50": 0.0, "p95": 0.0, "p99": 0.0})


def latency_by_model(
    session: Session, *, window: Window, client_id: str | None
) -> dict[str, dict[str, float]]:
    if client_id is None:
        return histogram_percentiles(session, since_day=window.days()[0], by="model_id")
    # model_used, not the requested one: the columns of ix_usage_client_latency, so this
    # reads the index only (calls that reached no model have no per-model latency).
    return exact_percentiles(
        session,
        value=UsageLog.latency_ms,
        group=UsageLog.model_used,
        where=log_where(window, client_id),
    )


#: At most this many lines per model in a view; the smallest by cost are summed as
#: ``other``, so a page stays small even over roll-ups filled before unknown model names
#: were grouped (or with a very large registry).
MAX_MODEL_LINES = 50
_NO_LATENCY = {"p50": 0.0, "p95": 0.0, "p99": 0.0}
_COUNTS = (
    "requests",
    "errors",
    "cache_hits",
    "fallbacks",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
)


def model_usage(session: Session, *, window: Window, client_id: str | None) -> list[dict[str, Any]]:
    """Usage per model with latency percentiles, cache hit rate and error rate (largest
    cost first, at most :data:`MAX_MODEL_LINES` lines)."""
    rows = by_dimension(session, window=window, client_id=client_id, dimension="model_id")
    latency = latency_by_model(session, window=window, client_id=client_id)
    for row in rows:
        row["latency"] = latency.get(row["model_id"], _NO_LATENCY)
    if len(rows) <= MAX_MODEL_LINES:
        return rows
    kept = [r for r in rows if r["model_id"] != OTHER_MODEL][: MAX_MODEL_LINES - 1]
    kept_ids = {r["model_id"] for r in kept}
    return [*kept, _sum_lines([r for r in rows if r["model_id"] not in kept_ids])]


def _sum_lines(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``other`` line adding up ``lines`` (rates recomputed; no latency percentiles,
    which do not add up)."""
    total: dict[str, Any] = {name: sum(int(line[name]) for line in lines) for name in _COUNTS}
    requests = total["requests"]
    latency_sum = sum(line["avg_latency_ms"] * int(line["requests"]) for line in lines)
    total.update(
        model_id=OTHER_MODEL,
        cost_usd=sum((line["cost_usd"] for line in lines), ZERO),
        cost_brl=sum((line["cost_brl"] for line in lines), ZERO),
        error_rate=round(total["errors"] / requests, 4) if requests else 0.0,
        cache_hit_rate=round(total["cache_hits"] / requests, 4) if requests else 0.0,
        avg_latency_ms=round(latency_sum / requests, 1) if requests else 0,
        latency=_NO_LATENCY,
    )
    return total


def cache_savings(
    session: Session, *, window: Window | None, client_id: str | None
) -> dict[str, Any]:
    # Every client: the roll-up without a client dimension (the same sums, fewer rows).
    c: Any = CachePerformance if client_id is not None else CacheDailyTotal
    where: list[ColumnElement[bool]] = []
    if window is not None and window.routes is not None and "gateway" not in window.routes:
        # Only calls through the gateway have a cache; a legacy view has none to show.
        where.append(false())
    if window is not None:
        first, end = window.days()
        where += [c.day >= first, c.day < end]
    if client_id is not None:
        where.append(c.client_id == client_id)
    sums: list[Any] = [
        func.coalesce(func.sum(c.hits), 0).label("hits"),
        func.coalesce(func.sum(c.semantic_hits), 0).label("semantic_hits"),
        func.coalesce(func.sum(c.misses), 0).label("misses"),
        func.coalesce(func.sum(c.tokens_saved), 0).label("tokens_saved"),
        func.sum(c.saved_usd).label("saved_usd"),
        func.sum(c.saved_brl).label("saved_brl"),
    ]
    # One grouped scan; the overall line adds up the few per-model lines it returned.
    per_model = [
        dict(r._mapping)
        for r in session.execute(
            select(c.model_id, *sums).where(*where).group_by(c.model_id).order_by(c.model_id)
        )
    ]
    overall = {
        name: sum((line[name] or 0 for line in per_model), ZERO if "saved" in name else 0)
        for name in ("hits", "semantic_hits", "misses", "tokens_saved", "saved_usd", "saved_brl")
    }
    total = _cache_shape(overall)
    total["by_model"] = [_cache_shape(line) for line in per_model]
    return total


def _cache_shape(line: dict[str, Any]) -> dict[str, Any]:
    data = dict(line)
    lookups = int(data["hits"]) + int(data["misses"])
    data["hit_rate"] = round(int(data["hits"]) / lookups, 4) if lookups else 0.0
    # A semantic hit is a hit; these say which cache served it.
    data["semantic_hits"] = int(data["semantic_hits"])
    data["exact_hits"] = int(data["hits"]) - data["semantic_hits"]
    data["semantic_hit_rate"] = round(data["semantic_hits"] / lookups, 4) if lookups else 0.0
    data["exact_hit_rate"] = round(data["exact_hits"] / lookups, 4) if lookups else 0.0
    data["saved_usd"] = data["saved_usd"] or ZERO
    data["saved_brl"] = data["saved_brl"] or ZERO
    return data


_CALL_COLUMNS: tuple[Any, ...] = (
    UsageLog.id,
    UsageLog.client_id,
    UsageLog.conversation_id,
    UsageLog.request_id,
    UsageLog.model_requested,
    UsageLog.model_used,
    UsageLog.provider,
    UsageLog.route,
    UsageLog.status,
    UsageLog.input_tokens,
    UsageLog.output_tokens,
    UsageLog.cached_tokens,
    UsageLog.cache_write_tokens,
    UsageLog.cost_usd,
    UsageLog.cost_brl,
    UsageLog.prompt_cache_saved_usd,
    UsageLog.latency_ms,
    UsageLog.cache_hit,
    UsageLog.fallback_from,
    UsageLog.fallback_attempts,
    UsageLog.fallback_reason,
    UsageLog.error_code,
    UsageLog.created_at,
)


def _page(session: Session, query: Select[Any], limit: int, offset: int) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in session.execute(query.limit(limit).offset(offset))]


def recent_requests(
    session: Session, *, window: Window, client_id: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    query = (
        select(*_CALL_COLUMNS)
        .where(*log_where(window, client_id))
        .order_by(UsageLog.created_at.desc(), UsageLog.id.desc())
    )
    return _page(session, query, limit, offset)


def fallback_events(
    session: Session, *, window: Window, client_id: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    where = [*log_where(window, client_id), UsageLog.fallback_from.is_not(None)]
    count = session.scalar(select(func.count()).select_from(UsageLog).where(*where)) or 0
    query = select(*_CALL_COLUMNS).where(*where).order_by(UsageLog.created_at.desc())
    return _page(session, query, limit, offset), int(count)


def _conversation_query(session: Session, window: Window, client_id: str) -> Select[Any]:
    """Usage per conversation, latest first: from the per-conversation roll-up, or (a
    source-filtered view: the roll-ups have no route) from the client's rows. Both give
    the same values of the same types (the average as ``avg`` computes it)."""
    if window.routes is not None:
        return _conversation_query_from_rows(window, client_id)
    c = UsageDailyConversation

    def count(column: Any) -> ColumnElement[Any]:
        # PostgreSQL sums BIGINT as NUMERIC (a Decimal); the rows' count and sums of
        # INTEGER are BIGINT (an int): cast back, so the values have the same type.
        return cast(func.sum(column), BigInteger)

    total_ms = func.sum(c.latency_ms_sum)
    average: ColumnElement[Any]
    if session.get_bind().dialect.name == "sqlite":
        average = cast(total_ms, Float) / count(c.requests)  # avg(): a double, sum / count
    else:  # avg(): numeric_div of the sum and the count, both NUMERIC of scale 0
        average = cast(total_ms, Numeric) / cast(func.sum(c.requests), Numeric)
    return (
        select(
            c.conversation_id,
            count(c.requests).label("requests"),
            count(c.input_tokens).label("input_tokens"),
            count(c.output_tokens).label("output_tokens"),
            func.sum(c.cost_usd).label("cost_usd"),
            func.sum(c.cost_brl).label("cost_brl"),
            count(c.errors).label("errors"),
            count(c.cache_hits).label("cache_hits"),
            average.label("avg_latency_ms"),
            func.min(c.first_at).label("first_at"),
            func.max(c.last_at).label("last_at"),
        )
        .where(*_daily_where(window, client_id, c))
        .group_by(c.conversation_id)
        .order_by(desc("last_at"), c.conversation_id)
    )


def _conversation_query_from_rows(window: Window, client_id: str) -> Select[Any]:
    failed = case((UsageLog.status.in_(ERROR_STATUSES), 1), else_=0)
    return (
        select(
            UsageLog.conversation_id,
            func.count().label("requests"),
            func.sum(UsageLog.input_tokens).label("input_tokens"),
            func.sum(UsageLog.output_tokens).label("output_tokens"),
            func.sum(UsageLog.cost_usd).label("cost_usd"),
            func.sum(UsageLog.cost_brl).label("cost_brl"),
            func.sum(failed).label("errors"),
            func.sum(case((UsageLog.cache_hit.is_(True), 1), else_=0)).label("cache_hits"),
            func.avg(UsageLog.latency_ms).label("avg_latency_ms"),
            func.min(UsageLog.created_at).label("first_at"),
            func.max(UsageLog.created_at).label("last_at"),
        )
        .where(*log_where(window, client_id), UsageLog.conversation_id.is_not(None))
        .group_by(UsageLog.conversation_id)
        .order_by(desc("last_at"), UsageLog.conversation_id)
    )


def conversations(
    session: Session, *, window: Window, client_id: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    # The total rides along as a window over the groups: one pass over the client's rows
    # gives the page and the count.
    query = _conversation_query(session, window, client_id).add_columns(
        func.count().over().label("total")
    )
    rows = _page(session, query, limit, offset)
    if rows:
        count = int(rows[0]["total"])
    else:  # a page past the end: count on its own
        count = int(
            session.scalar(
                select(func.count()).select_from(
                    _conversation_query(session, window, client_id).order_by(None).subquery()
                )
            )
            or 0
        )
    for row in rows:
        del row["total"]
    return rows, count


def iter_conversations(
    session: Session, *, window: Window, client_id: str, limit: int
) -> Iterator[dict[str, Any]]:
    """Every conversation of the window (up to ``limit``), streamed for the CSV export."""
    query = _conversation_query(session, window, client_id).limit(limit)
    for row in session.execute(query.execution_options(yield_per=1000)):
        yield dict(row._mapping)


def conversation_calls(
    session: Session, *, client_id: str, conversation_id: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    where = [UsageLog.client_id == client_id, UsageLog.conversation_id == conversation_id]
    count = session.scalar(select(func.count()).select_from(UsageLog).where(*where)) or 0
    query = select(*_CALL_COLUMNS).where(*where).order_by(UsageLog.created_at, UsageLog.id)
    return _page(session, query, limit, offset), int(count)
