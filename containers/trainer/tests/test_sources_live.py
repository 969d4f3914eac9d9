"""Live providers against a real local HTTP server: good CSV, HTML garbage, a hung server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from trainer.sources import get_source
from trainer.sources.live import LiveSource
from trainer.sources.stooq import StooqSource

STOOQ_CSV = (
    b"Date,Open,High,Low,Close,Volume\r\n"
    b"2024-01-02,187.15,188.44,183.89,185.64,82488700\r\n"
    b"2024-01-03,184.22,185.88,183.43,184.25,58414500\r\n"
    b"2024-01-04,182.15,183.09,180.88,181.91,71983600\r\n"
)
HANG_SECONDS = 20.0


class Provider(BaseHTTPRequestHandler):
    release: threading.Event
    requests_seen: list[str]

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.requests_seen.append(self.path)
        mode = url.path.split("/")[1]
        symbol = parse_qs(url.query).get("s", [""])[0]
        if mode == "slow":
            self.release.wait(HANG_SECONDS)
            return self._reply(200, STOOQ_CSV)
        if mode == "html":
            return self._reply(200, b"<!DOCTYPE html><html><body>Captcha</body></html>")
        if mode == "broken":
            return self._reply(503, b"try later")
        if mode == "columns":
            return self._reply(200, b"Date,Price\n2024-01-02,1\n")
        if mode == "good":
            if symbol != "aapl.us":
                return self._reply(200, b"No data")
            return self._reply(200, STOOQ_CSV)
        self._reply(404, b"")

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[str]]]:
    release = threading.Event()
    seen: list[str] = []
    handler = type("Handler", (Provider,), {"release": release, "requests_seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    release.set()
    httpd.shutdown()
    httpd.server_close()


def test_stooq_returns_validated_bars_and_the_untouched_body(server):
    base, seen = server
    result = get_source("stooq", base_url=f"{base}/good").fetch(["AAPL"], None, None)
    assert result.report.ok, result.report.render()
    assert list(result.bars["ticker"].unique()) == ["AAPL"]
    assert set(result.bars["source"]) == {"stooq"}
    assert len(result.bars) == 3
    (raw,) = result.raw_files
    assert (raw.source, raw.ticker, raw.filename, raw.body) == (
        "stooq",
        "AAPL",
        "aapl.us.csv",
        STOOQ_CSV,
    )
    assert any("s=aapl.us" in path and "i=d" in path for path in seen)


def test_stooq_base_url_comes_from_the_environment(server, monkeypatch):
    base, _ = server
    monkeypatch.setenv("STOOQ_BASE_URL", f"{base}/good")
    result = get_source("stooq").fetch(["AAPL"], date(2024, 1, 3), date(2024, 1, 3))
    assert list(result.bars["date"]) == [pd.Timestamp("2024-01-03")]
    assert result.raw_files[0].body.count(b"\n") == 2


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("html", "HTML"),
        ("broken", "HTTP 503"),
        ("columns", "missing required column"),
        ("nowhere", "HTTP 404"),
    ],
)
def test_stooq_garbage_gives_no_bars_and_says_why(server, mode, words):
    base, _ = server
    result = get_source("stooq", base_url=f"{base}/{mode}").fetch(["AAPL"], None, None)
    assert result.bars.empty and result.raw_files == []
    assert not result.report.ok
    assert any(words in issue.problem and issue.ticker == "AAPL" for issue in result.report.errors)


def test_an_unknown_ticker_is_reported_next_to_a_known_one(server):
    base, _ = server
    result = get_source("stooq", base_url=f"{base}/good").fetch(["AAPL", "ZZZZ"], None, None)
    assert set(result.bars["ticker"]) == {"AAPL"}
    assert [issue.ticker for issue in result.report.errors] == ["ZZZZ"]
    assert "no data" in result.report.errors[0].problem


def test_a_hung_provider_is_abandoned_at_the_deadline(server):
    base, _ = server
    source = get_source("stooq", base_url=f"{base}/slow", deadline_seconds=1.0)
    began = time.monotonic()
    result = source.fetch(["AAPL", "MSFT"], None, None)
    elapsed = time.monotonic() - began
    assert elapsed < 1.0 + 3.0
    assert result.bars.empty and result.raw_files == []
    assert {issue.ticker for issue in result.report.errors} == {"AAPL", "MSFT"}
    assert all("deadline" in issue.problem for issue in result.report.errors)


def test_an_unreachable_provider_fails_fast_with_a_reason():
    # Nothing listens on port 9 of this host: the connection is refused.
    source = get_source("stooq", base_url="http://127.0.0.1:9", deadline_seconds=5.0)
    result = source.fetch(["AAPL"], None, None)
    assert result.bars.empty
    assert "ConnectionError" in result.report.errors[0].problem


def test_live_falls_back_when_the_first_provider_fails(server):
    base, _ = server
    chain = LiveSource(
        [StooqSource(base_url=f"{base}/html"), StooqSource(base_url=f"{base}/good")],
        deadline_seconds=10.0,
    )
    result = chain.fetch(["AAPL"], None, None)
    assert len(result.bars) == 3
    assert result.report.ok
    (note,) = result.report.warnings
    assert "HTML" in note.problem and "another provider had it" in note.problem


def test_a_hung_first_provider_leaves_time_for_the_next(server):
    base, _ = server
    chain = LiveSource(
        [StooqSource(base_url=f"{base}/slow"), StooqSource(base_url=f"{base}/good")],
        deadline_seconds=3.0,
    )
    began = time.monotonic()
    result = chain.fetch(["AAPL"], None, None)
    assert time.monotonic() - began < 3.0 + 3.0
    assert len(result.bars) == 3
    assert any("deadline" in issue.problem for issue in result.report.warnings)


def test_live_reports_every_provider_that_failed(server):
    base, _ = server
    began = time.monotonic()
    result = get_source("live", base_url=f"{base}/html", deadline_seconds=8.0).fetch(
        ["AAPL"], None, None
    )
    assert time.monotonic() - began < 8.0 + 3.0
    problems = " ".join(issue.problem for issue in result.report.issues)
    assert "stooq: received an HTML" in problems
    if result.bars.empty:  # offline: Yahoo is unreachable too
        assert "yahoo:" in problems
        assert "no provider had AAPL (stooq, yahoo)" in problems
        assert not result.report.ok
    else:  # a machine with internet access gets Yahoo's prices
        assert set(result.bars["source"]) == {"yahoo"}


def test_live_sources_need_tickers():
    result = get_source("stooq").fetch(None, None, None)
    assert result.bars.empty and "needs the tickers" in result.report.errors[0].problem
