"""Walk-forward folds never let a training label reach into its test window."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.modeling.splits import walk_forward_splits


@settings(max_examples=60, deadline=None)
@given(
    n_days=st.integers(80, 400),
    n_folds=st.integers(1, 6),
    horizon=st.integers(1, 10),
    extra_gap=st.integers(0, 5),
    crowded_from=st.floats(0.0, 0.9),
)
def test_folds_are_purged_disjoint_expanding_and_ordered(
    n_days: int, n_folds: int, horizon: int, extra_gap: int, crowded_from: float
) -> None:
    calendar = pd.bdate_range("2001-01-01", periods=n_days)
    # few tickers early, many later: the shape of the bundled sample
    per_day = np.where(np.arange(n_days) >= crowded_from * n_days, 20, 2)
    dates = pd.Series(np.repeat(calendar, per_day))
    folds = walk_forward_splits(
        dates,
        n_folds=n_folds,
        horizon_days=horizon,
        gap_days=horizon + extra_gap,
        min_train_days=30,
    )
    assert 1 <= len(folds) <= n_folds
    position = {date: i for i, date in enumerate(calendar)}
    for fold in folds:
        train = set(dates[fold.train_mask(dates)])
        test = set(dates[fold.test_mask(dates)])
        assert train and test and not train & test
        assert fold.train_start == calendar[0]  # expanding window
        # the last training label ends (horizon days later) before the test window starts
        assert position[fold.test_start] - position[fold.train_end] > horizon + extra_gap
        assert max(train) < min(test)
    for earlier, later in itertools.pairwise(folds):
        assert earlier.test_end < later.test_start
        assert earlier.train_end < later.train_end
    assert folds[-1].test_end == calendar[-1]


def test_test_windows_hold_similar_row_counts_when_history_is_lopsided() -> None:
    calendar = pd.bdate_range("1998-01-01", periods=3000)
    per_day = np.where(np.arange(3000) >= 2700, 300, 2)  # 2 long histories, then 300 names
    dates = pd.Series(np.repeat(calendar, per_day))
    folds = walk_forward_splits(
        dates, n_folds=4, horizon_days=5, min_train_days=60, min_train_fraction=0.4
    )
    counts = [int(fold.test_mask(dates).sum()) for fold in folds]
    assert len(folds) == 4
    assert max(counts) < 1.5 * min(counts)
    assert folds[0].test_start > calendar[2700]  # testing where the cross-section lives


def test_a_gap_shorter_than_the_horizon_is_refused() -> None:
    dates = pd.Series(pd.bdate_range("2001-01-01", periods=200))
    with pytest.raises(ValueError, match="shorter than the label horizon"):
        walk_forward_splits(dates, n_folds=2, horizon_days=5, gap_days=3, min_train_days=20)
    with pytest.raises(ValueError, match="cannot hold"):
        walk_forward_splits(dates, n_folds=2, horizon_days=5, min_train_days=250)
