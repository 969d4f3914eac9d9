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

TABLE_COLUMNS: list[str] = ["date", "ticker", *FEATURE_NAMES, "fwd_return", "up", "close"]


def build_feature_table(bars: pd.DataFrame, horizon_days: int = 5) -> pd.DataFrame:
    """``date, ticker, *FEATURE_NAMES, fwd_return, up, close`` for every labelled bar.

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
    return table.loc[keep, TABLE_COLUMNS].reset_index(drop=True)
