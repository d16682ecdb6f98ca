"""POST /api/v1/match: a platform asks, before or after publishing, whether content matches a bank.

One query (an object) or a batch (a list of up to 1,000) of any of text, pdq, md5, sha256, url, vpdq. Hashes are
validated (422 naming the query and field), text is hashed here (MinHash of the normalized text). The banks are
held in memory and reloaded when they change.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Discriminator, Field, Tag, field_validator, model_validator

from basira.signals import SignalError, get_signal_type
from basira.web.security import Principal, require

router = APIRouter(prefix="/api/v1", tags=["hash matching"])
MAX_BATCH = 1000
_HASH_FIELDS = ("pdq", "md5", "sha256", "vpdq")
_FIELD_OF = {"text": "text", "url:0": "url", **{f"media:0:{f}": f for f in _HASH_FIELDS}}


class MatchQuery(BaseModel):
    text: str | None = Field(default=None, max_length=100_000, description="a post's text (near-duplicate match)")
    pdq: str | None = Field(default=None, description="PDQ image hash, 64 hex digits")
    md5: str | None = Field(default=None, description="MD5 of a file, 32 hex digits")
    sha256: str | None = Field(default=None, description="SHA-256 of a file, 64 hex digits")
    url: str | None = Field(default=None, max_length=8192, description="a link (matched in canonical form)")
    vpdq: str | None = Field(default=None, max_length=2_000_000, description="vPDQ video hash (frame lines)")
    ref: str | None = Field(default=None, max_length=200, description="your reference; matches are recorded under it")

    @field_validator(*_HASH_FIELDS, "url")
    @classmethod
    def _canonical(cls, v: str | None, info: Any) -> str | None:
        if v is None:
            return None
        try:
            return get_signal_type(info.field_name).validate(v)
        except SignalError as exc:
            raise ValueError(str(exc)) from exc  # the cause keeps its template: said in the reader's language

    @model_validator(mode="after")
    def _something(self) -> MatchQuery:
        if not any(getattr(self, f) for f in ("text", "url", *_HASH_FIELDS)):
            raise ValueError("give at least one of text, pdq, md5, sha256, url, vpdq")
        return self


def _shape(v: Any) -> str:
    return "batch" if isinstance(v, list) else "query"


# One query or a list; the discriminator keeps errors to the shape that was sent (loc: body.batch.<n>.<field>).
MatchBody = Annotated[Annotated[MatchQuery, Tag("query")] | Annotated[list[MatchQuery], Tag("batch")],
                      Discriminator(_shape)]


class MatchOut(BaseModel):
    field: str = Field(description="the query field that matched: text, url, pdq, md5, sha256, vpdq")
    bank: str
    item_id: int
    signal_type: str
    distance: float
    labels: dict[str, Any]
    opinion: str
    source: str | None


class QueryResult(BaseModel):
    ref: str | None
    matched: bool = Field(description="true when a positive match survived the policy (no allow-list veto)")
    matches: list[MatchOut]
    vetoed: list[MatchOut] = Field(description="positive matches vetoed by an allow-list (negative bank) match")
    allowed_by: list[MatchOut] = Field(description="the allow-list matches that vetoed them")


class MatchResponse(BaseModel):
    results: list[QueryResult]


class _Cache:
    """The banks' Matcher, reloaded when bank_state moves; lookups are serialized (the rate monitor is shared)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state: tuple[int, int] | None = None
        self.matcher: Any = None

    def get(self, store: Any) -> Any:
        from basira import banks as repo

        state = repo.bank_state(store)
        if state != self.state:
            self.matcher, self.state = repo.load_matcher(store), state
        return self.matcher


def _cache(request: Request) -> _Cache:
    cache = getattr(request.app.state, "match_cache", None)
    if cache is None:
        cache = request.app.state.match_cache = _Cache()
    return cache


def _out(where: str, m: Any) -> MatchOut:
    return MatchOut(field=_FIELD_OF.get(where, where), bank=m.bank, item_id=m.item_id, signal_type=m.signal_type,
                    distance=float(m.distance), labels=m.labels, opinion=m.opinion, source=m.source)


@router.post("/match", response_model=MatchResponse)
def match(
    request: Request,
    p: Annotated[Principal, Depends(require("match_content"))],
    body: Annotated[MatchBody, Body()],
) -> MatchResponse:
    """Match content against every bank. Matches (and vetoed ones) are recorded under `api:<ref>`, or
    `api:<your username>` without a ref."""
    from basira import banks as repo
    from basira.signals.banks import PostContent, match_posts

    queries = body if isinstance(body, list) else [body]
    if len(queries) > MAX_BATCH:
        from fastapi import HTTPException

        raise HTTPException(422, f"at most {MAX_BATCH} queries per request, not {len(queries)}")
    store = request.app.state.service.store
    posts = [PostContent(i, q.text, [q.url] if q.url else [], [{f: getattr(q, f) for f in _HASH_FIELDS}])
             for i, q in enumerate(queries)]
    cache = _cache(request)
    with cache.lock:
        matcher = cache.get(store)
        found = match_posts(matcher, posts, sample_by_post=False)
        if found:  # one request, one unit of work
            with store.transaction() as tx:
                for i, hits in sorted(found.items()):
                    repo.record_matches(tx, f"api:{queries[i].ref or p.username}", [r for _, r in hits],
                                        monitor=matcher.monitor, actor=p.username)
    results = []
    for i, q in enumerate(queries):
        hits = found.get(i, [])
        matches = [_out(w, m) for w, r in hits for m in r.matches]
        results.append(QueryResult(ref=q.ref, matched=bool(matches), matches=matches,
                                   vetoed=[_out(w, m) for w, r in hits for m in r.vetoed],
                                   allowed_by=[_out(w, m) for w, r in hits for m in r.allowed_by]))
    return MatchResponse(results=results)
