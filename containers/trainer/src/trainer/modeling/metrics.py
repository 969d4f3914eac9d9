"""Out-of-sample metrics for the model card.

IC is the daily cross-sectional Pearson correlation between a score and the forward return,
on days with at least ``MIN_IC_TICKERS`` tickers; rank IC is the same with ranks (Spearman).
ICIR is mean / standard deviation of the daily IC, NOT annualised.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

MIN_IC_TICKERS = 5
_EPS = 1e-6


def finite_or_none(value: Any) -> float | None:
    """A float for the card, or None where the number does not exist (strict JSON)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def clean_numbers(value: Any) -> Any:
    """Recursively turn NaN/inf floats (and numpy scalars) into JSON-safe values."""
    if isinstance(value, dict):
        return {str(k): clean_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_numbers(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return finite_or_none(value)
    return value


def classification_metrics(up: np.ndarray, prob_up: np.ndarray) -> dict[str, float | None]:
    """Accuracy against the majority-class rate, MCC, Brier score and log-loss."""
    y = np.asarray(up, dtype=float)
    p = np.clip(np.asarray(prob_up, dtype=float), _EPS, 1.0 - _EPS)
    n = len(y)
    if n == 0:
        return {
            "accuracy": None,
            "majority_rate": None,
            "mcc": None,
            "brier": None,
            "log_loss": None,
            "up_rate": None,
        }
    call = (p > 0.5).astype(float)
    up_rate = float(y.mean())
    tp = float(np.sum((call == 1) & (y == 1)))
    tn = float(np.sum((call == 0) & (y == 0)))
    fp = float(np.sum((call == 1) & (y == 0)))
    fn = float(np.sum((call == 0) & (y == 1)))
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    mcc = (tp * tn - fp * fn) / denominator if denominator > 0 else 0.0
    log_loss = -float(np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))
    return {
        "accuracy": float(np.mean(call == y)),
        "majority_rate": max(up_rate, 1.0 - up_rate),
        "mcc": mcc,
        "brier": float(np.mean((p - y) ** 2)),
        "log_loss": log_loss,
        "up_rate": up_rate,
    }


def _daily_correlation(dates: pd.Series, x: pd.Series, y: pd.Series) -> pd.Series:
    frame = pd.DataFrame({"date": dates.to_numpy(), "x": x.to_numpy(), "y": y.to_numpy()})
    frame = frame.dropna()
    grouped = frame.groupby("date", sort=True)
    size = grouped["x"].transform("size")
    frame = frame[size >= MIN_IC_TICKERS]
    if frame.empty:
        return pd.Series(dtype=float)
    grouped = frame.groupby("date", sort=True)
    dx = frame["x"] - grouped["x"].transform("mean")
    dy = frame["y"] - grouped["y"].transform("mean")
    parts = pd.DataFrame({"date": frame["date"], "xy": dx * dy, "xx": dx * dx, "yy": dy * dy})
    sums = parts.groupby("date", sort=True)[["xy", "xx", "yy"]].sum()
    denominator = np.sqrt(sums["xx"] * sums["yy"])
    daily: pd.Series = (sums["xy"] / denominator).where(denominator > 0)
    return daily.dropna()


def daily_ic(
    frame: pd.DataFrame, score: str, target: str = "fwd_return"
) -> tuple[pd.Series, pd.Series]:
    """Daily Pearson IC and daily rank IC of ``frame[score]`` against ``frame[target]``."""
    ic = _daily_correlation(frame["date"], frame[score], frame[target])
    valid = frame[["date", score, target]].dropna()
    by_date = valid.groupby("date", sort=True)
    ranked_score = by_date[score].rank(method="average")
    ranked_target = by_date[target].rank(method="average")
    rank_ic = _daily_correlation(valid["date"], ranked_score, ranked_target)
    return ic, rank_ic


def ic_summary(frame: pd.DataFrame, score: str, target: str = "fwd_return") -> dict[str, Any]:
    ic, rank_ic = daily_ic(frame, score, target)

    def ratio(series: pd.Series) -> float | None:
        if len(series) < 2:
            return None
        spread = float(series.std(ddof=1))
        return float(series.mean()) / spread if spread > 0 else None

    return {
        "ic_mean": float(ic.mean()) if len(ic) else None,
        "ic_ir": ratio(ic),
        "rank_ic_mean": float(rank_ic.mean()) if len(rank_ic) else None,
        "rank_ic_ir": ratio(rank_ic),
        "n_ic_days": len(ic),
    }


def prediction_metrics(
    frame: pd.DataFrame, prob: str = "prob_up", score: str | None = None
) -> dict[str, Any]:
    """Card metrics of predictions in ``frame`` (columns date, up, fwd_return, ``prob``).

    IC is measured on ``score`` (default: the probability itself).
    """
    metrics: dict[str, Any] = classification_metrics(frame["up"].to_numpy(), frame[prob].to_numpy())
    metrics.update(ic_summary(frame, score or prob))
    metrics["n_test_rows"] = len(frame)
    metrics["n_test_days"] = int(frame["date"].nunique())
    return metrics


def signal_metrics(frame: pd.DataFrame, signal: str) -> dict[str, Any]:
    """Metrics of a plain signal (a baseline), scored like the model.

    The label is market-relative, so the signal's call is "up" when it is above that day's
    cross-sectional median. Brier score and log-loss do not apply to a signal that is not
    a probability.
    """
    valid = frame.dropna(subset=[signal])
    median = valid.groupby("date")[signal].transform("median")
    call_as_probability = np.where(valid[signal].to_numpy() > median.to_numpy(), 1.0, 0.0)
    metrics: dict[str, Any] = classification_metrics(valid["up"].to_numpy(), call_as_probability)
    metrics["brier"] = None
    metrics["log_loss"] = None
    metrics.update(ic_summary(valid, signal))
    metrics["n_test_rows"] = len(valid)
    metrics["n_test_days"] = int(valid["date"].nunique())
    return metrics
