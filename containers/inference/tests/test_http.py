"""The container contract seen over WSGI: /ping, media type, size limit, routes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from inference.app import create_app
from inference.loading import ModelSlot
from inference.settings import InferenceSettings


def test_ping_is_503_until_a_model_loads_then_200(
    call_app: Any, settings: InferenceSettings, tmp_path: Path
) -> None:
    empty = InferenceSettings(model_source="dir", sm_model_dir=tmp_path)
    slot = ModelSlot(empty)
    app = create_app(empty, slot)
    assert call_app(app, "GET", "/ping").status_code == 503
    assert slot.refresh() is False
    reply = call_app(app, "GET", "/ping")
    assert reply.status_code == 503
    assert "model.joblib is missing" in reply.json()["last_error"]
    refused = call_app(app, "POST", "/invocations", b'{"series": []}')
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "model_not_loaded"

    loaded = ModelSlot(settings)
    assert loaded.refresh()
    slot.install(loaded.current)  # type: ignore[arg-type]
    reply = call_app(app, "GET", "/ping")
    assert reply.status_code == 200
    assert reply.json()["model_version"] == "v-unit"


def test_only_json_is_accepted(call_app: Any, app: Any) -> None:
    for content_type in ("text/plain", "application/x-npy", "text/csv", None):
        reply = call_app(app, "POST", "/invocations", b"{}", content_type=content_type)
        assert reply.status_code == 415
        assert reply.json()["error"]["code"] == "unsupported_media_type"
    reply = call_app(
        app, "POST", "/invocations", b"{}", content_type="application/json; charset=utf-8"
    )
    assert reply.status_code == 400  # accepted as JSON, refused for lacking series


def test_bodies_over_the_limit_are_413(call_app: Any, app: Any) -> None:
    limit = app.settings.max_request_bytes
    big = b'{"series": ["' + b"x" * limit + b'"]}'
    reply = call_app(app, "POST", "/invocations", big)
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "payload_too_large"

    # No Content-Length (chunked upload): the limit is enforced while reading.
    reply = call_app(app, "POST", "/invocations", big, content_length=None)
    assert reply.status_code == 413

    # A Content-Length that lies low is not trusted beyond itself.
    reply = call_app(app, "POST", "/invocations", big, content_length="10")
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "malformed_json"

    reply = call_app(app, "POST", "/invocations", b"{}", content_length="ten")
    assert reply.status_code == 400


def test_a_client_announcing_a_huge_body_is_not_read(call_app: Any, app: Any) -> None:
    class Unreadable(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise AssertionError("the body must not be read")

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/invocations",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(10**10),
        "wsgi.input": Unreadable(),
    }
    seen: dict[str, Any] = {}
    body = b"".join(app(environ, lambda status, headers: seen.update(status=status)))
    assert seen["status"].startswith("413")
    assert json.loads(body)["error"]["code"] == "payload_too_large"


def test_routes_and_methods(call_app: Any, app: Any) -> None:
    assert call_app(app, "GET", "/nope").status_code == 404
    assert call_app(app, "GET", "/invocations").status_code == 405
    assert call_app(app, "POST", "/ping").status_code == 405
    current = call_app(app, "GET", "/models/current")
    assert current.status_code == 200
    info = current.json()
    assert info["loaded"] is True
    assert info["model"]["version"] == "v-unit"
    assert info["model"]["feature_set"] == "f1"
    assert info["source"] == "dir"


def test_answers_carry_the_model_version_header(call_app: Any, app: Any, series_of: Any) -> None:
    body = json.dumps({"series": [series_of("AAPL")]}).encode()
    reply = call_app(app, "POST", "/invocations", body)
    assert reply.status_code == 200
    assert reply.headers["X-Model-Version"] == "v-unit"
    assert reply.headers["Content-Type"] == "application/json"
