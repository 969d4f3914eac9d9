"""Conversations, messages, usage and budgets as plain functions over a SQLAlchemy session.

Writes commit here: a question is stored (committed) before any model is called, so
nothing the user typed is lost whatever happens to the answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.chat import pricing
from api.chat.schemas import (
    ConversationDetail,
    ConversationSummary,
    Message,
    Spend,
    UsageReport,
    UserSpend,
)
from api.chat.schemas import Usage as UsageOut
from api.chat.tables import ChatMessage, Conversation, ModelCall
from api.errors import ApiError, ConflictError, NotFoundError
from api.settings import ApiSettings

DEFAULT_TITLE = "New conversation"
TITLE_LENGTH = 80


class BudgetExceededError(ApiError):
    """402: a monthly spend cap is reached; ``budget`` says which ("user" or "global")."""

    def __init__(self, budget: str, spent: Decimal, limit: float) -> None:
        whose = "your monthly chat budget" if budget == "user" else "the monthly chat budget"
        scope = "" if budget == "user" else " shared by all users of this installation"
        super().__init__(
            402,
            "budget_exceeded",
            f"{whose}{scope} of ${limit:.2f} is used up (${spent:.2f} spent this month); "
            "your message was saved",
        )
        self.budget = budget

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"]["budget"] = self.budget
        return body


# --- conversations ---------------------------------------------------------------------------


def create_conversation(session: Session, user_id: int, title: str | None) -> Conversation:
    conversation = Conversation(user_id=user_id, title=(title or "").strip() or DEFAULT_TITLE)
    session.add(conversation)
    session.commit()
    return conversation


def owned_conversation(session: Session, user_id: int, conversation_id: int) -> Conversation:
    """The user's conversation; another user's id is a 404, exactly like a missing one."""
    conversation = session.scalar(
        sa.select(Conversation).where(
            Conversation.id == conversation_id, Conversation.user_id == user_id
        )
    )
    if conversation is None:
        raise NotFoundError("no such conversation", field="conversation_id")
    return conversation


def list_conversations(session: Session, user_id: int) -> list[ConversationSummary]:
    counts = (
        sa.select(ChatMessage.conversation_id, sa.func.count().label("n"))
        .group_by(ChatMessage.conversation_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(Conversation, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.conversation_id == Conversation.id)
        .where(Conversation.user_id == user_id)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
    ).all()
    return [
        ConversationSummary(
            id=c.id,
            title=c.title,
            created_at=c.created_at,
            updated_at=c.updated_at,
            message_count=n,
        )
        for c, n in rows
    ]


def messages_of(session: Session, conversation_id: int) -> list[ChatMessage]:
    return list(
        session.scalars(
            sa.select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation_id)
            .order_by(ChatMessage.id)
        )
    )


def message_out(row: ChatMessage) -> Message:
    return Message(
        id=row.id,
        role=row.role,  # type: ignore[arg-type]
        status=row.status,  # type: ignore[arg-type]
        text=row.text,
        offline=row.offline,
        model=row.model,
        tool_calls=row.tool_calls or [],
        unverified_numbers=row.unverified_numbers or [],
        usage=UsageOut(
            input_tokens=row.input_tokens,
            output_tokens=row.output_tokens,
            cache_write_tokens=row.cache_write_tokens,
            cache_read_tokens=row.cache_read_tokens,
        ),
        cost_usd=float(row.cost_usd),
        error_code=row.error_code,
        error_message=row.error_message,
        created_at=row.created_at,
        completed_at=row.completed_at,
    )


def conversation_detail(session: Session, user_id: int, conversation_id: int) -> ConversationDetail:
    conversation = owned_conversation(session, user_id, conversation_id)
    return ConversationDetail(
        id=conversation.id,
        title=conversation.title,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        messages=[message_out(m) for m in messages_of(session, conversation.id)],
    )


def delete_conversation(session: Session, user_id: int, conversation_id: int) -> None:
    conversation = owned_conversation(session, user_id, conversation_id)
    session.delete(conversation)
    session.commit()


# --- messages --------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def add_question(
    session: Session,
    conversation: Conversation,
    text: str,
    *,
    stale_after: float,
    commit: bool = True,
) -> ChatMessage:
    """Store the user's message (committed unless the caller commits it with more work).
    409 while another answer is being written."""
    since = _now() - timedelta(seconds=stale_after)
    writing = session.scalars(
        sa.select(ChatMessage).where(
            ChatMessage.conversation_id == conversation.id, ChatMessage.status == "streaming"
        )
    ).all()
    for answer in writing:
        if answer.created_at >= since:
            raise ConflictError(
                "an answer is still being written in this conversation; wait for it",
                code="answer_in_progress",
            )
        # Its process died mid-answer: say so instead of leaving it "streaming" forever.
        answer.status = "failed"
        answer.error_code = "interrupted"
        answer.error_message = "the answer was interrupted before it finished"
        answer.completed_at = _now()
    question = ChatMessage(
        conversation_id=conversation.id,
        role="user",
        status="complete",
        text=text,
        content=[{"role": "user", "content": [{"type": "text", "text": text}]}],
        tool_calls=[],
        unverified_numbers=[],
        completed_at=_now(),
    )
    session.add(question)
    if conversation.title == DEFAULT_TITLE:
        first_line = " ".join(text.split())
        conversation.title = first_line[:TITLE_LENGTH] or DEFAULT_TITLE
    conversation.updated_at = _now()
    _done(session, commit)
    return question


def _done(session: Session, commit: bool) -> None:
    if commit:
        session.commit()
    else:
        session.flush()  # ids are assigned; the caller commits


def start_answer(
    session: Session,
    conversation: Conversation,
    *,
    offline: bool,
    model: str | None,
    commit: bool = True,
) -> ChatMessage:
    answer = ChatMessage(
        conversation_id=conversation.id,
        role="assistant",
        status="streaming",
        text="",
        content=[],
        tool_calls=[],
        unverified_numbers=[],
        offline=offline,
        model=model,
    )
    session.add(answer)
    _done(session, commit)
    return answer


def model_history(
    session: Session, conversation_id: int, before_id: int, model: str
) -> list[dict[str, Any]]:
    """The Messages API messages of the conversation's earlier turns, as they were sent.

    Answers that failed (or never came) are left out, so consecutive user messages are
    merged into one, as the API would. Thinking blocks written by another model are left
    out too: they are bound to the model that wrote them.
    """
    rows = session.execute(
        sa.select(ChatMessage.role, ChatMessage.status, ChatMessage.content, ChatMessage.model)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.id < before_id)
        .order_by(ChatMessage.id)
    ).all()
    messages: list[dict[str, Any]] = []
    for role, status, content, written_by in rows:
        if role == "assistant" and status != "complete":
            continue
        for message in content or []:
            blocks = message.get("content") or []
            if role == "assistant" and written_by not in (None, model):
                blocks = [b for b in blocks if b.get("type") not in _THINKING]
            if not blocks:
                continue
            append_message(messages, {"role": message["role"], "content": blocks})
    return messages


_THINKING = ("thinking", "redacted_thinking")


def append_message(messages: list[dict[str, Any]], message: dict[str, Any]) -> None:
    """Append, merging into the previous message when it has the same role."""
    if messages and messages[-1]["role"] == message["role"]:
        messages[-1] = {
            "role": message["role"],
            "content": [*messages[-1]["content"], *message["content"]],
        }
    else:
        messages.append(message)


def finish_answer(
    session: Session,
    answer: ChatMessage,
    *,
    status: str,
    text: str,
    content: list[dict[str, Any]],
    tool_calls: list[dict[str, Any]],
    unverified: list[dict[str, Any]],
    usage: pricing.TokenUsage,
    cost: Decimal,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    answer.status = status
    answer.text = text
    answer.content = content
    answer.tool_calls = tool_calls
    answer.unverified_numbers = unverified
    answer.input_tokens = usage.input_tokens
    answer.output_tokens = usage.output_tokens
    answer.cache_write_tokens = usage.cache_write_tokens
    answer.cache_read_tokens = usage.cache_read_tokens
    answer.cost_usd = cost
    answer.error_code = error_code
    answer.error_message = error_message
    answer.completed_at = _now()
    # The conversation's updated_at moved with the question this answers.
    session.commit()


# --- usage and budgets -----------------------------------------------------------------------


def record_call(
    session: Session,
    *,
    user_id: int,
    conversation_id: int | None,
    message_id: int | None,
    model: str,
    usage: pricing.TokenUsage,
    status: str,
) -> Decimal:
    """Store one model call and return its cost (committed: spend is never lost)."""
    cost = pricing.cost_usd(model, usage)
    session.add(
        ModelCall(
            user_id=user_id,
            conversation_id=conversation_id,
            message_id=message_id,
            model=model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cost_usd=cost,
            status=status,
        )
    )
    session.commit()
    return cost


def month_start(now: datetime | None = None) -> datetime:
    now = now or _now()
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_spend(session: Session, user_id: int | None = None) -> Decimal:
    """This calendar month's (UTC) spend of one user, or of everybody."""
    mine, everyone = spend_this_month(session, user_id or 0)
    return mine if user_id is not None else everyone


