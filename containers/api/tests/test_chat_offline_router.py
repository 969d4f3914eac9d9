"""The offline assistant's router: intents by keyword, tickers checked against the table."""

from __future__ import annotations

import pytest

from api.chat.offline import extract_tickers, route

HELD = {"AAPL", "MSFT", "IBM", "ALL", "NOW", "T"}


def lookup(words: list[str]) -> set[str]:
    return {w for w in words if w in HELD}


@pytest.mark.parametrize(
    ("question", "intent", "tickers"),
    [
        ("What's the price of AAPL?", "price", ["AAPL"]),
        ("how much is msft", "price", ["MSFT"]),
        ("$ibm", "price", ["IBM"]),
        ("AAPL price history over the past year", "history", ["AAPL"]),
        ("What does the model predict for MSFT?", "prediction", ["MSFT"]),
        ("Will AAPL go up?", "prediction", ["AAPL"]),
        ("How accurate is the model?", "model", []),
        ("Show the track record", "model", []),
        ("What are my holdings?", "holdings", []),
        ("How is my portfolio doing", "holdings", []),
        ("What's the risk of my portfolio?", "risk", []),
        ("max drawdown of portfolio 7", "risk", []),
        ("How volatile is AAPL?", "compare", ["AAPL"]),
        ("compare aapl and msft", "compare", ["AAPL", "MSFT"]),
        ("AAPL vs IBM", "compare", ["AAPL", "IBM"]),
        ("my watchlist", "watchlist", []),
        ("Tell me a joke", "help", []),
        ("What is the price?", "help", []),
    ],
)
def test_questions_route_to_their_tool(question: str, intent: str, tickers: list[str]) -> None:
    chosen = route(question, lookup)
    assert (chosen.intent, chosen.tickers) == (intent, tickers)


def test_a_portfolio_id_is_read_from_the_question() -> None:
    assert route("risk of portfolio 12", lookup).portfolio_id == 12
    assert route("holdings in portfolio #3", lookup).portfolio_id == 3
    assert route("my holdings", lookup).portfolio_id is None


def test_english_words_are_not_tickers_unless_written_as_symbols() -> None:
    assert extract_tickers("is it all now or never", lookup) == []
    assert extract_tickers("ALL and NOW and $t", lookup) == ["ALL", "NOW", "T"]
    assert extract_tickers("FOO BAR AAPL aapl", lookup) == ["AAPL"]
