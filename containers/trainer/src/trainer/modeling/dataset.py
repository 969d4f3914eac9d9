"""The feature table the trainer learns from: features, label and close, one row per bar."""

from __future__ import annotations

import pandas as pd

from quantcore.features import (
    FEATURE_NAMES,
    MIN_HISTORY_BARS,
    compute_features,
    equal_weight_market,
    forward_returns,
)

TABLE_COLUMNS: list[str] = [
    "date",
    "ticker",
    *FEATURE_NAMES,
    "fwd_return",
    "fwd_excess",
    "up",
    "close",
]

# A date's label needs a real cross-section: with a handful of tickers the "market" is a
# few names and beating it says little. A small panel (a user's own CSV of a dozen names)
# needs half its tickers on the date, and never fewer than MIN_SMALL_CROSS_SECTION.
MIN_CROSS_SECTION = 20
MIN_SMALL_CROSS_SECTION = 5


def required_cross_section(n_tickers: int) -> int:
    return max(MIN_SMALL_CROSS_SECTION, min(MIN_CROSS_SECTION, n_tickers // 2))


LABEL_DEFINITION = (
    "up = the ticker's forward return over the horizon is above the median forward return "
    "of the tickers labelled that day (dates with at least "
    f"{MIN_CROSS_SECTION} tickers, or half of a smaller panel's); "
    "fwd_excess = forward return minus that day's equal-weight mean"
)


def build_feature_table(bars: pd.DataFrame, horizon_days: int = 5) -> pd.DataFrame:
    """``date, ticker, *FEATURE_NAMES, fwd_return, fwd_excess, up, close`` per labelled bar.

    The label is market-relative: ``up`` says whether the ticker's forward return beats the
    equal-weight market's over the same horizon. The absolute direction of a 5-day return
    is dominated by the market's own move — in the bundled sample the up-rate of the
    out-of-sample windows swings between 36% and 68% — which no per-ticker feature can
    foresee, so a classifier of it can only guess the regime. What features can rank is
    how a ticker does against the others, which is also what the daily IC measures.

    Kept: rows whose label is complete (the last ``horizon_days`` bars of each ticker have
    no label and are never trained on) and whose ticker has at least ``MIN_HISTORY_BARS``
    bars of history at that date — earlier rows would be mostly imputed values, and the
    model server refuses to answer for them anyway. Feature NaNs may remain (the model
    pipelines impute). The market is the equal-weight mean return of ``bars``.
    """
    ordered = bars.sort_values(["ticker", "date"], kind="mergesort").reset_index(drop=True)
    features = compute_features(ordered, equal_weight_market(ordered))
    labels = forward_returns(ordered, horizon_days)
    table = features.copy()
    table["fwd_return"] = labels["fwd_return"].to_numpy()
    table["up"] = labels["up"].to_numpy()
    table["close"] = ordered["close"].astype(float).to_numpy()
    history = ordered.groupby("ticker", sort=False).cumcount().to_numpy() + 1
    keep = table["fwd_return"].notna().to_numpy() & (history >= MIN_HISTORY_BARS)
    table = table.loc[keep].reset_index(drop=True)
    by_date = table.groupby("date")["fwd_return"]
    width = by_date.transform("size")
    table["fwd_excess"] = table["fwd_return"] - by_date.transform("mean")
    # Above the day's median, not its mean: returns are skewed, and the median splits each
    # day's cross-section in half, so "up" is a ranking call with a 50% base rate.
    table["up"] = (table["fwd_return"] > by_date.transform("median")).astype(float)
    table = table[width >= required_cross_section(int(ordered["ticker"].nunique()))]
    return table.loc[:, TABLE_COLUMNS].reset_index(drop=True)
