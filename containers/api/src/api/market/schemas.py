"""What the market-data and watchlist endpoints accept and answer."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

MAX_WATCHLIST = 50
# Letters, digits and the punctuation providers use (BRK.B, BRK-B, ^GSPC, EURUSD=X).
_SYMBOL = re.compile(r"^[A-Z0-9.\-=^_]{1,24}$")
_SEARCH = re.compile(r"^[A-Za-z0-9.\-=^_]*$")
# Dates before this are typos, not market history.
EARLIEST_DATE = date(1900, 1, 1)


def is_symbol(value: str) -> bool:
    return bool(_SYMBOL.match(value))


def normalise_symbol(value: str) -> str:
    symbol = value.strip().upper()
    if not symbol:
        raise ValueError("a ticker symbol cannot be empty")
    if not is_symbol(symbol):
        raise ValueError("a ticker symbol has letters, digits and . - = ^ _ only")
    return symbol


Symbol = Annotated[str, Field(min_length=1, max_length=24), AfterValidator(normalise_symbol)]


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class TickerSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(
        default="",
        max_length=24,
        pattern=_SEARCH.pattern,
        description="Symbol prefix (then contains)",
    )
    limit: int = Field(default=20, ge=1, le=100)


class TickerInfo(BaseModel):
    symbol: str
    source: str = Field(description="The one provider this ticker's prices come from")
    first_date: date
    last_date: date
    bars: int


class PriceRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date | None = Field(
        default=None, ge=EARLIEST_DATE, description="Default: one year before `end`"
    )
    end: date | None = Field(
        default=None, ge=EARLIEST_DATE, description="Default: the last bar held"
    )

    @field_validator("start", "end", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return _blank_is_none(value)


class PriceBar(BaseModel):
    date: date
    open: float
    high: float
    low: float
    close: float
    adj_close: float | None
    volume: float


class PriceHistory(BaseModel):
    ticker: str
    source: str
    as_of: date = Field(description="The last date held for this ticker")
    start: date
    end: date
    bars: list[PriceBar]


class Quote(BaseModel):
    ticker: str
    source: str
    close: float
    previous_close: float | None
    change: float | None = Field(description="close − previous close")
    change_pct: float | None = Field(description="change / previous close, as a fraction")
    as_of: date = Field(description="Date of `close`: the last bar held")


class WatchlistUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tickers: list[Symbol] = Field(
        max_length=MAX_WATCHLIST,
        description=f"At most {MAX_WATCHLIST}; duplicates dropped, order kept",
    )


class Watchlist(BaseModel):
    tickers: list[Quote]
    as_of: date | None = Field(description="The latest `as_of` of the entries")
