"""Predictions through the real model server: its numbers, the cache, an outage and the
recovery, and the live track record once later prices arrive."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests
import sqlalchemy as sa
from flask.testing import FlaskClient
from inference_fixture import ServedModel
from inference_support import ModelServer

from quantcore.features import equal_weight_market

AS_OF = "2010-08-20"  # the sample's last day
UNAVAILABLE_PREFIX = "Predictions are unavailable right now: "


def _model_server_answer(
    url: str, sample: pd.DataFrame, ticker: str, *, until: str | None = None, count: int = 130
) -> dict[str, Any]:
    """What the model server answers for the bars (and market) the API should send."""
    frame = sample if until is None else sample[sample["date"] <= pd.Timestamp(until)]
    market = equal_weight_market(frame)
    mine = frame[frame["ticker"] == ticker].sort_values("date").tail(count)
    window = market.loc[mine["date"].min() : mine["date"].max()]
    body = {
        "series": [
            {
                "ticker": ticker,
                "bars": {
                    "date": [d.strftime("%Y-%m-%d") for d in mine["date"]],
                    **{
                        name: mine[name].astype(float).tolist()
                        for name in ("open", "high", "low", "close", "volume")
                    },
                },
            }
        ],
        "market": {
            "date": [d.strftime("%Y-%m-%d") for d in window.index],
            "return": window.astype(float).tolist(),
        },
    }
    reply = requests.post(f"{url}/invocations", json=body, timeout=60)
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()["predictions"][0]
    return answer


def _cached_rows(db_url: str) -> list[Any]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(sa.text("SELECT * FROM predictions ORDER BY ticker, as_of")).all()
            )
    finally:
        engine.dispose()


def test_a_prediction_is_the_model_servers_answer_then_comes_from_the_cache(
    client: FlaskClient,
    auth: Any,
    seed_bars: Any,
    inference_sample: pd.DataFrame,
    production_model: ServedModel,
    inference_url: str,
    db_url: str,
) -> None:
    seed_bars(inference_sample)
    auth.register_and_login(client)

    first = client.get("/api/predictions/AAPL")
    assert first.status_code == 200, first.get_data(as_text=True)
    answer = first.get_json()
    expected = _model_server_answer(inference_url, inference_sample, "AAPL")
    assert answer["ticker"] == "AAPL"
    assert answer["as_of"] == AS_OF == answer["data_as_of"]
    assert answer["horizon_days"] == 5
    assert answer["model_version"] == production_model.version
    assert answer["cached"] is False
    assert answer["label"] == production_model.label
    assert "median" in answer["label"]
    assert answer["prob_up"] == pytest.approx(expected["prob_up"], abs=1e-9)
    assert answer["expected_return"] == pytest.approx(expected["expected_return"], abs=1e-9)
    assert [d["feature"] for d in answer["drivers"]] == [d["feature"] for d in expected["drivers"]]

    again = client.get("/api/predictions/aapl")
    assert again.status_code == 200
    repeat = again.get_json()
    assert repeat["cached"] is True
    assert {k: v for k, v in repeat.items() if k != "cached"} == {
        k: v for k, v in answer.items() if k != "cached"
    }
    rows = _cached_rows(db_url)
    assert [(r.ticker, r.as_of, r.model_version) for r in rows] == [
        ("AAPL", date(2010, 8, 20), production_model.version)
    ]
    assert rows[0].scored_at is None


def test_the_market_series_changes_the_answer(
    client: FlaskClient,
    auth: Any,
    seed_bars: Any,
    inference_sample: pd.DataFrame,
    production_model: ServedModel,
    inference_url: str,
) -> None:
    """The API sends the equal-weight market of every stored ticker: with only a handful of
    tickers stored, the market — and so the answer — differs from the full sample's."""
    few = inference_sample[inference_sample["ticker"].isin(["MSFT", "KO", "GE"])]
    seed_bars(few)
    auth.register_and_login(client)
    answer = client.get("/api/predictions/MSFT").get_json()
    assert answer["prob_up"] == pytest.approx(
        _model_server_answer(inference_url, few, "MSFT")["prob_up"], abs=1e-9
    )
    assert answer["prob_up"] != pytest.approx(
        _model_server_answer(inference_url, inference_sample, "MSFT")["prob_up"], abs=1e-9
    )


