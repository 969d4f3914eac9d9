"""The model server client: the HTTP transport against a real local HTTP server, the
SageMaker transport against botocore's Stubber (no emulator implements InvokeEndpoint)."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from flask import Flask

from api.predictions.client import (
    HttpTransport,
    InferenceClient,
    InferenceUnavailable,
    SageMakerTransport,
    build_client,
    inference_client,
)
from api.settings import ApiSettings

ANSWER = {
    "model_name": "direction-5d",
    "model_version": "v7",
    "horizon_days": 5,
    "predictions": [
        {
            "ticker": "AAPL",
            "as_of": "2010-08-20",
            "horizon_days": 5,
            "prob_up": 0.61,
            "expected_return": 0.004,
            "model_version": "v7",
            "drivers": [],
        }
    ],
}
SERIES = [{"ticker": "AAPL", "bars": {"date": ["2010-08-20"], "close": [1.0]}}]

Reply = tuple[int, Any]  # status and a JSON-able body (bytes are sent as they are)


class FakeModelServer:
    """A real HTTP server on a free port whose answers the test chooses."""

    def __init__(self, port: int = 0) -> None:
        self.routes: dict[tuple[str, str], Callable[[bytes], Reply]] = {
            ("GET", "/ping"): lambda _: (200, {"status": "ok", "model_version": "v7"}),
            ("POST", "/invocations"): lambda _: (200, ANSWER),
        }
        self.requests: list[dict[str, Any]] = []
        self.connections: list[socket.socket] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "content_type": self.headers.get("Content-Type"),
                        "body": body,
                    }
                )
                route = owner.routes.get((self.command, self.path))
                status, payload = route(body) if route else (404, {"error": {"message": "no"}})
                raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = _answer  # noqa: N815 - the name http.server calls
            do_POST = _answer  # noqa: N815

            def setup(self) -> None:
                super().setup()
                owner.connections.append(self.connection)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop listening and drop every open connection, as a stopped server does."""
        self.httpd.shutdown()
        self.httpd.server_close()
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


@contextmanager
def model_server(port: int = 0) -> Iterator[FakeModelServer]:
    server = FakeModelServer(port)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def server() -> Iterator[FakeModelServer]:
    with model_server() as running:
        yield running


def http_client(url: str, timeout: float = 5.0) -> InferenceClient:
    return InferenceClient(HttpTransport(url, timeout))


# -- HTTP -------------------------------------------------------------------------------------
def test_http_predict_sends_the_contract_body_and_returns_the_answer(
    server: FakeModelServer,
) -> None:
    client = http_client(server.url)
    market = {"date": ["2010-08-20"], "return": [0.001]}
    answer = client.predict(SERIES, as_of="2010-08-20", market=market, max_drivers=3)
    assert answer == ANSWER
    sent = server.requests[-1]
    assert (sent["method"], sent["path"]) == ("POST", "/invocations")
    assert sent["content_type"] == "application/json"
    assert json.loads(sent["body"]) == {
        "series": SERIES,
        "as_of": "2010-08-20",
        "market": market,
        "max_drivers": 3,
    }


def test_http_ping_names_the_serving_model(server: FakeModelServer) -> None:
    assert http_client(server.url).ping() == "model v7"


def test_http_ping_while_the_model_loads_is_unavailable(server: FakeModelServer) -> None:
    server.routes[("GET", "/ping")] = lambda _: (
        503,
        {"status": "loading", "last_error": "version v8 refused: hash does not match"},
    )
    with pytest.raises(InferenceUnavailable, match=r"no model loaded yet.*hash does not match"):
        http_client(server.url).ping()


def test_http_error_answers_carry_the_servers_message(server: FakeModelServer) -> None:
    server.routes[("POST", "/invocations")] = lambda _: (
        400,
        {"error": {"code": "invalid_value", "message": "series must hold at least one ticker"}},
    )
    with pytest.raises(InferenceUnavailable, match="answered 400: series must hold") as caught:
        http_client(server.url).predict(SERIES)
    assert caught.value.status == 400

    server.routes[("POST", "/invocations")] = lambda _: (503, {"error": {"message": "loading"}})
    with pytest.raises(InferenceUnavailable, match="no model loaded yet"):
        http_client(server.url).predict(SERIES)


def test_http_answers_that_are_not_the_contract_are_unavailable(server: FakeModelServer) -> None:
    client = http_client(server.url)
    server.routes[("POST", "/invocations")] = lambda _: (200, b"<html>proxy error</html>")
    with pytest.raises(InferenceUnavailable, match="not JSON"):
        client.predict(SERIES)
    server.routes[("POST", "/invocations")] = lambda _: (200, {"predictions": []})
    with pytest.raises(InferenceUnavailable, match="does not hold the predictions"):
        client.predict(SERIES)


def test_http_a_slow_server_times_out(server: FakeModelServer) -> None:
    def slow(_: bytes) -> Reply:
        time.sleep(1.0)
        return 200, ANSWER

    server.routes[("POST", "/invocations")] = slow
    began = time.monotonic()
    with pytest.raises(InferenceUnavailable, match=r"did not answer within 0\.2 s"):
        http_client(server.url, timeout=0.2).predict(SERIES)
    assert time.monotonic() - began < 0.9


def test_http_a_server_that_is_down_then_back_needs_no_new_client() -> None:
    with model_server() as first:
        client = http_client(first.url)
        port = first.port
        assert client.predict(SERIES) == ANSWER
    with pytest.raises(InferenceUnavailable, match="does not answer"):
        client.predict(SERIES)
    with pytest.raises(InferenceUnavailable, match="does not answer"):
        client.ping()
    with model_server(port) as second:
        assert client.predict(SERIES) == ANSWER
        assert second.requests[-1]["path"] == "/invocations"


