"""The offline assistant: no model, the same tools, the same event stream, no cost.

Without an Anthropic API key, common questions are routed to the tools by keyword rules
and tickers found in the question (checked against the tickers table), and the answer is
written from the tool results by templates. Every answer says it comes from the offline
assistant, in its text and in the ``offline`` field of its events.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.chat import grounding, pricing, service
from api.chat.agent import Event
from api.chat.tables import ChatMessage, Conversation
from api.chat.tools import ToolContext, ToolOutcome, run_tool
from quantcore.db.tables import tickers

log = logging.getLogger("api.chat.offline")

LABEL = (
    "Offline assistant (no language model is connected; answers come straight from the app's data)."
)

# Words that are also ticker symbols somewhere but, typed in lower case, are English.
_ENGLISH = (
    "a all am an and any are as at be by can do for go has have he how i if in is it its "
    "me my new no now of on one or our out see so the to up us was we what when which who "
    "why will with you your"
)
_COMMON_WORDS = frozenset(_ENGLISH.split())
_WORD = re.compile(r"\$?[A-Za-z][A-Za-z0-9.\-]{0,9}")

# First match wins; an intent that needs tickers is skipped when the question names none.
INTENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("compare", ("compare", " vs", "versus", "correlat", "against")),
    (
        "risk",
        (
            "risk",
            "volatil",
            "drawdown",
            " var ",
            "value at risk",
            "beta",
            "sharpe",
            "diversif",
            "concentrat",
        ),
    ),
    (
        "prediction",
        (
            "predict",
            "forecast",
            "outlook",
            "expect",
            "will ",
            "going to",
            "go up",
            "go down",
            "probability",
            "chance",
        ),
    ),
    (
        "model",
        (
            "model",
            "accuracy",
            "accurate",
            "track record",
            "reliable",
            "backtest",
            "how good",
            "trust",
        ),
    ),
    (
        "holdings",
        (
            "holding",
            "portfolio",
            "position",
            "p&l",
            "pnl",
            "profit",
            " own ",
            "my stocks",
            "my shares",
        ),
    ),
    ("watchlist", ("watchlist", "watch list", "watching")),
    ("history", ("history", "chart", "trend", "past", "performance", "return")),
    ("price", ("price", "quote", "trading at", "close", "closing", "cost", "how much", "worth")),
)
_NEEDS_TICKERS = frozenset({"compare", "prediction", "history", "price"})


T = TypeVar("T")
# A step of the answer: yields events, returns what it found.
Steps = Generator[Event, None, T]


@dataclass
class Route:
    intent: str
    tickers: list[str] = field(default_factory=list)
    portfolio_id: int | None = None


TickerLookup = Callable[[list[str]], set[str]]


def held_tickers(session: Session) -> TickerLookup:
    """Which of some words are symbols in the tickers table (one query)."""

    def lookup(words: list[str]) -> set[str]:
        if not words:
            return set()
        wanted = sorted(set(words))
        return set(session.scalars(sa.select(tickers.c.symbol).where(tickers.c.symbol.in_(wanted))))

    return lookup


def extract_tickers(question: str, lookup: TickerLookup) -> list[str]:
    """Symbols the question names, in order: ``$aapl``, ``AAPL``, or ``aapl`` when it is
    not a common English word; only those ``lookup`` knows (the tickers table) count."""
    candidates: list[str] = []
    for match in _WORD.finditer(question):
        word = match.group(0).rstrip(".-")
        cashtag = word.startswith("$")
        word = word.lstrip("$")
        if not cashtag and not word.isupper() and word.lower() in _COMMON_WORDS:
            continue
        candidates.append(word.upper())
    held = lookup(candidates)
    return list(dict.fromkeys(c for c in candidates if c in held))


def route(question: str, lookup: TickerLookup) -> Route:
    """The intent of ``question`` and the tickers (and portfolio id) it names."""
    text = f" {question.lower()} "
    symbols = extract_tickers(question, lookup)
    portfolio = re.search(r"portfolio\s*(?:#|id\s*)?(\d+)", text)
    portfolio_id = int(portfolio.group(1)) if portfolio else None
    for intent, keywords in INTENTS:
        if not any(k in text for k in keywords):
            continue
        if intent == "risk" and symbols and "portfolio" not in text:
            return Route("compare", symbols, portfolio_id)  # a ticker's volatility
        if intent in _NEEDS_TICKERS and not symbols:
            continue
        return Route(intent, symbols, portfolio_id)
    if symbols:
        return Route("price", symbols, portfolio_id)
    return Route("help", symbols, portfolio_id)


def _fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, bool) or value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _pct(value: Any) -> str:
    return f"{value * 100:+.2f}%" if isinstance(value, int | float) else "n/a"


class OfflineAnswer:
    """The offline counterpart of :class:`api.chat.agent.Answer`."""

    def __init__(
        self,
        ctx: ToolContext,
        conversation: Conversation,
        question: ChatMessage,
        answer: ChatMessage,
    ) -> None:
        self.ctx = ctx
        self.conversation_id = conversation.id
        self.question = question
        self.answer = answer
        self.tool_calls: list[dict[str, Any]] = []
        self.results: list[Any] = []
        self.finished = False

    def _tool(self, name: str, arguments: dict[str, Any]) -> Generator[Event, None, ToolOutcome]:
        call_id = f"offline_{len(self.tool_calls) + 1}"
        yield Event("tool_start", {"id": call_id, "name": name, "input": arguments})
        began = time.perf_counter()
        outcome: ToolOutcome = run_tool(self.ctx, name, arguments)
        self.ctx.session.commit()
        call = {
            "id": call_id,
            "name": name,
            "input": arguments,
            "summary": outcome.summary,
            "is_error": outcome.is_error,
            "as_of": outcome.as_of,
        }
        self.tool_calls.append(call)
        if not outcome.is_error:
            self.results.append(outcome.data)
        yield Event("tool_end", {**call, "ms": round((time.perf_counter() - began) * 1000, 1)})
        return outcome

    def events(self) -> Generator[Event, None, None]:
        yield Event(
            "start",
            {
                "conversation_id": self.conversation_id,
                "question_id": self.question.id,
                "message_id": self.answer.id,
                "offline": True,
                "model": None,
            },
        )
        try:
            yield from self._write()
        except GeneratorExit:
            self._fail("client_disconnected", "the browser left before the answer finished")
            raise
        except Exception:
            log.exception("offline answer %s failed", self.answer.id)
            message = "the offline assistant could not answer"
            self._fail("offline_failed", message)
            yield Event(
                "error",
                {
                    "code": "offline_failed",
                    "message": message,
                    "message_id": self.answer.id,
                    "partial_text": "",
                },
            )

    def _write(self) -> Iterator[Event]:
        chosen = route(self.question.text, held_tickers(self.ctx.session))
        body = yield from self._answer(chosen)
        text = f"{LABEL}\n\n{body}"
        yield Event("text", {"text": text})
        checked = grounding.check_answer(text, self.results, question=self.question.text)
        yield Event("grounding", checked.as_dict())
        service.finish_answer(
            self.ctx.session,
            self.answer,
            status="complete",
            text=text,
            # Kept as a plain answer, so a model connected later reads the conversation.
            content=[{"role": "assistant", "content": [{"type": "text", "text": text}]}],
            tool_calls=self.tool_calls,
            unverified=checked.as_dict()["unverified"],
            usage=pricing.TokenUsage(),
            cost=Decimal(0),
        )
        self.finished = True
        yield Event(
            "done",
            {
                "message_id": self.answer.id,
                "status": "complete",
                "stop_reason": "end_turn",
                "offline": True,
                "intent": chosen.intent,
                "model": None,
                "model_calls": 0,
                "usage": pricing.TokenUsage().as_dict(),
                "cost_usd": 0.0,
            },
        )

    def _fail(self, code: str, message: str) -> None:
        if self.finished:
            return
        self.finished = True
        try:
            self.ctx.session.rollback()
            service.finish_answer(
                self.ctx.session,
                self.answer,
                status="failed",
                text="",
                content=[],
                tool_calls=self.tool_calls,
                unverified=[],
                usage=pricing.TokenUsage(),
                cost=Decimal(0),
                error_code=code,
                error_message=message,
            )
        except Exception:
            self.ctx.session.rollback()
            log.exception("could not store the failure of answer %s", self.answer.id)

    # --- one template per intent ---------------------------------------------------------

    def _answer(self, chosen: Route) -> Steps[str]:
        handler = {
            "price": self._price,
            "history": self._history,
            "prediction": self._prediction,
            "compare": self._compare,
            "holdings": self._holdings,
            "risk": self._risk,
            "model": self._model,
            "watchlist": self._watchlist,
        }.get(chosen.intent)
        if handler is None:
            return HELP
        text: str = yield from handler(chosen)
        return text

    def _price(self, chosen: Route) -> Steps[str]:
        lines = []
        for symbol in chosen.tickers[:5]:
            outcome = yield from self._tool("get_latest_quote", {"ticker": symbol})
            q = outcome.data
            if outcome.is_error:
                lines.append(f"{symbol}: {q['error']['message']}.")
                continue
            change = (
                f", {_pct(q.get('change_pct'))} from the previous close of "
                f"{_fmt(q.get('previous_close'))}"
                if q.get("change_pct") is not None
                else ""
            )
            lines.append(
                f"{q['ticker']} closed at {_fmt(q.get('close'))} on {q.get('as_of')}{change}."
            )
        return "\n".join(lines)

    def _history(self, chosen: Route) -> Steps[str]:
        lines = []
        for symbol in chosen.tickers[:5]:
            outcome = yield from self._tool("get_price_history", {"ticker": symbol})
            h = outcome.data
            if outcome.is_error:
                lines.append(f"{symbol}: {h['error']['message']}.")
                continue
            if not h.get("bars"):
                lines.append(f"{symbol}: no bars between {h.get('start')} and {h.get('end')}.")
                continue
            lines.append(
                f"{h['ticker']} went from {_fmt(h['first']['close'])} on {h['first']['date']} "
                f"to {_fmt(h['last']['close'])} on {h['last']['date']} "
                f"({_pct(h.get('change_pct'))}); range {_fmt(h.get('low'))} to "
                f"{_fmt(h.get('high'))}."
            )
        return "\n".join(lines)

    def _prediction(self, chosen: Route) -> Steps[str]:
        lines = []
        for symbol in chosen.tickers[:3]:
            outcome = yield from self._tool("get_prediction", {"ticker": symbol})
            p = outcome.data
            if outcome.is_error:
                lines.append(f"{symbol}: no prediction ({p['error']['message']}).")
                continue
            drivers = ", ".join(d.get("feature", "?") for d in (p.get("drivers") or [])[:3])
            lines.append(
                f"{p['ticker']} (data as of {p.get('as_of')}): model {p.get('model_version')} "
                f"gives a probability of {_fmt(p.get('prob_up'), 3)} for {p.get('label')} "
                f"over {p.get('horizon_days')} trading days, expected return "
                f"{_pct(p.get('expected_return'))} relative to the market."
                + (f" Main drivers: {drivers}." if drivers else "")
            )
        lines.append(
            "A model's probability, not advice; see its track record before relying on it."
        )
        return "\n".join(lines)

    def _compare(self, chosen: Route) -> Steps[str]:
        outcome = yield from self._tool("compare_tickers", {"tickers": chosen.tickers[:5]})
        c = outcome.data
        if outcome.is_error:
            return f"Could not compare: {c['error']['message']}."
        lines = [f"Over the last {c.get('window_days')} trading days:"]
        for row in c.get("tickers") or []:
            lines.append(
                f"- {row['ticker']} (as of {row.get('as_of')}): return "
                f"{_pct(row.get('total_return'))}, annualised volatility "
                f"{_pct(row.get('volatility_annualised'))}."
            )
        for pair in c.get("correlations") or []:
            a, b = pair["pair"]
            lines.append(
                f"- Correlation of daily returns {a}/{b}: {_fmt(pair.get('correlation'))}."
            )
        return "\n".join(lines)

    def _portfolio_ids(self, chosen: Route) -> Steps[list[int]]:
        if chosen.portfolio_id is not None:
            return [chosen.portfolio_id]
        outcome = yield from self._tool("list_portfolios", {})
        if outcome.is_error:
            return []
        return [p["id"] for p in outcome.data.get("portfolios") or []][:3]

    def _holdings(self, chosen: Route) -> Steps[str]:
        ids: list[int] = yield from self._portfolio_ids(chosen)
        if not ids:
            return "You have no portfolios yet."
        lines = []
        for portfolio_id in ids:
            outcome = yield from self._tool("get_holdings", {"portfolio_id": portfolio_id})
            h = outcome.data
            if outcome.is_error:
                lines.append(f"Portfolio {portfolio_id}: {h['error']['message']}.")
                continue
            lines.append(
                f"Portfolio {portfolio_id} (as of {h.get('as_of')}): total value "
                f"{_fmt(h.get('total_value'))} {h.get('base_currency', '')}, cash "
                f"{_fmt(h.get('cash'))}, unrealised P&L {_fmt(h.get('unrealised_pnl'))}, "
                f"realised P&L {_fmt(h.get('realised_pnl'))}."
            )
            for holding in (h.get("holdings") or [])[:10]:
                lines.append(
                    f"- {holding['ticker']}: {_fmt(holding.get('quantity'), 4)} shares at "
                    f"{_fmt(holding.get('last_price'))}, value "
                    f"{_fmt(holding.get('market_value'))}, "
                    f"unrealised {_fmt(holding.get('unrealised_pnl'))}."
                )
        return "\n".join(lines)

    def _risk(self, chosen: Route) -> Steps[str]:
        ids: list[int] = yield from self._portfolio_ids(chosen)
        if not ids:
            return "You have no portfolios yet, so there is no portfolio risk to report."
        lines = []
        for portfolio_id in ids:
            outcome = yield from self._tool("get_risk_report", {"portfolio_id": portfolio_id})
            r = outcome.data
            if outcome.is_error:
                lines.append(f"Portfolio {portfolio_id}: {r['error']['message']}.")
                continue
            lines.append(
                f"Portfolio {portfolio_id} (as of {r.get('as_of')}, "
                f"{_fmt(r.get('observations'))} daily returns): annualised volatility "
                f"{_pct(r.get('volatility_annualised'))}, beta {_fmt(r.get('beta'))}, max "
                f"drawdown {_pct(r.get('max_drawdown'))}, 1-day VaR at the 95th percentile "
                f"{_pct(r.get('var_95_1d'))}."
            )
            if r.get("explanation"):
                lines.append(str(r["explanation"]))
        return "\n".join(lines)

    def _model(self, chosen: Route) -> Steps[str]:
        outcome = yield from self._tool("get_model_card", {})
        m = outcome.data
        if outcome.is_error:
            return f"No model to describe: {m['error']['message']}."
        metrics = m.get("metrics") or {}
        lines = [
            f"Model {m.get('model_name')} version {m.get('version')} ({m.get('status')}), "
            f"{m.get('horizon_days')}-day horizon. Out of sample: accuracy "
            f"{_pct(metrics.get('accuracy'))} against a majority-class rate of "
            f"{_pct(metrics.get('majority_rate'))}, MCC {_fmt(metrics.get('mcc'), 3)}, "
            f"daily IC {_fmt(metrics.get('ic_mean'), 3)}."
        ]
        record = yield from self._tool("get_track_record", {"version": m.get("version")})
        live = (record.data or {}).get("live") or {}
        if not record.is_error and live:
            lines.append(
                f"Live: {_fmt(live.get('scored'))} predictions scored, hit rate "
                f"{_pct(live.get('hit_rate'))}, {_fmt(live.get('pending'))} pending."
            )
        return "\n".join(lines)

    def _watchlist(self, chosen: Route) -> Steps[str]:
        outcome = yield from self._tool("get_watchlist", {})
        w = outcome.data
        if outcome.is_error:
            return f"Could not read your watchlist: {w['error']['message']}."
        quotes = w.get("tickers") or []
        if not quotes:
            return "Your watchlist is empty."
        return "\n".join(
            f"- {q['ticker']}: {_fmt(q.get('close'))} on {q.get('as_of')} "
            f"({_pct(q.get('change_pct'))})"
            for q in quotes
        )


HELP = (
    'I can answer, from the app\'s own data: the latest price of a ticker ("price of AAPL"), '
    'its recent history ("AAPL price history"), the model\'s prediction ("prediction for '
    'MSFT"), a comparison ("compare AAPL and MSFT"), your holdings ("my holdings"), your '
    'portfolio\'s risk ("portfolio risk"), your watchlist, and how good the model is '
    '("how accurate is the model").'
)
