"""USD->BRL exchange rates for pricing every call in reais.

The official source is the Banco Central do Brasil's PTAX OData API (public, no key): the
selling rate (``cotacaoVenda``) of the latest bulletin in the last week, so weekends and
holidays, which have no bulletin, still get Friday's rate.

Metering must never fail because a currency source did, so :meth:`get_exchange_rate` never
raises on a source failure. It falls back, in order, to the last quote stored in
``exchange_rates`` and then to :data:`FALLBACK_RATE` (source ``"fallback"``), and logs a
warning. A fresh quote is cached in memory for 24 h; a fallback only for
:data:`RETRY_AFTER_FAILURE`, so a recovered source is used again soon while a hanging one
does not cost every request a timeout. One lock means a burst of first calls fetches once.

Numbers are parsed straight to ``Decimal`` (``parse_float``): a binary float never touches
a rate, so ``5.1464`` stays ``5.1464``. A rate is kept at :data:`RATE_SCALE` places, the
scale of ``exchange_rates.rate`` and ``gateway_usage_logs.exchange_rate``, so the rate a
usage row records is exactly the one its BRL cost was computed with.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy.exc import SQLAlchemyError

from ai_gateway.errors import InvalidRequest
from ai_gateway.settings import Settings
from ai_gateway.storage.db import Database
from ai_gateway.storage.exchange_rates import add_exchange_rate, latest_exchange_rate

__all__ = [
    "CACHE_TTL",
    "DEFAULT_PTAX_BASE_URL",
    "FALLBACK_RATE",
    "FALLBACK_SOURCE",
    "PLAUSIBLE_RATE_RANGE",
    "PTAX_SOURCE",
    "RATE_SCALE",
    "RETRY_AFTER_FAILURE",
    "ExchangeRateService",
    "Quote",
    "latest_stored_rate",
]

logger = logging.getLogger(__name__)

DEFAULT_PTAX_BASE_URL: Final = "https://olinda.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata"
PTAX_SOURCE: Final = "bcb-ptax"
FALLBACK_SOURCE: Final = "fallback"
#: The seed's rate when no quote can be had at all.
FALLBACK_RATE: Final = Decimal("5.00")
CACHE_TTL: Final = timedelta(hours=24)
RETRY_AFTER_FAILURE: Final = timedelta(minutes=15)
#: Decimal places of a rate, as stored (``Money(18, 6)``).
RATE_SCALE: Final = 6
#: A USD->BRL rate outside this range is a broken answer, not a market move.
PLAUSIBLE_RATE_RANGE: Final = (Decimal(1), Decimal(50))

# PTAX bulletins are dated and timed in Brasília.
_PTAX_ZONE: Final = ZoneInfo("America/Sao_Paulo")
_LOOKBACK_DAYS: Final = 7
_SUPPORTED: Final = ("USD", "BRL")
_RATE_QUANTUM: Final = Decimal(1).scaleb(-RATE_SCALE)


@dataclass(frozen=True, slots=True)
class Quote:
    """A rate (units of quote per unit of base), where it came from, and when the source
    quoted it (``None`` for the built-in fallback)."""

    rate: Decimal
    source: str
    quoted_at: datetime | None


class _SourceFailure(Exception):
    """The source gave no usable quote; the message says why (never a secret)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ExchangeRateService:
    """One per process: holds the 24 h cache and the HTTP session it fetches with."""

    def __init__(
        self,
        *,
        http: aiohttp.ClientSession,
        db: Database,
        base_url: str = DEFAULT_PTAX_BASE_URL,
        timeout: float = 10.0,
        ttl: timedelta = CACHE_TTL,
        retry_after: timedelta = RETRY_AFTER_FAILURE,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._http = http
        self._db = db
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._ttl = ttl
        self._retry_after = retry_after
        self._clock = clock
        self._cached: tuple[Quote, datetime] | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, http: aiohttp.ClientSession, db: Database
    ) -> ExchangeRateService:
        return cls(http=http, db=db, base_url=settings.ptax_base_url)

    async def get_exchange_rate(self, base: str = "USD", quote: str = "BRL") -> Quote:
        """The current rate; never raises because the source failed (see module doc)."""
        base, quote = base.upper(), quote.upper()
        if base == quote:
            return Quote(rate=Decimal(1), source="identity", quoted_at=None)
        if (base, quote) != _SUPPORTED:
            raise InvalidRequest(f"no exchange rate source for {base}->{quote}")
        if (hit := self._fresh_cached()) is not None:
            return hit
        async with self._lock:
            # Another task may have fetched while this one waited for the lock.
            if (hit := self._fresh_cached()) is not None:
                return hit
            result, ttl = await self._resolve()
            self._cached = (result, self._clock() + ttl)
            return result

    def invalidate(self) -> None:
        """Forget the cached quote (e.g. after an operator stored one by hand)."""
        self._cached = None

    def _fresh_cached(self) -> Quote | None:
        if self._cached is not None and self._clock() < self._cached[1]:
            return self._cached[0]
        return None

    async def _resolve(self) -> tuple[Quote, timedelta]:
        try:
            fresh = await self._fetch_ptax()
        except _SourceFailure as exc:
            fallback = await self._fallback()
            logger.warning(
                "PTAX exchange rate unavailable (%s); using %s rate %s",
                exc,
                fallback.source,
                fallback.rate,
            )
            return fallback, self._retry_after
        await self._store(fresh)
        return fresh, self._ttl

    async def _fetch_ptax(self) -> Quote:
        today = self._clock().astimezone(_PTAX_ZONE).date()
        url = (
            f"{self._base_url}/CotacaoDolarPeriodo("
            "dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"
        )
        params = {
            "@dataInicial": _odata_date(today - timedelta(days=_LOOKBACK_DAYS)),
            "@dataFinalCotacao": _odata_date(today),
            "$format": "json",
            "$select": "cotacaoCompra,cotacaoVenda,dataHoraCotacao",
        }
        try:
            async with self._http.get(url, params=params, timeout=self._timeout) as resp:
                if resp.status != 200:
                    raise _SourceFailure(f"HTTP {resp.status}")
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise _SourceFailure(reason) from exc
        return _parse_ptax(raw)

    async def _store(self, fresh: Quote) -> None:
        try:
            await self._db.run(_store_quote, self._db, fresh, self._clock())
        except SQLAlchemyError as exc:
            # The quote is still good for this process; only the history misses a row.
            logger.warning("could not store the exchange rate: %s", type(exc).__name__)

    async def _fallback(self) -> Quote:
        try:
            stored = await self._db.run(latest_stored_rate, self._db)
        except SQLAlchemyError as exc:
            logger.warning("could not read the stored exchange rate: %s", type(exc).__name__)
            stored = None
        return stored or Quote(rate=FALLBACK_RATE, source=FALLBACK_SOURCE, quoted_at=None)


