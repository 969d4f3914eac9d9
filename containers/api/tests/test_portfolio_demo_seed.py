"""Which tickers the demo portfolio holds, chosen from what the database has."""

from __future__ import annotations

from datetime import date

from api.seed import Candidate, choose_holdings


def c(symbol: str, first: str, last: str, bars: int = 1000) -> Candidate:
    return Candidate(symbol, date.fromisoformat(first), date.fromisoformat(last), bars)


def test_familiar_tickers_that_end_together_are_preferred() -> None:
    candidates = [
        c("ZZZ", "2009-01-02", "2010-12-31", 9000),
        c("NVDA", "1999-01-22", "2025-02-14", 6558),
        c("GOOG", "2004-08-19", "2013-03-01"),
        c("MSFT", "2000-03-01", "2013-03-01"),
        c("AAPL", "2000-03-01", "2013-03-01"),
        c("IBM", "2000-03-01", "2013-03-01"),
    ]
    assert [h.symbol for h in choose_holdings(candidates)] == ["AAPL", "MSFT", "GOOG", "IBM"]


def test_without_four_that_end_together_any_overlapping_ones_do() -> None:
    candidates = [
        c("AAPL", "2000-03-01", "2013-03-01"),
        c("NVDA", "1999-01-22", "2025-02-14"),
        c("AMZN", "1997-05-15", "2020-07-31"),
        c("OLD", "1990-01-02", "1995-12-29", 9000),  # shares nothing with the others
        c("ABC", "2010-01-04", "2024-06-28", 3000),
    ]
    assert [h.symbol for h in choose_holdings(candidates)] == ["AAPL", "AMZN", "NVDA", "ABC"]


def test_histories_too_short_to_share_a_window_give_nothing() -> None:
    assert choose_holdings([c("A", "2024-01-02", "2024-03-01")]) == []
