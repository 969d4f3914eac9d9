"""``/api/tickers``, ``/api/prices/<ticker>`` and ``/api/watchlist``."""

from __future__ import annotations

from flask import Blueprint

from api import db
from api.auth import current_user_id
from api.market import service
from api.market.schemas import (
    PriceHistory,
    PriceRange,
    TickerInfo,
    TickerSearch,
    Watchlist,
    WatchlistUpdate,
)
from api.openapi import operation

bp = Blueprint("market", __name__, url_prefix="/api")


@operation(
    bp,
    "/tickers",
    summary="Search tickers by symbol (prefix matches first, then contains)",
    query=TickerSearch,
    response=list[TickerInfo],
)
def search_tickers(query: TickerSearch) -> list[dict[str, object]]:
    found = service.search_tickers(db.session(), query.q, query.limit)
    return [ticker.model_dump(mode="json") for ticker in found]


@operation(
    bp,
    "/prices/<ticker>",
    summary="Daily OHLCV bars of a ticker (default: the last year held)",
    query=PriceRange,
    response=PriceHistory,
    errors={400: "start after end, or more than 20 years", 404: "Unknown ticker"},
)
def get_prices(ticker: str, query: PriceRange) -> PriceHistory:
    return service.price_history(db.session(), ticker, query.start, query.end)


@operation(bp, "/watchlist", summary="The signed-in user's watchlist", response=Watchlist)
def get_watchlist() -> Watchlist:
    return service.get_watchlist(db.session(), current_user_id())


@operation(
    bp,
    "/watchlist",
    "PUT",
    summary="Replace the watchlist (at most 50 tickers; duplicates dropped, order kept)",
    body=WatchlistUpdate,
    response=Watchlist,
    errors={422: "Invalid input or unknown ticker"},
)
def put_watchlist(body: WatchlistUpdate) -> Watchlist:
    return service.set_watchlist(db.session(), current_user_id(), body.tickers)
