"""IC, classification metrics and the after-cost backtest measure what they claim."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trainer.modeling.backtest import rebalance_dates, run_backtest
from trainer.modeling.metrics import classification_metrics, daily_ic, ic_summary


def cross_section(n_days: int = 40, n_tickers: int = 20, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2010-01-04", periods=n_days)
    frame = pd.DataFrame(
        {
            "date": np.repeat(dates, n_tickers),
            "ticker": np.tile([f"T{i:02d}" for i in range(n_tickers)], n_days),
            "fwd_return": rng.normal(0.0, 0.03, n_days * n_tickers),
        }
    )
    frame["up"] = (frame["fwd_return"] > 0).astype(float)
    frame["noise"] = rng.normal(size=len(frame))
    return frame


def test_a_perfect_signal_has_ic_one_and_noise_has_ic_near_zero() -> None:
    frame = cross_section()
    frame["perfect"] = frame["fwd_return"] * 3 + 1
    ic, rank_ic = daily_ic(frame, "perfect")
    assert len(ic) == 40
    np.testing.assert_allclose(ic, 1.0)
    np.testing.assert_allclose(rank_ic, 1.0)
    summary = ic_summary(frame, "noise")
    assert abs(summary["ic_mean"]) < 0.1
    assert summary["n_ic_days"] == 40


def test_days_with_fewer_than_five_tickers_are_left_out_of_the_ic() -> None:
    frame = cross_section(n_days=3, n_tickers=4)
    assert ic_summary(frame, "noise")["ic_mean"] is None


def test_classification_metrics_against_the_majority_rate() -> None:
    up = np.array([1, 1, 1, 0])
    always_up = classification_metrics(up, np.full(4, 0.9))
    assert always_up["accuracy"] == 0.75 and always_up["majority_rate"] == 0.75
    assert always_up["mcc"] == 0.0
    perfect = classification_metrics(up, np.array([0.8, 0.7, 0.6, 0.2]))
    assert perfect["accuracy"] == 1.0 and perfect["mcc"] == pytest.approx(1.0)
    assert perfect["brier"] == pytest.approx((0.04 + 0.09 + 0.16 + 0.04) / 4)


def test_backtest_periods_do_not_overlap_and_costs_are_charged_on_turnover() -> None:
    frame = cross_section(n_days=60)
    frame["perfect"] = frame["fwd_return"]
    dates = rebalance_dates(frame, horizon_days=5, min_tickers=10)
    positions = pd.DatetimeIndex(sorted(frame["date"].unique())).get_indexer(
        pd.DatetimeIndex(dates)
    )
    assert np.all(np.diff(positions) >= 5) and len(dates) == 12

    free = run_backtest(frame, signals={"model": "perfect"}, horizon_days=5, cost_bps=0.0)
    costly = run_backtest(frame, signals={"model": "perfect"}, horizon_days=5, cost_bps=50.0)
    assert free["long_short"]["total_return"] > 0.5  # perfect foresight is very profitable
    assert costly["long_short"]["total_return"] < free["long_short"]["total_return"]
    assert free["long_short"]["periods"] == 12
    assert free["long_short"]["mean_turnover"] <= 4.0
    curve = free["long_only"]["equity_curve"]
    assert curve[0][1] == 1.0 and len(curve) == 13
    assert free["buy_and_hold"]["mean_turnover"] == pytest.approx(1.0 / 12)


def test_thin_days_are_not_traded() -> None:
    frame = cross_section(n_days=20, n_tickers=6)
    section = run_backtest(frame, signals={"model": "noise"}, horizon_days=5, min_tickers=10)
    assert section["long_only"]["periods"] == 0
    assert section["long_only"]["total_return"] is None
