"""What a model call costs: the one price table of the product, with the date it was taken.

Prices are USD per million tokens (MTok) for the Claude API, standard tier, from
platform.claude.com (model pages, "Pricing", and the Claude Sonnet 5.5 migration guide),
taken on :data:`PRICES_TAKEN_ON`. Update this table — and only this table — when Anthropic
changes a price.

A request's input is billed in three parts that never overlap (``input_tokens``,
``cache_creation_input_tokens`` and ``cache_read_input_tokens`` in the API's usage):

- uncached input at the base input rate;
- cache writes at the 5-minute write rate (1.25× the input rate; the product only writes
  5-minute entries, the API's default ``cache_control: {"type": "ephemeral"}``);
- cache reads at the cache-hit rate (0.1× the input rate for most models; Anthropic cut
  it to 0.05× on Claude Sonnet 5.5 and Opus 5.5, and to 0.025× on Fable 5.1).

Output tokens (thinking included) at the output rate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

log = logging.getLogger("api.chat.pricing")

PRICES_TAKEN_ON = date(2026, 12, 4)
_MTOK = Decimal(1_000_000)


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens."""

    input: Decimal
    output: Decimal
    cache_write: Decimal  # 5-minute entries
    cache_read: Decimal


def _price(input: str, output: str, cache_read: str) -> ModelPrice:
    base = Decimal(input)
    return ModelPrice(
        input=base,
        output=Decimal(output),
        cache_write=base * Decimal("1.25"),
        cache_read=Decimal(cache_read),
    )


# Keyed by model id; a dated id (``claude-sonnet-4-5-20250929``) resolves to its alias.
PRICES: dict[str, ModelPrice] = {
    "claude-fable-5-1": _price("10", "50", "0.25"),
    "claude-fable-5": _price("10", "50", "1.00"),
    "claude-opus-5-5": _price("4", "20", "0.20"),
    "claude-opus-5": _price("5", "25", "0.50"),
    "claude-opus-4-8": _price("5", "25", "0.50"),
    "claude-opus-4-7": _price("5", "25", "0.50"),
    "claude-opus-4-6": _price("5", "25", "0.50"),
    "claude-opus-4-5": _price("5", "25", "0.50"),
    "claude-sonnet-5-5": _price("2", "10", "0.10"),
    "claude-sonnet-5": _price("2", "10", "0.20"),
    "claude-sonnet-4-6": _price("3", "15", "0.30"),
    "claude-sonnet-4-5": _price("3", "15", "0.30"),
    "claude-haiku-4-5": _price("1", "5", "0.10"),
}

# Unknown ids (a local model server's, a proxy's alias) are priced as this model, so a
# budget still means something; the log says so once per id.
FALLBACK_MODEL = "claude-sonnet-5-5"
_warned: set[str] = set()


@dataclass(frozen=True)
class TokenUsage:
    """The four token counts the API reports for one call (or a sum of calls)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
        )

    @property
    def prompt_tokens(self) -> int:
        """Every input token of the call, however it was billed."""
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_read_tokens": self.cache_read_tokens,
        }


def price_of(model: str) -> ModelPrice:
    """The price of ``model``: its own row, its alias's row for a dated id, else the fallback."""
    if model in PRICES:
        return PRICES[model]
    # Longest alias that the id extends at a separator, so "claude-sonnet-5-5-20261001"
    # never lands on "claude-sonnet-5".
    for alias in sorted(PRICES, key=len, reverse=True):
        if model.startswith(alias + "-") or model.startswith(alias + "@"):
            return PRICES[alias]
    if model not in _warned:
        _warned.add(model)
        log.warning("no price for model %r; priced as %s", model, FALLBACK_MODEL)
    return PRICES[FALLBACK_MODEL]


def cost_usd(model: str, usage: TokenUsage) -> Decimal:
    """Dollar cost of ``usage`` on ``model``, to the micro-dollar."""
    price = price_of(model)
    total = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_write_tokens * price.cache_write
        + usage.cache_read_tokens * price.cache_read
    ) / _MTOK
    return total.quantize(Decimal("0.000001"))


def uncached_cost_usd(model: str, usage: TokenUsage) -> Decimal:
    """What ``usage`` would have cost without prompt caching: every input token at base rate."""
    price = price_of(model)
    total = (usage.prompt_tokens * price.input + usage.output_tokens * price.output) / _MTOK
    return total.quantize(Decimal("0.000001"))
