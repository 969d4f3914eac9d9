"""/invocations: what a caller gets back for good and bad bodies (never a 500)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from quantcore.features import MIN_HISTORY_BARS


def test_predicts_every_ticker_with_drivers(post: Any, series_of: Any) -> None:
    reply = post({"series": [series_of("AAPL"), series_of("MSFT"), series_of("IBM")]})
    assert reply.status_code == 200
    body = reply.json()
    assert body["model_version"] == "v-unit"
    assert body["market_supplied"] is False
    assert [p["ticker"] for p in body["predictions"]] == ["AAPL", "MSFT", "IBM"]
    for prediction in body["predictions"]:
        assert prediction["as_of"] == "2010-08-20"
        assert prediction["horizon_days"] == 5
        assert 0.0 < prediction["prob_up"] < 1.0
        assert prediction["model_version"] == "v-unit"
        drivers = prediction["drivers"]
        assert 1 <= len(drivers) <= 5
        magnitudes = [abs(d["contribution"]) for d in drivers]
        assert magnitudes == sorted(magnitudes, reverse=True)
        assert set(drivers[0]) == {"feature", "value", "reference", "contribution"}


def test_column_form_answers_like_row_form(post: Any, series_of: Any) -> None:
    rows = post({"series": [series_of("AAPL")]}).json()["predictions"][0]
    columns = post({"series": [series_of("AAPL", form="columns")]}).json()["predictions"][0]
    assert rows == columns


def test_as_of_predicts_for_the_last_bar_on_or_before_it(post: Any, series_of: Any) -> None:
    entry = series_of("AAPL", bars=200)
    last_date = entry["bars"][-1]["date"]
    reply = post({"series": [entry], "as_of": "2010-08-01"})  # a Sunday
    prediction = reply.json()["predictions"][0]
    assert prediction["as_of"] == "2010-07-30"
    assert prediction["as_of"] < last_date


def test_market_series_is_used(post: Any, series_of: Any, sample_bars: Any) -> None:
    from quantcore.features import FEATURE_NAMES, equal_weight_market

    market = equal_weight_market(sample_bars).dropna()
    document = {
        "series": [series_of("AAPL")],
        "market": [{"date": d.strftime("%Y-%m-%d"), "return": r} for d, r in market.items()],
        "max_drivers": len(FEATURE_NAMES),
    }
    with_market = post(document).json()
    assert with_market["market_supplied"] is True
    drivers = {d["feature"]: d for d in with_market["predictions"][0]["drivers"]}
    assert drivers["beta_60d"]["value"] is not None
    without = post({"series": [series_of("AAPL")], "max_drivers": len(FEATURE_NAMES)}).json()
    drivers = {d["feature"]: d for d in without["predictions"][0]["drivers"]}
    assert drivers.get("beta_60d", {"value": None})["value"] is None


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (b"{not json", "malformed_json", None),
        # NaN and infinite numbers are not JSON: the body is refused as a whole.
        (b'{"series": [NaN]}', "malformed_json", None),
        (b'{"series": [{"ticker": "A", "bars": [{"open": Infinity}]}]}', "malformed_json", None),
        (b'{"series": [{"ticker": "A", "bars": [{"open": 1e400}]}]}', "malformed_json", None),
        (b"[]", "invalid_body", "body"),
        (b'"text"', "invalid_body", "body"),
        (b"{}", "missing_field", "series"),
        (b'{"series": {}}', "invalid_type", "series"),
        (b'{"series": []}', "invalid_value", "series"),
        (b'{"series": [], "asof": "2024-01-01"}', "unknown_field", "asof"),
        (b'{"series": [{}], "as_of": "01/02/2024"}', "invalid_date", "as_of"),
        (b'{"series": [{}], "as_of": 20240102}', "invalid_date", "as_of"),
        (b'{"series": [{}], "max_drivers": "5"}', "invalid_value", "max_drivers"),
        (b'{"series": [{}], "max_drivers": 99}', "invalid_value", "max_drivers"),
        (b'{"series": [{}], "market": 3}', "invalid_type", "market"),
        (
            b'{"series": [{}], "market": [{"date": "2024-01-02", "return": -2}]}',
            "invalid_value",
            "market[0].return",
        ),
        (
            b'{"series": [{}], "market": {"date": ["2024-01-02"], "return": ["x"]}}',
            "invalid_type",
            "market.return[0]",
        ),
        (
            b'{"series": [{}], "market": [{"date": "2024-01-02", "return": 0.1},'
            b' {"date": "2024-01-02", "return": 0.2}]}',
            "duplicate_date",
            "market",
        ),
    ],
)
def test_whole_body_problems_are_400_with_a_field(
    post: Any, body: bytes, code: str, field: str | None
) -> None:
    reply = post(body)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == code
    assert error.get("field") == field
    assert error["message"]


def _set(entry: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(entry)
    target: Any = changed
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "code", "field"),
    [
        (["bars", 3, "close"], -1.0, "invalid_price", "bars[3].close"),
        (["bars", 3, "open"], 0, "invalid_price", "bars[3].open"),
        (["bars", 4, "high"], 1e-400, "invalid_price", "bars[4].high"),  # underflows to 0
        (["bars", 5, "volume"], -10, "invalid_volume", "bars[5].volume"),
        (["bars", 6, "low"], 10_000.0, "high_below_low", "bars[6].high"),
        (["bars", 7, "close"], "12.5", "invalid_type", "bars[7].close"),
        (["bars", 7, "close"], True, "invalid_type", "bars[7].close"),
        (["bars", 8, "close"], None, "missing_field", "bars[8].close"),
        (["bars", 8, "volume"], _DELETE, "missing_field", "bars[8].volume"),
        (["bars", 9, "date"], "2010-02-30", "invalid_date", "bars[9].date"),
        (["bars", 9, "date"], 20100104, "invalid_date", "bars[9].date"),
        (["bars", 9, "date"], "3000-01-01", "invalid_date", "bars[9].date"),
        (["bars", 10], "bar", "invalid_type", "bars[10]"),
        (["bars"], "bars", "invalid_type", "bars"),
        (["bars"], [], "missing_field", "bars"),
        (["bars"], _DELETE, "missing_field", "bars"),
        (["ticker"], 42, "invalid_ticker", "ticker"),
        (["ticker"], "", "invalid_ticker", "ticker"),
        (["ticker"], "A B/../C", "invalid_ticker", "ticker"),
    ],
)
def test_one_bad_ticker_fails_alone(
    post: Any, series_of: Any, path: list[Any], value: Any, code: str, field: str
) -> None:
    bad = _set(series_of("MSFT"), path, value)
    reply = post({"series": [series_of("AAPL"), bad, series_of("IBM")]})
    assert reply.status_code == 200
    predictions = reply.json()["predictions"]
    assert predictions[0]["ticker"] == "AAPL" and "prob_up" in predictions[0]
    assert predictions[2]["ticker"] == "IBM" and "prob_up" in predictions[2]
    failed = predictions[1]
    assert "prob_up" not in failed
    assert failed["error"]["code"] == code
    assert failed["error"]["field"] == f"series[1].{field}"
    assert failed["ticker"] == (bad.get("ticker") if isinstance(bad.get("ticker"), str) else None)


def test_unsorted_and_duplicate_dates_fail_the_ticker(post: Any, series_of: Any) -> None:
    swapped = series_of("MSFT")
    swapped["bars"][20], swapped["bars"][21] = swapped["bars"][21], swapped["bars"][20]
    doubled = series_of("IBM")
    doubled["bars"][30]["date"] = doubled["bars"][29]["date"]
    predictions = post({"series": [swapped, doubled, series_of("AAPL")]}).json()["predictions"]
    assert predictions[0]["error"]["code"] == "unsorted_dates"
    assert predictions[0]["error"]["field"] == "series[0].bars[21].date"
    assert predictions[1]["error"]["code"] == "duplicate_date"
    assert predictions[1]["error"]["field"] == "series[1].bars[30].date"
    assert "prob_up" in predictions[2]


def test_too_few_bars_and_nothing_before_as_of(post: Any, series_of: Any) -> None:
    short = series_of("MSFT", bars=MIN_HISTORY_BARS - 1)
    enough = series_of("IBM", bars=MIN_HISTORY_BARS)
    predictions = post({"series": [short, enough]}).json()["predictions"]
    assert predictions[0]["error"]["code"] == "insufficient_history"
    assert str(MIN_HISTORY_BARS) in predictions[0]["error"]["message"]
    assert "prob_up" in predictions[1]

    early = post({"series": [series_of("AAPL")], "as_of": "1999-01-04"}).json()
    assert early["predictions"][0]["error"]["code"] == "no_bar_before_as_of"


def test_duplicate_ticker_and_non_object_entry(post: Any, series_of: Any) -> None:
    predictions = post({"series": [series_of("AAPL"), series_of("AAPL"), 7]}).json()["predictions"]
    assert "prob_up" in predictions[0]
    assert predictions[1]["error"]["code"] == "duplicate_ticker"
    assert predictions[2] == {
        "ticker": None,
        "error": {
            "code": "invalid_type",
            "message": "a series entry must be an object",
            "field": "series[2]",
        },
    }


def test_column_form_length_mismatch(post: Any, series_of: Any) -> None:
    entry = series_of("AAPL", form="columns")
    entry["bars"]["volume"] = entry["bars"]["volume"][:-1]
    prediction = post({"series": [entry]}).json()["predictions"][0]
    assert prediction["error"]["code"] == "invalid_value"
    assert prediction["error"]["field"] == "series[0].bars.volume"


def test_extra_bar_fields_are_ignored(post: Any, series_of: Any) -> None:
    entry = series_of("AAPL")
    for bar in entry["bars"]:
        bar["adj_close"] = bar["close"]
    entry["exchange"] = "NASDAQ"
    assert "prob_up" in post({"series": [entry]}).json()["predictions"][0]


def test_constant_prices_do_not_break_the_batch(post: Any, series_of: Any) -> None:
    flat = series_of("MSFT")
    for bar in flat["bars"]:
        bar.update(open=10.0, high=10.0, low=10.0, close=10.0, volume=0)
    predictions = post({"series": [flat, series_of("AAPL")]}).json()["predictions"]
    assert all("prob_up" in p for p in predictions), json.dumps(predictions)[:500]
