"""Training is honest (walk-forward, leak guard) and reproducible to the byte."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from quantcore.artifact import pack_artifact, unpack_artifact
from quantcore.card import ModelCard, render_markdown
from quantcore.features import FEATURE_NAMES, MIN_HISTORY_BARS
from trainer.modeling import (
    TrainingOutcome,
    build_feature_table,
    decide_promotion,
    leak_check,
    train_version,
)


def random_walk_bars(n_tickers: int, n_days: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2015-01-01", periods=n_days)
    frames = []
    for i in range(n_tickers):
        close = 40.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, n_days)))
        spread = np.abs(rng.normal(0.0, 0.01, n_days)) * close
        frames.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "ticker": f"S{i:02d}",
                    "open": close,
                    "high": close + spread,
                    "low": close - spread,
                    "close": close,
                    "volume": rng.lognormal(12.0, 0.4, n_days),
                    "adj_close": np.nan,
                    "source": "synthetic",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def data_info(bars: pd.DataFrame) -> dict[str, object]:
    return {
        "tickers": sorted(bars["ticker"].unique().tolist()),
        "start": bars["date"].min().date().isoformat(),
        "end": bars["date"].max().date().isoformat(),
        "rows": len(bars),
        "sha256": "0" * 64,
    }


def train(table: pd.DataFrame, bars: pd.DataFrame, families=("linear",), **kw) -> TrainingOutcome:
    return train_version(
        table,
        model_name="direction-5d",
        version=kw.pop("version", "v1"),
        trained_at="2024-01-01T00:00:00+00:00",
        data_info=data_info(bars),
        families=families,
        **kw,
    )


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return random_walk_bars(n_tickers=25, n_days=260, seed=11)


@pytest.fixture(scope="module")
def table(bars: pd.DataFrame) -> pd.DataFrame:
    return build_feature_table(bars, horizon_days=5)


def test_feature_table_holds_only_labelled_rows_with_enough_history(
    bars: pd.DataFrame, table: pd.DataFrame
) -> None:
    assert list(table.columns) == [
        "date",
        "ticker",
        *FEATURE_NAMES,
        "fwd_return",
        "fwd_excess",
        "up",
        "close",
    ]
    assert table["fwd_return"].notna().all() and table["up"].isin([0.0, 1.0]).all()
    # The label is a ranking call: above the day's median forward return.
    median = table.groupby("date")["fwd_return"].transform("median")
    assert ((table["fwd_return"] > median) == (table["up"] == 1.0)).all()
    assert abs(table["up"].mean() - 0.5) <= 0.03
    per_ticker = table.groupby("ticker").size()
    assert (per_ticker == 260 - (MIN_HISTORY_BARS - 1) - 5).all()
    last_labelled = table.groupby("ticker")["date"].max()
    assert (last_labelled < bars["date"].max()).all()


def test_outcome_has_oos_predictions_a_valid_card_and_a_working_bundle(
    table: pd.DataFrame, bars: pd.DataFrame
) -> None:
    stages: list[str] = []
    outcome = train(table, bars, progress=lambda stage, done, total: stages.append(stage))
    assert stages[-1] == "done" and any("refit" in s for s in stages)
    oos = outcome.oos
    assert list(oos.columns) == [
        "date",
        "ticker",
        "fold",
        "prob_up",
        "expected_return",
        "fwd_return",
        "fwd_excess",
        "up",
    ]
    assert oos["prob_up"].between(0, 1).all()
    assert not oos.duplicated(["date", "ticker"]).any()
    card = ModelCard.model_validate(outcome.card)
    assert card.promoted is False and card.promotion_reason is None
    assert card.metrics.n_test_rows == len(oos)
    assert oos["date"].min() > pd.Timestamp(card.folds[0].train_end)
    assert set(card.baselines) == {"momentum", "reversal"}
    assert {"long_only", "long_short", "buy_and_hold"} <= set(outcome.card["backtest"])
    json.dumps(outcome.card, allow_nan=False)  # strict JSON: no NaN anywhere
    assert "direction-5d" in render_markdown(outcome.card)

    predictions = outcome.bundle.predict(table.tail(10))
    assert predictions["prob_up"].between(0, 1).all()
    assert outcome.bundle.return_scale >= 0
    assert set(outcome.bundle.reference) <= set(FEATURE_NAMES)


def test_a_clean_model_on_random_walks_passes_the_leak_check(
    table: pd.DataFrame, bars: pd.DataFrame
) -> None:
    outcome = train(table, bars, families=("linear", "hgb"))
    assert outcome.card["leak_check"] == {"passed": True, "reasons": []}
    assert abs(outcome.card["metrics"]["ic_mean"]) < 0.08


def test_a_feature_that_sees_the_future_is_caught_and_never_promoted(
    table: pd.DataFrame, bars: pd.DataFrame
) -> None:
    leaky = table.copy()
    leaky["ret_1d"] = leaky["fwd_return"]  # a bug that shifts the wrong way
    outcome = train(leaky, bars, families=("hgb",))
    passed, reasons = leak_check(outcome.card["metrics"])
    assert not passed and reasons
    assert outcome.card["leak_check"]["passed"] is False
    assert any("ret_1d" in reason for reason in outcome.card["leak_check"]["reasons"])
    decision = decide_promotion(outcome, leaky, None, None)
    assert decision.promote is False
    assert "leak" in decision.reason


def test_same_data_seed_and_version_give_byte_identical_artifacts(
    table: pd.DataFrame, bars: pd.DataFrame
) -> None:
    families = ("linear", "hgb", "forest", "mlp")
    first = pack_artifact(*_bundle_and_card(train(table, bars, families=families)))
    second = pack_artifact(*_bundle_and_card(train(table, bars, families=families)))
    assert first == second
    other_seed = pack_artifact(*_bundle_and_card(train(table, bars, families=families, seed=1)))
    assert other_seed != first  # the seed really reaches the models
    bundle, card = unpack_artifact(first, None)
    assert card["family"] == bundle.family


def _bundle_and_card(outcome: TrainingOutcome):  # type: ignore[no-untyped-def]
    return outcome.bundle, outcome.card


def test_a_baseline_that_beats_the_model_is_written_on_the_card() -> None:
    from quantcore.card import render_markdown
    from trainer.modeling.training import _baseline_warnings

    metrics = {"rank_ic_mean": 0.01}
    baselines = {"momentum": {"rank_ic_mean": -0.02}, "reversal": {"rank_ic_mean": 0.05}}
    backtest = {
        "long_short": {"sharpe": -1.0},
        "momentum_long_short": {"sharpe": -2.0},
        "reversal_long_short": {"sharpe": 1.5},
    }
    warnings = _baseline_warnings(metrics, baselines, backtest)
    assert len(warnings) == 2
    assert all("reversal" in w for w in warnings)
    assert "Warnings" in render_markdown({"warnings": warnings})
    assert (
        _baseline_warnings(
            {"rank_ic_mean": 0.1},
            baselines,
            {"long_short": {"sharpe": 2.0}, "reversal_long_short": {"sharpe": 1.5}},
        )
        == []
    )