def latest_stored_rate(db: Database, *, base: str = "USD", quote: str = "BRL") -> Quote | None:
    """The last quote stored for the pair (sync: for jobs, the CLI and the fallback)."""
    with db.session() as session:
        row = latest_exchange_rate(session, base=base, quote=quote)
    if row is None:
        return None
    return Quote(rate=row.rate, source=row.source, quoted_at=row.quoted_at)


def _parse_ptax(raw: bytes) -> Quote:
    """The latest ``cotacaoVenda`` of a PTAX OData answer; ``_SourceFailure`` if the answer
    is not JSON, has no quotes, or holds a malformed or implausible one."""
    try:
        doc = json.loads(raw, parse_float=Decimal, parse_constant=_refuse_constant)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise _SourceFailure("answer is not JSON") from exc
    entries = doc.get("value") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise _SourceFailure("answer has no 'value' list")
    if not entries:
        raise _SourceFailure(f"no bulletin in the last {_LOOKBACK_DAYS} days")
    quotes = [_entry_quote(entry) for entry in entries]
    return max(quotes, key=lambda q: q.quoted_at or datetime.min.replace(tzinfo=UTC))


def _entry_quote(entry: Any) -> Quote:
    if not isinstance(entry, dict):
        raise _SourceFailure("a quote is not an object")
    rate = entry.get("cotacaoVenda")
    if isinstance(rate, bool) or not isinstance(rate, Decimal | int):
        raise _SourceFailure("cotacaoVenda is not a number")
    rate = Decimal(rate).quantize(_RATE_QUANTUM, rounding=ROUND_HALF_EVEN)
    low, high = PLAUSIBLE_RATE_RANGE
    if not low <= rate <= high:
        raise _SourceFailure(f"cotacaoVenda {rate} is outside {low}..{high}")
    stamp = entry.get("dataHoraCotacao")
    try:
        quoted_at = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        quoted_at = None
    if quoted_at is None:
        raise _SourceFailure("dataHoraCotacao is missing or malformed")
    if quoted_at.tzinfo is None:
        quoted_at = quoted_at.replace(tzinfo=_PTAX_ZONE)
    return Quote(rate=rate, source=PTAX_SOURCE, quoted_at=quoted_at.astimezone(UTC))


def _store_quote(db: Database, fresh: Quote, fetched_at: datetime) -> None:
    base, quote = _SUPPORTED
    with db.write() as session:
        add_exchange_rate(
            session,
            base=base,
            quote=quote,
            rate=fresh.rate,
            source=fresh.source,
            quoted_at=fresh.quoted_at,
            fetched_at=fetched_at,
        )


def _odata_date(day: date) -> str:
    # OData string literal, month first: '05-31-2025'.
    return f"'{day:%m-%d-%Y}'"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a rate")
