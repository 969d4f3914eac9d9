"""The model server behind one interface, with two transports chosen by settings.

- ``http`` — the local model server (``INFERENCE_URL``): ``GET /ping``, ``POST /invocations``.
- ``sagemaker`` — the production endpoint: ``sagemaker-runtime InvokeEndpoint`` for
  predictions, the endpoint's ``InService`` status (``sagemaker DescribeEndpoint``) for ping.

Both speak the same body (see containers/inference/README.md) and fail the same way: every
problem — refused connection, timeout, a model not loaded yet, an error answer, a body that
is not the expected JSON — raises :class:`InferenceUnavailable` with a reason an investor
may read. Nothing here is remembered between calls, so when the server comes back the next
call simply succeeds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

import requests
from flask import current_app, has_app_context
from requests.adapters import HTTPAdapter

from api.settings import ApiSettings

log = logging.getLogger("api.predictions.client")

# Health checks call ping often; it must answer (or fail) quickly whatever the call timeout.
PING_TIMEOUT_SECONDS = 3.0
_CONNECT_TIMEOUT_SECONDS = 3.0
_EXTENSION_KEY = "inference_client"


class InferenceUnavailable(Exception):  # noqa: N818 - the name other modules catch
    """The model server could not answer; ``reason`` says why, in plain words."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class Transport(Protocol):
    def ping(self) -> str | None:
        """A short description of what serves; raises InferenceUnavailable when down."""

    def invoke(self, body: bytes) -> Any:
        """The decoded JSON answer of ``/invocations`` to ``body``."""


def _error_message(payload: Any) -> str | None:
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(payload.get("last_error"), str):
            return str(payload["last_error"])
    return None


