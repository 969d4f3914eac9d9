"""A version reaches production only by beating the majority rate and production itself."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pandas as pd
import pytest

from trainer.modeling import TrainingOutcome, build_feature_table, decide_promotion

# The unit suites run in importlib mode; the shared helpers live beside this file.
sys.path.insert(0, str(Path(__file__).parent))
from test_modeling_training import data_info, random_walk_bars, train


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return random_walk_bars(n_tickers=20, n_days=320, seed=5)


@pytest.fixture(scope="module")
def table(bars: pd.DataFrame) -> pd.DataFrame:
    return build_feature_table(bars, horizon_days=5)


@pytest.fixture(scope="module")
def candidate(table: pd.DataFrame, bars: pd.DataFrame) -> TrainingOutcome:
    return train(table, bars, version="v2")


def with_metrics(outcome: TrainingOutcome, **metrics: float) -> TrainingOutcome:
    card = copy.deepcopy(outcome.card)
    card["metrics"].update(metrics)
    return TrainingOutcome(bundle=outcome.bundle, card=card, oos=outcome.oos)


def test_a_candidate_no_better_than_the_majority_rate_is_refused_with_the_numbers(
    candidate: TrainingOutcome, table: pd.DataFrame
) -> None:
    weak = with_metrics(candidate, accuracy=0.497, majority_rate=0.512, ic_mean=0.01)
    decision = decide_promotion(weak, table, None, None)
    assert decision.promote is False
    assert "49.7%" in decision.reason and "51.2%" in decision.reason
    assert "majority" in decision.reason


def test_a_candidate_without_positive_ic_is_refused(
    candidate: TrainingOutcome, table: pd.DataFrame
) -> None:
    flat = with_metrics(candidate, accuracy=0.53, majority_rate=0.51, ic_mean=-0.004)
    decision = decide_promotion(flat, table, None, None)
    assert decision.promote is False and "-0.0040" in decision.reason


def test_the_first_good_candidate_is_promoted(
    candidate: TrainingOutcome, table: pd.DataFrame
) -> None:
    good = with_metrics(candidate, accuracy=0.53, majority_rate=0.51, ic_mean=0.02)
    decision = decide_promotion(good, table, None, None)
    assert decision.promote is True and "no production model" in decision.reason


def test_production_is_scored_only_on_rows_it_never_saw(
    candidate: TrainingOutcome, table: pd.DataFrame, bars: pd.DataFrame
) -> None:
    # production learned from the first part of the history only
    cutoff = candidate.oos["date"].quantile(0.3)
    early_bars = bars[bars["date"] <= cutoff]
    production = train(build_feature_table(early_bars, 5), early_bars, version="v1")
    assert production.card["data"]["end"] == data_info(early_bars)["end"]

    good = with_metrics(candidate, accuracy=0.53, majority_rate=0.51, ic_mean=0.02)
    decision = decide_promotion(good, table, production.bundle, production.card)
    assert decision.production_metrics is not None
    window = decision.candidate_metrics["window"]
    first_day = pd.Timestamp(window["span"].split(" to ")[0])
    assert first_day > pd.Timestamp(production.card["data"]["end"])
    assert "same" in decision.reason and production.card["data"]["end"] in decision.reason
    assert decision.candidate_metrics["n_test_rows"] == decision.production_metrics["n_test_rows"]
    assert decision.candidate_metrics["n_test_rows"] < len(candidate.oos)
    expected = (
        decision.candidate_metrics["accuracy"] > decision.production_metrics["accuracy"]
        and decision.candidate_metrics["ic_mean"] >= decision.production_metrics["ic_mean"]
    )
    assert decision.promote is expected
    assert f"{decision.candidate_metrics['accuracy']:.1%}" in decision.reason


def test_without_an_unseen_window_the_cards_are_compared_and_the_reason_says_so(
    candidate: TrainingOutcome, table: pd.DataFrame
) -> None:
    good = with_metrics(candidate, accuracy=0.53, majority_rate=0.51, ic_mean=0.02)
    stronger_card = with_metrics(candidate, accuracy=0.55, ic_mean=0.03).card
    # production trained on everything the candidate saw: no unseen rows remain
    decision = decide_promotion(good, table, candidate.bundle, stronger_card)
    assert decision.promote is False
    assert "different windows" in decision.reason
    assert "53.0%" in decision.reason and "55.0%" in decision.reason

    weaker_card = with_metrics(candidate, accuracy=0.52, ic_mean=0.01).card
    decision = decide_promotion(good, table, candidate.bundle, weaker_card)
    assert decision.promote is True and "different windows" in decision.reason