def spend_this_month(session: Session, user_id: int) -> tuple[Decimal, Decimal]:
    """This calendar month's (UTC) spend of the user and of everybody, in one query."""
    mine, everyone = session.execute(
        sa.select(
            sa.func.coalesce(
                sa.func.sum(ModelCall.cost_usd).filter(ModelCall.user_id == user_id), 0
            ),
            sa.func.coalesce(sa.func.sum(ModelCall.cost_usd), 0),
        ).where(ModelCall.created_at >= month_start())
    ).one()
    return Decimal(mine), Decimal(everyone)


def check_budget(
    session: Session, settings: ApiSettings, user_id: int, *, commit: bool = True
) -> None:
    """Raise :class:`BudgetExceededError` when either monthly budget is used up.

    With ``commit`` it ends its transaction, so no connection is held while the model
    answers.
    """
    try:
        spent, everyone = spend_this_month(session, user_id)
        if spent >= Decimal(str(settings.chat_user_monthly_budget_usd)):
            raise BudgetExceededError("user", spent, settings.chat_user_monthly_budget_usd)
        if everyone >= Decimal(str(settings.chat_global_monthly_budget_usd)):
            raise BudgetExceededError("global", everyone, settings.chat_global_monthly_budget_usd)
    finally:
        if commit:
            session.commit()