def _decode(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise InferenceUnavailable(f"the {what} answered something that is not JSON") from None


class HttpTransport:
    """The model server over HTTP, with a small pool of kept-alive connections."""

    def __init__(self, base_url: str, timeout: float, pool_size: int = 8) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def _request(self, method: str, path: str, timeout: float, **kwargs: Any) -> requests.Response:
        url = f"{self.base_url}{path}"
        timeouts = (min(_CONNECT_TIMEOUT_SECONDS, timeout), timeout)
        # One retry when a connection breaks: a kept-alive connection the server closed (a
        # restart, its keep-alive timeout) fails the first write. Predictions are pure, so
        # repeating the call is safe; a refused connection fails again at once.
        for attempt in (1, 2):
            try:
                return self._session.request(method, url, timeout=timeouts, **kwargs)
            except requests.Timeout:
                # Not retried: a slow server would make the caller wait twice as long.
                raise InferenceUnavailable(
                    f"the model server did not answer within {timeout:g} s"
                ) from None
            except requests.ConnectionError as exc:
                if attempt == 1:
                    log.info("retrying %s %s after a connection error: %s", method, url, exc)
                    continue
                log.warning("model server at %s unreachable: %s", url, exc)
                raise InferenceUnavailable("the model server does not answer") from None
            except requests.RequestException as exc:
                raise InferenceUnavailable(f"the model server call failed: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def ping(self) -> str | None:
        timeout = min(PING_TIMEOUT_SECONDS, self.timeout)
        reply = self._request("GET", "/ping", timeout)
        payload = _decode(reply.content, "model server") if reply.content else None
        if reply.status_code != 200:
            detail = _error_message(payload) or f"status {reply.status_code}"
            if reply.status_code == 503:
                raise InferenceUnavailable(
                    f"the model server has no model loaded yet ({detail})", status=503
                )
            raise InferenceUnavailable(
                f"the model server's ping answered {reply.status_code} ({detail})",
                status=reply.status_code,
            )
        version = payload.get("model_version") if isinstance(payload, dict) else None
        return f"model {version}" if version else None

    def invoke(self, body: bytes) -> Any:
        reply = self._request(
            "POST",
            "/invocations",
            self.timeout,
            data=body,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        payload = _decode(reply.content, "model server")
        if reply.status_code != 200:
            detail = _error_message(payload) or f"status {reply.status_code}"
            if reply.status_code == 503:
                raise InferenceUnavailable(
                    f"the model server has no model loaded yet ({detail})", status=503
                )
            raise InferenceUnavailable(
                f"the model server answered {reply.status_code}: {detail}",
                status=reply.status_code,
            )
        return payload


class SageMakerTransport:
    """A SageMaker endpoint through ``sagemaker-runtime InvokeEndpoint``."""

    def __init__(
        self,
        endpoint_name: str,
        *,
        timeout: float,
        region: str,
        endpoint_url: str | None = None,
        runtime: Any = None,
        control: Any = None,
    ) -> None:
        self.endpoint_name = endpoint_name
        self.timeout = timeout
        if runtime is None or control is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=_CONNECT_TIMEOUT_SECONDS,
                read_timeout=timeout,
                # InvokeEndpoint is retried once by botocore on throttling and 5xx.
                retries={"max_attempts": 2, "mode": "standard"},
                max_pool_connections=8,
            )
            runtime = runtime or boto3.client(
                "sagemaker-runtime", region_name=region, endpoint_url=endpoint_url, config=config
            )
            control = control or boto3.client(
                "sagemaker", region_name=region, endpoint_url=endpoint_url, config=config
            )
        self._runtime = runtime
        self._control = control

    def ping(self) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            described = self._control.describe_endpoint(EndpointName=self.endpoint_name)
        except ClientError as exc:
            message = exc.response.get("Error", {}).get("Message") or str(exc)
            raise InferenceUnavailable(
                f"the SageMaker endpoint {self.endpoint_name} cannot be described: {message}"
            ) from None
        except BotoCoreError as exc:
            raise InferenceUnavailable(f"SageMaker does not answer: {exc}") from None
        status = described.get("EndpointStatus")
        if status != "InService":
            reason = described.get("FailureReason")
            raise InferenceUnavailable(
                f"the SageMaker endpoint {self.endpoint_name} is {status}"
                + (f" ({reason})" if reason else "")
            )
        return f"endpoint {self.endpoint_name} InService"

    def invoke(self, body: bytes) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

        try:
            response = self._runtime.invoke_endpoint(
                EndpointName=self.endpoint_name,
                ContentType="application/json",
                Accept="application/json",
                Body=body,
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            if code == "ModelError":
                # The container answered with an error status; its own body is passed on.
                status = exc.response.get("OriginalStatusCode")
                original = exc.response.get("OriginalMessage")
                detail = original
                if isinstance(original, str):
                    try:
                        detail = _error_message(json.loads(original)) or original
                    except ValueError:
                        detail = original
                raise InferenceUnavailable(
                    f"the model answered {status}: {detail or error.get('Message')}",
                    status=status if isinstance(status, int) else None,
                ) from None
            raise InferenceUnavailable(
                f"the SageMaker endpoint refused the call ({code}): {error.get('Message', '')}"
            ) from None
        except ReadTimeoutError:
            raise InferenceUnavailable(
                f"the SageMaker endpoint did not answer within {self.timeout:g} s"
            ) from None
        except BotoCoreError as exc:
            raise InferenceUnavailable(f"SageMaker does not answer: {exc}") from None
        raw = response["Body"].read()
        return _decode(raw, "SageMaker endpoint")


class InferenceClient:
    """What the API asks the model server, whatever carries the call."""

    def __init__(self, transport: Transport, settings: ApiSettings | None = None) -> None:
        self.transport = transport
        self.settings = settings

    def ping(self) -> str | None:
        return self.transport.ping()

    def predict(
        self,
        series: Sequence[dict[str, Any]],
        as_of: date | str | None = None,
        market: dict[str, list[Any]] | list[dict[str, Any]] | None = None,
        max_drivers: int | None = None,
    ) -> dict[str, Any]:
        """The server's answer: ``{"model_version", "horizon_days", "predictions": [...]}``,
        one prediction (or ``{"ticker", "error"}``) per series entry, in order."""
        document: dict[str, Any] = {"series": list(series)}
        if as_of is not None:
            document["as_of"] = as_of if isinstance(as_of, str) else as_of.isoformat()
        if market is not None:
            document["market"] = market
        if max_drivers is not None:
            document["max_drivers"] = max_drivers
        try:
            body = json.dumps(document, allow_nan=False, separators=(",", ":")).encode()
        except ValueError as exc:
            # A NaN would make the whole body a 400 at the server; say what is wrong here.
            raise InferenceUnavailable(
                f"the request holds a number that is not finite: {exc}"
            ) from None
        answer = self.transport.invoke(body)
        predictions = answer.get("predictions") if isinstance(answer, dict) else None
        if not isinstance(predictions, list) or len(predictions) != len(document["series"]):
            raise InferenceUnavailable("the model server's answer does not hold the predictions")
        result: dict[str, Any] = answer
        return result


def build_client(settings: ApiSettings) -> InferenceClient:
    transport: Transport
    if settings.inference_transport == "sagemaker":
        assert settings.sagemaker_endpoint_name  # the settings validator requires it
        transport = SageMakerTransport(
            settings.sagemaker_endpoint_name,
            timeout=settings.inference_timeout_seconds,
            region=settings.aws_region,
            endpoint_url=settings.aws_endpoint_url,
        )
    else:
        transport = HttpTransport(settings.inference_url, settings.inference_timeout_seconds)
    return InferenceClient(transport, settings)


def inference_client(settings: ApiSettings) -> InferenceClient:
    """The app's client for ``settings`` (one per app, so its connections are reused)."""
    if not has_app_context():
        return build_client(settings)
    client: InferenceClient | None = current_app.extensions.get(_EXTENSION_KEY)
    if client is None or client.settings is not settings:
        client = build_client(settings)
        current_app.extensions[_EXTENSION_KEY] = client
    return client
