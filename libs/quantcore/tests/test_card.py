"""A model card validates, stays strict JSON, and renders its key numbers for people."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import ValidationError

from quantcore.card import ModelCard, render_markdown


def strategy(total: float, sharpe: float) -> dict[str, Any]:
    curve = [["2010-03-01", 1.0], ["2010-03-08", 1.0 + total / 2], ["2010-03-15", 1.0 + total]]
    return {
        "cagr": total * 5,
        "sharpe": sharpe,
        "max_drawdown": -0.031,
        "total_return": total,
        "equity_curve": curve,
    }


def example_card() -> dict[str, Any]:
    metric_names = {
        "accuracy": 0.5312,
        "majority_rate": 0.5105,
        "mcc": 0.0421,
        "brier": 0.2488,
        "ic_mean": 0.0234,
        "ic_ir": 0.1876,
        "rank_ic_mean": 0.0311,
        "n_test_rows": 60123,
        "n_test_days": 118,
    }
    return {
        "version": "20240105-abc",
        "model_name": "direction-5d",
        "family": "hgb",
        "trained_at": "2024-01-05T06:00:00+00:00",
        "data": {
            "tickers": ["AAPL", "MSFT"],
            "start": "2009-08-21",
            "end": "2010-08-20",
            "rows": 123456,
            "sha256": "ab" * 32,
        },
        "horizon_days": 5,
        "feature_set": "f1",
        "features": ["ret_1d", "ret_5d"],
        "folds": [
            {
                "train_start": "2009-08-21",
                "train_end": "2010-03-01",
                "test_start": "2010-03-09",
                "test_end": "2010-04-20",
                "rows_train": 40000,
                "rows_test": 15000,
            }
        ],
        "metrics": metric_names,
        "candidates": {
            "linear": {"log_loss": 0.6931, "accuracy": 0.5101, "ic_mean": 0.011},
            "hgb": {"log_loss": 0.6902, "accuracy": 0.5312, "ic_mean": 0.0234},
        },
        "baselines": {
            "momentum": {"accuracy": 0.4977, "majority_rate": 0.5105, "ic_mean": -0.0123},
            "reversal": {"accuracy": 0.5222, "majority_rate": 0.5105, "ic_mean": 0.0456},
        },
        "backtest": {
            "cost_bps": 10.0,
            "long_only": strategy(0.0712, 1.23),
            "long_short": strategy(0.0345, 0.87),
            "buy_and_hold": strategy(0.0512, 0.95),
        },
        "leak_check": {"passed": True, "reasons": []},
        "promoted": False,
        "promotion_reason": None,
    }


def test_a_complete_card_validates_and_round_trips_as_strict_json() -> None:
    card = ModelCard.model_validate(example_card()).model_dump(mode="json")
    text = json.dumps(card, allow_nan=False)
    assert ModelCard.model_validate(json.loads(text)).metrics.accuracy == 0.5312


def test_a_card_without_metrics_or_with_a_wrong_type_is_rejected() -> None:
    missing = example_card()
    del missing["metrics"]
    with pytest.raises(ValidationError):
        ModelCard.model_validate(missing)
    wrong = example_card()
    wrong["folds"][0]["rows_train"] = "many"
    with pytest.raises(ValidationError):
        ModelCard.model_validate(wrong)


def test_markdown_shows_the_numbers_an_investor_needs() -> None:
    card = example_card()
    text = render_markdown(card)
    for expected in (
        "direction-5d",
        "0.5312",  # accuracy
        "0.5105",  # majority rate
        "0.0234",  # IC
        "0.1876",  # ICIR
        "0.0456",  # reversal baseline IC
        "7.1%",  # long-only total return
        "1.23",  # long-only Sharpe
        "60123",
        "hgb (chosen)",
        "| metric | model | momentum | reversal |",
        "not annualised",
    ):
        assert expected in text, expected
    # curves are summarised, not dumped point by point
    assert "2010-03-08" not in text
    assert "Passed" in text


def test_markdown_shouts_about_a_failed_leak_check_and_survives_missing_numbers() -> None:
    card = copy.deepcopy(example_card())
    card["leak_check"] = {"passed": False, "reasons": ["mean daily IC 0.412 is above 0.08"]}
    card["metrics"]["ic_ir"] = None
    card["promotion_reason"] = "Not promoted: leak check failed."
    text = render_markdown(card)
    assert "FAILED" in text and "0.412" in text and "Not promoted: leak check failed." in text
    assert "| ICIR (not annualised) | — |" in text
