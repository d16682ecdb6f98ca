"""One error body for the whole API, and its place in the OpenAPI schema.

Every error answer under /api/ is `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}` — the shape FastAPI
gives validation errors (422), used for every status: `loc` names the offending field (empty when the error is
about the request as a whole), `msg` says what is wrong, `type` is a stable machine-readable kind
(`not_authenticated`, `forbidden`, `not_found`, `conflict`, `invalid`, … or pydantic's own for 422). The schema
declares 400/401/403/404/409/422/429 on every operation with that body (docs/review.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_TYPES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid", 429: "too_many_requests", 500: "internal", 503: "unavailable"}
DECLARED = (400, 401, 403, 404, 409, 422, 429)
DESCRIPTIONS = {400: "Bad request", 401: "Not authenticated (a session cookie or `Authorization: Bearer TOKEN`)",
                403: "Forbidden for this role, or a missing CSRF token", 404: "Not found",
                409: "Conflict with the current state", 422: "Invalid input", 429: "Too many requests"}


def error_items(status: int, detail: Any) -> list[dict[str, Any]]:
    """Any HTTPException detail (a string, a {field, reason} mapping, or a list already shaped) as error items."""
    kind = ERROR_TYPES.get(status, "error")
    if isinstance(detail, list) and all(isinstance(d, dict) and "msg" in d for d in detail):
        return [{"loc": list(d.get("loc") or []), "msg": str(d["msg"]), "type": str(d.get("type") or kind)}
                for d in detail]
    if isinstance(detail, dict) and "reason" in detail:
        loc = ["body", str(detail["field"])] if detail.get("field") else []
        return [{"loc": loc, "msg": str(detail["reason"]), "type": kind}]
    return [{"loc": [], "msg": str(detail if detail is not None else kind.replace("_", " ")), "type": kind}]


def validation_items(errors: Any) -> list[dict[str, Any]]:
    """Pydantic's validation errors, reduced to loc/msg/type (no echo of the input)."""
    return [{"loc": [x if isinstance(x, int) else str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", "")),
             "type": str(e.get("type", "invalid"))} for e in errors]


def body(status: int, detail: Any) -> dict[str, Any]:
    return {"detail": error_items(status, detail)}


def message(items: list[dict[str, Any]]) -> str:
    """Error items as one line for the HTML error page."""
    return "; ".join(f"{'.'.join(map(str, i['loc']))}: {i['msg']}" if i["loc"] else i["msg"] for i in items)


ERROR_SCHEMA = {
    "title": "Error", "type": "object", "required": ["detail"],
    "properties": {"detail": {"title": "Detail", "type": "array", "items": {
        "title": "ErrorItem", "type": "object", "required": ["loc", "msg", "type"],
        "properties": {"loc": {"title": "Location", "type": "array",
                               "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                       "msg": {"title": "Message", "type": "string"},
                       "type": {"title": "Error Type", "type": "string"}}}}},
}


MESSAGE_SCHEMA = {"title": "HMAError", "type": "object", "required": ["message"],
                  "properties": {"message": {"title": "Message", "type": "string"}}}


def install_openapi(app: FastAPI, other: tuple[Callable[[str], bool], str, dict[str, Any]] | None = None) -> None:
    """Declare the error responses on every operation of the schema (whoever added the route). `other`:
    (path predicate, schema name, schema) for paths whose errors have another body (the HMA-compatible API)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        if other is not None:
            schema["components"]["schemas"][other[1]] = other[2]
        for path, ops in schema.get("paths", {}).items():
            shape = ref
            if other is not None and other[0](path):
                shape = {"application/json": {"schema": {"$ref": f"#/components/schemas/{other[1]}"}}}
            for op in ops.values():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                for code in DECLARED:
                    op["responses"][str(code)] = {"description": DESCRIPTIONS[code], "content": shape}
        schemas = schema["components"]["schemas"]
        if not any("HTTPValidationError" in str(op) for ops in schema.get("paths", {}).values() for op in ops.values()):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
