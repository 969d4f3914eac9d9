"""Shapes of the data that crosses container boundaries."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

# Columns of a daily bar table, in this order, everywhere in the product.
BAR_COLUMNS: tuple[str, ...] = ("date", "ticker", "open", "high", "low", "close", "volume")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")


class Bar(BaseModel):
    """One daily OHLCV bar."""

    model_config = ConfigDict(extra="forbid")

    date: date
    open: float = Field(gt=0)
    high: float = Field(gt=0)
    low: float = Field(gt=0)
    close: float = Field(gt=0)
    volume: float = Field(ge=0)
