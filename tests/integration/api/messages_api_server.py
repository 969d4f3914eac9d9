"""A real HTTP server speaking the Anthropic Messages API wire format, scripted per test.

``POST /v1/messages`` answers the next scripted reply: with ``"stream": true`` as the
Server-Sent Events Anthropic documents (``message_start`` with its usage and cache
fields, ``ping``, ``content_block_start`` / ``content_block_delta`` (``text_delta``,
``input_json_delta``, ``thinking_delta``, ``signature_delta``) / ``content_block_stop``,
``message_delta`` with the stop reason and output usage, ``message_stop``), otherwise one
JSON message. Errors answer in the API's error shape with ``retry-after`` when scripted.
Every request body is recorded, so tests can compare what the app sent turn after turn.

Usage is computed as the API would from the request itself: tokens are estimated at
``chars_per_token`` characters of each block's JSON (plus the tool-use system prompt the
API adds when tools are given), and a prompt cache keyed by the exact prefix up to each
``cache_control`` breakpoint (a lookup also tries up to 20 blocks before a breakpoint)
reports cache writes for a new prefix and cache reads for a cached one. A request the API
would refuse (more than 4 breakpoints, a tool result without its tool call, an empty
message…) gets the API's 400.

It is reached through ``settings.anthropic_base_url`` (or ``ANTHROPIC_BASE_URL``), so the
application's real SDK path runs end to end.
"""

from __future__ import annotations

import hashlib
import json
import math
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20
# Tokens of the system prompt the API adds when tools are given (Claude 4 models, auto).
TOOL_USE_SYSTEM_TOKENS = 346


@dataclass
class Text:
    text: str


@dataclass
class ToolUse:
    name: str
    input: dict[str, Any]
    id: str | None = None


@dataclass
class Thinking:
    thinking: str = ""
    signature: str = "c2lnbmF0dXJl"


Block = Text | ToolUse | Thinking


@dataclass
class Reply:
    """One scripted answer.

    ``delay``: seconds before each event after ``message_start`` (a slow model).
    ``break_after``: events sent before the connection is dropped mid-body.
    ``error_after``: events sent before an ``event: error`` (``error_type``).
    """

    blocks: list[Block]
    stop_reason: str | None = None
    output_tokens: int | None = None
    delay: float = 0.0
    break_after: int | None = None
    error_after: int | None = None
    error_type: str = "overloaded_error"
    chunk_chars: int = 12


@dataclass
class ErrorReply:
    status: int = 429
    error_type: str = "rate_limit_error"
    message: str = "Number of requests has exceeded your rate limit"
    retry_after: str | None = None


Script = Reply | ErrorReply | Callable[[dict[str, Any]], "Reply | ErrorReply"]


@dataclass
class RecordedRequest:
    body: dict[str, Any]
    headers: dict[str, str]
    received_at: float
    status: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    finished_at: float | None = None  # when the last byte of the answer was written

    @property
    def seconds(self) -> float:
        """Time this server spent on the request (the stand-in model's own time)."""
        return (self.finished_at or self.received_at) - self.received_at


def text_reply(text: str, **kwargs: Any) -> Reply:
    return Reply([Text(text)], **kwargs)


def tool_reply(name: str, arguments: dict[str, Any], text: str = "", **kwargs: Any) -> Reply:
    blocks: list[Block] = [Text(text)] if text else []
    blocks.append(ToolUse(name, arguments))
    return Reply(blocks, **kwargs)


def without_cache_control(item: Any) -> Any:
    """The JSON with every ``cache_control`` key removed (what the cache keys on)."""
    if isinstance(item, dict):
        return {k: without_cache_control(v) for k, v in item.items() if k != "cache_control"}
    if isinstance(item, list):
        return [without_cache_control(v) for v in item]
    return item


def _canonical(item: Any) -> bytes:
    return json.dumps(without_cache_control(item), separators=(",", ":")).encode()


