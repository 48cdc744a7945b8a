from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite as sqlite_dialect

from ai_gateway.metering.pricing import (
    MONEY_QUANTUM,
    Cost,
    ModelPrice,
    compute_cost,
    dearest_cost_usd,
    quantize_money,
    to_brl,
)
from ai_gateway.storage.types import Money

GPT_4O = ModelPrice(Decimal("2.50"), Decimal("10.00"), Decimal("1.25"))


def test_cached_tokens_are_part_of_input_and_billed_at_the_cached_rate() -> None:
    cost = compute_cost(GPT_4O, input_tokens=1234, output_tokens=567, cached_tokens=100)
    # (1134 x 2.50 + 100 x 1.25 + 567 x 10.00) / 1e6 = 8630 / 1e6; saved 100 x 1.25 / 1e6
    assert cost == Cost(
        usd=Decimal("0.0086300000"), priced=True, prompt_cache_saved_usd=Decimal("0.000125")
    )
    assert cost.usd.as_tuple().exponent == -10


def test_without_a_cached_rate_cached_tokens_cost_the_input_rate() -> None:
    price = ModelPrice(Decimal("2.50"), Decimal("10.00"))
    cost = compute_cost(price, input_tokens=1234, output_tokens=567, cached_tokens=100)
    assert cost.usd == Decimal("0.008755")  # (1234 x 2.50 + 567 x 10) / 1e6


def test_sub_quantum_amounts_round_half_even_like_the_money_column() -> None:
    price = ModelPrice(Decimal("0.00015"), Decimal("0.00025"))
    # 0.00015 / 1e6 = 1.5e-10 -> 2e-10 ; 0.00025 / 1e6 = 2.5e-10 -> 2e-10 (half-up: 3e-10)
    assert compute_cost(price, input_tokens=1, output_tokens=0).usd == Decimal("2E-10")
    assert compute_cost(price, input_tokens=0, output_tokens=1).usd == Decimal("2E-10")


def test_many_calls_sum_exactly() -> None:
    price = ModelPrice(Decimal("0.15"), Decimal("0.60"), Decimal("0.075"))
    one = compute_cost(price, input_tokens=333, output_tokens=77, cached_tokens=33).usd
    assert sum([one] * 1000, Decimal(0)) == one * 1000
    assert one == Decimal("0.0000936750")  # (300 x 0.15 + 33 x 0.075 + 77 x 0.60) / 1e6


@pytest.mark.parametrize(
    "price",
    [None, ModelPrice(None, None), ModelPrice(Decimal("1"), None), ModelPrice(None, Decimal("1"))],
)
def test_an_unpriced_model_is_flagged_not_free(price: ModelPrice | None) -> None:
    cost = compute_cost(price, input_tokens=1000, output_tokens=1000)
    assert cost.priced is False
    assert cost.usd == 0


def test_a_free_model_is_priced_at_zero() -> None:
    cost = compute_cost(ModelPrice(Decimal(0), Decimal(0)), input_tokens=10, output_tokens=10)
    assert cost == Cost(usd=Decimal(0), priced=True)


@pytest.mark.parametrize(
    ("inp", "out", "cached"), [(-1, 0, 0), (0, -1, 0), (10, 0, -1), (10, 0, 11)]
)
def test_impossible_token_counts_are_refused(inp: int, out: int, cached: int) -> None:
    with pytest.raises(ValueError):
        compute_cost(GPT_4O, input_tokens=inp, output_tokens=out, cached_tokens=cached)


def test_to_brl_is_exact_at_the_storage_scale() -> None:
    assert to_brl(Decimal("0.0086300000"), Decimal("5.4321")) == Decimal("0.0468790230")
    # 7e-11 x 5.5 = 3.85e-10: kept at 10 places, half-even
    assert to_brl(Decimal("0.00000000007"), Decimal("5.5")) == Decimal("4E-10")
    assert to_brl(Decimal("0.00000000005"), Decimal("5")) == Decimal("2E-10")


