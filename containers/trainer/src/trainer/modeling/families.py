"""The model families the trainer compares, each a complete scikit-learn pipeline.

Every pipeline starts with a median imputer: market-relative features are NaN when the
market is unknown, and some windows are undefined (a flat volume series has no z-score).
Hyper-parameters are fixed and conservative rather than searched: daily stock direction is
mostly noise, and a search over few out-of-sample days mostly fits that noise.

Training rows are capped per family (a seeded random sample, same seed every time):
gradient boosting and the linear model see every row; the random forest and the MLP see at
most ``MAX_TRAIN_ROWS`` rows, which keeps a full run within its time budget on two cores.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

FAMILIES: tuple[str, ...] = ("linear", "hgb", "forest", "mlp")

MAX_TRAIN_ROWS: dict[str, int | None] = {
    "linear": None,
    "hgb": None,
    "forest": 40_000,
    "mlp": 40_000,
}

# standardised features are clipped at ±5: a 25-year history holds returns of several
# hundred percent that would otherwise dominate the linear model and the MLP
_CLIP = FunctionTransformer(np.clip, kw_args={"a_min": -5.0, "a_max": 5.0})


def make_classifier(family: str, seed: int) -> Pipeline:
    """An unfitted pipeline for ``family`` with every random state fixed by ``seed``."""
    imputer = ("impute", SimpleImputer(strategy="median"))
    if family == "linear":
        return Pipeline(
            [
                imputer,
                ("scale", StandardScaler()),
                ("clip", _CLIP),
                ("model", LogisticRegression(C=0.05, max_iter=500)),
            ]
        )
    if family == "hgb":
        return Pipeline(
            [
                imputer,
                (
                    "model",
                    HistGradientBoostingClassifier(
                        learning_rate=0.05,
                        max_iter=120,
                        max_leaf_nodes=15,
                        min_samples_leaf=200,
                        l2_regularization=1.0,
                        early_stopping=False,
                        random_state=seed,
                    ),
                ),
            ]
        )
    if family == "forest":
        return Pipeline(
            [
                imputer,
                (
                    "model",
                    RandomForestClassifier(
                        n_estimators=80,
                        max_depth=8,
                        min_samples_leaf=100,
                        max_features="sqrt",
                        n_jobs=2,
                        random_state=seed,
                    ),
                ),
            ]
        )
    if family == "mlp":
        return Pipeline(
            [
                imputer,
                ("scale", StandardScaler()),
                ("clip", _CLIP),
                (
                    "model",
                    MLPClassifier(
                        hidden_layer_sizes=(32, 16),
                        alpha=1e-3,
                        batch_size=256,
                        learning_rate_init=1e-3,
                        max_iter=40,
                        early_stopping=True,
                        validation_fraction=0.1,
                        n_iter_no_change=5,
                        random_state=seed,
                    ),
                ),
            ]
        )
    raise ValueError(f"unknown model family {family!r}; known: {', '.join(FAMILIES)}")


def training_sample(n_rows: int, family: str, seed: int) -> np.ndarray:
    """Row positions a family trains on: all of them, or a seeded sample in row order."""
    cap = MAX_TRAIN_ROWS.get(family)
    if cap is None or n_rows <= cap:
        return np.arange(n_rows)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_rows, size=cap, replace=False))
