"""Drivers by occlusion: signs and ranking on models whose answer is known."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from quantcore.artifact import ModelBundle
from quantcore.explain import occlusion_contributions, top_drivers

NAMES = ["momentum", "volatility", "noise"]


class CountingModel:
    """Wraps a classifier and counts predict_proba calls."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.classes_ = model.classes_
        self.calls = 0

    def predict_proba(self, x: Any) -> Any:
        self.calls += 1
        return self.model.predict_proba(x)


def _bundle(classifier: Any, reference: dict[str, float] | None = None) -> ModelBundle:
    return ModelBundle(
        name="m",
        version="v1",
        family="linear",
        feature_set="test",
        feature_names=list(NAMES),
        horizon_days=5,
        classifier=classifier,
        reference=reference if reference is not None else dict.fromkeys(NAMES, 0.0),
    )


@pytest.fixture(scope="module")
def known_linear() -> LogisticRegression:
    """P(up) rises with momentum (strongly), falls with volatility, ignores noise."""
    model = LogisticRegression()
    model.classes_ = np.array([0, 1])
    model.coef_ = np.array([[2.0, -1.0, 0.0]])
    model.intercept_ = np.array([0.0])
    model.feature_names_in_ = np.array(NAMES, dtype=object)
    model.n_features_in_ = len(NAMES)
    return model


def _rows(*rows: tuple[float, float, float]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=NAMES, index=[f"r{i}" for i in range(len(rows))])


def test_signs_and_ranking_follow_the_coefficients(known_linear: LogisticRegression) -> None:
    bundle = _bundle(known_linear)
    drivers = top_drivers(bundle, _rows((1.0, 1.0, 5.0), (-1.0, -2.0, 0.0)), top_k=3)

    first = drivers[0]
    assert [d.feature for d in first] == ["momentum", "volatility"]  # noise moved nothing
    assert first[0].contribution > 0 > first[1].contribution
    assert first[0].value == 1.0 and first[0].reference == 0.0
    # exactly: sigmoid(2 - 1) - sigmoid(0 - 1) for momentum
    expected = 1 / (1 + math.exp(-1)) - 1 / (1 + math.exp(1))
    assert first[0].contribution == pytest.approx(expected)

    second = drivers[1]
    # momentum -1 (×2 → -2) and volatility -2 (×-1 → +2) are equally strong, opposite signs
    assert {d.feature for d in second} == {"momentum", "volatility"}
    by_name = {d.feature: d.contribution for d in second}
    assert by_name["momentum"] < 0 < by_name["volatility"]
    assert abs(by_name["momentum"]) == pytest.approx(abs(by_name["volatility"]))


def test_a_value_at_the_reference_contributes_nothing(known_linear: LogisticRegression) -> None:
    bundle = _bundle(known_linear, {"momentum": 0.5, "volatility": 0.0, "noise": 0.0})
    contributions = occlusion_contributions(bundle, _rows((0.5, 1.0, 0.0)))
    assert contributions.loc["r0", "momentum"] == pytest.approx(0.0)
    assert contributions.loc["r0", "volatility"] < 0


def test_top_k_and_missing_reference(known_linear: LogisticRegression) -> None:
    bundle = _bundle(known_linear, {"momentum": 0.0, "noise": 0.0})  # no volatility reference
    drivers = top_drivers(bundle, _rows((1.0, 3.0, 0.0)), top_k=1)
    assert [d.feature for d in drivers[0]] == ["momentum"]
    assert top_drivers(bundle, _rows((1.0, 3.0, 0.0)), top_k=0) == [[]]
    contributions = occlusion_contributions(bundle, _rows((1.0, 3.0, 0.0)))
    assert math.isnan(contributions.loc["r0", "volatility"])


def test_all_rows_are_scored_in_one_call(known_linear: LogisticRegression) -> None:
    counting = CountingModel(known_linear)
    bundle = _bundle(counting)
    rows = _rows(*[(float(i), -float(i), 1.0) for i in range(50)])
    with_base = top_drivers(bundle, rows, base=bundle.predict_proba_up(rows))
    assert counting.calls == 2  # the base, then one stacked call
    counting.calls = 0
    without_base = top_drivers(bundle, rows)
    assert counting.calls == 1
    assert with_base == without_base


def test_missing_values_are_reported_as_none_but_still_explained() -> None:
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    x = pd.DataFrame({"momentum": [-2, -1, 1, 2] * 10, "volatility": 0.0, "noise": 0.0})
    y = (x["momentum"] > 0).astype(int)
    pipeline = make_pipeline(
        SimpleImputer(strategy="constant", fill_value=3.0), LogisticRegression()
    )
    pipeline.fit(x, y)
    bundle = _bundle(pipeline)
    drivers = top_drivers(bundle, _rows((math.nan, 0.0, 0.0)))
    assert drivers[0][0].feature == "momentum"
    assert drivers[0][0].value is None
    assert drivers[0][0].contribution > 0  # imputed 3.0 pushes up against the reference 0


def test_tree_models_are_explained_by_their_own_output() -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(2000, 3)), columns=NAMES)
    y = (x["volatility"] < -0.5).astype(int)  # only low volatility means up
    model = HistGradientBoostingClassifier(max_iter=50, random_state=0).fit(x, y)
    bundle = _bundle(model)
    drivers = top_drivers(bundle, _rows((0.0, -2.0, 0.0), (3.0, 0.0, -3.0)))
    assert drivers[0][0].feature == "volatility" and drivers[0][0].contribution > 0.5
    # the second row sits on the reference side for volatility: little to attribute
    assert all(abs(d.contribution) < 0.1 for d in drivers[1])
