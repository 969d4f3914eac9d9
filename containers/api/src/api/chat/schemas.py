"""Request and response models of the chat and usage endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class NewConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=200)


class NewMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)


class ConversationSummary(BaseModel):
    id: int
    title: str
    created_at: datetime
    updated_at: datetime
    message_count: int


class ToolCall(BaseModel):
    id: str
    name: str
    input: dict[str, Any]
    summary: str
    is_error: bool
    as_of: str | None = None


class UnverifiedNumber(BaseModel):
    text: str
    start: int
    end: int


class Usage(BaseModel):
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int


class Message(BaseModel):
    id: int
    role: Literal["user", "assistant"]
    status: Literal["complete", "streaming", "failed"]
    text: str
    offline: bool
    model: str | None
    tool_calls: list[ToolCall]
    unverified_numbers: list[UnverifiedNumber]
    usage: Usage
    cost_usd: float
    error_code: str | None
    error_message: str | None
    created_at: datetime
    completed_at: datetime | None


class ConversationDetail(BaseModel):
    id: int
    title: str
    created_at: datetime
    updated_at: datetime
    messages: list[Message]


class Spend(BaseModel):
    spent_usd: float
    budget_usd: float
    remaining_usd: float


class UserSpend(Spend):
    messages: int
    usage: Usage


class UsageReport(BaseModel):
    month: str = Field(description="calendar month (UTC), YYYY-MM")
    model: str
    offline: bool = Field(description="true when no API key is set: answers cost nothing")
    user: UserSpend
    global_: Spend = Field(alias="global", serialization_alias="global")

    model_config = ConfigDict(populate_by_name=True)
