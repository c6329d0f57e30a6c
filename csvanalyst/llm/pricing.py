"""Estimated cost of a turn from its token counts.

Prices are list prices in USD per million tokens, matched by the longest model-id prefix so dated
ids (`gpt-4o-2024-08-06`, `claude-haiku-4-5-20251001`) find their family. They are estimates: cache
discounts and batch pricing are ignored. Unknown and local models get None, never a guess.
"""

from __future__ import annotations

from typing import NamedTuple


class Price(NamedTuple):
    input_per_m: float
    output_per_m: float


PRICES: dict[str, Price] = {
    # OpenAI
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5": Price(1.25, 10.00),
    "o3-mini": Price(1.10, 4.40),
    "o4-mini": Price(1.10, 4.40),
    "o3": Price(2.00, 8.00),
    # Anthropic
    "claude-haiku-4-5": Price(1.00, 5.00),
    "claude-3-5-haiku": Price(0.80, 4.00),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-3-7-sonnet": Price(3.00, 15.00),
    "claude-sonnet-5": Price(2.00, 10.00),
    "claude-opus-4-1": Price(15.00, 75.00),
    "claude-opus-4-0": Price(15.00, 75.00),
    "claude-opus-4-2025": Price(15.00, 75.00),
    "claude-opus-4": Price(5.00, 25.00),
}


def price_for(model: str) -> Price | None:
    """The longest matching prefix wins, so `gpt-4o-mini` is not priced as `gpt-4o`."""
    name = model.lower().rsplit("/", 1)[-1]  # tolerate router prefixes such as "openai/gpt-4o"
    matches = [prefix for prefix in PRICES if name.startswith(prefix)]
    return PRICES[max(matches, key=len)] if matches else None


def estimate_cost(model: str, input_tokens: int, output_tokens: int) -> float | None:
    price = price_for(model)
    if price is None:
        return None
    return (input_tokens * price.input_per_m + output_tokens * price.output_per_m) / 1_000_000
