"""Conversations, their messages and the model usage they cost (created by migration 0005)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from api.tables_base import Base

MESSAGE_ROLES = ("user", "assistant")
# "streaming" while an answer is being written; "failed" keeps its partial text and reason.
MESSAGE_STATUSES = ("complete", "streaming", "failed")


class Conversation(Base):
    __tablename__ = "chat_conversations"
    __table_args__ = (sa.Index("ix_chat_conversations_user_updated", "user_id", "updated_at"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class ChatMessage(Base):
    """One user question or one assistant answer.

    ``content`` holds the Messages API messages the turn added to the conversation, exactly
    as they were sent (the JSON type keeps key order, so the next turn's request repeats
    them byte for byte and the prompt cache matches): the user message for a question; for
    an answer, every assistant message and tool-result message of its tool loop.
    """

    __tablename__ = "chat_messages"
    __table_args__ = (
        sa.Index("ix_chat_messages_conversation", "conversation_id", "id"),
        sa.CheckConstraint("role IN ('user', 'assistant')", name="known_role"),
        sa.CheckConstraint("status IN ('complete', 'streaming', 'failed')", name="known_status"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("chat_conversations.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    content: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    tool_calls: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    unverified_numbers: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    offline: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    model: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    input_tokens: Mapped[int] = mapped_column(sa.Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(sa.Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(sa.Integer, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(sa.Integer, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(sa.Numeric(12, 6), default=Decimal(0))
    error_code: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)


class ModelCall(Base):
    """One Messages API request and what it cost.

    Kept when its conversation is deleted (the ids become NULL), so deleting a chat never
    gives back budget that was spent.
    """

    __tablename__ = "chat_usage"
    __table_args__ = (
        sa.Index("ix_chat_usage_user_created", "user_id", "created_at"),
        sa.Index("ix_chat_usage_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        sa.Integer, sa.ForeignKey("chat_conversations.id", ondelete="SET NULL"), nullable=True
    )
    message_id: Mapped[int | None] = mapped_column(
        sa.Integer, sa.ForeignKey("chat_messages.id", ondelete="SET NULL"), nullable=True
    )
    model: Mapped[str] = mapped_column(sa.String(100))
    input_tokens: Mapped[int] = mapped_column(sa.Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(sa.Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(sa.Integer, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(sa.Integer, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(sa.Numeric(12, 6), default=Decimal(0))
    # "complete" or "failed" (a stream that broke still used tokens).
    status: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
