"""The pure rules: OpenAI's duration spelling, validation bounds, plan inheritance."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from ai_gateway.errors import InvalidRequest
from ai_gateway.ratelimit.rules import (
    MAX_LIMIT,
    Limits,
    RateLimitTable,
    go_duration,
    validate_limits,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.12, "120ms"),
        (0.0171, "18ms"),
        (1, "1s"),
        (8.64, "8.64s"),
        (60, "1m0s"),
        (360, "6m0s"),
        (252.172, "4m12.172s"),
        (83909.144, "23h18m29.144s"),
        (3600, "1h0m0s"),
    ],
)
def test_durations_are_spelled_like_openai(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_limits_beyond_the_column_name_the_field_and_the_maximum() -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_limits({"tpm": MAX_LIMIT + 1})
    assert caught.value.param == "tpm" and str(MAX_LIMIT) in caught.value.message
    for bad in (0, -5, 1.5, float("nan"), "10", True):
        with pytest.raises(InvalidRequest):
            validate_limits({"rpm": bad})
    with pytest.raises(InvalidRequest, match="unknown limit field 'rps'"):
        validate_limits({"rps": 3})
    assert validate_limits({"rpm": MAX_LIMIT, "tpm": None}) == {"rpm": MAX_LIMIT, "tpm": None}


def test_a_client_follows_its_plan_field_by_field() -> None:
    table = RateLimitTable(
        plans=MappingProxyType({"pro": Limits(rpm=600, tpm=100_000, concurrency=20)}),
        clients=MappingProxyType({"acme": Limits(rpm=60)}),
    )
    assert table.for_client("acme", "pro") == Limits(rpm=60, tpm=100_000, concurrency=20)
    assert table.for_client("globex", "pro") == Limits(600, 100_000, 20)
    assert table.for_client("globex", "free").empty  # no limit anywhere: unlimited
