"""``/api/requests``: the request explorer's list (filters, cursor paging) and detail,
the tenant walls around them, refused input, and the opt-in storage of bodies."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from ai_gateway.storage.request_bodies import count_bodies, purge_bodies, set_body_settings
from ai_gateway.storage.tables import RequestBody
from tests.api.client import call
from tests.api.usage_rows import usage_row, write_rows
from tests.harness import Harness

BASE = "/api/requests"


def _seed(h: Harness) -> tuple[str, str]:
    """Twelve calls of the harness client (varied), three of another; returns the other
    client's id and one of its call ids."""
    other, _ = h.new_client("globex")
    a = h.client.id
    rows = [usage_row(a, conversation_id="conv-1", days_ago=i / 10) for i in range(8)]
    rows += [
        usage_row(a, status="error", error_code="upstream_failed", days_ago=1),
        usage_row(a, cache_hit=True, endpoint="responses", days_ago=2),
        usage_row(
            a,
            model_used="groq/llama-3.3-70b",
            provider="groq",
            fallback_from="openai/gpt-4o-mini",
            fallback_attempts=2,
            fallback_reason="server_error: 503",
            route="gateway",
            days_ago=3,
            telemetry={"attempts": [{"model": "openai/gpt-4o-mini", "reason": "server_error"}]},
            upstream_request_id="req_upstream_1",
            input_price_per_1m=Decimal("0.15"),
            output_price_per_1m=Decimal("0.60"),
            ttft_ms=42,
        ),
        usage_row(a, days_ago=40),
    ]
    foreign = [usage_row(other.id, conversation_id="globex-secret") for _ in range(3)]
    write_rows(h.db, rows + foreign)
    return other.id, foreign[0]["id"]


async def _all_pages(h: Harness, **params: object) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []
    cursor = None
    for _ in range(50):
        query = dict(params) | ({"cursor": cursor} if cursor else {})
        status, body = await call(h, "GET", BASE, params=query)
        assert status == 200, body
        seen.extend(body["data"])
        cursor = body["next_cursor"]
        assert body["has_more"] is (cursor is not None)
        if cursor is None:
            return seen
    raise AssertionError("paging never ended")


async def test_cursor_pages_walk_every_row_once_newest_first(harness: Harness) -> None:
    _seed(harness)
    rows = await _all_pages(harness, limit=5)
    ids = [r["id"] for r in rows]
    assert len(ids) == 12 and len(set(ids)) == 12
    times = [r["created_at"] for r in rows]
    assert times == sorted(times, reverse=True)
    assert {r["client_id"] for r in rows} == {harness.client.id}


async def test_rows_at_the_same_instant_are_paged_by_id(harness: Harness) -> None:
    when = datetime.now(UTC).replace(microsecond=0)
    write_rows(harness.db, [usage_row(harness.client.id, created_at=when) for _ in range(7)])
    rows = await _all_pages(harness, limit=2)
    assert len({r["id"] for r in rows}) == 7


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "error"}, 1),
        ({"cache": "hit"}, 1),
        ({"cache": "miss"}, 11),
        ({"fallback": "yes"}, 1),
        ({"fallback": "no"}, 11),
        ({"endpoint": "responses"}, 1),
        ({"route": "gateway"}, 1),
        ({"model": "groq/llama-3.3-70b"}, 1),
        ({"conversation_id": "conv-1"}, 8),
        ({"status": "success", "conversation_id": "conv-1"}, 8),
    ],
)
async def test_filters(harness: Harness, params: dict[str, str], expected: int) -> None:
    _seed(harness)
    assert len(await _all_pages(harness, **params)) == expected


async def test_a_custom_date_range(harness: Harness) -> None:
    _seed(harness)
    today = datetime.now(UTC).date()
    last_week = await _all_pages(
        harness, date_from=(today - timedelta(days=7)).isoformat(), date_to=today.isoformat()
    )
    assert len(last_week) == 11
    old = (today - timedelta(days=40)).isoformat()
    assert len(await _all_pages(harness, date_from=old, date_to=old)) == 1


async def test_the_detail_has_every_fact(harness: Harness) -> None:
    _seed(harness)
    [row] = await _all_pages(harness, fallback="yes")
    status, detail = await call(harness, "GET", f"{BASE}/{row['id']}")
    assert status == 200
    assert detail["cost_usd"] == "0.0010000000" and detail["cost_brl"] == "0.0050000000"
    assert Decimal(detail["exchange_rate"]) == 5
    assert Decimal(detail["input_price_per_1m"]) == Decimal("0.15")
    assert detail["fallback_from"] == "openai/gpt-4o-mini"
    assert detail["fallback_reason"] == "server_error: 503"
    assert detail["telemetry"]["attempts"][0]["reason"] == "server_error"
    assert detail["upstream_request_id"] == "req_upstream_1"
    assert detail["ttft_ms"] == 42
    assert detail["body"] is None  # nothing stored: the client did not opt in