class PromptCache:
    """Prefix cache as the API documents it: entries at breakpoints, exact prefix match."""

    def __init__(self, chars_per_token: float, min_tokens: int) -> None:
        self.chars_per_token = chars_per_token
        self.min_tokens = min_tokens
        self.entries: set[str] = set()
        self.lock = threading.Lock()

    def blocks(self, body: dict[str, Any]) -> list[tuple[Any, bool]]:
        """(block, has cache_control) in the order the API renders them."""
        found: list[tuple[Any, bool]] = []
        tools = body.get("tools") or []
        if tools:
            found.append(({"tool_use_system_prompt": True}, False))
        for tool in tools:
            found.append((tool, "cache_control" in tool))
        system = body.get("system") or []
        if isinstance(system, str):
            system = [{"type": "text", "text": system}]
        for block in system:
            found.append((block, "cache_control" in block))
        for message in body.get("messages") or []:
            content = message.get("content")
            if isinstance(content, str):
                content = [{"type": "text", "text": content}]
            for block in content:
                found.append(({"role": message["role"], **block}, "cache_control" in block))
        return found

    def tokens(self, block: Any) -> int:
        if isinstance(block, dict) and block.get("tool_use_system_prompt"):
            return TOOL_USE_SYSTEM_TOKENS
        return max(1, math.ceil(len(_canonical(block)) / self.chars_per_token))

    def usage(self, body: dict[str, Any]) -> dict[str, int]:
        blocks = self.blocks(body)
        digest = hashlib.sha256()
        prefixes: list[str] = []
        cumulative: list[int] = []
        total = 0
        for block, _ in blocks:
            digest.update(_canonical(block))
            prefixes.append(digest.copy().hexdigest())
            total += self.tokens(block)
            cumulative.append(total)
        marks = [i for i, (_, marked) in enumerate(blocks) if marked]
        with self.lock:
            hit = -1
            for mark in marks:
                for position in range(mark, max(-1, mark - LOOKBACK_BLOCKS - 1), -1):
                    if prefixes[position] in self.entries:
                        hit = max(hit, position)
                        break
            read = cumulative[hit] if hit >= 0 else 0
            write = 0
            if marks and marks[-1] > hit and cumulative[marks[-1]] >= self.min_tokens:
                write = cumulative[marks[-1]] - read
            for mark in marks:
                if cumulative[mark] >= self.min_tokens:
                    self.entries.add(prefixes[mark])
        return {
            "input_tokens": total - read - write,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
        }


def refusal(body: dict[str, Any]) -> str | None:
    """Why the real API would answer 400 to this body, if it would."""
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            return f"{key}: Field required"
    messages = body["messages"]
    if not messages or messages[0].get("role") != "user":
        return "messages: the first message must use the user role"
    marks = 0
    for tool in body.get("tools") or []:
        marks += "cache_control" in tool
    system = body.get("system")
    for block in system if isinstance(system, list) else []:
        marks += "cache_control" in block
    previous_uses: set[str] = set()
    for index, message in enumerate(messages):
        content = message.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not content:
            return f"messages.{index}: all messages must have non-empty content"
        uses: set[str] = set()
        for block in content:
            marks += "cache_control" in block
            kind = block.get("type")
            if kind == "text" and not block.get("text"):
                return f"messages.{index}: text content blocks must be non-empty"
            if kind in ("thinking", "redacted_thinking") and "cache_control" in block:
                return f"messages.{index}: thinking blocks cannot be cached directly"
            if kind == "tool_use":
                uses.add(block["id"])
            if kind == "tool_result" and block.get("tool_use_id") not in previous_uses:
                return (
                    f"messages.{index}: unexpected tool_use_id in tool_result blocks: "
                    f"{block.get('tool_use_id')}"
                )
        if message.get("role") == "assistant":
            following = messages[index + 1] if index + 1 < len(messages) else None
            if uses and following is not None:
                answered = {
                    b.get("tool_use_id")
                    for b in following.get("content") or []
                    if isinstance(b, dict) and b.get("type") == "tool_result"
                }
                if uses - answered:
                    return (
                        f"messages.{index}: tool_use ids were found without tool_result "
                        f"blocks immediately after: {sorted(uses - answered)}"
                    )
        previous_uses = uses
    if marks > MAX_BREAKPOINTS:
        return f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided"
    return None


