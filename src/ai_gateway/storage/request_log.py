"""The request explorer's reads: one page of usage rows under filters, and one row.

Paging is by keyset on ``(created_at, id)``, newest first, never by offset: page 1,000 of
a 5M-row log costs what page 1 costs (the ``(client_id, created_at)`` and
``(created_at)`` indexes serve it). The cursor handed out is opaque to callers -- the
base64 of the last row's time and id -- and :func:`decode_cursor` refuses anything it
did not make (a 400, never a 500).

Every function is keyword-only and takes the tenant explicitly (``client_id=None`` is
"every client", reached from admin routes only); client-scoped callers also run them in
a ``tenant_session`` so PostgreSQL's row-level security backs the filter. A row of
another client reads as "not found".
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from ai_gateway.errors import InvalidRequest
from ai_gateway.storage.tables import RequestBody, UsageLog

__all__ = [
    "CACHE_STATES",
    "ENDPOINTS",
    "FALLBACK_STATES",
    "MAX_RANGE_DAYS",
    "ROUTES",
    "STATUSES",
    "Cursor",
    "RequestFilters",
    "RequestPage",
    "clean_text",
    "decode_cursor",
    "encode_cursor",
    "get_request",
    "list_requests",
]

STATUSES = ("success", "error", "rejected", "cut", "abandoned")
ROUTES = ("gateway", "direct", "legacy")
ENDPOINTS = (
    "chat.completions",
    "responses",
    "messages",
    "embeddings",
    "audio.transcriptions",
)
CACHE_STATES = ("hit", "miss")
FALLBACK_STATES = ("yes", "no")
#: The widest date range one query may cover (a year and a day).
MAX_RANGE_DAYS = 366
_ID = re.compile(r"^[0-9a-f]{32}$")
_UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ends: the last row's time and id (the next page starts below it)."""

    created_at: datetime
    id: str


def encode_cursor(cursor: Cursor) -> str:
    raw = orjson.dumps([cursor.created_at.astimezone(UTC).isoformat(), cursor.id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> InvalidRequest:
    return InvalidRequest(
        "cursor is not valid; pass the next_cursor of a previous page unchanged",
        param="cursor",
        code="invalid_cursor",
    )


def decode_cursor(text: str) -> Cursor:
    """The cursor :func:`encode_cursor` made; anything else is a 400 ``invalid_cursor``."""
    if not text or len(text) > 200:
        raise _bad_cursor()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value = orjson.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise _bad_cursor() from exc
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(part, str) for part in value)
    ):
        raise _bad_cursor()
    when, row_id = value
    if not _ID.match(row_id):
        raise _bad_cursor()
    try:
        created = datetime.fromisoformat(when)
        if created.tzinfo is None:
            raise _bad_cursor()
        return Cursor(created.astimezone(UTC), row_id)
    except (ValueError, OverflowError) as exc:
        raise _bad_cursor() from exc


def _choice(value: str | None, allowed: tuple[str, ...], param: str) -> str | None:
    if value is None or value == "":
        return None
    if value not in allowed:
        raise InvalidRequest(
            f"unknown {param} '{value[:40]}'; use one of: {', '.join(allowed)}",
            param=param,
            code="invalid_filter",
        )
    return value


def clean_text(value: str | None, param: str) -> str | None:
    """A free-text filter, or None when empty. A NUL byte is refused: PostgreSQL text
    cannot hold one, and the query would fail with a 500 instead of a 400."""
    if not value:
        return None
    if "\x00" in value:
        raise InvalidRequest(
            f"{param} cannot contain a NUL byte", param=param, code="invalid_filter"
        )
    return value