async def test_a_client_never_sees_another_clients_calls(harness: Harness) -> None:
    other_id, other_call = _seed(harness)
    status, body = await call(harness, "GET", BASE, params={"client_id": other_id})
    assert status == 403
    status, body = await call(harness, "GET", f"{BASE}/{other_call}")
    assert status == 404 and body["error"]["code"] == "request_not_found"
    status, body = await call(harness, "GET", BASE, params={"conversation_id": "globex-secret"})
    assert status == 200 and body["data"] == []
    # The admin sees both, and can narrow to one client.
    status, body = await call(harness, "GET", BASE, admin=True, params={"limit": 200})
    assert status == 200 and {r["client_id"] for r in body["data"]} == {
        harness.client.id,
        other_id,
    }
    status, body = await call(harness, "GET", BASE, admin=True, params={"client_id": other_id})
    assert {r["client_id"] for r in body["data"]} == {other_id}
    status, body = await call(harness, "GET", f"{BASE}/{other_call}", admin=True)
    assert status == 200 and body["client_id"] == other_id


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"cursor": "not-a-cursor!"}, "cursor"),
        ({"cursor": _b64(b"{}")}, "cursor"),
        ({"cursor": _b64(b'["2026-01-01T00:00:00+00:00", "x"]')}, "cursor"),
        ({"cursor": _b64(b'["yesterday", "0123456789abcdef0123456789abcdef"]')}, "cursor"),
        (
            {"cursor": _b64(b'["2026-01-01T00:00:00", "0123456789abcdef0123456789abcdef"]')},
            "cursor",
        ),
        ({"cursor": "x" * 500}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "100000"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_to": "last week"}, "date_to"),
        ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "date_to"),
        ({"date_from": "2020-01-01", "date_to": "2026-01-01"}, "date_to"),
        ({"status": "exploded"}, "status"),
        ({"endpoint": "v2/everything"}, "endpoint"),
        ({"route": "sideways"}, "route"),
        ({"cache": "maybe"}, "cache"),
        ({"fallback": "1"}, "fallback"),
        ({"model": "m" * 500}, "model"),
        ({"model": "gpt\x00"}, "model"),
        ({"conversation_id": "\x00"}, "conversation_id"),
        (
            {"cursor": _b64(b'["9999-12-31T23:00:00-05:00", "0123456789abcdef0123456789abcdef"]')},
            "cursor",
        ),
    ],
)
async def test_bad_input_is_a_400_in_the_error_shape(
    harness: Harness, params: dict[str, str], param: str
) -> None:
    status, body = await call(harness, "GET", BASE, params=params)
    assert status == 400, body
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["param"] == param


async def test_an_unknown_or_absurd_id_is_a_404(harness: Harness) -> None:
    for request_id in ("0" * 32, "nope", "%27%20OR%201=1"):
        status, _body = await call(harness, "GET", f"{BASE}/{request_id}")
        assert status == 404, request_id
    status, _ = await call(harness, "GET", f"{BASE}/{'a' * 65}")
    assert status == 400


async def _chat(h: Harness, text: str) -> str:
    status, body = await call(
        h,
        "POST",
        "/v1/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}]},
    )
    assert status == 200, body
    await h.drain()
    return str(body["choices"][0]["message"]["content"])


async def _opt_in(h: Harness, store: bool, days: int = 7) -> None:
    with h.db.write() as s:
        set_body_settings(s, client_id=h.client.id, store_bodies=store, retention_days=days)
    await h.gateway.budget_service.client_changed(h.client.id)


async def test_bodies_are_stored_only_after_the_client_opts_in(harness: Harness) -> None:
    h = harness
    await _chat(h, "not kept")
    with h.db.session() as s:
        assert count_bodies(s) == 0
    await _opt_in(h, True, days=7)
    answer = await _chat(h, "kept please")
    with h.db.session() as s:
        [stored] = s.scalars(select(RequestBody)).all()
        assert stored.client_id == h.client.id
        assert stored.expires_at - stored.created_at == timedelta(days=7)
    status, detail = await call(h, "GET", f"{BASE}/{stored.usage_id}")
    assert status == 200
    assert detail["body"]["request"]["messages"] == [{"role": "user", "content": "kept please"}]
    assert detail["body"]["response"]["choices"][0]["message"]["content"] == answer
    # Withdrawing consent deletes what was kept, and nothing new is stored.
    await _opt_in(h, False)
    await _chat(h, "not kept again")
    with h.db.session() as s:
        assert count_bodies(s) == 0


async def test_purge_by_client_and_age(harness: Harness) -> None:
    h = harness
    await _opt_in(h, True)
    await _chat(h, "one")
    await _chat(h, "two")
    with h.db.write() as s:
        assert purge_bodies(s, client_id=h.client.id, older_than_days=1) == 0
        assert purge_bodies(s, client_id=h.client.id) == 2
        assert count_bodies(s) == 0


async def test_retention_out_of_range_is_refused(harness: Harness) -> None:
    from ai_gateway.errors import InvalidRequest

    with harness.db.write() as s, pytest.raises(InvalidRequest) as refused:
        set_body_settings(s, client_id=harness.client.id, store_bodies=True, retention_days=0)
    assert refused.value.code == "retention_out_of_range"


async def test_an_admin_naming_a_nul_client_is_a_400(harness: Harness) -> None:
    status, body = await call(harness, "GET", BASE, admin=True, params={"client_id": "a\x00"})
    assert status == 400 and body["error"]["param"] == "client_id"
