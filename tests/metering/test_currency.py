import asyncio
import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from ai_gateway.errors import InvalidRequest
from ai_gateway.metering.currency import (
    FALLBACK_RATE,
    ExchangeRateService,
    Quote,
    latest_stored_rate,
)
from ai_gateway.settings import Settings
from ai_gateway.storage.db import Database
from ai_gateway.storage.exchange_rates import add_exchange_rate
from tests.fakes.ptax import FakePtax, bulletin
from tests.metering.conftest import FakeClock

FRESH = Quote(
    rate=Decimal("5.6351"),
    source="bcb-ptax",
    quoted_at=datetime(2025, 6, 5, 16, 10, 27, 443000, tzinfo=UTC),
)
STORED = Quote(
    rate=Decimal("5.4321"), source="bcb-ptax", quoted_at=datetime(2025, 5, 30, tzinfo=UTC)
)


def service(
    http: aiohttp.ClientSession, db: Database, ptax: FakePtax, clock: FakeClock
) -> ExchangeRateService:
    return ExchangeRateService(http=http, db=db, base_url=ptax.base_url, timeout=0.3, clock=clock)


def store(db: Database, quote: Quote) -> None:
    with db.write() as session:
        add_exchange_rate(
            session,
            base="USD",
            quote="BRL",
            rate=quote.rate,
            source=quote.source,
            quoted_at=quote.quoted_at,
        )


async def test_a_fresh_quote_is_the_latest_selling_rate_and_is_stored(
    http, db, ptax, clock
) -> None:
    ptax.bulletins = [
        bulletin("5.6351", "2025-06-05 13:10:27.443"),
        bulletin("5.5000", "2025-06-02 13:04:11.001"),  # older, listed after
        bulletin("5.5900", "2025-06-04 13:07:00.5"),
    ]
    quote = await service(http, db, ptax, clock).get_exchange_rate("USD", "BRL")
    assert quote == FRESH
    assert latest_stored_rate(db) == FRESH

    [request] = ptax.requests
    assert request["path"].endswith(
        "/odata/CotacaoDolarPeriodo(dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"
    )
    # 02:00 UTC on the 6th is still the 5th in Brasília: the bulletin calendar.
    assert request["query"]["@dataFinalCotacao"] == "'06-05-2025'"
    assert request["query"]["@dataInicial"] == "'05-29-2025'"
    assert request["query"]["$format"] == "json"


async def test_rates_are_parsed_as_decimals_never_floats(http, db, ptax, clock) -> None:
    # Exactly half-way at 6 places: half-even gives ...002; via a float (5.00000149999...)
    # it would be ...001.
    ptax.bulletins = [bulletin("5.0000015", "2025-06-05 13:00:00")]
    quote = await service(http, db, ptax, clock).get_exchange_rate()
    assert quote.rate == Decimal("5.000002")
    # What was used is what the history records.
    stored = latest_stored_rate(db)
    assert stored is not None
    assert stored.rate == quote.rate


async def test_a_quote_is_cached_for_24_hours(http, db, ptax, clock) -> None:
    rates = service(http, db, ptax, clock)
    assert await rates.get_exchange_rate() == FRESH
    ptax.bulletins = [bulletin("5.7000", "2025-06-06 13:00:00")]
    clock.advance(hours=23, minutes=59)
    assert await rates.get_exchange_rate() == FRESH
    assert len(ptax.requests) == 1
    clock.advance(minutes=2)
    assert (await rates.get_exchange_rate()).rate == Decimal("5.7000")
    assert len(ptax.requests) == 2


async def test_concurrent_first_calls_fetch_once(http, db, ptax, clock) -> None:
    ptax.delay = 0.05
    rates = service(http, db, ptax, clock)
    quotes = await asyncio.gather(*(rates.get_exchange_rate() for _ in range(20)))
    assert set(quotes) == {FRESH}
    assert len(ptax.requests) == 1


