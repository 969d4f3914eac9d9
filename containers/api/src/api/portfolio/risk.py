"""Risk of a portfolio's current holdings, from the daily prices held in the database.

The maths are plain functions on arrays (tested on hand-computed cases);
:func:`risk_report` gathers the prices and applies them. Conventions:

- returns: daily simple returns of the adjusted close (the close where a source has no
  adjusted close), on the days every holding has a price;
- weights: the holdings' current market-value weights (cash excluded), held constant
  over the window — the risk of what is held today, not of the past trades;
- volatility: sample standard deviation of daily portfolio returns × √252;
- VaR and CVaR: historical, 1-day, 95%, as positive loss fractions: with ``n`` returns
  and ``k = ⌈5% × n⌉``, VaR is the k-th worst loss and CVaR the mean of the k worst;
- max drawdown: the largest fall from a running peak of the portfolio's value series
  (1 on the first day of the window), a positive fraction;
- beta: cov(portfolio, benchmark) / var(benchmark) over the days both have returns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from numpy.typing import ArrayLike
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.market.schemas import is_symbol
from api.portfolio.schemas import Benchmark, Concentration, Correlation, RiskReport
from api.portfolio.service import owned_portfolio, valuations
from quantcore.db.tables import daily_bars, tickers

TRADING_DAYS = 252
VAR_LEVEL = 0.95
# Fewer daily returns than this measure nothing worth showing.
MIN_OBSERVATIONS = 10

METHOD = {
    "returns": "daily simple returns of the adjusted close (the close where none is held), "
    "on the days every holding has a price",
    "weights": "current market-value weights of the holdings, cash excluded, held constant "
    "over the window",
    "volatility": "sample standard deviation of daily portfolio returns × √252",
    "var": "historical 1-day VaR at 95% as a positive loss fraction: the k-th worst daily "
    "loss, k = ⌈5% × observations⌉",
    "cvar": "mean of the k worst daily losses (positive loss fraction)",
    "max_drawdown": "largest fall from a running peak of the portfolio's value series "
    "(1 at the start of the window), a positive fraction",
    "beta": "cov(portfolio, benchmark) / var(benchmark) over the days both have returns",
    "concentration": "Herfindahl index Σ weight² of the current weights",
}


# --- the maths -------------------------------------------------------------------------------


def annualised_volatility(returns: ArrayLike) -> float | None:
    values = np.asarray(returns, dtype=float)
    if values.size < 2:
        return None
    return float(np.std(values, ddof=1) * math.sqrt(TRADING_DAYS))


def beta(asset: ArrayLike, benchmark: ArrayLike) -> float | None:
    """Slope of ``asset`` on ``benchmark`` (same days); None when the benchmark is flat."""
    a = np.asarray(asset, dtype=float)
    b = np.asarray(benchmark, dtype=float)
    if a.size != b.size:
        raise ValueError("asset and benchmark returns must cover the same days")
    if a.size < 2:
        return None
    variance = float(np.var(b, ddof=1))
    if variance <= 0:
        return None
    return float(np.cov(a, b, ddof=1)[0, 1] / variance)


@dataclass(frozen=True)
class Drawdown:
    depth: float  # a positive fraction: 0.25 is a fall of 25% from the peak
    peak: int  # positions in the value series
    trough: int


def max_drawdown(values: ArrayLike) -> Drawdown | None:
    series = np.asarray(values, dtype=float)
    if series.size == 0:
        return None
    running_peak = np.maximum.accumulate(series)
    falls = 1.0 - series / running_peak
    trough = int(np.argmax(falls))
    peak = int(np.argmax(series[: trough + 1]))
    return Drawdown(depth=float(falls[trough]), peak=peak, trough=trough)


def historical_var_cvar(returns: ArrayLike, level: float = VAR_LEVEL) -> tuple[float, float]:
    """1-period historical VaR and CVaR at ``level``, as positive loss fractions."""
    values = np.asarray(returns, dtype=float)
    if values.size == 0:
        raise ValueError("no returns")
    losses = np.sort(-values)[::-1]  # worst first
    # round() keeps 0.05 × 20 from becoming 1.0000000000000002 and ceil-ing to 2.
    tail = max(1, math.ceil(round((1.0 - level) * values.size, 9)))
    return float(losses[tail - 1]), float(losses[:tail].mean())


def herfindahl(weights: Sequence[float]) -> float:
    return float(sum(w * w for w in weights))


def correlation(returns: pd.DataFrame) -> Correlation:
    matrix = returns.corr().to_numpy()
    return Correlation(
        tickers=[str(c) for c in returns.columns],
        matrix=[[_finite(v) for v in row] for row in matrix],
    )


# --- the report ------------------------------------------------------------------------------


def risk_report(
    session: Session,
    user_id: int,
    portfolio_id: int,
    benchmark: str | None = None,
    window_days: int = 252,
) -> RiskReport:
    """Risk of the portfolio's current holdings over the last ``window_days`` returns.

    ``benchmark``: a ticker; by default the configured ``BENCHMARK_TICKER``, else an
    equal-weight index of every ticker in the database. An empty portfolio, or holdings
    whose prices do not overlap, answers with null figures and an explanation.
    """
    if not 2 <= window_days <= 10 * TRADING_DAYS:
        raise ApiError(422, "validation_error", f"window: 2 to {10 * TRADING_DAYS} days", "window")
    portfolio = owned_portfolio(session, user_id, portfolio_id)
    chosen = _resolve_benchmark(session, benchmark)
    valuation = valuations(session, [portfolio.id])[portfolio.id]
    values = {
        p.ticker: value
        for p in valuation.open_positions
        if (value := valuation.market_value(p)) is not None and value > 0
    }
    total = sum(values.values())
    weights = {ticker: value / total for ticker, value in values.items()} if total > 0 else {}
    report = RiskReport(
        portfolio_id=portfolio.id,
        as_of=valuation.as_of,
        window_start=None,
        window_end=None,
        observations=0,
        weights={t: round(w, 8) for t, w in weights.items()},
        benchmark=chosen,
        volatility_annualised=None,
        beta=None,
        max_drawdown=None,
        max_drawdown_peak=None,
        max_drawdown_trough=None,
        var_95_1d=None,
        cvar_95_1d=None,
        correlation=None,
        concentration=None,
        method=METHOD,
        explanation=None,
    )
    if not weights:
        report.explanation = (
            "The portfolio holds no priced shares, so there are no returns to measure; "
            "record a buy to see its risk."
        )
        return report
    largest = max(weights, key=lambda t: weights[t])
    hhi = herfindahl(list(weights.values()))
    report.concentration = Concentration(
        herfindahl=round(hhi, 8),
        effective_holdings=round(1.0 / hhi, 6),
        largest_weight=round(weights[largest], 8),
        largest_ticker=largest,
    )

    # The latest window in which every holding has prices.
    common_end = min(valuation.closes[t].as_of for t in weights)
    prices = _adjusted_closes(session, list(weights), common_end, window_days)
    returns = prices.pct_change().iloc[1:]
    if len(returns) < MIN_OBSERVATIONS:
        report.observations = len(returns)
        report.explanation = (
            f"The holdings share {len(returns)} days of returns up to {common_end} "
            f"(at least {MIN_OBSERVATIONS} are needed): their price histories barely overlap."
        )
        return report

    w = np.array([weights[t] for t in returns.columns])
    portfolio_returns = pd.Series(returns.to_numpy() @ w, index=returns.index)
    wealth = np.concatenate([[1.0], np.cumprod(1.0 + portfolio_returns.to_numpy())])
    days = [prices.index[0], *returns.index]
    drawdown = max_drawdown(wealth)
    var, cvar = historical_var_cvar(portfolio_returns.to_numpy())

    report.window_start = prices.index[0]
    report.window_end = prices.index[-1]
    report.observations = len(returns)
    report.volatility_annualised = _rounded(annualised_volatility(portfolio_returns))
    report.var_95_1d = _rounded(var)
    report.cvar_95_1d = _rounded(cvar)
    if drawdown is not None:
        report.max_drawdown = _rounded(drawdown.depth)
        if drawdown.depth > 0:
            report.max_drawdown_peak = days[drawdown.peak]
            report.max_drawdown_trough = days[drawdown.trough]
    report.correlation = correlation(returns)

    benchmark_returns = _benchmark_returns(session, chosen, prices.index[0], prices.index[-1])
    both = pd.concat(
        [portfolio_returns.rename("portfolio"), benchmark_returns.rename("benchmark")],
        axis=1,
        join="inner",
    ).dropna()
    if len(both) >= MIN_OBSERVATIONS:
        report.beta = _rounded(beta(both["portfolio"], both["benchmark"]))
    else:
        report.explanation = (
            f"Beta is null: the benchmark has returns on only {len(both)} of the window's days."
        )
    return report


def _default_benchmark() -> str | None:
    from flask import current_app, has_app_context

    if not has_app_context():
        return None
    configured: str | None = current_app.config["SETTINGS"].benchmark_ticker
    return configured


def _resolve_benchmark(session: Session, requested: str | None) -> Benchmark:
    symbol = requested.strip().upper() if requested else None
    if symbol:
        if not is_symbol(symbol) or not _ticker_exists(session, symbol):
            raise ApiError(
                422, "unknown_ticker", f"benchmark: no prices are held for {symbol!r}", "benchmark"
            )
        return Benchmark(kind="ticker", ticker=symbol, description=f"{symbol} (requested)")
    configured = _default_benchmark()
    if (
        configured
        and is_symbol(configured.strip().upper())
        and _ticker_exists(session, configured.strip().upper())
    ):
        symbol = configured.strip().upper()
        return Benchmark(
            kind="ticker", ticker=symbol, description=f"{symbol} (the configured benchmark)"
        )
    note = f" (the configured benchmark {configured!r} has no prices)" if configured else ""
    return Benchmark(
        kind="equal_weight_index",
        ticker=None,
        description="Equal-weight index: each day, the mean daily return of every ticker "
        "in the database" + note,
    )


def _ticker_exists(session: Session, symbol: str) -> bool:
    return session.scalar(sa.select(tickers.c.symbol).where(tickers.c.symbol == symbol)) is not None


_PRICE = sa.func.coalesce(daily_bars.c.adj_close, daily_bars.c.close)


def _adjusted_closes(
    session: Session, symbols: list[str], end: date, window_days: int
) -> pd.DataFrame:
    """Dates × tickers of adjusted closes: the last ``window_days + 1`` days all share."""
    # Calendar days enough for window_days + 1 trading days, holidays included.
    start = end - timedelta(days=int((window_days + 1) * 1.5) + 14)
    rows = session.execute(
        sa.select(daily_bars.c.date, daily_bars.c.ticker, _PRICE.label("price")).where(
            daily_bars.c.ticker.in_(symbols),
            daily_bars.c.date >= start,
            daily_bars.c.date <= end,
        )
    ).all()
    frame = pd.DataFrame.from_records(
        [tuple(row) for row in rows], columns=["date", "ticker", "price"]
    )
    table = frame.pivot(index="date", columns="ticker", values="price")
    table = table.reindex(columns=sorted(symbols)).dropna(how="any").sort_index()
    return table.iloc[-(window_days + 1) :]


def _benchmark_returns(session: Session, chosen: Benchmark, start: date, end: date) -> pd.Series:
    if chosen.kind == "ticker":
        rows = session.execute(
            sa.select(daily_bars.c.date, _PRICE)
            .where(
                daily_bars.c.ticker == chosen.ticker,
                daily_bars.c.date >= start,
                daily_bars.c.date <= end,
            )
            .order_by(daily_bars.c.date)
        ).all()
        series = pd.Series([float(p) for _, p in rows], index=[d for d, _ in rows], dtype=float)
        return series.pct_change().iloc[1:]
    rows = session.execute(_EQUAL_WEIGHT_INDEX, {"start": start, "end": end}).all()
    index = pd.Series([float(r) for _, r in rows], index=[d for d, _ in rows], dtype=float)
    return index.sort_index()


# Each day, the mean daily return of every ticker with prices that day and the day before.
# Computed inside the database, one ticker at a time along its primary-key index (already
# in date order), skipping tickers whose history misses the window altogether.
_EQUAL_WEIGHT_INDEX = sa.text(
    """
    SELECT r.date, avg(r.daily_return)
    FROM tickers AS t
    CROSS JOIN LATERAL (
        SELECT b.date,
               coalesce(b.adj_close, b.close)
                 / lag(coalesce(b.adj_close, b.close)) OVER (ORDER BY b.date) - 1
                 AS daily_return
        FROM daily_bars AS b
        WHERE b.ticker = t.symbol AND b.date >= :start AND b.date <= :end
    ) AS r
    WHERE t.first_date <= :end AND t.last_date >= :start AND r.daily_return IS NOT NULL
    GROUP BY r.date
    """
)


def _finite(value: float) -> float | None:
    return round(float(value), 8) if math.isfinite(value) else None


def _rounded(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 8)
