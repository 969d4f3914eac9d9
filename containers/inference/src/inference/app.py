"""The HTTP surface, as a plain WSGI application (SageMaker's container contract).

- ``GET /ping`` — 200 once a verified model serves, 503 before; a small JSON body.
- ``POST /invocations`` — ``application/json`` only (415), at most 4 MB (413);
  see :mod:`inference.payload` for the body and :mod:`inference.prediction` for the answer.
- ``GET /models/current`` — which model serves, from where, and the last loading problem.

Handlers stay thin: reading and checking the body, predicting and loading are plain
functions the tests call without HTTP. Errors share one shape:
``{"error": {"code", "message", "field"?}}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from inference.loading import FeatureLibrary, ModelSlot
from inference.payload import RequestError, parse_request
from inference.prediction import predict_request
from inference.settings import InferenceSettings

log = logging.getLogger("inference.http")

StartResponse = Callable[..., Any]
Response = tuple[int, dict[str, Any], dict[str, str]]

_STATUS_TEXT = {
    200: "200 OK",
    400: "400 Bad Request",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    411: "411 Length Required",
    413: "413 Content Too Large",
    415: "415 Unsupported Media Type",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}
_READ_CHUNK = 256 * 1024
# An oversized body is read and dropped up to this size so that the client, still
# sending, receives the 413 rather than a reset connection; beyond it the connection closes.
_DRAIN_LIMIT = 64 * 1024 * 1024


class InferenceApp:
    """WSGI callable serving one :class:`ModelSlot`."""

    def __init__(self, settings: InferenceSettings, slot: ModelSlot) -> None:
        self.settings = settings
        self.slot = slot
        self.library: FeatureLibrary = slot.library

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            status, body, headers = self.route(environ)
        except Exception:
            log.exception("unexpected error answering %s", environ.get("PATH_INFO"))
            status, body, headers = _error(500, "internal_error", "the server failed")
        payload = orjson.dumps(body)
        header_list = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            *headers.items(),
        ]
        start_response(_STATUS_TEXT.get(status, str(status)), header_list)
        return [payload]

    def route(self, environ: dict[str, Any]) -> Response:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/ping":
            if method not in {"GET", "HEAD"}:
                return _error(405, "method_not_allowed", "use GET /ping")
            return self.ping()
        if path == "/invocations":
            if method != "POST":
                return _error(405, "method_not_allowed", "use POST /invocations")
            return self.invocations(environ)
        if path == "/models/current":
            if method not in {"GET", "HEAD"}:
                return _error(405, "method_not_allowed", "use GET /models/current")
            return 200, self.slot.status(), {}
        return _error(404, "not_found", f"no route {path}")

    def ping(self) -> Response:
        model = self.slot.current
        if model is None:
            body = {"status": "loading", "last_error": self.slot.last_error}
            return 503, body, {}
        # Cheap on purpose: health checks call it often.
        return (
            200,
            {"status": "ok", "model_version": model.version, "last_error": self.slot.last_error},
            {},
        )

    def invocations(self, environ: dict[str, Any]) -> Response:
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            return _error(
                415,
                "unsupported_media_type",
                f"Content-Type must be application/json, not {content_type or 'none'}",
            )
        body = _read_body(environ, self.settings.max_request_bytes)
        if isinstance(body, tuple):
            return body
        model = self.slot.current  # read once: a swap meanwhile does not affect this call
        if model is None:
            return _error(503, "model_not_loaded", self.slot.last_error or "no model loaded yet")
        try:
            request = parse_request(body, min_history_bars=self.library.min_history_bars)
        except RequestError as problem:
            return problem.status, problem.as_json(), {}
        answer = predict_request(model, request, self.library)
        return 200, answer, {"X-Model-Version": model.version}


def _read_body(environ: dict[str, Any], limit: int) -> bytes | Response:
    """The request body, or the error response when it is too large or its length is bad."""
    stream = environ["wsgi.input"]
    raw_length = environ.get("CONTENT_LENGTH") or ""
    too_large = _error(
        413, "payload_too_large", f"request body exceeds {limit} bytes", field="body"
    )
    if raw_length:
        try:
            length = int(raw_length)
        except ValueError:
            return _error(400, "invalid_length", "Content-Length is not a number")
        if length < 0:
            return _error(400, "invalid_length", "Content-Length is negative")
        if length > limit:
            if length <= _DRAIN_LIMIT:
                _drain(stream, length)
                return too_large
            return too_large[0], too_large[1], {"Connection": "close"}
    else:
        length = None  # chunked: read until the end, refusing once past the limit

    chunks: list[bytes] = []
    received = 0
    wanted = limit + 1 if length is None else min(length, limit + 1)
    while received < wanted:
        chunk = stream.read(min(_READ_CHUNK, wanted - received))
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    if received > limit:
        _drain(stream, _DRAIN_LIMIT)
        return too_large
    return b"".join(chunks)


def _drain(stream: Any, most: int) -> None:
    left = most
    while left > 0:
        chunk = stream.read(min(_READ_CHUNK, left))
        if not chunk:
            return
        left -= len(chunk)


def _error(status: int, code: str, message: str, field: str | None = None) -> Response:
    return status, RequestError(code, message, field, status).as_json(), {}


def create_app(
    settings: InferenceSettings | None = None,
    slot: ModelSlot | None = None,
    library: FeatureLibrary | None = None,
) -> InferenceApp:
    """The WSGI app; the model is loaded by whoever runs it (``serve`` or a test)."""
    from quantcore.settings import load_settings

    settings = settings or load_settings(InferenceSettings)
    slot = slot or ModelSlot(settings, library=library)
    return InferenceApp(settings, slot)