FAILURES = [
    ("garbage", []),
    ("error", []),
    ("empty", []),
    ("hang", []),
    ("ok", [bulletin("-5.60", "2025-06-05 13:00:00")]),
    ("ok", [bulletin("560.1", "2025-06-05 13:00:00")]),
    ("ok", [bulletin("NaN", "2025-06-05 13:00:00")]),
    ("ok", [bulletin('"5.60"', "2025-06-05 13:00:00")]),
    ("ok", [bulletin("5.60", "yesterday")]),
    ("ok", ["[1, 2]"]),
]
IDS = [
    "garbage",
    "http-500",
    "empty",
    "hang",
    "negative",
    "implausible",
    "nan",
    "string",
    "bad-time",
    "not-object",
]


@pytest.mark.parametrize(("mode", "bulletins"), FAILURES, ids=IDS)
async def test_a_source_failure_falls_back_to_the_last_stored_quote(
    http, db, ptax, clock, caplog, mode, bulletins
) -> None:
    store(db, STORED)
    ptax.mode = mode
    ptax.bulletins = bulletins
    with caplog.at_level(logging.WARNING, logger="ai_gateway.metering.currency"):
        quote = await service(http, db, ptax, clock).get_exchange_rate()
    assert quote == STORED
    assert "PTAX exchange rate unavailable" in caplog.text
    assert latest_stored_rate(db) == STORED  # nothing bad was stored


@pytest.mark.parametrize(("mode", "bulletins"), FAILURES[:5], ids=IDS[:5])
async def test_with_nothing_stored_the_fallback_is_5(http, db, ptax, clock, mode, bulletins):
    ptax.mode = mode
    ptax.bulletins = bulletins
    quote = await service(http, db, ptax, clock).get_exchange_rate()
    assert quote == Quote(rate=Decimal("5.00"), source="fallback", quoted_at=None)
    assert quote.rate == FALLBACK_RATE
    assert latest_stored_rate(db) is None


async def test_an_unreachable_source_falls_back(http, db, clock) -> None:
    rates = ExchangeRateService(
        http=http, db=db, base_url="http://127.0.0.1:9/odata", timeout=0.3, clock=clock
    )
    assert (await rates.get_exchange_rate()).source == "fallback"


async def test_a_failed_source_is_retried_later_not_on_every_call(http, db, ptax, clock) -> None:
    ptax.mode = "error"
    rates = service(http, db, ptax, clock)
    assert (await rates.get_exchange_rate()).source == "fallback"
    assert (await rates.get_exchange_rate()).source == "fallback"
    assert len(ptax.requests) == 1
    ptax.mode = "ok"
    clock.advance(minutes=16)
    assert await rates.get_exchange_rate() == FRESH
    assert len(ptax.requests) == 2


async def test_a_broken_database_never_breaks_the_rate(http, ptax, clock, tmp_path: Path):
    unmigrated = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert await service(http, unmigrated, ptax, clock).get_exchange_rate() == FRESH
        ptax.mode = "error"
        quote = await service(http, unmigrated, ptax, clock).get_exchange_rate()
        assert quote.source == "fallback"
    finally:
        unmigrated.dispose()


async def test_only_usd_to_brl_has_a_source(http, db, ptax, clock) -> None:
    rates = service(http, db, ptax, clock)
    assert (await rates.get_exchange_rate("brl", "BRL")).rate == 1
    with pytest.raises(InvalidRequest):
        await rates.get_exchange_rate("EUR", "BRL")
    assert ptax.requests == []


async def test_the_base_url_comes_from_settings(http, db, ptax, clock) -> None:
    rates = ExchangeRateService.from_settings(
        Settings(ptax_base_url=ptax.base_url + "/"), http=http, db=db
    )
    assert (await rates.get_exchange_rate()).source == "bcb-ptax"
    assert len(ptax.requests) == 1
