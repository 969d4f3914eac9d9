"""Daily prices from Stooq's CSV download (``/q/d/l/?s=<ticker>.us&i=d``)."""

from __future__ import annotations

import os
from datetime import date

import requests

from trainer.sources.provider import DEFAULT_DEADLINE_SECONDS, LiveProvider, ProviderError

DEFAULT_BASE_URL = "https://stooq.com"
_CONNECT_TIMEOUT_SECONDS = 5.0
_TIMEOUT_SLACK_SECONDS = 2.0


def stooq_symbol(ticker: str) -> str:
    """Stooq spells US share classes with a dash: BRK.B -> brk-b.us."""
    return ticker.lower().replace(".", "-") + ".us"


class StooqSource(LiveProvider):
    name = "stooq"

    def __init__(
        self,
        base_url: str | None = None,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
        workers: int = 4,
    ) -> None:
        chosen = base_url or os.environ.get("STOOQ_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = chosen.rstrip("/")
        self.deadline_seconds = float(deadline_seconds)
        self.workers = workers

    def filename_for(self, ticker: str) -> str:
        return f"{stooq_symbol(ticker)}.csv"

    def download(self, ticker: str, start: date | None, end: date | None, budget: float) -> bytes:
        params = {"s": stooq_symbol(ticker), "i": "d"}
        if start is not None:
            params["d1"] = start.strftime("%Y%m%d")
        if end is not None:
            params["d2"] = end.strftime("%Y%m%d")
        response = requests.get(
            f"{self.base_url}/q/d/l/",
            params=params,
            # Past the budget, so the deadline (not the socket) ends a hung request and an
            # abandoned request still ends soon after.
            timeout=(min(_CONNECT_TIMEOUT_SECONDS, budget), budget + _TIMEOUT_SLACK_SECONDS),
            headers={"User-Agent": "ai-investment-agent/0.1 (daily prices)"},
        )
        if response.status_code != 200:
            raise ProviderError(f"HTTP {response.status_code} from {self.base_url}")
        body = response.content
        if body.strip().lower() in {b"no data", b"brak danych"}:
            raise ProviderError(f"no data for {ticker}")
        return body
