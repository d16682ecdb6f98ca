"""Removal orders from a file: JSON Lines, a JSON array (or {"orders": [...]}) or CSV — the schema is in
docs/compliance.md. The whole file is checked before anything is stored: the first bad record raises an
InputError naming the file, the line and the field."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from basira.compliance.orders import OrderError, OrderInput, order_from_dict
from basira.core.errors import InputError

MAX_BYTES = 50 * 1024 * 1024


def read_orders(path: str, now: datetime) -> list[OrderInput]:
    name = path
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(name, None, None, f"cannot open: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise InputError(name, None, None, f"larger than {MAX_BYTES // 2**20} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(name, line, None, f"invalid UTF-8 at byte {exc.start}") from None
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        records = _csv(name, text)
    elif suffix == ".json":
        records = _json(name, text)
    elif suffix in (".jsonl", ".ndjson"):
        records = _jsonl(name, text)
    else:
        raise InputError(name, None, None, "unknown format: use .jsonl, .json or .csv")
    if not records:
        raise InputError(name, None, None, "no orders in the file")
    out: list[OrderInput] = []
    seen: dict[tuple[str, str], int] = {}
    for line, obj in records:
        try:
            order = order_from_dict(obj, now)
        except OrderError as exc:
            raise InputError(name, line, exc.field, exc.reason) from None
        key = (order.authority, order.order_ref)
        if key in seen:
            raise InputError(name, line, "order_ref", f"the same order as line {seen[key]}")
        seen[key] = line
        out.append(order)
    return out


def _jsonl(name: str, text: str) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(name, i, None, f"invalid JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise InputError(name, i, None, "expected a JSON object (one order per line)")
        out.append((i, obj))
    return out


def _json(name: str, text: str) -> list[tuple[int, dict[str, Any]]]:
    """Each element with the line it starts on (raw_decode element by element keeps the positions)."""
    dec = json.JSONDecoder()

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        return pos

    try:
        pos = skip(0)
        if text[pos:pos + 1] == "{":  # {"orders": [...]} or a single order
            whole, _ = dec.raw_decode(text, pos)
            if isinstance(whole, dict) and "orders" not in whole:
                return [(line_of(pos), whole)]
            key = text.find('"orders"', pos)
            pos = skip(text.index(":", key) + 1)
        if text[pos:pos + 1] != "[":
            raise InputError(name, line_of(pos), None, "expected a JSON array of orders or {\"orders\": [...]}")
        pos = skip(pos + 1)
        out = []
        while pos < len(text) and text[pos] != "]":
            start = pos
            obj, pos = dec.raw_decode(text, pos)
            if not isinstance(obj, dict):
                raise InputError(name, line_of(start), None, "expected a JSON object for each order")
            out.append((line_of(start), obj))
            pos = skip(pos)
            if text[pos:pos + 1] == ",":
                pos = skip(pos + 1)
            elif text[pos:pos + 1] != "]":
                raise InputError(name, line_of(pos), None, "expected ',' or ']' between orders")
        if pos >= len(text):
            raise InputError(name, line_of(len(text)), None, "unterminated JSON array")
        return out
    except json.JSONDecodeError as exc:
        raise InputError(name, exc.lineno, None, f"invalid JSON: {exc.msg} (column {exc.colno})") from None


def _csv(name: str, text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise InputError(name, 1, None, "no header row")
    fields = [f.strip() for f in reader.fieldnames]
    for required in ("authority", "reasons", "targets"):
        if required not in fields:
            raise InputError(name, 1, required, "missing column")
    if "order_ref" not in fields and "order_id" not in fields:
        raise InputError(name, 1, "order_ref", "missing column")
    out = []
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise InputError(name, line, None, f"more cells than the {len(fields)} columns of the header")
            if not any((v or "").strip() for v in row.values()):
                continue
            out.append((line, {k.strip(): v for k, v in row.items() if k is not None}))
    except csv.Error as exc:
        raise InputError(name, reader.line_num, None, f"bad CSV: {exc}") from None
    return out
