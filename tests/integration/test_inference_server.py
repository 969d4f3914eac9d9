"""The model server as it runs: the real ``serve`` process over HTTP, a model trained by the
trainer's code on the bundled real sample, stored in the suite's S3 server with a pointer.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inference_support import (
    ModelServer,
    bars_of,
    new_models_store,
    publish,
    running_server,
    train_model,
)
from inference_support import sample_bars as load_sample_bars

from devstack.waiting import wait_until
from quantcore.artifact import ModelBundle
from quantcore.features import compute_features

TICKERS = ["AAPL", "MSFT", "IBM", "AA", "AXP", "BA", "CAT", "GE", "JPM", "KO", "MMM", "XOM"]
Server = ModelServer


# -- data and model -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def sample_bars() -> pd.DataFrame:
    return load_sample_bars(TICKERS)


@pytest.fixture(scope="session")
def trained(sample_bars: pd.DataFrame) -> tuple[ModelBundle, dict[str, Any]]:
    """One version trained by the trainer's own code (walk-forward, family choice, refit)."""
    return train_model(sample_bars, version="v1", families=("linear", "hgb"), n_folds=2)


@pytest.fixture(scope="module")
def server(s3_endpoint: str, trained: Any) -> Iterator[Server]:
    """A server on v1, shared by the tests that do not change the pointer."""
    store = new_models_store(s3_endpoint)
    publish(store, *trained, version="v1")
    with running_server(s3_endpoint, store.bucket) as running:
        yield running


# -- predictions ------------------------------------------------------------------------------
def test_predicts_several_tickers_like_the_model_does_in_process(
    server: Server, sample_bars: pd.DataFrame, trained: Any
) -> None:
    tickers = ["AAPL", "MSFT", "IBM", "GE", "KO"]
    body = {"series": [{"ticker": t, "bars": bars_of(sample_bars, t)} for t in tickers]}
    reply = requests.post(f"{server.url}/invocations", json=body, timeout=60)
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert answer["model_version"] == "v1"
    predictions = answer["predictions"]
    assert [p["ticker"] for p in predictions] == tickers

    bundle, _ = trained
    recent = sample_bars.groupby("ticker").tail(120)
    features = compute_features(recent[recent["ticker"].isin(tickers)])
    last = features.groupby("ticker").tail(1).set_index("ticker").loc[tickers]
    expected = bundle.predict(last)
    for prediction, (_, row) in zip(predictions, expected.iterrows(), strict=True):
        assert prediction["as_of"] == "2010-08-20"
        assert prediction["horizon_days"] == 5
        assert prediction["model_version"] == "v1"
        assert prediction["prob_up"] == pytest.approx(row["prob_up"], abs=1e-9)
        assert prediction["expected_return"] == pytest.approx(row["expected_return"], abs=1e-9)
        assert prediction["drivers"], prediction
        assert all(d["feature"] in bundle.feature_names for d in prediction["drivers"])


def test_one_bad_ticker_does_not_fail_the_others(server: Server, sample_bars: pd.DataFrame) -> None:
    broken = bars_of(sample_bars, "MSFT")
    broken[50]["high"] = broken[50]["low"] / 2
    body = {
        "series": [
            {"ticker": "AAPL", "bars": bars_of(sample_bars, "AAPL")},
            {"ticker": "MSFT", "bars": broken},
            {"ticker": "IBM", "bars": bars_of(sample_bars, "IBM", count=30)},
            {"ticker": "GE", "bars": bars_of(sample_bars, "GE")},
        ]
    }
    reply = requests.post(f"{server.url}/invocations", json=body, timeout=60)
    assert reply.status_code == 200
    aapl, msft, ibm, ge = reply.json()["predictions"]
    assert "prob_up" in aapl and "prob_up" in ge
    assert msft["error"]["code"] == "high_below_low"
    assert msft["error"]["field"] == "series[1].bars[50].high"
    assert ibm["error"]["code"] == "insufficient_history"


