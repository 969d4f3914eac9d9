"""Market data and the watchlist as plain functions over a SQLAlchemy session.

Prices come from the ``tickers`` and ``daily_bars`` tables the trainer fills; each ticker
has exactly one source, and every price answered carries the date it is from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from api.errors import ApiError, BadRequestError, NotFoundError
from api.market.schemas import (
    MAX_WATCHLIST,
    PriceBar,
    PriceHistory,
    Quote,
    TickerInfo,
    Watchlist,
    is_symbol,
    normalise_symbol,
)
from api.market.tables import WatchlistItem
from quantcore.db.tables import daily_bars
from quantcore.db.tables import tickers as ticker_table

DEFAULT_HISTORY = timedelta(days=365)
# Twenty years of daily bars is ~5,000 rows; more than that is a mistake, not a chart.
MAX_HISTORY_YEARS = 20


def search_tickers(session: Session, q: str, limit: int = 20) -> list[TickerInfo]:
    """Tickers whose symbol starts with ``q`` first, then those that contain it."""
    needle = q.strip().upper()
    limit = max(1, min(limit, 100))
    if needle and not is_symbol(needle):
        return []
    stmt = sa.select(
        ticker_table.c.symbol,
        ticker_table.c.source,
        ticker_table.c.first_date,
        ticker_table.c.last_date,
        ticker_table.c.bars,
    )
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        starts = ticker_table.c.symbol.like(f"{escaped}%", escape="\\")
        stmt = stmt.where(ticker_table.c.symbol.like(f"%{escaped}%", escape="\\")).order_by(
            (ticker_table.c.symbol == needle).desc(), starts.desc(), ticker_table.c.symbol
        )
    else:
        stmt = stmt.order_by(ticker_table.c.symbol)
    rows = session.execute(stmt.limit(limit)).all()
    return [TickerInfo.model_validate(row._asdict()) for row in rows]


def ticker_info(session: Session, ticker: str, field: str | None = None) -> TickerInfo:
    """The ticker's row; 404 naming ``field`` when it is not in the database."""
    symbol = ticker.strip().upper()
    if not is_symbol(symbol):
        raise NotFoundError(f"no prices are held for ticker {ticker[:24]!r}", field=field)
    row = session.execute(
        sa.select(
            ticker_table.c.symbol,
            ticker_table.c.source,
            ticker_table.c.first_date,
            ticker_table.c.last_date,
            ticker_table.c.bars,
        ).where(ticker_table.c.symbol == symbol)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no prices are held for ticker {symbol or ticker!r}", field=field)
    return TickerInfo.model_validate(row._asdict())


def price_history(
    session: Session, ticker: str, start: date | None, end: date | None
) -> PriceHistory:
    """Daily bars of ``ticker`` from ``start`` to ``end`` (both included).

    Default: the year up to the last bar held. A range that starts after it ends, or spans
    more than twenty years, is a 400 naming the field.
    """
    info = ticker_info(session, ticker, field="ticker")
    as_of = info.last_date
    if end is None:
        end = as_of if start is None or start <= as_of else start
    if start is None:
        start = end - DEFAULT_HISTORY
    if start > end:
        raise BadRequestError(f"start ({start}) is after end ({end})", field="start")
    if start < _years_before(end, MAX_HISTORY_YEARS):
        raise BadRequestError(
            f"ask for at most {MAX_HISTORY_YEARS} years of daily bars at once", field="start"
        )
    rows = session.execute(
        sa.select(
            daily_bars.c.date,
            daily_bars.c.open,
            daily_bars.c.high,
            daily_bars.c.low,
            daily_bars.c.close,
            daily_bars.c.adj_close,
            daily_bars.c.volume,
        )
        .where(
            daily_bars.c.ticker == info.symbol,
            daily_bars.c.date >= start,
            daily_bars.c.date <= end,
        )
        .order_by(daily_bars.c.date)
    ).all()
    return PriceHistory(
        ticker=info.symbol,
        source=info.source,
        as_of=as_of,
        start=start,
        end=end,
        bars=[PriceBar.model_validate(row._asdict()) for row in rows],
    )


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class LastCloses:
    """A ticker's last close on or before a date, and the close before it."""

    ticker: str
    source: str
    as_of: date
    close: float
    previous_date: date | None
    previous_close: float | None

    def quote(self) -> Quote:
        change = change_pct = None
        if self.previous_close is not None:
            change = self.close - self.previous_close
            change_pct = change / self.previous_close if self.previous_close else None
        return Quote(
            ticker=self.ticker,
            source=self.source,
            close=self.close,
            previous_close=self.previous_close,
            change=change,
            change_pct=change_pct,
            as_of=self.as_of,
        )


_SYMBOLS = sa.bindparam("symbols", type_=ARRAY(sa.String))


def _last_two_closes() -> sa.Select[str, str, date, float]:
    # Built once: the symbols travel as ONE array parameter, so every call reuses the same
    # compiled statement (and PostgreSQL's prepared plan) whatever the number of tickers.
    held = (
        sa.select(ticker_table.c.symbol, ticker_table.c.source)
        .where(ticker_table.c.symbol == sa.func.any(_SYMBOLS))
        .subquery("held")
    )
    bars = (
        sa.select(daily_bars.c.date, daily_bars.c.close)
        .where(daily_bars.c.ticker == held.c.symbol)
        .order_by(daily_bars.c.date.desc())
        .limit(2)
        .lateral("bars")
    )
    return (
        sa.select(held.c.symbol, held.c.source, bars.c.date, bars.c.close)
        .select_from(held.join(bars, sa.true()))
        .order_by(held.c.symbol, bars.c.date.desc())
    )


_LAST_TWO_CLOSES = _last_two_closes()


def last_closes(session: Session, symbols: Iterable[str]) -> dict[str, LastCloses]:
    """The last two closes of each ticker, in ONE query (a lateral join walking the
    primary-key index backwards per ticker), however many tickers are asked for."""
    wanted = sorted(set(symbols))
    if not wanted:
        return {}
    rows = session.execute(_LAST_TWO_CLOSES, {"symbols": wanted}).all()
    found: dict[str, LastCloses] = {}
    for symbol, source, day, close in rows:
        latest = found.get(symbol)
        if latest is None:
            found[symbol] = LastCloses(symbol, source, day, float(close), None, None)
        elif latest.previous_date is None:
            found[symbol] = LastCloses(
                symbol, source, latest.as_of, latest.close, day, float(close)
            )
    return found


def latest_quote(session: Session, ticker: str) -> Quote:
    """The last close held for ``ticker`` and its change from the close before."""
    info = ticker_info(session, ticker, field="ticker")
    closes = last_closes(session, [info.symbol]).get(info.symbol)
    if closes is None:
        raise NotFoundError(f"no prices are held for ticker {info.symbol!r}", field="ticker")
    return closes.quote()


def get_watchlist(session: Session, user_id: int) -> Watchlist:
    symbols = list(
        session.scalars(
            sa.select(WatchlistItem.ticker)
            .where(WatchlistItem.user_id == user_id)
            .order_by(WatchlistItem.position)
        )
    )
    closes = last_closes(session, symbols)
    quotes = [closes[symbol].quote() for symbol in symbols if symbol in closes]
    return Watchlist(tickers=quotes, as_of=max((q.as_of for q in quotes), default=None))


def set_watchlist(session: Session, user_id: int, tickers: list[str]) -> Watchlist:
    """Replace the user's watchlist: duplicates dropped, order kept, every ticker must exist."""
    ordered: list[str] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(tickers):
        try:
            symbol = normalise_symbol(raw)
        except ValueError as exc:
            raise ApiError(422, "validation_error", str(exc), f"tickers.{index}") from None
        if symbol not in first_index:
            first_index[symbol] = index
            ordered.append(symbol)
    if len(ordered) > MAX_WATCHLIST:
        raise ApiError(
            422,
            "validation_error",
            f"a watchlist holds at most {MAX_WATCHLIST} tickers",
            "tickers",
        )
    known = set(
        session.scalars(sa.select(ticker_table.c.symbol).where(ticker_table.c.symbol.in_(ordered)))
    )
    for symbol in ordered:
        if symbol not in known:
            raise ApiError(
                422,
                "unknown_ticker",
                f"no prices are held for ticker {symbol!r}",
                f"tickers.{first_index[symbol]}",
            )
    session.execute(sa.delete(WatchlistItem).where(WatchlistItem.user_id == user_id))
    session.add_all(
        WatchlistItem(user_id=user_id, ticker=symbol, position=position)
        for position, symbol in enumerate(ordered)
    )
    session.commit()
    return get_watchlist(session, user_id)