def test_to_brl_refuses_a_non_positive_rate() -> None:
    with pytest.raises(ValueError):
        to_brl(Decimal(1), Decimal(0))


@pytest.mark.parametrize(
    "amount", ["0.00000000015", "0.00000000025", "1.23456789015", "0.000000000049999"]
)
def test_rounding_matches_what_the_money_column_stores(amount: str) -> None:
    sqlite = sqlite_dialect.dialect()
    stored = Money().process_result_value(
        Money().process_bind_param(Decimal(amount), sqlite), sqlite
    )
    assert stored == quantize_money(Decimal(amount))
    assert MONEY_QUANTUM.as_tuple().exponent == -10


SONNET = ModelPrice(Decimal("3.00"), Decimal("15.00"), Decimal("0.30"), Decimal("3.75"))


def test_cache_reads_and_writes_are_each_billed_once_at_their_rate() -> None:
    # 3000-token prompt: 2000 read from the cache, 500 written to it, 500 normal.
    cost = compute_cost(
        SONNET, input_tokens=3000, output_tokens=200, cached_tokens=2000, cache_write_tokens=500
    )
    # (500 x 3.00 + 2000 x 0.30 + 500 x 3.75 + 200 x 15.00) / 1e6 = 6975 / 1e6
    assert cost.usd == Decimal("0.006975")
    # Without the cache: (3000 x 3.00 + 200 x 15.00) / 1e6 = 12000 / 1e6
    assert cost.prompt_cache_saved_usd == Decimal("0.012") - Decimal("0.006975")


def test_a_write_alone_saves_a_negative_amount() -> None:
    cost = compute_cost(SONNET, input_tokens=2048, output_tokens=0, cache_write_tokens=2048)
    assert cost.usd == Decimal("0.00768")  # 2048 x 3.75 / 1e6
    assert cost.prompt_cache_saved_usd == Decimal("-0.001536")  # 2048 x (3.00 - 3.75) / 1e6


def test_without_a_write_price_writes_cost_the_input_rate() -> None:
    cost = compute_cost(GPT_4O, input_tokens=1000, output_tokens=0, cache_write_tokens=1000)
    assert cost.usd == Decimal("0.0025") and cost.prompt_cache_saved_usd == 0


@pytest.mark.parametrize(("cached", "written"), [(6, 5), (0, 11), (-1, 0), (0, -1)])
def test_more_cache_tokens_than_prompt_tokens_are_refused(cached: int, written: int) -> None:
    with pytest.raises(ValueError):
        compute_cost(
            SONNET,
            input_tokens=10,
            output_tokens=0,
            cached_tokens=cached,
            cache_write_tokens=written,
        )


_PRICE = st.one_of(
    st.none(),
    st.decimals(min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=300, deadline=None)
@given(
    prices=st.lists(st.tuples(_PRICE, _PRICE, _PRICE), min_size=0, max_size=5),
    input_tokens=st.integers(0, 2_000_000),
    output_tokens=st.integers(0, 200_000),
    audio=st.decimals(min_value=0, max_value=3600, places=2),
)
def test_the_reservations_dearest_cost_is_the_highest_bill(
    prices: list[tuple[Decimal | None, Decimal | None, Decimal | None]],
    input_tokens: int,
    output_tokens: int,
    audio: Decimal,
) -> None:
    """The budget's worst case (computed on every call, lighter) equals the highest
    :func:`compute_cost` over the chain to the last digit."""
    models = [ModelPrice(i, o, per_minute=m) for i, o, m in prices]
    bills = [
        compute_cost(p, input_tokens=input_tokens, output_tokens=output_tokens, audio_seconds=audio)
        for p in models
    ]
    expected = max((b.usd for b in bills if b.priced), default=quantize_money(Decimal(0)))
    got = dearest_cost_usd(
        models, input_tokens=input_tokens, output_tokens=output_tokens, audio_seconds=audio
    )
    assert got == expected and got.as_tuple().exponent == expected.as_tuple().exponent
