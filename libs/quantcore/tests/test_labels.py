"""The label uses exactly the future it names, and nothing past the end of the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantcore.features import forward_returns


def bars_for(closes: dict[str, list[float]]) -> pd.DataFrame:
    frames = []
    for ticker, values in closes.items():
        dates = pd.bdate_range("2021-03-01", periods=len(values))
        frames.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "ticker": ticker,
                    "open": values,
                    "high": values,
                    "low": values,
                    "close": values,
                    "volume": 1_000.0,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("horizon", [1, 3, 5])
def test_forward_return_is_the_h_step_future_and_the_tail_is_unlabelled(horizon: int) -> None:
    closes = [10.0, 11.0, 9.0, 12.0, 12.0, 15.0, 14.0, 16.0]
    labels = forward_returns(bars_for({"A": closes}), horizon_days=horizon)
    expected = [closes[t + horizon] / closes[t] - 1 for t in range(len(closes) - horizon)]
    np.testing.assert_allclose(labels["fwd_return"].iloc[: len(expected)], expected)
    assert labels["fwd_return"].iloc[-horizon:].isna().all()
    assert labels["up"].iloc[-horizon:].isna().all()
    np.testing.assert_array_equal(
        labels["up"].iloc[: len(expected)], (np.array(expected) > 0).astype(float)
    )


def test_a_flat_move_is_not_up_and_tickers_do_not_borrow_each_others_future() -> None:
    bars = bars_for({"B": [5.0, 5.0, 6.0], "A": [1.0, 2.0, 3.0, 4.0]})
    labels = forward_returns(bars.sample(frac=1.0, random_state=1), horizon_days=1)
    assert list(labels["ticker"]) == ["A"] * 4 + ["B"] * 3
    b = labels[labels["ticker"] == "B"]
    assert b["up"].tolist()[:2] == [0.0, 1.0]  # 5 -> 5 is not an up move
    assert np.isnan(b["fwd_return"].iloc[-1])  # A's later rows are not B's future
    a = labels[labels["ticker"] == "A"]
    np.testing.assert_allclose(a["fwd_return"].iloc[:3], [1.0, 0.5, 1 / 3])


def test_horizon_must_be_positive() -> None:
    with pytest.raises(ValueError, match="horizon"):
        forward_returns(bars_for({"A": [1.0, 2.0]}), horizon_days=0)
