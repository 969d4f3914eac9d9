"""The request prefix: stable tools and system prompt, cache breakpoints where documented."""

from __future__ import annotations

import json

from api.chat import agent, service
from api.chat.tools import TOOLS


def test_tools_and_system_are_the_same_bytes_every_time() -> None:
    assert json.dumps(agent.request_tools()) == json.dumps(agent.request_tools())
    assert json.dumps(agent.request_system()) == json.dumps(agent.request_system())
    tools = agent.request_tools()
    assert [t.get("cache_control") for t in tools] == [None] * (len(tools) - 1) + [
        {"type": "ephemeral"}
    ]
    assert agent.request_system()[-1]["cache_control"] == {"type": "ephemeral"}


def test_no_tool_takes_a_user_id() -> None:
    for tool in TOOLS:
        schema = tool.definition()["input_schema"]
        assert not any("user" in name for name in schema["properties"]), tool.name
        assert schema["additionalProperties"] is False


def test_breakpoints_go_on_the_blocks_asked_for_and_never_on_thinking() -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "q1"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "a1"},
                {"type": "thinking", "thinking": "", "signature": "s"},
            ],
        },
        {"role": "user", "content": [{"type": "text", "text": "q2"}]},
    ]
    marked = agent.with_breakpoints(messages, [2, 3])
    flags = [["cache_control" in b for b in m["content"]] for m in marked]
    assert flags == [[False], [True, False], [True]]
    # The stored messages are left as they were.
    assert all("cache_control" not in b for m in messages for b in m["content"])


def test_history_merges_a_question_whose_answer_never_came() -> None:
    messages: list[dict] = []
    service.append_message(messages, {"role": "user", "content": [{"type": "text", "text": "a"}]})
    service.append_message(messages, {"role": "user", "content": [{"type": "text", "text": "b"}]})
    service.append_message(
        messages, {"role": "assistant", "content": [{"type": "text", "text": "c"}]}
    )
    assert messages == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "c"}]},
    ]