def test_cached_answers_survive_an_outage_and_the_api_recovers_by_itself(
    client: FlaskClient,
    auth: Any,
    seed_bars: Any,
    inference_sample: pd.DataFrame,
    production_model: ServedModel,
    inference_switch: ModelServer,
) -> None:
    seed_bars(inference_sample)
    auth.register_and_login(client)
    served = client.get("/api/predictions/IBM").get_json()
    assert served["cached"] is False

    inference_switch.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{inference_switch.url}/ping", timeout=5)
    cached = client.get("/api/predictions/IBM")
    assert cached.status_code == 200
    assert cached.get_json()["cached"] is True
    assert cached.get_json()["prob_up"] == served["prob_up"]

    down = client.get("/api/predictions/MSFT")
    assert down.status_code == 503
    error = down.get_json()["error"]
    assert error["code"] == "predictions_unavailable"
    assert error["message"].startswith(UNAVAILABLE_PREFIX)
    assert "model server" in error["message"]
    # Everything else keeps answering.
    assert client.get("/api/portfolios").status_code == 200
    assert client.get("/api/auth/me").status_code == 200
    assert client.get("/api/models").status_code == 200
    health = client.get("/api/health").get_json()
    assert health["inference"]["status"] == "down"
    assert health["database"]["status"] == "ok"

    inference_switch.start()
    back = client.get("/api/predictions/MSFT")
    assert back.status_code == 200, back.get_data(as_text=True)
    assert back.get_json()["cached"] is False
    assert client.get("/api/health").get_json()["inference"]["status"] == "ok"


def test_a_stopped_model_server_is_a_503_not_a_500(
    client: FlaskClient,
    auth: Any,
    seed_bars: Any,
    inference_sample: pd.DataFrame,
    production_model: ServedModel,
    stopped_inference: ModelServer,
) -> None:
    seed_bars(inference_sample[inference_sample["ticker"] == "KO"])
    auth.register_and_login(client)
    reply = client.get("/api/predictions/KO")
    assert reply.status_code == 503
    assert reply.get_json()["error"]["code"] == "predictions_unavailable"


def test_unknown_tickers_short_histories_and_no_model(
    client: FlaskClient, auth: Any, seed_bars: Any, db_url: str, inference_model: ServedModel
) -> None:
    from inference_fixture import register_version

    seed_bars.walk("NEWCO", 40)
    seed_bars.walk("OLDCO", 200)
    auth.register_and_login(client)

    # Before any model is in production, predictions are unavailable (not an error of ours).
    none_yet = client.get("/api/predictions/OLDCO")
    assert none_yet.status_code == 503
    assert "no model version is in production" in none_yet.get_json()["error"]["message"]

    register_version(db_url, inference_model)
    missing = client.get("/api/predictions/NOPE")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/predictions/%24%24%24").status_code == 404

    short = client.get("/api/predictions/NEWCO")
    assert short.status_code == 422
    error = short.get_json()["error"]
    assert error["code"] == "insufficient_history"
    assert "40 daily bars" in error["message"] and "61" in error["message"]


def test_predictions_need_a_signed_in_user(client: FlaskClient) -> None:
    reply = client.get("/api/predictions/AAPL")
    assert reply.status_code == 401


# -- the live track record ----------------------------------------------------------------------
def _forward_returns(sample: pd.DataFrame, as_of: str, horizon: int = 5) -> pd.Series:
    """Each ticker's close ``horizon`` bars after ``as_of`` over its close on ``as_of``."""
    result = {}
    for ticker, bars in sample.sort_values("date").groupby("ticker"):
        dates = bars["date"].tolist()
        at = pd.Timestamp(as_of)
        if at not in dates:
            continue
        i = dates.index(at)
        if i + horizon < len(dates) and i + 1 >= 61:
            closes = bars["close"].tolist()
            result[ticker] = closes[i + horizon] / closes[i] - 1.0
    return pd.Series(result)


