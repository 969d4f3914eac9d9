"""``/api/chat``: conversations with the assistant, answers as Server-Sent Events.

``/api/usage``: this month's spend against the budgets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, stream_with_context

from api import db
from api.auth import current_user_id
from api.chat import service
from api.chat.agent import Answer, Event
from api.chat.offline import OfflineAnswer
from api.chat.schemas import (
    ConversationDetail,
    ConversationSummary,
    NewConversation,
    NewMessage,
    UsageReport,
)
from api.chat.tools import ToolContext
from api.openapi import operation
from api.settings import ApiSettings

bp = Blueprint("chat", __name__, url_prefix="/api")

STREAM_DESCRIPTION = """\
Stores the question, then answers it as `text/event-stream`. Events (`event:` name, JSON
`data:`):

- `start`: `conversation_id`, `question_id`, `message_id` (the answer), `offline`, `model`
- `text`: `text`, a piece of the answer as it is written
- `tool_start` / `tool_end`: `id`, `name`, `input`; `tool_end` adds `summary`, `is_error`,
  `as_of`, `ms`
- `retry`: `attempt`, `wait_seconds`, `reason` (the model was rate limited or overloaded)
- `grounding`: `checked`, `verified`, `unverified` — numbers of the answer that no tool
  result backs, with their `start`/`end` character positions in the answer text
- `done`: `message_id`, `status`, `usage` (input, output, cache write, cache read tokens),
  `cost_usd`, `model`, `offline`
- `error`: `code`, `message`, `message_id`, `partial_text` — the answer is stored as failed
  with its partial text and this reason

Without an API key the offline assistant answers through the same tools (`offline: true`,
cost 0). Over a monthly budget the answer is a 402 `budget_exceeded` (JSON, naming the
budget) and no model is called; the question is stored either way."""


def _settings() -> ApiSettings:
    settings: ApiSettings = current_app.config["SETTINGS"]
    return settings


def sse(event: Event) -> str:
    payload = json.dumps(event.data, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"event: {event.kind}\ndata: {payload}\n\n"


@operation(
    bp,
    "/chat/conversations",
    "POST",
    summary="Start a conversation with the assistant",
    body=NewConversation,
    response=ConversationSummary,
    status=201,
)
def create_conversation(body: NewConversation) -> tuple[ConversationSummary, int]:
    conversation = service.create_conversation(db.session(), current_user_id(), body.title)
    summary = ConversationSummary(
        id=conversation.id,
        title=conversation.title,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        message_count=0,
    )
    return summary, 201


@operation(
    bp,
    "/chat/conversations",
    "GET",
    summary="The signed-in user's conversations, most recent first",
    response=list[ConversationSummary],
)
def list_conversations() -> list[dict[str, Any]]:
    found = service.list_conversations(db.session(), current_user_id())
    return [c.model_dump(mode="json") for c in found]


@operation(
    bp,
    "/chat/conversations/<int:conversation_id>",
    "GET",
    summary="A conversation with its messages (failed answers keep their partial text)",
    response=ConversationDetail,
    errors={404: "No such conversation"},
)
def get_conversation(conversation_id: int) -> ConversationDetail:
    return service.conversation_detail(db.session(), current_user_id(), conversation_id)


@operation(
    bp,
    "/chat/conversations/<int:conversation_id>",
    "DELETE",
    summary="Delete a conversation (its spend stays counted)",
    status=204,
    errors={404: "No such conversation"},
)
def delete_conversation(conversation_id: int) -> tuple[str, int]:
    service.delete_conversation(db.session(), current_user_id(), conversation_id)
    return "", 204


@operation(
    bp,
    "/chat/conversations/<int:conversation_id>/messages",
    "POST",
    summary="Ask the assistant; the answer streams as Server-Sent Events",
    body=NewMessage,
    response_content="text/event-stream",
    description=STREAM_DESCRIPTION,
    errors={
        402: "A monthly chat budget is used up (budget_exceeded; the question is stored)",
        404: "No such conversation",
        409: "An answer is still being written in this conversation",
    },
)
def post_message(conversation_id: int, body: NewMessage) -> Response:
    settings = _settings()
    user_id = current_user_id()
    session = db.session()
    conversation = service.owned_conversation(session, user_id, conversation_id)
    offline = settings.anthropic_api_key is None
    # One transaction: the question, the budget check, the answer's row and the history.
    question = service.add_question(
        session,
        conversation,
        body.text,
        stale_after=settings.chat_timeout_seconds + 30,
        commit=False,
    )
    if not offline:
        try:
            service.check_budget(session, settings, user_id, commit=False)
        except service.BudgetExceededError:
            session.commit()  # the question is kept; no model is called
            raise
    answer = service.start_answer(
        session,
        conversation,
        offline=offline,
        model=None if offline else settings.chat_model,
        commit=False,
    )
    history = (
        []
        if offline
        else service.model_history(session, conversation.id, question.id, settings.chat_model)
    )
    session.commit()
    # The request's session is closed when the view returns, before the body streams:
    # the answer works in a session of its own, closed when the stream ends.
    sessions = current_app.extensions["db_sessions"]

    def stream() -> Iterator[str]:
        with sessions() as own:
            ctx = ToolContext(session=own, settings=settings, user_id=user_id)
            # Loaded and committed above: attached without a query.
            rows = (
                own.merge(conversation, load=False),
                own.merge(question, load=False),
                own.merge(answer, load=False),
            )
            writer = OfflineAnswer(ctx, *rows) if offline else Answer(ctx, *rows, history=history)
            events = writer.events()
            try:
                for event in events:
                    yield sse(event)
            finally:
                # A browser that leaves closes this stream: the answer records why it
                # stopped while its session is still open.
                events.close()

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    # Proxies (nginx, CloudFront) must pass each event on as it is written.
    response.headers["X-Accel-Buffering"] = "no"
    return response


@operation(
    bp,
    "/usage",
    "GET",
    summary="This month's chat spend and budgets: the user's and the installation's",
    response=UsageReport,
)
def get_usage() -> dict[str, Any]:
    report = service.usage_report(db.session(), _settings(), current_user_id())
    return report.model_dump(mode="json", by_alias=True)
