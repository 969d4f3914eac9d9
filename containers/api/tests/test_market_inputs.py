"""Market-data inputs and quotes, without a database."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from api.market.schemas import PriceRange, TickerSearch, WatchlistUpdate
from api.market.service import LastCloses


def test_a_quote_carries_its_change_and_date() -> None:
    closes = LastCloses("ABC", "test", date(2024, 1, 3), 110.0, date(2024, 1, 2), 100.0)
    quote = closes.quote()
    assert quote.change == pytest.approx(10.0)
    assert quote.change_pct == pytest.approx(0.10)
    assert quote.as_of == date(2024, 1, 3)
    single = LastCloses("ABC", "test", date(2024, 1, 3), 110.0, None, None).quote()
    assert single.change is None and single.previous_close is None


def test_watchlist_symbols_are_normalised_and_capped() -> None:
    assert WatchlistUpdate(tickers=[" aapl", "MSFT"]).tickers == ["AAPL", "MSFT"]
    with pytest.raises(ValidationError):
        WatchlistUpdate(tickers=["A"] * 51)
    with pytest.raises(ValidationError):
        WatchlistUpdate(tickers=["  "])


def test_price_range_accepts_blank_dates_and_refuses_bad_ones() -> None:
    assert PriceRange.model_validate({"start": "", "end": "2024-01-05"}).start is None
    with pytest.raises(ValidationError):
        PriceRange.model_validate({"start": "yesterday"})


def test_ticker_search_limits_are_bounded() -> None:
    assert TickerSearch.model_validate({"limit": "5"}).limit == 5
    for bad in ("0", "101", "x"):
        with pytest.raises(ValidationError):
            TickerSearch.model_validate({"limit": bad})


def test_ticker_symbols_take_provider_punctuation_but_nothing_else() -> None:
    assert WatchlistUpdate(tickers=["brk.b", "^gspc", "eurusd=x"]).tickers == [
        "BRK.B",
        "^GSPC",
        "EURUSD=X",
    ]
    for bad in ("AB\x00C", "A B", "\udbcb", "DROP;"):
        with pytest.raises(ValidationError):
            WatchlistUpdate(tickers=[bad])
    with pytest.raises(ValidationError):
        TickerSearch.model_validate({"q": "a\x00"})
