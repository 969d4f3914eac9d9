"""Routes declared once: validation, authentication and the OpenAPI document come from the
same declaration.

``@operation(bp, "/things/<int:thing_id>", "POST", body=NewThing, response=Thing)`` adds
the Flask rule, validates the JSON body and the query string with pydantic (a bad request
gets the API's error shape, never a 500), requires a signed-in user unless
``public=True``, and records what ``/api/openapi.json`` says about the route.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, TypeAdapter, ValidationError

from api.errors import ApiError, validation_error

ViewResult = Any


@dataclass
class Operation:
    rule: str  # the full Flask rule, blueprint prefix included
    method: str
    summary: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any  # a pydantic model, list[Model], or None
    status: int
    public: bool
    errors: dict[int, str] = field(default_factory=dict)
    request_content: str | None = None  # a non-JSON body, e.g. "text/csv"
    response_content: str = "application/json"
    description: str | None = None


OPERATIONS: list[Operation] = []

_STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _current_user_id() -> int | None:
    from flask import g

    return getattr(g, "user_id", None)


def operation(
    bp: Blueprint,
    rule: str,
    method: str = "GET",
    *,
    summary: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    public: bool = False,
    errors: dict[int, str] | None = None,
    request_content: str | None = None,
    response_content: str = "application/json",
    description: str | None = None,
) -> Callable[[Callable[..., ViewResult]], Callable[..., ViewResult]]:
    """Declare one route of ``bp``; the view receives ``body=`` and ``query=`` when declared."""
    method = method.upper()
    prefix = bp.url_prefix or ""
    op = Operation(
        rule=prefix + rule,
        method=method,
        summary=summary,
        tag=bp.name,
        body=body,
        query=query,
        response=response,
        status=status,
        public=public,
        errors=dict(errors or {}),
        request_content=request_content,
        response_content=response_content,
        description=description,
    )
    OPERATIONS.append(op)
    adapter = TypeAdapter(response) if response is not None else None

    def decorate(view: Callable[..., ViewResult]) -> Callable[..., ViewResult]:
        @functools.wraps(view)
        def wrapper(**path_args: Any) -> ViewResult:
            if not public and _current_user_id() is None:
                raise ApiError(401, "unauthenticated", "sign in first")
            kwargs: dict[str, Any] = dict(path_args)
            if query is not None:
                try:
                    kwargs["query"] = query.model_validate(request.args.to_dict())
                except ValidationError as exc:
                    raise validation_error(exc) from None
            if body is not None:
                kwargs["body"] = _json_body(body)
            result = view(**kwargs)
            if isinstance(result, Response):
                return result
            if isinstance(result, tuple):
                payload, code = result
            else:
                payload, code = result, status
            payload = _plain(payload, adapter)
            if code == 204:
                return Response(status=204)
            return jsonify(payload), code

        endpoint = f"{method.lower()}_{view.__name__}"
        bp.add_url_rule(rule, endpoint=endpoint, view_func=wrapper, methods=[method])
        return wrapper

    return decorate


def _plain(payload: Any, adapter: TypeAdapter[Any] | None) -> Any:
    """JSON-ready data from what a view returned (models, lists of models, plain data)."""
    if isinstance(payload, BaseModel):
        return payload.model_dump(mode="json")
    if isinstance(payload, list):
        return [_plain(item, None) for item in payload]
    if isinstance(payload, dict):
        return payload
    if adapter is not None:
        return adapter.dump_python(payload, mode="json")
    return payload


def _json_body(model: type[BaseModel]) -> BaseModel:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    payload = request.get_json(silent=True)
    if payload is None:
        raise ApiError(400, "malformed_json", "the body is not valid JSON")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise validation_error(exc) from None


# --- the document ---------------------------------------------------------------------------

_RULE_PART = re.compile(r"<(?:(?P<conv>[a-z]+):)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
_CONVERTER_SCHEMA = {
    None: {"type": "string"},
    "string": {"type": "string"},
    "int": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    "float": {"type": "number"},
    "path": {"type": "string"},
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }
    },
}


def _schema(annotation: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = TypeAdapter(annotation).json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        components[annotation.__name__] = schema
        return {"$ref": f"#/components/schemas/{annotation.__name__}"}
    return schema


def _input_schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="validation")
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    name = f"{model.__name__}"
    components[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def build_document(title: str, version: str) -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        parameters = []
        path = op.rule
        for match in _RULE_PART.finditer(op.rule):
            parameters.append(
                {
                    "name": match["name"],
                    "in": "path",
                    "required": True,
                    "schema": _CONVERTER_SCHEMA.get(match["conv"], {"type": "string"}),
                }
            )
        path = _RULE_PART.sub(lambda m: "{" + m["name"] + "}", op.rule)
        if op.query is not None:
            parameters.extend(_query_parameters(op.query, components))
        entry: dict[str, Any] = {
            "summary": op.summary,
            "tags": [op.tag],
            "operationId": f"{op.method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', path).strip('_')}",
            "parameters": parameters,
            "responses": {},
        }
        if op.description:
            entry["description"] = op.description
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _input_schema(op.body, components)}},
            }
        elif op.request_content is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {op.request_content: {"schema": {"type": "string"}}},
            }
        success: dict[str, Any] = {"description": "OK"}
        if op.status == 204:
            success = {"description": "No content"}
        elif op.response is not None:
            success["content"] = {op.response_content: {"schema": _schema(op.response, components)}}
        elif op.response_content != "application/json":
            success["content"] = {op.response_content: {"schema": {"type": "string"}}}
        entry["responses"][str(op.status)] = success
        errors = dict(op.errors)
        if op.body is not None or op.query is not None:
            errors.setdefault(422, "Invalid input")
        if op.body is not None:
            errors.setdefault(400, "Malformed JSON")
            errors.setdefault(415, "Not JSON")
        if not op.public:
            errors.setdefault(401, "Not signed in")
            entry["security"] = [{"sessionCookie": []}]
        if op.method in _STATE_CHANGING:
            errors.setdefault(403, "Missing or wrong CSRF token")
            entry["security"] = [
                {"sessionCookie": [], "csrfHeader": []} if not op.public else {"csrfHeader": []}
            ]
        for code, text in sorted(errors.items()):
            entry["responses"][str(code)] = {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        paths.setdefault(path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                "JSON API of the AI Investment Agent. Sign in with `POST /api/auth/login`; "
                "the session travels in an HttpOnly cookie. Every state-changing request "
                "(POST, PUT, PATCH, DELETE) must carry the CSRF token: `GET /api/auth/csrf` "
                "sets a readable `csrf_token` cookie, and the request sends its value in the "
                "`X-CSRF-Token` header (double submit). Not financial advice."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
                "csrfHeader": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
        },
    }
