"""The offline assistant: no API key, the same tools and event stream, labelled, free."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from messages_api_server import parse_sse

from api.settings import ApiSettings


@pytest.fixture
def api_settings(api_settings: ApiSettings) -> ApiSettings:
    # Whatever the developer's shell exports, these tests run without a key.
    return api_settings.model_copy(
        update={"anthropic_api_key": None, "anthropic_base_url": "http://127.0.0.1:9"}
    )


def ask(client: FlaskClient, headers: dict[str, str], text: str) -> tuple[int, list[Any]]:
    created = client.post("/api/chat/conversations", json={}, headers=headers)
    conversation = created.get_json()["id"]
    response = client.post(
        f"/api/chat/conversations/{conversation}/messages", json={"text": text}, headers=headers
    )
    return conversation, parse_sse(response.get_data(as_text=True))


def test_offline_assistant_answers_a_price_question_with_the_stored_close(
    client: FlaskClient, auth: Any, seed_bars: Any
) -> None:
    rows = seed_bars.walk("MSFT", 60, price=310.0)
    seed_bars.walk("AAPL", 60, price=180.0)
    auth.register_and_login(client)
    headers = auth.csrf(client)

    conversation, events = ask(client, headers, "What's the latest price of msft?")

    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done"
    assert events[0][1]["offline"] is True
    (started,) = [d for n, d in events if n == "tool_start"]
    assert started == {"id": "offline_1", "name": "get_latest_quote", "input": {"ticker": "MSFT"}}
    text = "".join(d["text"] for n, d in events if n == "text")
    last = rows[-1]
    assert text.startswith("Offline assistant")
    assert f"MSFT closed at {last['close']:,.2f} on {last['date']}" in text
    done = events[-1][1]
    assert done["offline"] is True and done["cost_usd"] == 0.0
    assert done["usage"] == {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_write_tokens": 0,
        "cache_read_tokens": 0,
    }
    grounding = next(d for n, d in events if n == "grounding")
    assert grounding["unverified"] == []

    stored = client.get(f"/api/chat/conversations/{conversation}").get_json()["messages"]
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[1]["offline"] is True and stored[1]["text"] == text
    assert stored[1]["tool_calls"][0]["name"] == "get_latest_quote"

    usage = client.get("/api/usage").get_json()
    assert usage["offline"] is True and usage["user"]["spent_usd"] == 0.0


def test_offline_assistant_reads_only_the_users_holdings(
    client: FlaskClient, second_client: FlaskClient, auth: Any, seed_bars: Any
) -> None:
    rows = seed_bars.walk("AAPL", 60, price=180.0)
    auth.register_and_login(client)
    headers = auth.csrf(client)
    other_headers = auth.csrf(second_client)
    theirs = second_client.post(
        "/api/portfolios", json={"name": "Theirs"}, headers=other_headers
    ).get_json()["id"]
    second_client.post(
        f"/api/portfolios/{theirs}/transactions",
        json={
            "type": "buy",
            "date": str(rows[5]["date"]),
            "ticker": "AAPL",
            "quantity": 7,
            "price": 150,
        },
        headers=other_headers,
    )

    _, events = ask(client, headers, f"What are my holdings in portfolio {theirs}?")
    text = "".join(d["text"] for n, d in events if n == "text")
    ended = [d for n, d in events if n == "tool_end"]
    assert ended[0]["is_error"] is True
    assert "no such portfolio" in text and "7.0000 shares" not in text

    _, events = ask(client, headers, "show my holdings")
    text = "".join(d["text"] for n, d in events if n == "text")
    assert "You have no portfolios yet." in text


def test_offline_assistant_says_what_it_can_do(client: FlaskClient, auth: Any) -> None:
    auth.register_and_login(client)
    _, events = ask(client, auth.csrf(client), "Tell me a joke")
    text = "".join(d["text"] for n, d in events if n == "text")
    assert text.startswith("Offline assistant") and "price of AAPL" in text
    assert [n for n, _ in events if n.startswith("tool")] == []