def test_contract_errors_over_http(server: Server) -> None:
    reply = requests.post(
        f"{server.url}/invocations", data=b"a,b\n1,2", headers={"Content-Type": "text/csv"}
    )
    assert reply.status_code == 415
    too_big = b'{"series": ["' + b"x" * (4 * 1024 * 1024) + b'"]}'
    reply = requests.post(
        f"{server.url}/invocations",
        data=too_big,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "payload_too_large"
    reply = requests.post(
        f"{server.url}/invocations",
        data=b"{oops",
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert reply.status_code == 400
    info = requests.get(f"{server.url}/models/current", timeout=10).json()
    assert info["model"]["version"] == "v1"
    assert info["model"]["source"].endswith("/models/direction-5d/v1/model.tar.gz")


# -- fuzz -------------------------------------------------------------------------------------
_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["2010-08-20", "2010-02-30", "AAPL", "", "1e5", "-1"])
)
_json_value = st.recursive(
    _json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = ["date", "open", "high", "low", "close", "volume"]


@st.composite
def _mutated_bodies(draw: st.DrawFn, base: dict[str, Any]) -> bytes:
    body = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        series = body.get("series")
        where = draw(st.sampled_from(["top", "entry", "ticker", "bars", "bar", "cell"]))
        value = draw(_json_value)
        delete = draw(st.booleans()) and draw(st.booleans())
        if where == "top" or not isinstance(series, list) or not series:
            key = draw(st.sampled_from(["series", "as_of", "market", "max_drivers", "extra"]))
            target: Any = body
        else:
            entry_index = draw(st.integers(0, len(series) - 1))
            entry = series[entry_index]
            if where == "entry" or not isinstance(entry, dict):
                target, key = series, entry_index
            elif where in {"ticker", "bars"} or not isinstance(entry.get("bars"), list):
                target, key = entry, where if where in {"ticker", "bars"} else "bars"
            else:
                bars = entry["bars"]
                if not bars:
                    target, key = entry, "bars"
                else:
                    bar_index = draw(st.integers(0, len(bars) - 1))
                    if where == "bar" or not isinstance(bars[bar_index], dict):
                        target, key = bars, bar_index
                    else:
                        target, key = bars[bar_index], draw(st.sampled_from(_FIELDS))
        if delete and isinstance(target, dict):
            target.pop(key, None)
        else:
            target[key] = value
    return json.dumps(body).encode()


def _fuzz_bodies(base: dict[str, Any]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        _mutated_bodies(base),
        _json_value.map(lambda value: json.dumps(value).encode()),
        st.fixed_dictionaries(
            {},
            optional={
                "series": _json_value,
                "as_of": _json_value,
                "market": _json_value,
                "max_drivers": _json_value,
            },
        ).map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=64),
    )


@pytest.fixture(scope="module")
def fuzz_base(sample_bars: pd.DataFrame) -> dict[str, Any]:
    return {
        "series": [
            {"ticker": t, "bars": bars_of(sample_bars, t, count=70)} for t in ("AAPL", "KO")
        ],
        "as_of": "2010-08-20",
        "max_drivers": 3,
    }


def test_no_body_makes_the_server_fail(server: Server, fuzz_base: dict[str, Any]) -> None:
    session = requests.Session()
    statuses: set[int] = set()

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=_fuzz_bodies(fuzz_base))
    def check(body: bytes) -> None:
        reply = session.post(
            f"{server.url}/invocations",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        statuses.add(reply.status_code)
        assert reply.status_code < 500, (body[:300], reply.text[:500])
        assert "error" in reply.json() or "predictions" in reply.json()

    check()
    assert {200, 400} <= statuses
    assert "Traceback" not in server.log(), server.log()[-3000:]


# -- hot swap ---------------------------------------------------------------------------------
def test_a_promoted_version_takes_over_without_failing_a_request(
    s3_endpoint: str, trained: Any, sample_bars: pd.DataFrame
) -> None:
    store = new_models_store(s3_endpoint)
    publish(store, *trained, version="v1")
    body = {"series": [{"ticker": "AAPL", "bars": bars_of(sample_bars, "AAPL", count=80)}]}
    outcomes: list[tuple[str, int, str | None]] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    with running_server(s3_endpoint, store.bucket) as server:

        def client() -> None:
            session = requests.Session()
            for _ in range(5000):  # bounded; normally stopped long before by ``stop``
                if stop.is_set():
                    return
                try:
                    ping = session.get(f"{server.url}/ping", timeout=30)
                    reply = session.post(f"{server.url}/invocations", json=body, timeout=30)
                    version = reply.json().get("model_version") if reply.ok else None
                    with lock:
                        outcomes.append(("ping", ping.status_code, None))
                        outcomes.append(("predict", reply.status_code, version))
                except requests.RequestException as exc:
                    with lock:
                        failures.append(repr(exc))

        threads = [threading.Thread(target=client) for _ in range(3)]
        for thread in threads:
            thread.start()
        try:

            def versions_seen(count: int) -> list[str | None]:
                with lock:
                    return [v for kind, _, v in outcomes if kind == "predict"][-count:]

            wait_until(lambda: len(versions_seen(10)) == 10, what="first answers", timeout=60)
            publish(store, *trained, version="v2")
            wait_until(
                lambda: versions_seen(12) == ["v2"] * 12,
                what="every worker serving v2",
                timeout=60,
            )

            # A broken artifact whose hash matches the pointer, then one whose hash does not.
            def refusal_reported(version: str) -> bool:
                info = requests.get(f"{server.url}/models/current", timeout=10).json()
                return f"{version} refused" in (info["last_error"] or "")

            publish(store, *trained, version="v3", body=b"\x1f\x8b broken gzip")
            wait_until(lambda: refusal_reported("v3"), what="the refusal of v3", timeout=60)
            publish(store, *trained, version="v4", sha256="0" * 64)
            wait_until(lambda: refusal_reported("v4"), what="the refusal of v4", timeout=60)
            with lock:
                settled = len(outcomes)
            wait_until(lambda: len(outcomes) > settled + 20, what="more answers", timeout=60)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)

        assert not failures, failures[:5]
        assert all(status == 200 for _, status, _ in outcomes), [
            o for o in outcomes if o[1] != 200
        ][:5]
        versions = [v for kind, _, v in outcomes if kind == "predict"]
        assert set(versions) == {"v1", "v2"}
        switch = versions.index("v2")
        assert set(versions[switch + 24 :]) == {"v2"}
        log = server.log()
        assert "version v3 refused" in log and "not a readable tar.gz" in log
        assert "version v4 refused" in log and "does not match" in log
        ping = requests.get(f"{server.url}/ping", timeout=10)
        assert ping.status_code == 200 and ping.json()["model_version"] == "v2"


