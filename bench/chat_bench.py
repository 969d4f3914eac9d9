"""Chat assistant figures: the server's own time per answer, and what prompt caching saves.

    .venv/bin/python bench/chat_bench.py [--answers 50] [--turns 10]

Runs in-process (the Flask test client) on its own PostgreSQL cluster (devstack.testing)
— the chat path touches no object store, so no S3 emulator is started — against the
scripted Messages API server of the integration tests on a free loopback port. That
server answers at once and reports usage as the API does (cache writes for a new prefix,
cache reads for a cached one, tokens estimated at 4 characters each plus the tool-use
system prompt), so the figures below come from the usage the app itself recorded.

Figures (plain lines):
- server-side time per answer (question stored, budget checked, history read, two
  streamed model calls, one tool call on PostgreSQL, grounding, answer stored), the stand-in
  model's own time subtracted: p50 and p99 over ``--answers`` answers (target p50 <= 30 ms);
- a ``--turns``-turn conversation where each turn asks about a ticker (the model calls
  get_price_history, then answers with ~250 tokens): the share of input tokens billed as
  cache reads, and its cost on the default model against the same requests without
  caching (target <= 0.4x).
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration" / "api"))

TICKERS = ["AAPL", "MSFT", "IBM", "GOOG", "AMZN", "NVDA", "JPM", "XOM", "KO", "PG"]
ANSWER_WORDS = 190  # ~250 output tokens of text per answer


def seed(database_url: str) -> None:
    """300 business days of a seeded random walk per ticker."""
    import sqlalchemy as sa

    from quantcore.db.tables import daily_bars, tickers

    rng = random.Random(7)
    bars: list[dict[str, Any]] = []
    heads: list[dict[str, Any]] = []
    for symbol in TICKERS:
        price, day = 50 + rng.random() * 200, date(2023, 1, 2)
        rows: list[dict[str, Any]] = []
        while len(rows) < 300:
            if day.weekday() < 5:
                close = price * math.exp(rng.gauss(0.0003, 0.015))
                rows.append(
                    {
                        "ticker": symbol,
                        "date": day,
                        "open": round(price, 4),
                        "high": round(max(price, close) * 1.004, 4),
                        "low": round(min(price, close) * 0.996, 4),
                        "close": round(close, 4),
                        "adj_close": round(close, 4),
                        "volume": float(rng.randint(100_000, 5_000_000)),
                        "source": "bench",
                    }
                )
                price = close
            day += timedelta(days=1)
        bars.extend(rows)
        heads.append(
            {
                "symbol": symbol,
                "source": "bench",
                "first_date": rows[0]["date"],
                "last_date": rows[-1]["date"],
                "bars": len(rows),
            }
        )
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(tickers.insert(), heads)
        conn.execute(daily_bars.insert(), bars)
    engine.dispose()


@contextmanager
def stack() -> Iterator[tuple[Any, Any]]:
    """An app on a fresh migrated database, a signed-in client, the stand-in model server."""
    from messages_api_server import MessagesApiServer

    from api.app import create_app
    from api.settings import ApiSettings
    from devstack.testing import create_database, postgres_server
    from quantcore.db.migrate import upgrade

    with postgres_server() as pg_url, MessagesApiServer() as model_server:
        url = create_database(pg_url, f"chat_bench_{uuid.uuid4().hex[:8]}")
        upgrade(url)
        seed(url)
        settings = ApiSettings(
            _env_file=None,  # type: ignore[call-arg]
            environment="test",
            database_url=url,
            session_secret=secrets.token_urlsafe(32),
            anthropic_api_key="bench-key",
            anthropic_base_url=model_server.url,
            chat_user_monthly_budget_usd=1000.0,
            chat_global_monthly_budget_usd=1000.0,
        )
        app = create_app(settings)
        client = app.test_client()
        token = client.get("/api/auth/csrf").get_json()["csrf_token"]
        headers = {"X-CSRF-Token": token}
        registered = client.post(
            "/api/auth/register",
            json={"email": "bench@example.com", "password": "correct horse battery"},
            headers=headers,
        )
        assert registered.status_code == 201, registered.get_data(as_text=True)
        client.environ_base["HTTP_X_CSRF_TOKEN"] = token
        try:
            yield client, model_server
        finally:
            app.extensions["db_engine"].dispose()


def ask(client: Any, conversation: int, text: str) -> list[tuple[str, dict[str, Any]]]:
    from messages_api_server import parse_sse

    response = client.post(f"/api/chat/conversations/{conversation}/messages", json={"text": text})
    events = parse_sse(response.get_data(as_text=True))
    if not events or events[-1][0] != "done":
        raise RuntimeError(f"the answer did not complete: {events[-3:]}")
    return events


def new_conversation(client: Any) -> int:
    return int(client.post("/api/chat/conversations", json={}).get_json()["id"])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def latency(client: Any, model_server: Any, answers: int) -> None:
    from messages_api_server import text_reply, tool_reply

    conversation = new_conversation(client)
    ours: list[float] = []
    for index in range(answers + 5):
        if index % 10 == 0:  # keep the history short: one answer's work, not a long chat
            conversation = new_conversation(client)
        symbol = TICKERS[index % len(TICKERS)]
        model_server.script(
            tool_reply("get_latest_quote", {"ticker": symbol}),
            text_reply(f"{symbol} is up today."),
        )
        first = len(model_server.requests)
        began = time.perf_counter()
        ask(client, conversation, f"What is {symbol} trading at?")
        took = time.perf_counter() - began
        model_time = sum(r.seconds for r in model_server.requests[first:])
        if index >= 5:  # the first answers warm connections and caches up
            ours.append((took - model_time) * 1000)
    print(
        f"server time per answer (2 streamed model calls, 1 tool call; model time excluded), "
        f"{answers} answers: p50 {statistics.median(ours):.1f} ms, "
        f"p99 {percentile(ours, 0.99):.1f} ms (target p50 <= 30 ms)"
    )


def answer_text(symbol: str, turn: int) -> str:
    words = [f"{symbol} moved over the window; turn {turn} reads the closes and the range."]
    filler = [
        "the",
        "trend",
        "the",
        "closes",
        "show",
        "stays",
        "within",
        "its",
        "range",
        "over",
        "these",
        "weeks",
    ]
    words.extend(filler[i % len(filler)] for i in range(ANSWER_WORDS))
    return " ".join(words) + "."


def caching(client: Any, model_server: Any, turns: int) -> None:
    from messages_api_server import Reply, Text, ToolUse

    from api.chat import pricing
    from api.settings import ApiSettings

    model = ApiSettings.model_fields["chat_model"].default
    conversation = new_conversation(client)
    usage = pricing.TokenUsage()
    cost = Decimal(0)
    first = len(model_server.requests)
    for turn in range(1, turns + 1):
        symbol = TICKERS[(turn - 1) % len(TICKERS)]
        model_server.script(
            Reply([ToolUse("get_price_history", {"ticker": symbol})], output_tokens=40),
            Reply([Text(answer_text(symbol, turn))], output_tokens=260),
        )
        done = ask(client, conversation, f"How has {symbol} done over the last three months?")
        result = done[-1][1]
        usage = usage + pricing.TokenUsage(**result["usage"])
        cost += Decimal(str(result["cost_usd"]))
    requests = model_server.requests[first:]
    prefix = model_server.cache.blocks(requests[0].body)
    system_and_tools = sum(
        model_server.cache.tokens(block)
        for block, _ in prefix[
            : 1 + len(requests[0].body["tools"]) + len(requests[0].body["system"])
        ]
    )
    grown = sum(
        model_server.cache.tokens(b) for b, _ in model_server.cache.blocks(requests[-1].body)
    )
    per_turn = (grown - system_and_tools) / turns
    uncached = pricing.uncached_cost_usd(model, usage)
    prompt = usage.prompt_tokens
    print(
        f"{turns}-turn conversation on {model} (prices of {pricing.PRICES_TAKEN_ON}), "
        f"{len(requests)} model calls: tools + system {system_and_tools} tokens, "
        f"each turn adds ~{per_turn:.0f} tokens (question, tool call and result, answer), "
        f"{usage.output_tokens / turns:.0f} output tokens per turn"
    )
    print(
        f"input tokens {prompt}: {usage.cache_read_tokens / prompt:.1%} billed as cache reads, "
        f"{usage.cache_write_tokens / prompt:.1%} as cache writes, "
        f"{usage.input_tokens / prompt:.1%} uncached"
    )
    print(
        f"cost ${cost:.4f} with caching, ${uncached:.4f} without: "
        f"{cost / uncached:.2f}x (target <= 0.4x)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=50)
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args(argv or [])
    # The SDK's HTTP client logs every request at INFO; the figures are what matter here.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    print("== chat: the assistant's own time per answer and the prompt cache's savings")
    with stack() as (client, model_server):
        latency(client, model_server, args.answers)
        caching(client, model_server, args.turns)


if __name__ == "__main__":
    main(sys.argv[1:])
