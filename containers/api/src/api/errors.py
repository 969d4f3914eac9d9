"""One JSON error shape for the whole API: ``{"error": {"code", "message", "field"?}}``.

4xx for what the caller did wrong; a 500 only for a fault of ours, never for bad input.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("api.errors")


class ApiError(Exception):
    """An error the caller can act on."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


class NotFoundError(ApiError):
    def __init__(self, message: str = "not found", field: str | None = None) -> None:
        super().__init__(404, "not_found", message, field)


class BadRequestError(ApiError):
    def __init__(self, message: str, field: str | None = None, code: str = "bad_request") -> None:
        super().__init__(400, code, message, field)


class ConflictError(ApiError):
    def __init__(self, message: str, field: str | None = None, code: str = "conflict") -> None:
        super().__init__(409, code, message, field)


class UnavailableError(ApiError):
    def __init__(self, message: str, code: str = "unavailable") -> None:
        super().__init__(503, code, message)


def validation_error(exc: ValidationError, location: str = "body") -> ApiError:
    """The first problem of a pydantic validation, as a 422 naming the field."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ())) or None
    message = first.get("msg", "invalid value")
    if field:
        message = f"{field}: {message}"
    return ApiError(422, "validation_error", message, field)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Any:
        return jsonify(exc.body()), exc.status

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Any:
        error = validation_error(exc)
        return jsonify(error.body()), error.status

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        code = (exc.name or "error").lower().replace(" ", "_")
        status = exc.code or 500
        response = jsonify({"error": {"code": code, "message": exc.description or exc.name}})
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unhandled error")
        return jsonify({"error": {"code": "internal_error", "message": "internal error"}}), 500
