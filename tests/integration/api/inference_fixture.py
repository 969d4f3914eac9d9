"""The real model server for the API's integration tests (fixtures, loaded by conftest.py).

- ``inference_model`` (session): a version trained by the trainer's code on 30 tickers of
  the bundled sample (families linear and hgb), its artifact and production pointer stored
  in a bucket of the suite's S3 server.
- ``inference_server`` (session): the real ``serve`` process on a free port, reading that
  pointer (``MODEL_SOURCE=registry``); ``inference_url`` is its URL.
- ``stopped_inference``: the same server, stopped for this test (``.start()`` brings it
  back on the same port); it runs again after the test whatever happened.
- ``production_model``: the registry row of that version, as production, in this test's
  database — the API reads the production version from ``model_versions``.
- ``inference_sample``: the sample bars the model learned from (seed them with
  ``seed_bars``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from inference_support import (
    MODEL_NAME,
    ModelServer,
    new_models_store,
    publish,
    sample_bars,
    train_model,
)

from quantcore.lake import model_artifact_key

# 30 names of the S&P 500 sample with a full year of bars (Aug 2009 - Aug 2010).
SAMPLE_TICKERS = [
    "AAPL", "MSFT", "IBM", "AA", "AXP", "BA", "CAT", "GE", "JPM", "KO",
    "MMM", "XOM", "AMZN", "BAC", "C", "CSCO", "CVX", "DD", "DIS", "HD",
    "HPQ", "INTC", "JNJ", "MCD", "MRK", "PFE", "PG", "T", "VZ", "WMT",
]  # fmt: skip
SAMPLE_VERSION = "20240101T000000Z-sample01"
PROMOTION_REASON = "sample model for the API's integration tests"


@dataclass(frozen=True)
class ServedModel:
    model_name: str
    version: str
    family: str
    horizon_days: int
    feature_set: str
    card: dict[str, Any]  # as the registry row holds it
    artifact_key: str
    sha256: str
    bucket: str

    @property
    def label(self) -> str:
        return str(self.card["label"])


@pytest.fixture(scope="session")
def inference_sample() -> pd.DataFrame:
    """date, ticker, open, high, low, close, volume of SAMPLE_TICKERS."""
    frame = sample_bars(SAMPLE_TICKERS)
    missing = set(SAMPLE_TICKERS) - set(frame["ticker"])
    assert not missing, f"the sample lacks {sorted(missing)}"
    return frame


@pytest.fixture(scope="session")
def inference_model(s3_endpoint: str, inference_sample: pd.DataFrame) -> ServedModel:
    from trainer.registry import json_safe

    bundle, card = train_model(inference_sample, version=SAMPLE_VERSION)
    store = new_models_store(s3_endpoint)
    digest = publish(store, bundle, card, version=SAMPLE_VERSION)
    registry_card = json_safe(
        {**card, "version": SAMPLE_VERSION, "promoted": True, "promotion_reason": PROMOTION_REASON}
    )
    return ServedModel(
        model_name=MODEL_NAME,
        version=SAMPLE_VERSION,
        family=bundle.family,
        horizon_days=bundle.horizon_days,
        feature_set=bundle.feature_set,
        card=registry_card,
        artifact_key=model_artifact_key(MODEL_NAME, SAMPLE_VERSION),
        sha256=digest,
        bucket=store.bucket,
    )


@pytest.fixture(scope="session")
def inference_server(s3_endpoint: str, inference_model: ServedModel) -> Iterator[ModelServer]:
    server = ModelServer(s3_endpoint, inference_model.bucket)
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def inference_url(inference_server: ModelServer) -> str:
    """URL of a running model server serving ``inference_model``."""
    return inference_server.url


# Both depend on ``inference_url`` so that ``api_settings`` points the app at this server.
@pytest.fixture
def stopped_inference(inference_server: ModelServer, inference_url: str) -> Iterator[ModelServer]:
    """The model server, stopped; ``.start()`` restarts it on the same URL. After the test
    it runs again, so the session's other tests find it up."""
    inference_server.stop()
    try:
        yield inference_server
    finally:
        if not inference_server.running:
            inference_server.start()


@pytest.fixture
def inference_switch(inference_server: ModelServer, inference_url: str) -> Iterator[ModelServer]:
    """The running model server, for a test that stops and starts it itself."""
    if not inference_server.running:
        inference_server.start()
    try:
        yield inference_server
    finally:
        if not inference_server.running:
            inference_server.start()


def register_version(
    db_url: str,
    model: ServedModel,
    *,
    version: str | None = None,
    status: str = "production",
    created_at: datetime | None = None,
    card_changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Insert a registry row for ``model`` (another ``version``/``status`` if given)."""
    from quantcore.db.tables import model_versions

    version = version or model.version
    card = {**model.card, "version": version, **(card_changes or {})}
    promoted = status == "production"
    card["promoted"] = promoted
    card["promotion_reason"] = PROMOTION_REASON if promoted else f"{status} in a test"
    values = {
        "model_name": model.model_name,
        "version": version,
        "family": model.family,
        "status": status,
        "trained_at": datetime.fromisoformat(card["trained_at"]),
        "horizon_days": model.horizon_days,
        "feature_set": model.feature_set,
        "artifact_key": model_artifact_key(model.model_name, version),
        "sha256": model.sha256,
        "data_sha256": card["data"]["sha256"],
        "metrics": card["metrics"],
        "card": card,
        "promoted_at": datetime(2024, 1, 2, tzinfo=UTC) if promoted else None,
        "promotion_reason": card["promotion_reason"],
    }
    if created_at is not None:
        values["created_at"] = created_at
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(model_versions).values(**values))
    finally:
        engine.dispose()
    return values


@pytest.fixture
def production_model(db_url: str, inference_model: ServedModel) -> ServedModel:
    """The sample model's registry row, in production, in this test's database."""
    register_version(db_url, inference_model)
    return inference_model
