"""A cross-sectional backtest of out-of-sample predictions, after transaction costs.

Method (also written into the card): a prediction is an ``h``-day forward view made every
day, so daily positions held for ``h`` days would overlap and double-count returns. Instead
the portfolio is rebalanced every ``h`` trading days and each period earns the realised
``h``-day forward return of what it holds: periods never overlap, and every return is the
one the label measured. Only dates with at least ``min_tickers`` tickers are traded (a
quantile of two stocks is not a portfolio); the long-only book holds the top ``quantile``
equally weighted, the long-short book is long the top and short the bottom quantile (gross
exposure 2). Costs are ``cost_bps`` per unit of one-way turnover, ``sum |w_new - w_old|``
(weights are not drifted between rebalances — a small simplification). All strategies,
baselines included, trade on the same rebalance dates.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

TRADING_DAYS_PER_YEAR = 252


def rebalance_dates(
    frame: pd.DataFrame,
    *,
    horizon_days: int,
    min_tickers: int,
    calendar: pd.DatetimeIndex | None = None,
) -> list[pd.Timestamp]:
    """Dates with enough tickers, at least ``horizon_days`` trading days apart."""
    calendar = _calendar(frame, calendar)
    counts = frame.groupby("date").size()
    eligible = counts.index[counts >= min_tickers]
    chosen: list[pd.Timestamp] = []
    last_position = -(10**9)
    for date in sorted(eligible):
        position = int(calendar.searchsorted(date))
        if position - last_position >= horizon_days:
            chosen.append(pd.Timestamp(date))
            last_position = position
    return chosen


def _calendar(frame: pd.DataFrame, calendar: pd.DatetimeIndex | None) -> pd.DatetimeIndex:
    dates = pd.DatetimeIndex(frame["date"].unique())
    if calendar is not None:
        dates = dates.union(pd.DatetimeIndex(calendar))
    return dates.sort_values()


def _weights(day: pd.DataFrame, score: str | None, quantile: float, side: str) -> pd.Series:
    """Target weights by ticker for one rebalance date."""
    if score is None:  # equal weight on everything
        return pd.Series(1.0 / len(day), index=day["ticker"].to_numpy())
    ranked = day.dropna(subset=[score]).sort_values([score, "ticker"], kind="mergesort")
    k = max(1, math.floor(len(ranked) * quantile))
    top = ranked["ticker"].to_numpy()[-k:]
    weights = pd.Series(1.0 / k, index=top)
    if side == "long_short":
        bottom = ranked["ticker"].to_numpy()[:k]
        weights = pd.concat([weights, pd.Series(-1.0 / k, index=bottom)])
    return weights


def strategy_statistics(period_returns: np.ndarray, horizon_days: int) -> dict[str, float | None]:
    """CAGR, Sharpe (annualised from h-day periods), max drawdown and total return."""
    returns = np.asarray(period_returns, dtype=float)
    if len(returns) == 0:
        return {"cagr": None, "sharpe": None, "max_drawdown": None, "total_return": None}
    equity = np.cumprod(1.0 + returns)
    total = float(equity[-1] - 1.0)
    years = len(returns) * horizon_days / TRADING_DAYS_PER_YEAR
    cagr = float(equity[-1] ** (1.0 / years) - 1.0) if equity[-1] > 0 else -1.0
    spread = float(returns.std(ddof=1)) if len(returns) > 1 else 0.0
    periods_per_year = TRADING_DAYS_PER_YEAR / horizon_days
    sharpe = float(returns.mean() / spread * math.sqrt(periods_per_year)) if spread > 0 else None
    path = np.concatenate([[1.0], equity])
    drawdown = float(np.min(path / np.maximum.accumulate(path) - 1.0))
    return {"cagr": cagr, "sharpe": sharpe, "max_drawdown": drawdown, "total_return": total}


def simulate(
    frame: pd.DataFrame,
    *,
    dates: list[pd.Timestamp],
    score: str | None,
    side: str,
    horizon_days: int,
    cost_bps: float,
    quantile: float,
    calendar: pd.DatetimeIndex,
) -> dict[str, Any]:
    """Trade ``score`` on ``dates``; ``side`` is "long_only" or "long_short"."""
    by_date = {date: day for date, day in frame.groupby("date", sort=True)}
    previous = pd.Series(dtype=float)
    returns: list[float] = []
    turnovers: list[float] = []
    curve: list[list[Any]] = []
    if dates:
        curve.append([dates[0].date().isoformat(), 1.0])
    equity = 1.0
    for date in dates:
        day = by_date[date]
        target = _weights(day, score, quantile, side)
        realised = day.set_index("ticker")["fwd_return"]
        gross = float((target * realised.reindex(target.index).fillna(0.0)).sum())
        union = target.index.union(previous.index)
        turnover = float(
            (target.reindex(union, fill_value=0.0) - previous.reindex(union, fill_value=0.0))
            .abs()
            .sum()
        )
        net = gross - turnover * cost_bps / 10_000.0
        returns.append(net)
        turnovers.append(turnover)
        previous = target
        equity *= 1.0 + net
        position = int(calendar.searchsorted(date))
        end = calendar[min(position + horizon_days, len(calendar) - 1)]
        curve.append([pd.Timestamp(end).date().isoformat(), round(equity, 6)])
    result: dict[str, Any] = dict(strategy_statistics(np.array(returns), horizon_days))
    result["periods"] = len(returns)
    result["mean_turnover"] = float(np.mean(turnovers)) if turnovers else None
    result["equity_curve"] = curve
    return result


def run_backtest(
    frame: pd.DataFrame,
    *,
    signals: dict[str, str],
    horizon_days: int,
    cost_bps: float = 10.0,
    quantile: float = 0.2,
    min_tickers: int = 10,
    calendar: pd.DatetimeIndex | None = None,
) -> dict[str, Any]:
    """Backtest section of the card.

    ``frame`` has columns date, ticker, fwd_return and one column per signal; ``signals``
    maps a strategy prefix to its column: the prefix "model" gives the card's
    ``long_only``/``long_short`` entries, any other prefix ``<prefix>_long_only`` and
    ``<prefix>_long_short``. ``buy_and_hold`` is the equal-weight book of every ticker.
    """
    full_calendar = _calendar(frame, calendar)
    dates = rebalance_dates(
        frame, horizon_days=horizon_days, min_tickers=min_tickers, calendar=full_calendar
    )
    section: dict[str, Any] = {
        "cost_bps": float(cost_bps),
        "quantile": quantile,
        "min_tickers": min_tickers,
        "rebalance_every_days": horizon_days,
        "method": (
            f"Rebalanced every {horizon_days} trading days on dates with at least "
            f"{min_tickers} tickers; each period earns the realised {horizon_days}-day "
            "forward return (no overlapping holding periods); costs of "
            f"{cost_bps:g} bps per unit of turnover."
        ),
    }
    for prefix, column in signals.items():
        for side in ("long_only", "long_short"):
            key = side if prefix == "model" else f"{prefix}_{side}"
            section[key] = simulate(
                frame,
                dates=dates,
                score=column,
                side=side,
                horizon_days=horizon_days,
                cost_bps=cost_bps,
                quantile=quantile,
                calendar=full_calendar,
            )
    section["buy_and_hold"] = simulate(
        frame,
        dates=dates,
        score=None,
        side="long_only",
        horizon_days=horizon_days,
        cost_bps=cost_bps,
        quantile=quantile,
        calendar=full_calendar,
    )
    return section
