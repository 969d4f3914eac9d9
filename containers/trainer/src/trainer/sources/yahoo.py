"""Daily prices from Yahoo Finance through the ``yfinance`` package."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from trainer.sources.provider import DEFAULT_DEADLINE_SECONDS, LiveProvider, ProviderError

_COLUMNS = ("Open", "High", "Low", "Close", "Adj Close", "Volume")


def yahoo_symbol(ticker: str) -> str:
    """Yahoo spells US share classes with a dash: BRK.B -> BRK-B."""
    return ticker.upper().replace(".", "-")


class YahooSource(LiveProvider):
    name = "yahoo"

    def __init__(self, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS, workers: int = 4):
        self.deadline_seconds = float(deadline_seconds)
        self.workers = workers

    def filename_for(self, ticker: str) -> str:
        return f"{yahoo_symbol(ticker).lower()}.csv"

    def download(self, ticker: str, start: date | None, end: date | None, budget: float) -> bytes:
        import yfinance  # imported on use: it is slow to import and only needed online

        history = yfinance.Ticker(yahoo_symbol(ticker)).history(
            period="max" if start is None and end is None else None,
            start=start,
            # Yahoo's end is exclusive; ours is inclusive.
            end=None if end is None else end + timedelta(days=1),
            interval="1d",
            auto_adjust=False,
            actions=False,
            raise_errors=True,
            timeout=max(1.0, budget),
        )
        if history is None or history.empty:
            raise ProviderError(f"no data for {ticker}")
        return history_to_csv(history)


def history_to_csv(history: pd.DataFrame) -> bytes:
    """yfinance hands back a frame, not a file: this CSV is what the lake keeps as raw."""
    frame = history.copy()
    index = pd.DatetimeIndex(frame.index)
    if index.tz is not None:
        # The exchange-local calendar date is the trading day.
        index = index.tz_localize(None)
    frame.index = index.strftime("%Y-%m-%d")
    frame.index.name = "Date"
    present = [column for column in _COLUMNS if column in frame.columns]
    return frame.loc[:, present].to_csv().encode("utf-8")