@dataclass(frozen=True, slots=True)
class RequestFilters:
    """What the explorer filters on; every field optional. Built through :meth:`of`,
    which checks each value (an unknown status or a reversed date range is a 400)."""

    model: str | None = None
    endpoint: str | None = None
    status: str | None = None
    route: str | None = None
    cache: str | None = None
    fallback: str | None = None
    conversation_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    #: The calendar the dates are days of (the dashboard: the viewer's; the API: UTC).
    zone: ZoneInfo = _UTC_ZONE

    @classmethod
    def of(
        cls,
        *,
        model: str | None = None,
        endpoint: str | None = None,
        status: str | None = None,
        route: str | None = None,
        cache: str | None = None,
        fallback: str | None = None,
        conversation_id: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        zone: ZoneInfo = _UTC_ZONE,
    ) -> RequestFilters:
        if date_from and date_to and date_to < date_from:
            raise InvalidRequest(
                "date_to is before date_from", param="date_to", code="invalid_date_range"
            )
        if date_from and date_to and (date_to - date_from).days >= MAX_RANGE_DAYS:
            raise InvalidRequest(
                f"a date range covers at most {MAX_RANGE_DAYS} days",
                param="date_to",
                code="invalid_date_range",
            )
        return cls(
            model=clean_text(model, "model"),
            endpoint=_choice(endpoint, ENDPOINTS, "endpoint"),
            status=_choice(status, STATUSES, "status"),
            route=_choice(route, ROUTES, "route"),
            cache=_choice(cache, CACHE_STATES, "cache"),
            fallback=_choice(fallback, FALLBACK_STATES, "fallback"),
            conversation_id=clean_text(conversation_id, "conversation_id"),
            date_from=date_from,
            date_to=date_to,
            zone=zone,
        )

    def where(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.model:
            where.append(
                or_(UsageLog.model_used == self.model, UsageLog.model_requested == self.model)
            )
        if self.endpoint:
            where.append(UsageLog.endpoint == self.endpoint)
        if self.status:
            where.append(UsageLog.status == self.status)
        if self.route:
            where.append(UsageLog.route == self.route)
        if self.cache:
            where.append(UsageLog.cache_hit.is_(self.cache == "hit"))
        if self.fallback == "yes":
            where.append(UsageLog.fallback_from.is_not(None))
        elif self.fallback == "no":
            where.append(UsageLog.fallback_from.is_(None))
        if self.conversation_id:
            where.append(UsageLog.conversation_id == self.conversation_id)
        if self.date_from:
            where.append(UsageLog.created_at >= _midnight(self.date_from, self.zone))
        if self.date_to:
            following = self.date_to + timedelta(days=1)
            where.append(UsageLog.created_at < _midnight(following, self.zone))
        return where


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``, in UTC (the column's time)."""
    return datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class RequestPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None


_LIST_COLUMNS: tuple[Any, ...] = (
    UsageLog.id,
    UsageLog.client_id,
    UsageLog.conversation_id,
    UsageLog.request_id,
    UsageLog.endpoint,
    UsageLog.model_requested,
    UsageLog.model_used,
    UsageLog.provider,
    UsageLog.route,
    UsageLog.status,
    UsageLog.is_stream,
    UsageLog.input_tokens,
    UsageLog.output_tokens,
    UsageLog.cached_tokens,
    UsageLog.cost_usd,
    UsageLog.cost_brl,
    UsageLog.latency_ms,
    UsageLog.ttft_ms,
    UsageLog.cache_hit,
    UsageLog.fallback_from,
    UsageLog.fallback_attempts,
    UsageLog.error_code,
    UsageLog.created_at,
)


def list_requests(
    session: Session,
    *,
    client_id: str | None,
    filters: RequestFilters,
    limit: int,
    cursor: Cursor | None = None,
) -> RequestPage:
    """One page of calls, newest first; ``next_cursor`` is None on the last page."""
    where = filters.where()
    if client_id is not None:
        where.append(UsageLog.client_id == client_id)
    if cursor is not None:
        # The plain bound lets the index seek to the cursor; the OR alone would make both
        # engines scan from the newest row (measured: 36 ms vs 2 ms after 250k rows).
        where.append(UsageLog.created_at <= cursor.created_at)
        where.append(
            or_(
                UsageLog.created_at < cursor.created_at,
                and_(UsageLog.created_at == cursor.created_at, UsageLog.id < cursor.id),
            )
        )
    query = (
        select(*_LIST_COLUMNS)
        .where(*where)
        .order_by(UsageLog.created_at.desc(), UsageLog.id.desc())
        .limit(limit + 1)  # one more tells whether a next page exists
    )
    rows = [dict(r._mapping) for r in session.execute(query)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(Cursor(last["created_at"], last["id"]))
    return RequestPage(rows, next_cursor)


def get_request(
    session: Session, *, client_id: str | None, request_id: str
) -> dict[str, Any] | None:
    """Every column of one call (and its stored bodies, if its client opted in), or None
    when there is no such row for ``client_id``."""
    if not _ID.match(request_id):
        return None
    query = select(UsageLog).where(UsageLog.id == request_id)
    if client_id is not None:
        query = query.where(UsageLog.client_id == client_id)
    row = session.scalar(query)
    if row is None:
        return None
    found = {column.key: getattr(row, column.key) for column in UsageLog.__mapper__.column_attrs}
    body = session.scalar(
        select(RequestBody).where(
            RequestBody.usage_id == row.id,
            RequestBody.client_id == row.client_id,
            RequestBody.expires_at > datetime.now(UTC),
        )
    )
    found["body"] = (
        {
            "request": body.request,
            "response": body.response,
            "expires_at": body.expires_at,
        }
        if body is not None
        else None
    )
    return found
