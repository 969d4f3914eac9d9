"""Train one model version: walk-forward evaluation, family choice, final refit, card.

1. Walk-forward folds by date (expanding window, purge gap = horizon); every family is fitted
   on each fold's training rows and predicts its test rows.
2. The family with the highest pooled out-of-sample mean daily rank IC is chosen (log-loss
   breaks ties). The label is a ranking call — above or below the day's median — so how
   well a family orders the day's tickers is the skill that matters; log-loss rewards a
   model for hugging 0.5, which a family with no ranking skill does best. The card's
   metrics are those of the chosen family on the same folds, so they carry a mild
   selection bias (best of four), which the card states.
3. ``expected_return`` is ``(2·prob_up − 1) · return_scale`` where ``return_scale`` is the
   least-squares slope (through the origin) of the out-of-sample forward return on
   ``2·prob_up − 1``, floored at zero. A separate return regressor would chase the
   heavy-tailed returns of a few names; this keeps the expected return ordered exactly like
   the probability, fitted only on predictions made out of sample.
4. The chosen family is refitted on all labelled rows (capped for slow families, see
   :mod:`trainer.modeling.families`).

Determinism: every random state derives from ``seed`` and the card holds no wall-clock
value other than ``trained_at``, so the same table, seed, version and ``trained_at`` give a
byte-identical artifact.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from quantcore.artifact import ModelBundle
from quantcore.card import ModelCard
from quantcore.features import FEATURE_NAMES, FEATURE_SET
from trainer.modeling.backtest import run_backtest
from trainer.modeling.dataset import LABEL_DEFINITION
from trainer.modeling.families import FAMILIES, make_classifier, training_sample
from trainer.modeling.leak import feature_rank_ic, leak_check
from trainer.modeling.metrics import (
    clean_numbers,
    prediction_metrics,
    signal_metrics,
)
from trainer.modeling.splits import Fold, walk_forward_splits

Progress = Callable[[str, int, int], None]

N_FOLDS = 4
MIN_TRAIN_DAYS = 60
MIN_TRAIN_FRACTION = 0.4
# One BLAS/OpenMP thread. Gradient boosting with two OpenMP threads was 10-25x SLOWER on a
# busy two-core machine (threads spin-wait for each other) and one thread fits 60k rows in
# under a second. The random forest still fits its trees on two joblib threads.
THREADS = 1

BASELINE_SIGNALS = {
    "momentum": "60-day return (ret_60d): up when positive, rank by it",
    "reversal": "minus the 5-day return (-ret_5d): up after a fall, rank by it",
}


@dataclass
class TrainingOutcome:
    bundle: ModelBundle
    card: dict[str, Any]
    oos: pd.DataFrame  # date, ticker, fold, prob_up, expected_return, fwd_return, up


def _fit(family: str, seed: int, x: pd.DataFrame, y: np.ndarray) -> Pipeline:
    rows = training_sample(len(x), family, seed)
    model = make_classifier(family, seed)
    with warnings.catch_warnings():
        # a capped MLP may stop at max_iter; that is the intended budget, not an error
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        model.fit(x.iloc[rows], y[rows])
    if "n_jobs" in model[-1].get_params():
        # a forest predicting on two threads adds the trees' votes in whichever order the
        # threads finish: the last bits of prob_up would change from run to run
        model[-1].set_params(n_jobs=1)
    return model


def _prob_up(model: Pipeline, x: pd.DataFrame) -> np.ndarray:
    proba = model.predict_proba(x)
    classes = list(model.classes_)
    if 1 not in classes:  # a training window without a single up move
        return np.zeros(len(x))
    return np.asarray(proba[:, classes.index(1)], dtype=float)


def _return_scale(prob_up: np.ndarray, fwd_return: np.ndarray) -> float:
    signal = 2.0 * prob_up - 1.0
    # winsorise so a few extreme moves do not set the scale
    low, high = np.quantile(fwd_return, [0.01, 0.99])
    target = np.clip(fwd_return, low, high)
    denominator = float(np.dot(signal, signal))
    if denominator <= 0:
        return 0.0
    return max(0.0, float(np.dot(signal, target)) / denominator)


def _baseline_warnings(
    metrics: dict[str, Any], baselines: dict[str, dict[str, Any]], backtest: dict[str, Any]
) -> list[str]:
    """Plain sentences for every simple baseline that did better than the model out of
    sample: the card must not let a model look useful when a one-line rule beats it."""
    warnings = []
    model_ic = metrics.get("rank_ic_mean")
    for name, figures in baselines.items():
        ic = figures.get("rank_ic_mean")
        if ic is not None and model_ic is not None and ic > model_ic:
            warnings.append(
                f"The {name} baseline ranks tickers better than the model out of sample "
                f"(mean daily rank IC {ic:+.4f} vs {model_ic:+.4f})."
            )
    model_sharpe = (backtest.get("long_short") or {}).get("sharpe")
    for name in baselines:
        sharpe = (backtest.get(f"{name}_long_short") or {}).get("sharpe")
        if sharpe is not None and model_sharpe is not None and sharpe > model_sharpe:
            warnings.append(
                f"The {name} long-short backtest beats the model's after costs "
                f"(Sharpe {sharpe:.2f} vs {model_sharpe:.2f})."
            )
    return warnings


def _or(value: float | None, default: float) -> float:
    return default if value is None else float(value)


def _iso(value: Any) -> str:
    return pd.Timestamp(value).date().isoformat()


def _fold_info(fold: Fold, dates: pd.Series) -> dict[str, Any]:
    return {
        "train_start": _iso(fold.train_start),
        "train_end": _iso(fold.train_end),
        "test_start": _iso(fold.test_start),
        "test_end": _iso(fold.test_end),
        "rows_train": int(fold.train_mask(dates).sum()),
        "rows_test": int(fold.test_mask(dates).sum()),
    }


def _round_floats(value: Any, digits: int = 6) -> Any:
    if isinstance(value, dict):
        return {k: _round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_round_floats(v, digits) for v in value]
    if isinstance(value, float):
        return round(value, digits)
    return value


def train_version(
    table: pd.DataFrame,
    *,
    model_name: str,
    version: str,
    trained_at: str,
    data_info: dict[str, Any],
    horizon_days: int = 5,
    seed: int = 0,
    families: Sequence[str] = FAMILIES,
    progress: Progress | None = None,
    n_folds: int = N_FOLDS,
    cost_bps: float = 10.0,
) -> TrainingOutcome:
    """Evaluate ``families`` walk-forward on ``table`` (see :func:`build_feature_table`),
    refit the best on all labelled rows, and describe it in a card (not yet promoted)."""
    if not families:
        raise ValueError("at least one model family is needed")
    report = progress or (lambda _stage, _done, _total: None)
    if "fwd_excess" not in table.columns:
        # a table labelled without a cross-section: the excess is the raw forward return
        table = table.assign(fwd_excess=table["fwd_return"])
    labelled = table.dropna(subset=["fwd_return", "up"])
    labelled = labelled.sort_values(["date", "ticker"], kind="mergesort").reset_index(drop=True)
    if labelled.empty:
        raise ValueError("the feature table has no labelled rows")
    x_all = labelled.loc[:, FEATURE_NAMES].astype(float)
    y_all = labelled["up"].to_numpy(dtype=int)
    dates = labelled["date"]

    folds = walk_forward_splits(
        dates,
        n_folds=n_folds,
        horizon_days=horizon_days,
        min_train_days=MIN_TRAIN_DAYS,
        min_train_fraction=MIN_TRAIN_FRACTION,
    )
    steps = len(folds) * len(families) + 1
    done = 0
    predictions: dict[str, list[np.ndarray]] = {family: [] for family in families}
    test_rows: list[np.ndarray] = []
    fold_of_row: list[np.ndarray] = []
    with threadpool_limits(limits=THREADS):
        for fold in folds:
            train = np.flatnonzero(fold.train_mask(dates))
            test = np.flatnonzero(fold.test_mask(dates))
            test_rows.append(test)
            fold_of_row.append(np.full(len(test), fold.index))
            for family in families:
                report(f"fold {fold.index + 1}/{len(folds)}: {family}", done, steps)
                model = _fit(family, seed, x_all.iloc[train], y_all[train])
                predictions[family].append(_prob_up(model, x_all.iloc[test]))
                done += 1

        order = np.concatenate(test_rows)
        oos_base = labelled.iloc[order].reset_index(drop=True)
        oos_base["fold"] = np.concatenate(fold_of_row)
        candidates: dict[str, dict[str, Any]] = {}
        family_prob: dict[str, np.ndarray] = {}
        for family in families:
            family_prob[family] = np.concatenate(predictions[family])
            frame = oos_base.assign(prob_up=family_prob[family])
            candidates[family] = prediction_metrics(frame)
        chosen = max(
            families,
            key=lambda f: (
                _or(candidates[f]["rank_ic_mean"], -1.0),
                -_or(candidates[f]["log_loss"], 99.0),
                -families.index(f),
            ),
        )

        report(f"refit {chosen} on all labelled rows", done, steps)
        final = _fit(chosen, seed, x_all, y_all)
        done += 1
    report("done", done, steps)

    prob_up = family_prob[chosen]
    scale = _return_scale(prob_up, oos_base["fwd_excess"].to_numpy())
    oos = pd.DataFrame(
        {
            "date": oos_base["date"],
            "ticker": oos_base["ticker"],
            "fold": oos_base["fold"],
            "prob_up": prob_up,
            "expected_return": (2.0 * prob_up - 1.0) * scale,
            "fwd_return": oos_base["fwd_return"],
            "fwd_excess": oos_base["fwd_excess"],
            "up": oos_base["up"],
        }
    )

    metrics = prediction_metrics(oos)
    evaluated = oos_base.assign(
        prob_up=prob_up, momentum=oos_base["ret_60d"], reversal=-oos_base["ret_5d"]
    )
    baselines = {name: signal_metrics(evaluated, name) for name in BASELINE_SIGNALS}
    for name, description in BASELINE_SIGNALS.items():
        baselines[name]["signal"] = description
    backtest = run_backtest(
        evaluated,
        signals={"model": "prob_up", "momentum": "momentum", "reversal": "reversal"},
        horizon_days=horizon_days,
        cost_bps=cost_bps,
        calendar=pd.DatetimeIndex(dates.unique()),
    )
    feature_ic = feature_rank_ic(oos_base, FEATURE_NAMES)
    passed, reasons = leak_check(metrics, feature_ic=feature_ic)

    medians = x_all.median(skipna=True)
    reference = {name: float(medians[name]) for name in FEATURE_NAMES if np.isfinite(medians[name])}
    bundle = ModelBundle(
        name=model_name,
        version=version,
        family=chosen,
        feature_set=FEATURE_SET,
        feature_names=list(FEATURE_NAMES),
        horizon_days=horizon_days,
        classifier=final,
        return_model=None,
        return_scale=scale,
        reference=reference,
    )

    card_fields: dict[str, Any] = {
        "version": version,
        "model_name": model_name,
        "family": chosen,
        "trained_at": trained_at,
        "data": data_info,
        "horizon_days": horizon_days,
        "feature_set": FEATURE_SET,
        "features": list(FEATURE_NAMES),
        "folds": [_fold_info(fold, dates) for fold in folds],
        "metrics": metrics,
        "candidates": candidates,
        "baselines": baselines,
        "backtest": backtest,
        "leak_check": {"passed": passed, "reasons": reasons},
        "promoted": False,
        "promotion_reason": None,
        "feature_rank_ic": feature_ic,
        "selection": {
            "criterion": "highest pooled out-of-sample mean daily rank IC across walk-forward "
            "folds (log-loss breaks ties)",
            "families": list(families),
        },
        "return_scale": scale,
        "labelled_rows": len(labelled),
        "oos_window": {"start": _iso(oos["date"].min()), "end": _iso(oos["date"].max())},
        "seed": seed,
        "label": LABEL_DEFINITION,
        "warnings": _baseline_warnings(metrics, baselines, backtest),
        "notes": [
            "prob_up is the probability that the ticker beats the equal-weight market over "
            "the horizon (see label); accuracy and the majority rate are of that call.",
            f"Walk-forward: {len(folds)} expanding folds cut to hold similar numbers of rows, "
            f"a purge gap of {horizon_days} trading days before each test window.",
            "The family was chosen on the same out-of-sample folds the metrics come from "
            f"(best of {len(families)}): expect live numbers slightly below these.",
            "Random forest and MLP train on a seeded sample of at most 40,000 rows; "
            "linear and gradient boosting on every row.",
            "expected_return = (2·prob_up − 1) × return_scale, the slope of the out-of-sample "
            "forward excess return (over the equal-weight market) on that signal; it ranks "
            "tickers exactly like prob_up.",
            "IC: daily cross-sectional Pearson correlation of prob_up with the forward return "
            "on days with at least 5 tickers; ICIR = mean / std of daily IC, not annualised.",
        ],
    }
    card = _round_floats(clean_numbers(card_fields))
    card = ModelCard.model_validate(card).model_dump(mode="json")
    return TrainingOutcome(bundle=bundle, card=card, oos=oos)