def test_a_hash_mismatch_is_refused_and_ping_stays_503(s3_endpoint: str, trained: Any) -> None:
    store = new_models_store(s3_endpoint)
    publish(store, *trained, version="v1", sha256="ab" * 32)
    with running_server(s3_endpoint, store.bucket, expect_ready=False) as server:
        ping = requests.get(f"{server.url}/ping", timeout=10)
        assert ping.status_code == 503
        assert "does not match" in ping.json()["last_error"]
        info = requests.get(f"{server.url}/models/current", timeout=10).json()
        assert info["loaded"] is False
        assert "version v1 refused" in info["last_error"]

        # Once the pointer is corrected, the same running server picks the model up.
        publish(store, *trained, version="v1")
        wait_until(
            lambda: requests.get(f"{server.url}/ping", timeout=10).status_code == 200,
            what="the corrected model",
            timeout=60,
        )


# -- graceful shutdown ------------------------------------------------------------------------
def test_sigterm_lets_a_request_in_flight_finish(
    s3_endpoint: str, trained: Any, sample_bars: pd.DataFrame
) -> None:
    store = new_models_store(s3_endpoint)
    publish(store, *trained, version="v1")
    body = json.dumps(
        {"series": [{"ticker": "AAPL", "bars": bars_of(sample_bars, "AAPL")}]}
    ).encode()
    with running_server(s3_endpoint, store.bucket) as server:
        # A slow client. A first request on the same kept-alive connection proves a worker
        # has accepted it; then headers and half the body now, the rest after SIGTERM.
        connection = socket.create_connection(("127.0.0.1", server.port), timeout=60)
        connection.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, _ = _read_response(connection)
        assert status == 200
        head = (
            f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        half = len(body) // 2
        connection.sendall(head + body[:half])
        server.process.send_signal(signal.SIGTERM)
        wait_until(
            lambda: "Handling signal: term" in server.log(),
            what="the server to begin its shutdown",
            timeout=30,
        )
        connection.sendall(body[half:])
        try:
            status, payload = _read_response(connection)
        finally:
            connection.close()
        assert status == 200, (payload[:500], server.log()[-3000:])
        assert json.loads(payload)["predictions"][0]["model_version"] == "v1"
        # Drained, it exits cleanly within its graceful timeout (MODEL_SERVER_TIMEOUT, 30 s
        # here: gunicorn may keep an idle worker that long), plus a margin for a busy host.
        assert server.process.wait(timeout=30 + 15) == 0


def _read_response(connection: socket.socket) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response with a Content-Length."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        if not chunk:
            return 0, received
        received += chunk
    head, _, payload = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    while len(payload) < length:
        chunk = connection.recv(65536)
        assert chunk, "connection closed mid-body"
        payload += chunk
    return int(lines[0].split()[1]), payload
