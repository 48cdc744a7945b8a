"""``storage.request_log``: the cursor round-trips and refuses what it did not make; a
date range is days of the calendar asked for."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from ai_gateway.errors import InvalidRequest
from ai_gateway.storage.db import Database
from ai_gateway.storage.request_log import (
    Cursor,
    RequestFilters,
    decode_cursor,
    encode_cursor,
    list_requests,
)
from ai_gateway.storage.tables import new_id
from tests.api.usage_rows import usage_row, write_rows
from tests.fakes.seeding import add_client


def test_a_cursor_round_trips() -> None:
    cursor = Cursor(datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC), new_id())
    assert decode_cursor(encode_cursor(cursor)) == cursor


@pytest.mark.parametrize("text", ["", "=", "bm90IGpzb24", "W10", "WzEsIDJd", "é"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        decode_cursor(text)
    assert refused.value.code == "invalid_cursor" and refused.value.param == "cursor"


def test_dates_are_days_of_the_zone_asked_for(db: Database) -> None:
    client = add_client(db)
    # 02:00 UTC on March 1st is still February 28th in São Paulo (UTC-3).
    late = usage_row(client.id, created_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    write_rows(db, [late])
    day = date(2026, 3, 1)
    with db.session() as s:
        utc = RequestFilters.of(date_from=day, date_to=day)
        local = RequestFilters.of(date_from=day, date_to=day, zone=ZoneInfo("America/Sao_Paulo"))
        assert len(list_requests(s, client_id=client.id, filters=utc, limit=10).rows) == 1
        assert list_requests(s, client_id=client.id, filters=local, limit=10).rows == []
