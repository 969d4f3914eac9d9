"""The track record's maths: judging an outcome like the trainer's label, hit rate, Brier
score and daily IC; and the bars the API sends to the model server."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from api.predictions.service import bars_payload
from api.predictions.track_record import (
    MIN_CROSS_SECTION,
    MIN_SMALL_CROSS_SECTION,
    ScoredPrediction,
    daily_ic,
    judge,
    live_metrics,
    required_cross_section,
)
from quantcore.features import FEATURE_NAMES, compute_features

DAY = date(2010, 6, 30)


def test_the_cross_section_rule_is_the_trainers() -> None:
    from trainer.modeling import dataset

    assert MIN_CROSS_SECTION == dataset.MIN_CROSS_SECTION
    assert MIN_SMALL_CROSS_SECTION == dataset.MIN_SMALL_CROSS_SECTION
    for n in (0, 3, 9, 10, 11, 30, 39, 40, 41, 524):
        assert required_cross_section(n) == dataset.required_cross_section(n)


def test_judging_against_the_median_is_the_trainers_label() -> None:
    """The trainer's label on the same forward returns, row by row."""
    rng = np.random.default_rng(7)
    for width in (5, 6, 20, 31):
        returns = rng.normal(0, 0.03, width)
        frame = pd.DataFrame({"date": [DAY] * width, "fwd_return": returns})
        label = frame["fwd_return"] > frame.groupby("date")["fwd_return"].transform("median")
        for value, expected in zip(returns, label, strict=True):
            outcome = judge(float(value), returns.tolist(), min_width=5)
            assert outcome.outcome_up is bool(expected)
            assert outcome.basis == "cross_section"
            assert outcome.cross_section_size == width
            assert outcome.cross_section_median == pytest.approx(float(np.median(returns)))


def test_the_median_itself_does_not_beat_the_median() -> None:
    returns = [0.01, 0.02, 0.03, 0.04, 0.05]
    assert judge(0.03, returns, 5).outcome_up is False
    assert judge(0.0301, returns, 5).outcome_up is True
    # An even count: the midpoint of the two middle returns.
    even = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06]
    assert judge(0.035, even, 5).cross_section_median == pytest.approx(0.035)
    assert judge(0.04, even, 5).outcome_up is True


def test_without_enough_tickers_the_outcome_is_the_sign() -> None:
    few = [0.05, 0.06, 0.07]  # all up: the median would call 0.05 a miss
    outcome = judge(0.05, few, min_width=5)
    assert outcome.basis == "sign"
    assert outcome.outcome_up is True
    assert outcome.cross_section_median is None
    assert judge(-0.01, few, 5).outcome_up is False
    assert judge(0.0, [], 5).outcome_up is False


def _scored(day: date, prob: float, realised: float, up: bool | None = None) -> ScoredPrediction:
    return ScoredPrediction(
        as_of=day,
        prob_up=prob,
        realised_return=realised,
        outcome_up=realised > 0 if up is None else up,
        basis="cross_section",
    )


def test_hit_rate_and_brier_by_hand() -> None:
    scored = [
        _scored(DAY, 0.7, 0.02, up=True),  # hit, (0.3)^2
        _scored(DAY, 0.6, -0.01, up=False),  # miss, (0.6)^2
        _scored(DAY, 0.4, -0.03, up=False),  # hit, (0.4)^2
        _scored(DAY, 0.5, 0.01, up=True),  # 0.5 calls "not up": miss, (0.5)^2
    ]
    metrics = live_metrics(scored, pending=3)
    assert metrics.scored == 4 and metrics.pending == 3
    assert metrics.hit_rate == pytest.approx(0.5)
    assert metrics.brier == pytest.approx((0.09 + 0.36 + 0.16 + 0.25) / 4)
    assert metrics.mean_realised_return == pytest.approx(-0.0025)
    assert metrics.first_as_of == metrics.last_as_of == DAY
    assert metrics.scored_against_cross_section == 4 and metrics.scored_by_sign == 0