def test_a_non_finite_number_is_refused_before_any_call(server: FakeModelServer) -> None:
    with pytest.raises(InferenceUnavailable, match="not finite"):
        http_client(server.url).predict(SERIES, market={"date": ["d"], "return": [float("nan")]})
    assert server.requests == []


# -- SageMaker --------------------------------------------------------------------------------
@pytest.fixture
def sagemaker() -> Iterator[tuple[SageMakerTransport, Stubber, Stubber]]:
    session = boto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    runtime = session.client("sagemaker-runtime")
    control = session.client("sagemaker")
    with Stubber(runtime) as runtime_stub, Stubber(control) as control_stub:
        transport = SageMakerTransport(
            "aia-inference",
            timeout=5.0,
            region="us-east-1",
            runtime=runtime,
            control=control,
        )
        yield transport, runtime_stub, control_stub
        runtime_stub.assert_no_pending_responses()
        control_stub.assert_no_pending_responses()


def _streaming(raw: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(raw), len(raw))


def _body_of(series: list[dict[str, Any]]) -> bytes:
    return json.dumps({"series": series}, allow_nan=False, separators=(",", ":")).encode()


def test_sagemaker_invoke_endpoint_carries_the_same_body(sagemaker: Any) -> None:
    transport, runtime, _ = sagemaker
    runtime.add_response(
        "invoke_endpoint",
        {"Body": _streaming(json.dumps(ANSWER).encode()), "ContentType": "application/json"},
        expected_params={
            "EndpointName": "aia-inference",
            "ContentType": "application/json",
            "Accept": "application/json",
            "Body": _body_of(SERIES),
        },
    )
    assert InferenceClient(transport).predict(SERIES) == ANSWER


def test_sagemaker_a_model_error_passes_the_containers_message_on(sagemaker: Any) -> None:
    transport, runtime, _ = sagemaker
    original = {"error": {"code": "invalid_value", "message": "series must hold a ticker"}}
    runtime.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        service_message="Received client error (400) from primary with message ...",
        http_status_code=424,
        modeled_fields={"OriginalStatusCode": 400, "OriginalMessage": json.dumps(original)},
    )
    with pytest.raises(InferenceUnavailable, match="answered 400: series must hold") as caught:
        InferenceClient(transport).predict(SERIES)
    assert caught.value.status == 400


def test_sagemaker_an_unknown_endpoint_is_unavailable(sagemaker: Any) -> None:
    transport, runtime, _ = sagemaker
    runtime.add_client_error(
        "invoke_endpoint",
        service_error_code="ValidationError",
        service_message="Endpoint aia-inference of account 000000000000 not found.",
        http_status_code=400,
    )
    with pytest.raises(InferenceUnavailable, match=r"refused the call \(ValidationError\).*found"):
        InferenceClient(transport).predict(SERIES)


def test_sagemaker_an_answer_that_is_not_json_is_unavailable(sagemaker: Any) -> None:
    transport, runtime, _ = sagemaker
    runtime.add_response("invoke_endpoint", {"Body": _streaming(b"\x00\x01")})
    with pytest.raises(InferenceUnavailable, match="not JSON"):
        InferenceClient(transport).predict(SERIES)


def test_sagemaker_ping_is_the_endpoint_being_in_service(sagemaker: Any) -> None:
    transport, _, control = sagemaker
    described = {
        "EndpointName": "aia-inference",
        "EndpointArn": "arn:aws:sagemaker:us-east-1:000000000000:endpoint/aia-inference",
        "EndpointConfigName": "aia-inference-config",
        "CreationTime": "2026-01-01T00:00:00Z",
        "LastModifiedTime": "2026-01-01T00:00:00Z",
    }
    control.add_response(
        "describe_endpoint",
        {**described, "EndpointStatus": "InService"},
        expected_params={"EndpointName": "aia-inference"},
    )
    assert transport.ping() == "endpoint aia-inference InService"
    control.add_response(
        "describe_endpoint",
        {**described, "EndpointStatus": "Failed", "FailureReason": "ping did not pass"},
    )
    with pytest.raises(InferenceUnavailable, match="is Failed \\(ping did not pass\\)"):
        transport.ping()
    control.add_client_error(
        "describe_endpoint", service_error_code="ValidationError", service_message="not found"
    )
    with pytest.raises(InferenceUnavailable, match="cannot be described: not found"):
        transport.ping()


# -- choosing and caching the client --------------------------------------------------------
def _settings(**changes: Any) -> ApiSettings:
    return ApiSettings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url="postgresql+psycopg://nobody@127.0.0.1:9/none",
        session_secret="unit-test-session-secret",
        aws_region="us-east-1",
        **changes,
    )


def test_settings_choose_the_transport() -> None:
    http = build_client(_settings(inference_url="http://127.0.0.1:9/", inference_timeout_seconds=7))
    assert isinstance(http.transport, HttpTransport)
    assert http.transport.base_url == "http://127.0.0.1:9"
    assert http.transport.timeout == 7
    sagemaker = build_client(
        _settings(inference_transport="sagemaker", sagemaker_endpoint_name="aia-inference")
    )
    assert isinstance(sagemaker.transport, SageMakerTransport)
    assert sagemaker.transport.endpoint_name == "aia-inference"


def test_one_client_per_app_and_settings() -> None:
    settings = _settings()
    app = Flask(__name__)
    with app.app_context():
        first = inference_client(settings)
        assert inference_client(settings) is first
        assert inference_client(_settings()) is not first
    with Flask(__name__).app_context():
        assert inference_client(settings) is not first