def test_served_predictions_are_scored_once_their_prices_arrive(
    client: FlaskClient,
    auth: Any,
    seed_bars: Any,
    inference_sample: pd.DataFrame,
    production_model: ServedModel,
    inference_url: str,
    db_url: str,
) -> None:
    as_of = "2010-06-30"
    before = inference_sample[inference_sample["date"] <= pd.Timestamp(as_of)]
    after = inference_sample[inference_sample["date"] > pd.Timestamp(as_of)]
    seed_bars(before)
    auth.register_and_login(client)
    picked = ["AAPL", "MSFT", "IBM", "GE", "KO", "XOM", "JPM"]
    served = {}
    for ticker in picked:
        reply = client.get(f"/api/predictions/{ticker}")
        assert reply.status_code == 200, reply.get_data(as_text=True)
        served[ticker] = reply.get_json()
        assert served[ticker]["as_of"] == as_of
    # The same answer the server gives for the bars up to that day.
    assert served["AAPL"]["prob_up"] == pytest.approx(
        _model_server_answer(inference_url, inference_sample, "AAPL", until=as_of)["prob_up"],
        abs=1e-9,
    )

    url = f"/api/models/{production_model.version}/track-record"
    waiting = client.get(url)
    assert waiting.status_code == 200, waiting.get_data(as_text=True)
    live = waiting.get_json()["live"]
    assert live["scored"] == 0 and live["pending"] == len(picked)
    assert live["hit_rate"] is None and live["ic_mean"] is None and live["ic_reason"]

    # Three more days: still short of the 5-day horizon, nothing is scored.
    dates = sorted(after["date"].unique())
    seed_bars(after[after["date"] <= dates[2]])
    assert client.get(url).get_json()["live"]["scored"] == 0

    seed_bars(after[after["date"] > dates[2]])
    record = client.get(url).get_json()
    live = record["live"]
    assert live["scored"] == len(picked) and live["pending"] == 0
    assert live["scored_against_cross_section"] == len(picked)
    assert live["scored_by_sign"] == 0

    # By hand: the label is "beat the median 5-day return of the day's 30 tickers".
    forward = _forward_returns(inference_sample, as_of)
    assert len(forward) == 30
    median = float(np.median(forward.to_numpy()))
    outcome = {t: forward[t] > median for t in picked}
    prob = {t: served[t]["prob_up"] for t in picked}
    hits = [(prob[t] > 0.5) == outcome[t] for t in picked]
    assert live["hit_rate"] == pytest.approx(sum(hits) / len(picked))
    brier = np.mean([(prob[t] - float(outcome[t])) ** 2 for t in picked])
    assert live["brier"] == pytest.approx(brier)
    ic = np.corrcoef([prob[t] for t in picked], [forward[t] for t in picked])[0, 1]
    assert live["ic_mean"] == pytest.approx(ic)
    assert live["ic_days"] == 1 and live["ic_reason"] is None
    assert live["first_as_of"] == live["last_as_of"] == as_of
    assert record["out_of_sample"]["n_test_rows"] == production_model.card["metrics"]["n_test_rows"]
    assert set(record["backtest"]) >= {"long_only", "long_short", "buy_and_hold"}
    assert record["label"] == production_model.label

    rows = {row.ticker: row for row in _cached_rows(db_url)}
    for ticker in picked:
        row = rows[ticker]
        assert row.realised_return == pytest.approx(forward[ticker])
        assert row.outcome_up is bool(outcome[ticker])
        assert row.outcome_basis == "cross_section"
        assert row.cross_section_size == 30
        assert row.cross_section_median == pytest.approx(median)
        own_dates = sorted(after.loc[after["ticker"] == ticker, "date"])
        assert row.exit_date == own_dates[4].date()

    # Scoring is idempotent: asking again changes nothing.
    assert client.get(url).get_json()["live"] == live


def test_without_a_cross_section_the_outcome_is_the_sign_of_the_return(
    client: FlaskClient,
    auth: Any,
    seed_bars: Any,
    production_model: ServedModel,
    inference_url: str,
    db_url: str,
) -> None:
    walks = {t: seed_bars.random_walk(t, 120, seed=i) for i, t in enumerate(["ALFA", "BETA"])}
    for rows in walks.values():
        seed_bars(rows[:110])
    auth.register_and_login(client)
    served = {t: client.get(f"/api/predictions/{t}").get_json() for t in walks}
    assert all(answer["cached"] is False for answer in served.values())
    for rows in walks.values():
        seed_bars(rows[110:])

    record = client.get(f"/api/models/{production_model.version}/track-record").get_json()
    live = record["live"]
    assert live["scored"] == 2 and live["scored_by_sign"] == 2
    realised = {
        t: rows[114]["adj_close"] / rows[109]["adj_close"] - 1.0 for t, rows in walks.items()
    }
    hits = [(served[t]["prob_up"] > 0.5) == (realised[t] > 0) for t in walks]
    assert live["hit_rate"] == pytest.approx(sum(hits) / 2)
    assert live["ic_mean"] is None
    assert "at least 5 scored tickers" in live["ic_reason"]
    rows_by_ticker = {row.ticker: row for row in _cached_rows(db_url)}
    for ticker, value in realised.items():
        assert rows_by_ticker[ticker].realised_return == pytest.approx(value)
        assert rows_by_ticker[ticker].outcome_basis == "sign"
