"""What an answer costs: cache writes and reads are priced apart from plain input."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.chat import pricing
from api.chat.pricing import TokenUsage, cost_usd, price_of, uncached_cost_usd
from api.settings import ApiSettings


def test_the_default_model_has_a_price() -> None:
    default = ApiSettings.model_fields["chat_model"].default
    assert default in pricing.PRICES


def test_each_token_kind_is_billed_at_its_own_rate() -> None:
    # Claude Sonnet 4.6: $3 input, $3.75 5-minute cache write, $0.30 cache read, $15 output.
    million = 1_000_000
    assert cost_usd("claude-sonnet-4-6", TokenUsage(input_tokens=million)) == Decimal("3")
    assert cost_usd("claude-sonnet-4-6", TokenUsage(cache_write_tokens=million)) == Decimal("3.75")
    assert cost_usd("claude-sonnet-4-6", TokenUsage(cache_read_tokens=million)) == Decimal("0.3")
    assert cost_usd("claude-sonnet-4-6", TokenUsage(output_tokens=million)) == Decimal("15")


def test_a_cached_turn_costs_what_its_parts_cost() -> None:
    usage = TokenUsage(
        input_tokens=120, output_tokens=300, cache_write_tokens=400, cache_read_tokens=3000
    )
    price = price_of("claude-sonnet-5-5")
    expected = (
        120 * price.input + 300 * price.output + 400 * price.cache_write + 3000 * price.cache_read
    ) / 1_000_000
    assert cost_usd("claude-sonnet-5-5", usage) == expected.quantize(Decimal("0.000001"))
    # Without the cache, every input token would have been billed at the input rate.
    assert uncached_cost_usd("claude-sonnet-5-5", usage) == Decimal("0.010040")
    assert cost_usd("claude-sonnet-5-5", usage) < uncached_cost_usd("claude-sonnet-5-5", usage)


@pytest.mark.parametrize("model", sorted(pricing.PRICES))
def test_cache_writes_cost_a_quarter_more_and_reads_far_less(model: str) -> None:
    price = price_of(model)
    assert price.cache_write == price.input * Decimal("1.25")
    assert Decimal(0) < price.cache_read <= price.input * Decimal("0.1")
    assert price.output > price.input


def test_dated_ids_resolve_to_their_alias_and_never_to_a_neighbour() -> None:
    assert price_of("claude-sonnet-4-5-20250929") == pricing.PRICES["claude-sonnet-4-5"]
    assert price_of("claude-haiku-4-5-20251001") == pricing.PRICES["claude-haiku-4-5"]
    assert price_of("claude-sonnet-5-5-20261001") == pricing.PRICES["claude-sonnet-5-5"]
    assert price_of("claude-sonnet-5-20260630") == pricing.PRICES["claude-sonnet-5"]


def test_an_unknown_model_is_priced_as_the_fallback_so_budgets_still_hold() -> None:
    assert price_of("local-llama") == pricing.PRICES[pricing.FALLBACK_MODEL]
    assert cost_usd("local-llama", TokenUsage(output_tokens=1000)) > 0


def test_usage_adds_up() -> None:
    total = TokenUsage(1, 2, 3, 4) + TokenUsage(10, 20, 30, 40)
    assert total == TokenUsage(11, 22, 33, 44)
    assert total.prompt_tokens == 11 + 33 + 44
    assert total.as_dict() == {
        "input_tokens": 11,
        "output_tokens": 22,
        "cache_write_tokens": 33,
        "cache_read_tokens": 44,
    }


def test_the_price_table_is_dated() -> None:
    assert pricing.PRICES_TAKEN_ON.year >= 2026
