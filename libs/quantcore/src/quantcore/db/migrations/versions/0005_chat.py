"""Chat: conversations, messages and model usage.

Messages keep the Messages API content as ``json`` (not ``jsonb``): json keeps key order,
so a conversation's earlier turns are re-sent byte for byte and the prompt cache matches.
Usage rows outlive their conversation (ids set to NULL): deleting a chat gives back no
budget.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _now() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def _tokens() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column(name, sa.Integer, nullable=False, server_default="0")
        for name in ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens")
    ] + [sa.Column("cost_usd", sa.Numeric(12, 6), nullable=False, server_default="0")]


def upgrade() -> None:
    op.create_table(
        "chat_conversations",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        _now(),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_chat_conversations"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_chat_conversations_user_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_chat_conversations_user_updated", "chat_conversations", ["user_id", "updated_at"]
    )

    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("conversation_id", sa.Integer, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("content", sa.JSON, nullable=False, server_default=sa.text("'[]'::json")),
        sa.Column("tool_calls", sa.JSON, nullable=False, server_default=sa.text("'[]'::json")),
        sa.Column(
            "unverified_numbers", sa.JSON, nullable=False, server_default=sa.text("'[]'::json")
        ),
        sa.Column("offline", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("model", sa.String(100), nullable=True),
        *_tokens(),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        _now(),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_chat_messages"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversations.id"],
            name="fk_chat_messages_conversation_id_chat_conversations",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("role IN ('user', 'assistant')", name="ck_chat_messages_known_role"),
        sa.CheckConstraint(
            "status IN ('complete', 'streaming', 'failed')", name="ck_chat_messages_known_status"
        ),
    )
    op.create_index("ix_chat_messages_conversation", "chat_messages", ["conversation_id", "id"])

    op.create_table(
        "chat_usage",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("conversation_id", sa.Integer, nullable=True),
        sa.Column("message_id", sa.Integer, nullable=True),
        sa.Column("model", sa.String(100), nullable=False),
        *_tokens(),
        sa.Column("status", sa.String(16), nullable=False),
        _now(),
        sa.PrimaryKeyConstraint("id", name="pk_chat_usage"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_chat_usage_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversations.id"],
            name="fk_chat_usage_conversation_id_chat_conversations",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["chat_messages.id"],
            name="fk_chat_usage_message_id_chat_messages",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_chat_usage_user_created", "chat_usage", ["user_id", "created_at"])
    op.create_index("ix_chat_usage_created", "chat_usage", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_chat_usage_created", table_name="chat_usage")
    op.drop_index("ix_chat_usage_user_created", table_name="chat_usage")
    op.drop_table("chat_usage")
    op.drop_index("ix_chat_messages_conversation", table_name="chat_messages")
    op.drop_table("chat_messages")
    op.drop_index("ix_chat_conversations_user_updated", table_name="chat_conversations")
    op.drop_table("chat_conversations")
