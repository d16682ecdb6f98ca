"""Checks every request passes before any route runs (an app-wide dependency), so no route — whoever wrote it —
hands the database a value it cannot hold: an integer parameter outside the id columns' range (PostgreSQL
`integer`, the narrower of the two databases) or a NUL character in a parameter or a text field (PostgreSQL
refuses NUL in text). Both are 422 in the one error shape, before anything is read or written."""

from __future__ import annotations

import inspect
import json
import re
import typing
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from fastapi import HTTPException, Request
from pydantic import BaseModel

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL integer; SQLite's INTEGER (2^63) is wider
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
NUL_TYPE = "string_nul"


def _is_int(annotation: Any) -> bool:
    """int, int | None, Optional[int], Annotated[int, …] (not bool)."""
    if annotation is int:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_int(typing.get_args(annotation)[0])
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return len(args) == 1 and _is_int(args[0])
    return False


def _model(annotation: Any) -> Any:
    """The pydantic model class an annotation names (Annotated[Model, ...], Model | None), or None."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _model(typing.get_args(annotation)[0])
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if args and len(args) == 1:
        return _model(args[0])
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


@lru_cache(maxsize=1024)
def int_params(endpoint: Callable[..., Any]) -> frozenset[str]:
    """The endpoint's parameters typed int (path or query)."""
    return _int_names(endpoint)[0]


@lru_cache(maxsize=1024)
def int_body_fields(endpoint: Callable[..., Any]) -> frozenset[str]:
    """Top-level fields typed int of the endpoint's JSON body model (ids such as a complaint's order_id)."""
    return _int_names(endpoint)[1]


def _int_names(endpoint: Callable[..., Any]) -> tuple[frozenset[str], frozenset[str]]:
    try:
        hints = typing.get_type_hints(endpoint, include_extras=True)
    except Exception:  # noqa: BLE001 - an unresolvable annotation: nothing to check
        return frozenset(), frozenset()
    names, body = set(), set()
    for name, param in inspect.signature(endpoint).parameters.items():
        annotation = hints.get(name, param.annotation)
        if _is_int(annotation):
            names.add(name)
        elif (model := _model(annotation)) is not None:
            body |= {f.alias or n for n, f in model.model_fields.items() if _is_int(f.annotation)}
    return frozenset(names), frozenset(body)


def _refuse(loc: list[str | int], msg: str, kind: str) -> HTTPException:
    return HTTPException(422, [{"loc": loc, "msg": msg, "type": kind}])


def _nul_in(value: Any, loc: list[str | int]) -> list[str | int] | None:
    if isinstance(value, str):
        return loc if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            if (found := _nul_in(k, [*loc, str(k)]) or _nul_in(v, [*loc, str(k)])) is not None:
                return found
    if isinstance(value, list):
        for i, v in enumerate(value):
            if (found := _nul_in(v, [*loc, i])) is not None:
                return found
    return None


def _loads(raw: bytes) -> Any:
    """The JSON body, or None when it does not parse (the route's own validation says what is wrong). The
    standard library's parser: orjson stops at 64-bit integers, and the huge ones are what is looked for."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


async def request_guard(request: Request) -> None:
    """Refuse (422) out-of-range integer parameters and NUL characters before the route runs."""
    endpoint = request.scope.get("endpoint")
    ints = int_params(endpoint) if endpoint is not None else frozenset()
    for where, params in (("path", request.path_params), ("query", request.query_params)):
        for name, value in params.items():
            if not isinstance(value, str):
                continue
            if "\x00" in value or "\x00" in name:
                raise _refuse([where, name], "NUL characters are not allowed", NUL_TYPE)
            if name in ints and _INTEGER.match(value) and not INT_MIN <= int(value) <= INT_MAX:
                raise _refuse([where, name], f"must be between {INT_MIN} and {INT_MAX}", "int_out_of_range")
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json":
            raw = await request.body()
            fields = int_body_fields(endpoint) if endpoint is not None else frozenset()
            if fields and raw:
                obj = _loads(raw)
                if isinstance(obj, dict):
                    for name in fields:
                        v = obj.get(name)
                        if isinstance(v, int) and not isinstance(v, bool) and not INT_MIN <= v <= INT_MAX:
                            raise _refuse(["body", name], f"must be between {INT_MIN} and {INT_MAX}",
                                          "int_out_of_range")
            if b"\\u0000" in raw:  # the escape, in any string: parse to find where (and skip "\\\\u0000" text)
                found = _nul_in(_loads(raw), ["body"])
                if found is not None:
                    raise _refuse(found, "NUL characters are not allowed", NUL_TYPE)
        elif ctype == "application/x-www-form-urlencoded" and request.url.path != "/login":
            # (the login form checks its own fields: a failed login is audited and throttled, not a 422)
            form = await request.form()
            for name, value in form.multi_items():
                if isinstance(value, str) and ("\x00" in value or "\x00" in name):
                    raise _refuse(["body", name], "NUL characters are not allowed", NUL_TYPE)
