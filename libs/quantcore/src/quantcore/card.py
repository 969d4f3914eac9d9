"""The model card: how honest a model version is, in numbers and in words.

Every version carries one (``model_card.json`` inside its artifact). All metrics are
out-of-sample, from walk-forward folds with a purge gap of at least the label horizon.
Numbers that cannot be computed are ``None`` (never NaN: the card is strict JSON).

Glossary used by :func:`render_markdown`:

* accuracy vs majority_rate — share of correct up/down calls against always answering the
  more frequent class of the same test rows.
* MCC — Matthews correlation of the up/down calls (0 = no skill).
* Brier — mean squared error of the probability of an up move (0.25 = a coin).
* IC — daily cross-sectional Pearson correlation of the prediction with the forward return
  (days with at least 5 tickers), averaged; rank IC uses Spearman; ICIR is mean / std of the
  daily IC, NOT annualised.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _CardPart(BaseModel):
    # extra keys are kept: a newer trainer may add numbers an older reader ignores
    model_config = ConfigDict(extra="allow")


class DataInfo(_CardPart):
    tickers: list[str]
    start: str
    end: str
    rows: int
    sha256: str


class FoldInfo(_CardPart):
    train_start: str
    train_end: str
    test_start: str
    test_end: str
    rows_train: int
    rows_test: int


class Metrics(_CardPart):
    accuracy: float | None
    majority_rate: float | None
    mcc: float | None
    brier: float | None
    ic_mean: float | None
    ic_ir: float | None
    rank_ic_mean: float | None
    n_test_rows: int
    n_test_days: int


class StrategyResult(_CardPart):
    cagr: float | None
    sharpe: float | None
    max_drawdown: float | None
    total_return: float | None
    equity_curve: list[tuple[str, float]] = Field(default_factory=list)


class Backtest(_CardPart):
    cost_bps: float
    long_only: StrategyResult
    long_short: StrategyResult
    buy_and_hold: StrategyResult


class LeakCheck(_CardPart):
    passed: bool
    reasons: list[str] = Field(default_factory=list)


class ModelCard(_CardPart):
    version: str
    model_name: str
    family: str
    trained_at: str
    data: DataInfo
    horizon_days: int
    feature_set: str
    features: list[str]
    folds: list[FoldInfo]
    metrics: Metrics
    candidates: dict[str, dict[str, Any]]
    baselines: dict[str, dict[str, Any]]
    backtest: Backtest
    leak_check: LeakCheck
    promoted: bool = False
    promotion_reason: str | None = None


def _number(value: Any, digits: int = 3, percent: bool = False) -> str:
    if value is None or isinstance(value, bool):
        return "—" if value is None else str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(number):
        return "—"
    if percent:
        return f"{100.0 * number:.1f}%"
    return f"{number:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


_METRIC_ROWS = (
    ("accuracy", "accuracy"),
    ("majority_rate", "majority-class rate"),
    ("mcc", "MCC"),
    ("brier", "Brier score"),
    ("ic_mean", "IC (mean daily)"),
    ("ic_ir", "ICIR (not annualised)"),
    ("rank_ic_mean", "rank IC (mean daily)"),
)

_STRATEGY_LABELS = {
    "long_only": "long-only top quantile",
    "long_short": "long-short top vs bottom quantile",
    "buy_and_hold": "equal-weight buy and hold",
}


def _curve_summary(curve: list[Any]) -> str:
    if not curve:
        return "—"
    values = [float(point[1]) for point in curve]
    return (
        f"{curve[0][0]} → {curve[-1][0]}, {len(curve)} points, "
        f"low {min(values):.3f}, high {max(values):.3f}, end {values[-1]:.3f}"
    )


def render_markdown(card: dict[str, Any]) -> str:
    """A readable page for humans: tables of the numbers, equity curves summarised."""
    lines: list[str] = []
    name = card.get("model_name", "model")
    lines.append(f"# {name} {card.get('version', '')}".rstrip())
    lines.append("")
    promoted = card.get("promoted")
    status = "promoted to production" if promoted else "not promoted"
    lines.append(
        f"Family **{card.get('family', '?')}**, trained {card.get('trained_at', '?')}, "
        f"predicts the {card.get('horizon_days', '?')}-day forward return; {status}."
    )
    if card.get("promotion_reason"):
        lines.append("")
        lines.append(f"Promotion: {card['promotion_reason']}")

    data = card.get("data") or {}
    tickers = data.get("tickers") or []
    lines += [
        "",
        "## Data",
        "",
        f"{len(tickers)} tickers, {data.get('rows', '?')} rows, "
        f"{data.get('start', '?')} to {data.get('end', '?')} (sha256 "
        f"{str(data.get('sha256', ''))[:12]}…). Feature set `{card.get('feature_set', '?')}`: "
        + ", ".join(card.get("features") or []),
    ]

    leak = card.get("leak_check") or {}
    lines += ["", "## Leak check", ""]
    if leak.get("passed"):
        lines.append("Passed: no sign of look-ahead in the out-of-sample numbers.")
    else:
        lines.append("**FAILED** — this version must not be promoted:")
        lines += [f"- {reason}" for reason in leak.get("reasons") or []]

    metrics = card.get("metrics") or {}
    baselines = card.get("baselines") or {}
    lines += [
        "",
        "## Out-of-sample metrics",
        "",
        f"{metrics.get('n_test_rows', '?')} test rows over {metrics.get('n_test_days', '?')} "
        "days, walk-forward with a purge gap of at least the horizon.",
        "",
    ]
    baseline_names = list(baselines)
    rows = []
    for key, label in _METRIC_ROWS:
        row = [label, _number(metrics.get(key), 4)]
        row += [_number((baselines.get(b) or {}).get(key), 4) for b in baseline_names]
        rows.append(row)
    lines += _table(["metric", "model", *baseline_names], rows)

    candidates = card.get("candidates") or {}
    if candidates:
        lines += [
            "",
            "## Model families compared (walk-forward, out-of-sample)",
            "",
        ]
        cand_rows = []
        for family, values in candidates.items():
            marker = " (chosen)" if family == card.get("family") else ""
            cand_rows.append(
                [
                    family + marker,
                    _number(values.get("log_loss"), 4),
                    _number(values.get("accuracy"), 4),
                    _number(values.get("mcc"), 4),
                    _number(values.get("brier"), 4),
                    _number(values.get("ic_mean"), 4),
                    _number(values.get("rank_ic_mean"), 4),
                ]
            )
        lines += _table(
            ["family", "log-loss", "accuracy", "MCC", "Brier", "IC", "rank IC"], cand_rows
        )

    backtest = card.get("backtest") or {}
    if backtest:
        lines += [
            "",
            f"## Backtest after costs ({_number(backtest.get('cost_bps'), 1)} bps per unit "
            "of turnover)",
            "",
        ]
        if backtest.get("method"):
            lines += [str(backtest["method"]), ""]
        bt_rows = []
        for key, value in backtest.items():
            if not isinstance(value, dict) or "total_return" not in value:
                continue
            bt_rows.append(
                [
                    _STRATEGY_LABELS.get(key, key.replace("_", " ")),
                    _number(value.get("total_return"), percent=True),
                    _number(value.get("cagr"), percent=True),
                    _number(value.get("sharpe"), 2),
                    _number(value.get("max_drawdown"), percent=True),
                    _curve_summary(value.get("equity_curve") or []),
                ]
            )
        lines += _table(
            ["strategy", "total return", "CAGR", "Sharpe", "max drawdown", "equity curve"],
            bt_rows,
        )

    folds = card.get("folds") or []
    if folds:
        lines += ["", "## Walk-forward folds", ""]
        lines += _table(
            ["fold", "train", "test", "train rows", "test rows"],
            [
                [
                    str(i + 1),
                    f"{f.get('train_start')} → {f.get('train_end')}",
                    f"{f.get('test_start')} → {f.get('test_end')}",
                    str(f.get("rows_train")),
                    str(f.get("rows_test")),
                ]
                for i, f in enumerate(folds)
            ],
        )
    warnings = card.get("warnings") or []
    if warnings:
        lines += ["", "## Warnings", ""]
        lines += [f"- {warning}" for warning in warnings]
    notes = card.get("notes") or []
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in notes]
    lines.append("")
    return "\n".join(lines)