def usage_report(session: Session, settings: ApiSettings, user_id: int) -> UsageReport:
    start = month_start()
    mine = session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(ModelCall.cost_usd), 0),
            sa.func.coalesce(sa.func.sum(ModelCall.input_tokens), 0),
            sa.func.coalesce(sa.func.sum(ModelCall.output_tokens), 0),
            sa.func.coalesce(sa.func.sum(ModelCall.cache_write_tokens), 0),
            sa.func.coalesce(sa.func.sum(ModelCall.cache_read_tokens), 0),
        ).where(ModelCall.user_id == user_id, ModelCall.created_at >= start)
    ).one()
    answers = session.scalar(
        sa.select(sa.func.count())
        .select_from(ChatMessage)
        .join(Conversation, Conversation.id == ChatMessage.conversation_id)
        .where(
            Conversation.user_id == user_id,
            ChatMessage.role == "assistant",
            ChatMessage.created_at >= start,
        )
    )
    everyone = month_spend(session)
    session.commit()
    spent = Decimal(mine[0])
    user_budget = settings.chat_user_monthly_budget_usd
    global_budget = settings.chat_global_monthly_budget_usd
    return UsageReport(
        month=start.strftime("%Y-%m"),
        model=settings.chat_model,
        offline=settings.anthropic_api_key is None,
        user=UserSpend(
            spent_usd=float(spent),
            budget_usd=user_budget,
            remaining_usd=max(0.0, round(user_budget - float(spent), 6)),
            messages=int(answers or 0),
            usage=UsageOut(
                input_tokens=int(mine[1]),
                output_tokens=int(mine[2]),
                cache_write_tokens=int(mine[3]),
                cache_read_tokens=int(mine[4]),
            ),
        ),
        **{
            "global": Spend(
                spent_usd=float(everyone),
                budget_usd=global_budget,
                remaining_usd=max(0.0, round(global_budget - float(everyone), 6)),
            )
        },
    )