class MessagesApiServer:
    """``with MessagesApiServer() as api: api.script(text_reply("hi")); api.url``."""

    def __init__(self, *, chars_per_token: float = 4.0, min_cacheable_tokens: int = 1024) -> None:
        self.cache = PromptCache(chars_per_token, min_cacheable_tokens)
        self.replies: deque[Script] = deque()
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- scripting -----------------------------------------------------------------------

    def script(self, *replies: Script) -> None:
        with self._lock:
            self.replies.extend(replies)

    @property
    def pending(self) -> int:
        return len(self.replies)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests]

    @property
    def url(self) -> str:
        assert self._server is not None, "the server is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _next(self, body: dict[str, Any]) -> Reply | ErrorReply:
        with self._lock:
            script = self.replies.popleft() if self.replies else None
        if script is None:
            return ErrorReply(500, "api_error", "no scripted reply left for this request")
        if callable(script) and not isinstance(script, Reply | ErrorReply):
            return script(body)
        return script

    # --- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> MessagesApiServer:
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    api: MessagesApiServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Each event is written as it is made; Nagle's algorithm would hold the small
        # writes back until the client's delayed ACK (~40 ms), as no real API does.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self._record: RecordedRequest | None = None
        try:
            self._answer()
        finally:
            if self._record is not None:
                self._record.finished_at = time.monotonic()

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        if self.path.split("?")[0] != "/v1/messages":
            self._error(404, "not_found_error", f"no route {self.path}")
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._error(400, "invalid_request_error", "the body is not JSON")
            return
        record = RecordedRequest(
            body=body,
            headers={k.lower(): v for k, v in self.headers.items()},
            received_at=time.monotonic(),
        )
        self.api.requests.append(record)
        self._record = record
        problem = refusal(body)
        if problem is not None:
            record.status = 400
            self._error(400, "invalid_request_error", problem)
            return
        reply = self.api._next(body)
        if isinstance(reply, ErrorReply):
            record.status = reply.status
            self._error(reply.status, reply.error_type, reply.message, reply.retry_after)
            return
        record.status = 200
        usage = self.api.cache.usage(body)
        record.usage = usage
        message = _message(body, reply, usage)
        if body.get("stream"):
            self._stream(message, reply)
        else:
            self._json(200, message)

    # --- answers -------------------------------------------------------------------------

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", f"req_{uuid.uuid4().hex[:24]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(
        self, status: int, error_type: str, message: str, retry_after: str | None = None
    ) -> None:
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        if status == 500 and "no scripted reply" in message:
            headers["x-should-retry"] = "false"
        self._json(
            status,
            {"type": "error", "error": {"type": error_type, "message": message}},
            headers,
        )

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _stream(self, message: dict[str, Any], reply: Reply) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", f"req_{uuid.uuid4().hex[:24]}")
        self.end_headers()
        try:
            for sent, (name, data) in enumerate(_events(message, reply)):
                if reply.break_after is not None and sent >= reply.break_after:
                    # Drop the connection mid-body: no terminating chunk.
                    self.close_connection = True
                    return
                if reply.error_after is not None and sent >= reply.error_after:
                    error = {
                        "type": "error",
                        "error": {"type": reply.error_type, "message": "Overloaded"},
                    }
                    self._chunk(f"event: error\ndata: {json.dumps(error)}\n\n".encode())
                    break
                if sent > 0 and reply.delay:
                    time.sleep(reply.delay)
                self._chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _message(body: dict[str, Any], reply: Reply, usage: dict[str, int]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for block in reply.blocks:
        if isinstance(block, Text):
            content.append({"type": "text", "text": block.text})
        elif isinstance(block, ToolUse):
            content.append(
                {
                    "type": "tool_use",
                    "id": block.id or f"toolu_{uuid.uuid4().hex[:24]}",
                    "name": block.name,
                    "input": block.input,
                }
            )
        else:
            content.append(
                {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
            )
    stop_reason = reply.stop_reason or (
        "tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn"
    )
    output = reply.output_tokens
    if output is None:
        output = sum(
            math.ceil(len(json.dumps(b)) / 4)
            if b["type"] != "text"
            else math.ceil(len(b["text"]) / 4)
            for b in content
        )
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": max(1, output)},
    }


def _events(message: dict[str, Any], reply: Reply) -> Iterator[tuple[str, dict[str, Any]]]:
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    yield "message_start", {"type": "message_start", "message": start}
    yield "ping", {"type": "ping"}
    size = max(1, reply.chunk_chars)
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
            text = block["text"]
            for at in range(0, len(text), size):
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": text[at : at + size]},
                    },
                )
        elif block["type"] == "tool_use":
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {
                        "type": "tool_use",
                        "id": block["id"],
                        "name": block["name"],
                        "input": {},
                    },
                },
            )
            arguments = json.dumps(block["input"])
            yield (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": ""},
                },
            )
            for at in range(0, len(arguments), size):
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {
                            "type": "input_json_delta",
                            "partial_json": arguments[at : at + size],
                        },
                    },
                )
        else:
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                },
            )
            if block["thinking"]:
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "thinking_delta", "thinking": block["thinking"]},
                    },
                )
            yield (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "signature_delta", "signature": block["signature"]},
                },
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {
                "input_tokens": usage["input_tokens"],
                "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
                "cache_read_input_tokens": usage["cache_read_input_tokens"],
                "output_tokens": usage["output_tokens"],
            },
        },
    )
    yield "message_stop", {"type": "message_stop"}


# --- for tests -----------------------------------------------------------------------------


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """The (event, data) pairs of a Server-Sent Events body."""
    events = []
    for chunk in text.split("\n\n"):
        name, data = "message", []
        for line in chunk.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


@pytest.fixture
def messages_api() -> Iterator[MessagesApiServer]:
    """A running, empty-scripted Messages API server for this test."""
    with MessagesApiServer() as server:
        yield server
