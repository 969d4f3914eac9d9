"""Walk-forward splits by date, with a purge gap between training and test.

A training row's label looks ``horizon_days`` bars ahead, so the last ``gap_days`` (at
least the horizon) trading dates before each test window are dropped from training: no
training label can reach into the test window. Windows expand: fold k trains on every date
from the start up to its purge gap.

Test windows are cut so that each holds about the same number of ROWS, not dates. The
bundled sample has a few tickers with 25 years of history and hundreds with one year; cut by
dates, the test windows would be decades with two tickers in them, where no cross-sectional
number (IC, quantile backtest) means anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold; all bounds inclusive."""

    index: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp

    def train_mask(self, dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
        values = pd.DatetimeIndex(dates)
        return np.asarray((values >= self.train_start) & (values <= self.train_end))

    def test_mask(self, dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
        values = pd.DatetimeIndex(dates)
        return np.asarray((values >= self.test_start) & (values <= self.test_end))


def walk_forward_splits(
    dates: Iterable[object] | pd.Series,
    *,
    n_folds: int,
    horizon_days: int,
    gap_days: int | None = None,
    min_train_days: int,
    min_train_fraction: float = 0.0,
) -> list[Fold]:
    """Expanding-window folds over ``dates``.

    ``dates`` is the date column of the table (one entry per row: repeated dates weight the
    cut so test windows hold similar row counts); unique dates work too. Trading days are
    the distinct dates present. The first test window starts after at least
    ``min_train_days`` trading days of training plus the gap, and after at least
    ``min_train_fraction`` of the rows. ``gap_days`` defaults to, and may not be below,
    ``horizon_days``.
    """
    if n_folds < 1:
        raise ValueError("n_folds must be at least 1")
    if horizon_days < 1:
        raise ValueError("horizon_days must be at least 1")
    gap = horizon_days if gap_days is None else gap_days
    if gap < horizon_days:
        raise ValueError(f"gap_days {gap} is shorter than the label horizon {horizon_days}")
    row_dates = pd.DatetimeIndex(pd.to_datetime(pd.Series(list(dates)))).dropna()
    if len(row_dates) == 0:
        raise ValueError("no dates to split")
    calendar, counts = np.unique(row_dates.to_numpy(), return_counts=True)
    cumulative = np.cumsum(counts)
    total = int(cumulative[-1])

    first_by_days = min_train_days + gap
    first_by_rows = int(np.searchsorted(cumulative, min_train_fraction * total, side="left")) + 1
    first_test = max(first_by_days, first_by_rows, gap + 1)
    if first_test >= len(calendar):
        raise ValueError(
            f"{len(calendar)} trading days cannot hold {min_train_days} training days, "
            f"a {gap}-day gap and a test window"
        )

    # cut the rows from the first test date on into n_folds parts of similar size
    rows_before = cumulative[first_test - 1]
    remaining = total - rows_before
    starts = [first_test]
    for k in range(1, n_folds):
        target = rows_before + remaining * k / n_folds
        start = int(np.searchsorted(cumulative, target, side="left")) + 1
        start = max(start, starts[-1] + 1)
        if start >= len(calendar):
            break
        starts.append(start)

    folds = []
    for i, start in enumerate(starts):
        end = starts[i + 1] - 1 if i + 1 < len(starts) else len(calendar) - 1
        train_end = start - gap - 1
        folds.append(
            Fold(
                index=i,
                train_start=pd.Timestamp(calendar[0]),
                train_end=pd.Timestamp(calendar[train_end]),
                test_start=pd.Timestamp(calendar[start]),
                test_end=pd.Timestamp(calendar[end]),
            )
        )
    return folds
