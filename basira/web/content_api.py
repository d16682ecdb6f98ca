"""POST /api/v1/content: a platform hands Basira posts as they are published (basira.intake).

One item (an object), or a batch (a list, or `{"items": [...]}`) of up to 1,000. Idempotent by (platform,
post_id). A bad item is refused alone, its field named; the others go on. `mode=sync` (default) answers each
item with its score, categories, evidence, bank matches and case; `mode=async` queues the items for
`basira worker` and answers at once (202) with their queue ids; results then arrive as signed webhooks.
"""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from basira.core.i18n import speaking
from basira.web.errors import localise
from basira.web.pages import lang_of
from basira.web.security import Principal, require

router = APIRouter(prefix="/api/v1", tags=["content intake"])


class RateLimit:
    """A token bucket per caller: `rate` items per second, up to a minute's worth at once (per process)."""

    def __init__(self, rate: float, clock: Any = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, max(rate * 60, 1000.0), clock
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def take(self, who: str, n: int) -> float:
        """0 when `n` items may go now (and takes them), else the seconds to wait."""
        with self.lock:
            now = self.clock()
            level, at = self.buckets.get(who, (self.burst, now))
            level = min(self.burst, level + (now - at) * self.rate)
            if level >= n:
                self.buckets[who] = (level - n, now)
                return 0.0
            self.buckets[who] = (level, now)
            return (n - level) / self.rate


def _limit(request: Request, s: Any, who: str, n: int) -> None:
    if not s.intake_rate:
        return
    rl = getattr(request.app.state, "intake_rate", None)
    if rl is None or rl.rate != s.intake_rate:
        rl = request.app.state.intake_rate = RateLimit(s.intake_rate)
    wait = rl.take(who, n)
    if wait:
        raise HTTPException(429, f"over {s.intake_rate:g} items/s (BASIRA_INTAKE_RATE); retry in {wait:.1f} s",
                            headers={"Retry-After": str(max(1, round(wait)))})


def _settings(request: Request) -> Any:
    s = getattr(request.app.state, "intake_settings", None)
    if s is None:
        from basira.core.settings import Settings

        s = request.app.state.intake_settings = Settings()
    return s


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"request body over {limit:,} bytes (BASIRA_INTAKE_MAX_BYTES)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request body over {limit:,} bytes (BASIRA_INTAKE_MAX_BYTES)")
        chunks.append(chunk)
    return b"".join(chunks)


def _items(body: bytes) -> list[Any]:
    from basira.intake.items import MAX_BATCH

    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(422, [{"loc": ["body"], "msg": f"not JSON: {exc}", "type": "invalid"}]) from None
    if isinstance(data, dict) and "items" in data and set(data) <= {"items"}:
        data = data["items"]
        if not isinstance(data, list):
            raise HTTPException(422, [{"loc": ["body", "items"], "msg": "must be a list", "type": "invalid"}])
    items = data if isinstance(data, list) else [data]
    if not items:
        raise HTTPException(422, [{"loc": ["body"], "msg": "no items", "type": "invalid"}])
    if len(items) > MAX_BATCH:
        raise HTTPException(422, [{"loc": ["body"], "msg": f"at most {MAX_BATCH} items per request, not {len(items)}",
                                   "type": "invalid"}])
    return items


@router.post("/content", status_code=200)
async def submit_content(
    request: Request,
    p: Annotated[Principal, Depends(require("submit_content"))],
    mode: Literal["sync", "async"] = Query("sync", description="sync: answer with results; async: queue"),
) -> JSONResponse:
    """Submit posts. Each answer has `index` and `status`: `ok` (sync, with the result), `queued` or
    `already_queued` (async, with `queue_id`), or `error` (with `field` and `reason`)."""
    from basira.ingest.clean import ReadOptions
    from basira.intake.items import ItemError, parse_item

    s = _settings(request)
    raw = _items(await _body(request, s.intake_max_bytes))

    def reason_in(reason: str) -> str:  # an item's reason in the reader's language; `field` and `status` stay
        with speaking(lang_of(request)):
            return localise(reason)

    _limit(request, s, p.username, len(raw))
    options = ReadOptions.from_settings(s)
    answers: list[dict[str, Any] | None] = [None] * len(raw)
    good: list[tuple[int, dict[str, Any], Any, Any]] = []
    for i, item in enumerate(raw):
        try:
            stored, post, acc = parse_item(item, i, options)
        except ItemError as exc:
            answers[i] = {"index": i, "status": "error", "field": exc.field, "reason": reason_in(exc.reason)}
            continue
        good.append((i, stored, post, acc))
    store = request.app.state.service.store
    if mode == "async":
        from basira.intake.queue import enqueue

        deliver = bool(s.webhook_url and s.webhook_secret)
        got = await run_in_threadpool(enqueue, store, [g[1] for g in good], p.username, deliver)
        for (i, stored, _, _), (qid, new) in zip(good, got, strict=True):
            answers[i] = {"index": i, "status": "queued" if new else "already_queued", "queue_id": qid,
                          "platform": stored["platform"], "post_id": stored["post_id"]}
        status = 202
    else:
        from basira.intake.process import process

        results = await run_in_threadpool(process, store, [(g[2], g[3]) for g in good], p.username) if good else []
        for (i, _, _, _), r in zip(good, results, strict=True):
            answers[i] = {"index": i, "status": "ok", **r}
        status = 200
    body = {"mode": mode, "accepted": len(good), "rejected": len(raw) - len(good), "results": answers}
    return JSONResponse(body, status_code=status)