def test_ic_is_the_mean_of_daily_correlations_on_days_with_five_tickers() -> None:
    rng = np.random.default_rng(3)
    scored = []
    expected = []
    for offset in range(3):
        day = DAY + timedelta(days=offset)
        probs = rng.uniform(0.3, 0.7, 6)
        returns = rng.normal(0, 0.02, 6)
        scored += [_scored(day, float(p), float(r)) for p, r in zip(probs, returns, strict=True)]
        expected.append(np.corrcoef(probs, returns)[0, 1])
    # A day with 4 tickers does not count.
    late = DAY + timedelta(days=10)
    scored += [_scored(late, 0.3 + 0.1 * i, 0.01 * i) for i in range(4)]
    metrics = live_metrics(scored, pending=0)
    assert metrics.ic_days == 3
    assert metrics.ic_mean == pytest.approx(float(np.mean(expected)))
    assert metrics.ic_reason is None
    ics, widest = daily_ic(scored)
    assert ics == pytest.approx(expected) and widest == 6


def test_no_ic_without_five_tickers_on_a_day_says_why() -> None:
    scored = [_scored(DAY + timedelta(days=i), 0.6, 0.01) for i in range(8)]
    metrics = live_metrics(scored, pending=0)
    assert metrics.ic_mean is None and metrics.ic_days == 0
    assert metrics.ic_reason is not None
    assert "at least 5 scored tickers" in metrics.ic_reason and "is 1" in metrics.ic_reason

    flat = [_scored(DAY, 0.6, 0.01 * i) for i in range(5)]  # prob_up never varies
    assert "did not vary" in (live_metrics(flat, 0).ic_reason or "")


def test_nothing_scored_yet() -> None:
    metrics = live_metrics([], pending=2)
    assert metrics.scored == 0 and metrics.pending == 2
    assert metrics.hit_rate is None and metrics.brier is None and metrics.ic_mean is None
    assert metrics.ic_reason == "no served prediction has reached its horizon yet"


# -- what the model server receives --------------------------------------------------------
def _bars(adjusted: list[float | None]) -> list[SimpleNamespace]:
    rng = np.random.default_rng(11)
    closes = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, len(adjusted))))
    rows = []
    for i, (close, adj) in enumerate(zip(closes, adjusted, strict=True)):
        rows.append(
            SimpleNamespace(
                date=date(2020, 1, 1) + timedelta(days=i),
                open=float(close * 0.99),
                high=float(close * 1.01),
                low=float(close * 0.98),
                close=float(close),
                adj_close=None if adj is None else float(close * adj),
                volume=1000.0 + i,
            )
        )
    return rows


def _frame(columns: dict[str, list[object]]) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    frame["date"] = pd.to_datetime(frame["date"])
    frame["ticker"] = "X"
    return frame


def test_adjusted_prices_give_the_trainers_features() -> None:
    """A split halves adj_close/close before it: the features the trainer computes from
    adj_close equal the server's features on the scaled prices the API sends."""
    factors: list[float | None] = [0.5] * 40 + [1.0] * 40
    bars = _bars(factors)
    sent = bars_payload(bars)  # type: ignore[arg-type]
    trainer_view = pd.DataFrame(
        {
            "date": pd.to_datetime([b.date for b in bars]),
            "ticker": "X",
            "open": [b.open for b in bars],
            "high": [b.high for b in bars],
            "low": [b.low for b in bars],
            "close": [b.close for b in bars],
            "adj_close": [b.adj_close for b in bars],
            "volume": [b.volume for b in bars],
        }
    )
    expected = compute_features(trainer_view)
    served = compute_features(_frame(sent))
    pd.testing.assert_frame_equal(
        served[FEATURE_NAMES], expected[FEATURE_NAMES], check_exact=False, rtol=1e-9
    )
    raw = compute_features(trainer_view.drop(columns="adj_close"))
    assert not np.allclose(raw["ret_60d"].iloc[-1], expected["ret_60d"].iloc[-1])
    assert sent["close"][0] == pytest.approx(bars[0].close * 0.5)


def test_incomplete_adjusted_closes_send_raw_prices() -> None:
    bars = _bars([1.0] * 10 + [None] + [1.0] * 10)
    sent = bars_payload(bars)  # type: ignore[arg-type]
    assert sent["close"] == [b.close for b in bars]
    assert sent["date"][0] == "2020-01-01"
    assert sent["volume"] == [b.volume for b in bars]
