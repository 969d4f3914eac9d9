"""The registry's headline numbers and the documented model and prediction routes."""

from __future__ import annotations

from flask.testing import FlaskClient

from api.predictions.track_record import _backtest
from api.registry.service import headline_metrics


def test_headline_metrics_take_numbers_and_leave_the_rest() -> None:
    metrics = headline_metrics(
        {
            "accuracy": 0.52,
            "majority_rate": 0.5,
            "mcc": None,
            "brier": 0.249,
            "ic_mean": 0.031,
            "ic_ir": "n/a",
            "rank_ic_mean": True,  # not a number, whatever Python thinks
            "n_test_rows": 1200.0,
            "n_test_days": 60,
            "extra": 1.0,
        }
    )
    assert metrics.accuracy == 0.52 and metrics.majority_rate == 0.5
    assert metrics.mcc is None and metrics.ic_ir is None and metrics.rank_ic_mean is None
    assert metrics.n_test_rows == 1200 and isinstance(metrics.n_test_rows, int)
    assert "extra" not in metrics.model_dump()
    assert headline_metrics(None).model_dump() == headline_metrics({}).model_dump()


def test_the_backtest_summary_leaves_the_equity_curves_out() -> None:
    card = {
        "backtest": {
            "cost_bps": 10,
            "method": "top quintile, rebalanced every 5 days",
            "long_only": {
                "total_return": 0.12,
                "cagr": 0.05,
                "sharpe": 0.8,
                "max_drawdown": -0.1,
                "equity_curve": [["2010-01-04", 1.0], ["2010-01-05", 1.01]],
            },
            "momentum": {"total_return": -0.02, "cagr": None, "sharpe": None},
        }
    }
    strategies, cost = _backtest(card)
    assert cost == 10.0
    assert set(strategies) == {"long_only", "momentum"}
    assert strategies["long_only"].model_dump() == {
        "total_return": 0.12,
        "cagr": 0.05,
        "sharpe": 0.8,
        "max_drawdown": -0.1,
    }
    assert strategies["momentum"].cagr is None
    assert _backtest({}) == ({}, None)


def test_the_routes_are_documented_with_their_errors(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    prediction = paths["/api/predictions/{ticker}"]["get"]
    assert {"200", "401", "404", "422", "503"} <= set(prediction["responses"])
    assert paths["/api/models"]["get"]["responses"]["200"]
    assert "404" in paths["/api/models/production"]["get"]["responses"]
    assert "404" in paths["/api/models/{version}/card"]["get"]["responses"]
    assert "404" in paths["/api/models/{version}/track-record"]["get"]["responses"]


def test_models_and_predictions_need_a_signed_in_user(client: FlaskClient) -> None:
    # No database behind this app: a 401 proves nothing was read before the check.
    for path in (
        "/api/predictions/AAPL",
        "/api/models",
        "/api/models/production",
        "/api/models/v1/card",
        "/api/models/v1/track-record",
    ):
        reply = client.get(path)
        assert reply.status_code == 401, path
        assert reply.get_json()["error"]["code"] == "unauthenticated"
