"""Should a freshly trained version replace the production model?

A candidate is promoted only if

1. its leak check passed,
2. its out-of-sample accuracy beats the majority-class rate of the same rows, and its mean
   daily IC is above zero, and
3. it beats the production model on the SAME out-of-sample rows.

For (3) the production model must not be scored on rows it was trained on — that would
flatter it. The comparison window is therefore the candidate's out-of-sample rows dated
after the production model's training data ended (from its card) plus a purge gap of the
horizon. When no such window holds enough rows (or the production model uses other
features or another horizon), the two cards' walk-forward metrics are compared instead —
measured on different windows, which the reason says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from quantcore.artifact import ModelBundle
from trainer.modeling.metrics import prediction_metrics
from trainer.modeling.training import TrainingOutcome

MIN_COMPARISON_ROWS = 200
MIN_COMPARISON_DAYS = 5


@dataclass
class PromotionDecision:
    promote: bool
    reason: str
    candidate_metrics: dict[str, Any]
    production_metrics: dict[str, Any] | None


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.4f}"


def _beats(candidate: dict[str, Any], production: dict[str, Any]) -> tuple[bool, str]:
    """Candidate must be more accurate, and not worse on IC where both have one."""
    cand_acc, prod_acc = candidate.get("accuracy"), production.get("accuracy")
    cand_ic, prod_ic = candidate.get("ic_mean"), production.get("ic_mean")
    text = (
        f"accuracy {_pct(cand_acc)} vs {_pct(prod_acc)}, "
        f"mean daily IC {_num(cand_ic)} vs {_num(prod_ic)}"
    )
    if cand_acc is None or prod_acc is None or cand_acc <= prod_acc:
        return False, text
    if cand_ic is not None and prod_ic is not None and cand_ic < prod_ic:
        return False, text
    return True, text


def _comparison_window(
    candidate: TrainingOutcome, table: pd.DataFrame, production_end: str | None
) -> pd.DataFrame:
    if production_end is None:
        return candidate.oos.iloc[0:0]
    horizon = int(candidate.card.get("horizon_days", candidate.bundle.horizon_days))
    calendar = pd.DatetimeIndex(sorted(table["date"].unique()))
    after = calendar[calendar > pd.Timestamp(production_end)]
    if len(after) <= horizon:
        return candidate.oos.iloc[0:0]
    start = after[horizon]  # a purge gap of ``horizon`` trading days after its data end
    return candidate.oos[candidate.oos["date"] >= start]


def _score_production(
    bundle: ModelBundle, window: pd.DataFrame, table: pd.DataFrame
) -> pd.DataFrame:
    keys = window[["date", "ticker"]]
    rows = keys.merge(
        table[["date", "ticker", *bundle.feature_names]], on=["date", "ticker"], how="left"
    )
    scored = window.reset_index(drop=True).copy()
    scored["prob_up"] = bundle.predict_proba_up(rows)
    return scored


def decide_promotion(
    candidate: TrainingOutcome,
    table: pd.DataFrame,
    production_bundle: ModelBundle | None,
    production_card: dict[str, Any] | None,
) -> PromotionDecision:
    metrics = dict(candidate.card["metrics"])
    leak = candidate.card.get("leak_check") or {}
    if not leak.get("passed", False):
        reasons = "; ".join(leak.get("reasons") or ["no leak check recorded"])
        return PromotionDecision(
            False, f"Not promoted: leak check failed ({reasons}).", metrics, None
        )

    accuracy, majority = metrics.get("accuracy"), metrics.get("majority_rate")
    rows = metrics.get("n_test_rows")
    if accuracy is None or majority is None or accuracy <= majority:
        return PromotionDecision(
            False,
            f"Not promoted: out-of-sample accuracy {_pct(accuracy)} does not beat the "
            f"majority-class rate {_pct(majority)} over {rows} test rows.",
            metrics,
            None,
        )
    ic = metrics.get("ic_mean")
    if ic is None or ic <= 0:
        return PromotionDecision(
            False,
            f"Not promoted: accuracy {_pct(accuracy)} beats the majority rate "
            f"{_pct(majority)}, but the mean daily IC {_num(ic)} is not above zero.",
            metrics,
            None,
        )
    if production_bundle is None:
        return PromotionDecision(
            True,
            f"Promoted: no production model yet; out-of-sample accuracy {_pct(accuracy)} vs "
            f"majority rate {_pct(majority)}, mean daily IC {_num(ic)} over {rows} rows.",
            metrics,
            None,
        )

    production_card = production_card or {}
    production_end = (production_card.get("data") or {}).get("end")
    compatible = production_bundle.horizon_days == candidate.bundle.horizon_days and all(
        name in table.columns for name in production_bundle.feature_names
    )
    window = _comparison_window(candidate, table, production_end) if compatible else None
    if (
        window is not None
        and len(window) >= MIN_COMPARISON_ROWS
        and window["date"].nunique() >= MIN_COMPARISON_DAYS
    ):
        cand_window = prediction_metrics(window)
        prod_window = prediction_metrics(_score_production(production_bundle, window, table))
        better, text = _beats(cand_window, prod_window)
        span = (
            f"{pd.Timestamp(window['date'].min()).date()} to "
            f"{pd.Timestamp(window['date'].max()).date()}"
        )
        verdict = "Promoted" if better else "Not promoted"
        relation = "beats" if better else "does not beat"
        reason = (
            f"{verdict}: the candidate {relation} production "
            f"{production_bundle.version} on the same {len(window)} out-of-sample rows "
            f"({span}, after production's data end {production_end} plus a "
            f"{candidate.bundle.horizon_days}-day purge gap): {text} "
            f"(majority rate {_pct(cand_window.get('majority_rate'))})."
        )
        cand_window["window"] = {"rows": len(window), "span": span}
        return PromotionDecision(better, reason, cand_window, prod_window)

    production_metrics = dict(production_card.get("metrics") or {})
    if not production_metrics:
        return PromotionDecision(
            False,
            "Not promoted: production has no card metrics and no unseen out-of-sample "
            "window to compare on.",
            metrics,
            None,
        )
    better, text = _beats(metrics, production_metrics)
    why = (
        "production uses another horizon or feature set"
        if not compatible
        else f"fewer than {MIN_COMPARISON_ROWS} candidate out-of-sample rows fall after "
        f"production's data end {production_end} plus the purge gap"
    )
    verdict = "Promoted" if better else "Not promoted"
    relation = "beats" if better else "does not beat"
    reason = (
        f"{verdict}: {why}, so the two cards' walk-forward metrics were compared instead "
        f"(measured on different windows): the candidate {relation} production "
        f"{production_bundle.version}: {text}."
    )
    return PromotionDecision(better, reason, metrics, production_metrics)
