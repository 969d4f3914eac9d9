"""The leak guard: numbers too good to be true for daily stock direction.

Honest models of 1–20 day stock returns reach a daily IC of a few hundredths (Qlib's
LightGBM on Alpha158: IC ≈ 0.045) and direction accuracy a point or two above the majority
rate. A mean daily IC above ~0.08 or accuracy above ~58% almost always means the features
saw the future, so such a version is never promoted. A single feature whose own rank IC is
far above that is named, since it is the usual culprit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from trainer.modeling.metrics import ic_summary

MAX_HONEST_IC = 0.08
MAX_HONEST_ACCURACY = 0.58
# looser for one raw feature: in a short test window an honest reversal or momentum signal
# can wander past 0.08 by chance, a feature that contains the label sits near 1
MAX_HONEST_FEATURE_IC = 0.2


def feature_rank_ic(frame: pd.DataFrame, features: list[str]) -> dict[str, float | None]:
    """Mean daily rank IC of each raw feature against the forward return."""
    return {name: ic_summary(frame, name)["rank_ic_mean"] for name in features}


def leak_check(
    metrics: Mapping[str, Any],
    *,
    feature_ic: Mapping[str, float | None] | None = None,
    max_ic: float = MAX_HONEST_IC,
    max_accuracy: float = MAX_HONEST_ACCURACY,
    max_feature_ic: float = MAX_HONEST_FEATURE_IC,
) -> tuple[bool, list[str]]:
    """``(passed, reasons)`` for out-of-sample ``metrics`` (and optionally per-feature ICs)."""
    reasons: list[str] = []
    for key, label in (("ic_mean", "mean daily IC"), ("rank_ic_mean", "mean daily rank IC")):
        value = metrics.get(key)
        if value is not None and value > max_ic:
            reasons.append(f"{label} {value:.3f} is above {max_ic:.2f}: probable look-ahead leak")
    accuracy = metrics.get("accuracy")
    if accuracy is not None and accuracy > max_accuracy:
        reasons.append(
            f"direction accuracy {accuracy:.1%} is above {max_accuracy:.0%}: "
            "probable look-ahead leak"
        )
    for name, value in (feature_ic or {}).items():
        if value is not None and abs(value) > max_feature_ic:
            reasons.append(
                f"feature {name} alone has mean daily rank IC {value:.3f} "
                f"(above {max_feature_ic:.2f} in absolute value): check it for future data"
            )
    return (not reasons, reasons)
