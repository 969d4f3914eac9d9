"""Which features moved a prediction, and by how much.

Method — occlusion against the training reference, for every model family:
for each feature ``f`` of a row, the row is copied with ``f`` replaced by its training-window
median (``ModelBundle.reference[f]``) and scored again. The driver's signed contribution is

    contribution(f) = prob_up(row) - prob_up(row with f := reference[f])

so a positive number means "this feature's value pushed the probability of an up move
above what a typical value would have given". It is measured on the model's own output,
so it is honest for linear models, boosted trees and ensembles alike: nothing is assumed
about the model's form. It is a one-at-a-time measure: interactions between features are
not split between them, and contributions need not add up to ``prob_up - prob_up(reference)``.
For a logistic model it ranks features like ``coefficient × standardised deviation`` does,
since the logistic link is monotone.

A feature whose value is missing (NaN: the model pipeline imputes it) is still occluded —
its contribution then measures "imputed value versus reference" — and its value is
reported as None. A feature without a reference value is never listed as a driver.

All rows and all features are scored in ONE call of the classifier on a stacked matrix of
``rows × (features + 1)`` rows, so explaining 500 tickers costs one batched prediction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from quantcore.artifact import ModelBundle

METHOD = "occlusion-vs-training-median"


@dataclass(frozen=True)
class Driver:
    """One feature's effect on one prediction."""

    feature: str
    value: float | None
    reference: float
    contribution: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "value": self.value,
            "reference": self.reference,
            "contribution": self.contribution,
        }


def occlusion_contributions(
    bundle: ModelBundle, features: pd.DataFrame, base: np.ndarray | None = None
) -> pd.DataFrame:
    """Signed contribution of every feature (columns) to ``prob_up`` of every row.

    ``base`` is the already-computed ``prob_up`` of ``features``; when given, it is reused.
    Features without a reference value get NaN.
    """
    names = list(bundle.feature_names)
    matrix = features.loc[:, names].to_numpy(dtype=float, copy=True)
    rows, width = matrix.shape
    reference = np.array(
        [float(bundle.reference.get(name, math.nan)) for name in names], dtype=float
    )
    explained = [j for j in range(width) if math.isfinite(reference[j])]
    if rows == 0 or not explained:
        return pd.DataFrame(np.nan, index=features.index, columns=names)

    # Block k (k = 0..len(explained)-1) is the whole matrix with feature explained[k]
    # set to its reference; the original rows go last when base was not given.
    blocks = np.repeat(matrix[np.newaxis, :, :], len(explained), axis=0)
    for k, j in enumerate(explained):
        blocks[k, :, j] = reference[j]
    stacked = blocks.reshape(len(explained) * rows, width)
    if base is None:
        stacked = np.vstack([stacked, matrix])
    scored = bundle.predict_proba_up(pd.DataFrame(stacked, columns=names))
    if base is None:
        base = scored[-rows:]
        scored = scored[:-rows]
    occluded = scored.reshape(len(explained), rows)

    contributions = np.full((rows, width), np.nan)
    contributions[:, explained] = (np.asarray(base, dtype=float)[np.newaxis, :] - occluded).T
    return pd.DataFrame(contributions, index=features.index, columns=names)


def top_drivers(
    bundle: ModelBundle,
    features: pd.DataFrame,
    top_k: int = 5,
    base: np.ndarray | None = None,
) -> list[list[Driver]]:
    """For each row of ``features``, the ``top_k`` features with the largest |contribution|.

    Ties are broken by feature order, so the answer is deterministic. Features whose
    contribution is exactly zero are left out: they did not move the prediction.
    """
    if top_k <= 0 or len(features) == 0:
        return [[] for _ in range(len(features))]
    contributions = occlusion_contributions(bundle, features, base=base)
    names = list(bundle.feature_names)
    values = features.loc[:, names].to_numpy(dtype=float)
    weights = contributions.to_numpy()
    magnitude = np.where(np.isfinite(weights), np.abs(weights), -1.0)
    # argsort of -magnitude with a stable sort keeps feature order among ties.
    order = np.argsort(-magnitude, axis=1, kind="stable")[:, :top_k]
    drivers: list[list[Driver]] = []
    for i in range(len(features)):
        row: list[Driver] = []
        for j in order[i]:
            if magnitude[i, j] <= 0.0:
                break
            value = values[i, j]
            row.append(
                Driver(
                    feature=names[j],
                    value=float(value) if math.isfinite(value) else None,
                    reference=float(bundle.reference[names[j]]),
                    contribution=float(weights[i, j]),
                )
            )
        drivers.append(row)
    return drivers
