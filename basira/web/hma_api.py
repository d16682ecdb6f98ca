"""An HMA-compatible REST API (Meta's Hasher-Matcher-Actioner, `OpenMediaMatch`), beside Basira's own, so a tool
written for HMA (ROOST Coop, HMA's own clients) can point at Basira unchanged, with a Basira API token.

Routes, request parameters and response shapes follow HMA's blueprints (curation `/c`, hashing `/h`, matching
`/m`; docs/hash-matching.md lists them and what differs). Hashing, banks, the index and the match policy are
Basira's (basira.signals, basira.banks, the /api/v1/match cache); this module only translates.

Names: HMA's signal types are python-threatexchange's (`pdq`, `video_md5`, `video_sha256`, `vpdq`, `url`);
Basira's `md5`/`sha256` answer to those names here, and Basira's own names are accepted on input too. HMA's
"content" (one upload, several signals) is a group of Basira bank items sharing one content id
(basira.banks.add_content). Errors are `{"message": ...}` with HMA's status codes.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from basira.banks import BankError
from basira.signals import SignalError, get_signal_type, signal_types
from basira.web.security import Principal, require

if TYPE_CHECKING:
    from basira.banks import ExchangeSource

PREFIXES = ("/c/", "/h/", "/m/")
BANK_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")  # HMA's rule for bank names
TO_HMA = {"md5": "video_md5", "sha256": "video_sha256"}  # Basira name -> threatexchange name (others equal)
FROM_HMA = {v: k for k, v in TO_HMA.items()}
# What each HMA content type is hashed into (Basira's signal names), like HMA's per-content-type signal config.
CONTENT_SIGNALS = {"photo": ("pdq", "md5", "sha256"), "video": ("md5", "sha256", "vpdq"), "text": ("text_minhash",)}
NO_DISTANCE = "-"  # python-threatexchange's distance string for exact matches
MAX_NOTE = 255

curation = APIRouter(prefix="/c", tags=["HMA-compatible: curation"])
hashing = APIRouter(prefix="/h", tags=["HMA-compatible: hashing"])
matching = APIRouter(prefix="/m", tags=["HMA-compatible: matching"])
health = APIRouter(tags=["HMA-compatible: health"])
Curator = Annotated[Principal, Depends(require("manage_banks"))]
Matcher_ = Annotated[Principal, Depends(require("match_content"))]


def is_hma_path(path: str) -> bool:
    return path.startswith(PREFIXES)


def hma_name(basira_name: str) -> str:
    return TO_HMA.get(basira_name, basira_name)


def basira_type(name: str) -> str:
    """Basira's signal type for an HMA (or Basira) name; 400 when unknown."""
    try:
        return get_signal_type(FROM_HMA.get(name, name)).name
    except SignalError:
        raise HTTPException(400, f"No such SignalType '{name}'") from None


def _store(request: Request) -> Any:
    return request.app.state.service.store


def _repo() -> Any:
    from basira import banks as repo

    return repo


# --- curation: banks ---------------------------------------------------------------------------------------

class BankConfig(BaseModel):
    name: str = Field(description="Bank name")
    matching_enabled_ratio: float = Field(description="Share of lookups that consult the bank (0.0-1.0)")


class BankCreateRequest(BaseModel):
    name: str = Field(description="Bank name, /^[A-Z_][A-Z0-9_]*$/")
    enabled_ratio: float | None = Field(1.0, description="Matching enabled ratio")
    enabled: bool | None = Field(None, description="Whether the bank is enabled")


class BankUpdateRequest(BaseModel):
    name: str | None = Field(None, description="New bank name")
    enabled_ratio: float | None = Field(None, description="Matching enabled ratio")
    enabled: bool | None = Field(None, description="Whether the bank is enabled")


def _bank_json(bank: Any) -> dict[str, Any]:
    return {"name": bank.name, "matching_enabled_ratio": float(bank.enabled_ratio)}


def _get_bank(request: Request, name: str) -> Any:
    bank = _repo().get_bank(_store(request), name)
    if bank is None:
        raise HTTPException(404, f"bank '{name}' not found")
    return bank


def _check_name(name: str) -> None:
    if not BANK_NAME.fullmatch(name):
        raise HTTPException(400, f"Bank names must be UPPER_WITH_UNDERSCORE, not starting with a digit: {name!r}")


@curation.get("/banks", response_model=list[BankConfig], summary="List banks")
def banks_index(request: Request, p: Curator) -> list[dict[str, Any]]:
    return [_bank_json(b) for b, _ in _repo().list_banks(_store(request))]


@curation.post("/banks", status_code=201, response_model=BankConfig, summary="Create bank")
def bank_create(request: Request, p: Curator, body: BankCreateRequest) -> dict[str, Any]:
    """Banks made through this API decode PDQ at full resolution, as HMA does (see docs/hash-matching.md)."""
    if body.enabled_ratio is not None:
        ratio = body.enabled_ratio
    elif body.enabled is not None:
        ratio = 1.0 if body.enabled else 0.0
    else:
        ratio = 1.0
    _check_name(body.name)
    try:
        with _store(request).transaction() as tx:
            bank = _repo().create_bank(tx, body.name, enabled_ratio=ratio, pdq_decode="full",
                                       description="created through the HMA-compatible API", actor=p.username)
    except BankError as exc:
        # HMA answers a taken name with 403, anything else refused with 400.
        raise HTTPException(403 if getattr(exc, "kind", None) == "conflict" else 400, str(exc)) from None
    return _bank_json(bank)


@curation.get("/bank/{bank_name}", response_model=BankConfig, summary="Get bank")
def bank_show(request: Request, p: Curator, bank_name: str) -> dict[str, Any]:
    return _bank_json(_get_bank(request, bank_name))


@curation.put("/bank/{bank_name}", response_model=BankConfig, summary="Update bank")
def bank_update(request: Request, p: Curator, bank_name: str, body: BankUpdateRequest) -> dict[str, Any]:
    _get_bank(request, bank_name)
    ratio = body.enabled_ratio if body.enabled_ratio is not None else (
        None if body.enabled is None else (1.0 if body.enabled else 0.0))
    if body.name is not None:
        _check_name(body.name)
    try:
        with _store(request).transaction() as tx:
            bank = _repo().update_bank(tx, bank_name, new_name=body.name, enabled_ratio=ratio, actor=p.username)
    except BankError as exc:
        # HMA answers a taken name with 403, anything else refused with 400.
        raise HTTPException(403 if getattr(exc, "kind", None) == "conflict" else 400, str(exc)) from None
    return _bank_json(bank)


@curation.delete("/bank/{bank_name}", summary="Delete bank")
def bank_delete(request: Request, p: Curator, bank_name: str) -> dict[str, str]:
    """Deleting a missing bank succeeds (as in HMA). A bank whose items have recorded matches is kept (409):
    those records are evidence cases rest on."""
    try:
        with _store(request).transaction() as tx:
            _repo().delete_bank(tx, bank_name, actor=p.username)
    except BankError as exc:
        raise HTTPException(409, str(exc)) from None
    return {"message": "Done"}


# --- curation: content -------------------------------------------------------------------------------------

def _labels(metadata: dict[str, Any] | None, note: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if metadata:
        out["hma_metadata"] = metadata
    if note:
        out["note"] = note
    return out


def _note(value: Any) -> str | None:
    if not value:
        return None
    if not isinstance(value, str):
        raise HTTPException(400, "note should be a string")
    if len(value) > MAX_NOTE:
        raise HTTPException(400, f"note must be at most {MAX_NOTE} characters")
    return value


def _metadata(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise HTTPException(400, "metadata form field must be valid JSON") from None
    if not isinstance(raw, dict):
        raise HTTPException(400, "metadata should be a json object")
    raw.pop("collab", None)
    extra = set(raw) - {"content_id", "content_uri", "json"}
    if extra:
        raise HTTPException(400, f"Invalid metadata: unknown fields {sorted(extra)}")
    for k in ("content_id", "content_uri"):
        if raw.get(k) is not None and not isinstance(raw[k], str):
            raise HTTPException(400, f"Invalid metadata: {k} must be a string")
    if raw.get("json") is not None and not isinstance(raw["json"], dict):
        raise HTTPException(400, "Invalid metadata: json must be an object")
    return {k: v for k, v in raw.items() if v is not None} or None


def _add_signals(request: Request, p: Principal, bank: Any, signals: dict[str, str],
                 labels: dict[str, Any]) -> dict[str, Any]:
    if not signals:
        raise HTTPException(400, "No signals given")
    canon: dict[str, str] = {}
    for name, value in signals.items():
        st = basira_type(name)
        if not isinstance(value, str):
            raise HTTPException(400, f"Invalid {name} signal: not a string")
        try:
            canon[st] = get_signal_type(st).validate(value)
        except SignalError as exc:
            raise HTTPException(400, f"Invalid {name} signal: {exc}") from None
    with _store(request).transaction() as tx:
        content_id, _ = _repo().add_content(tx, bank.name, canon, labels=labels, source=f"hma-api:{p.username}",
                                            actor=p.username, note="HMA API")
    return {"id": content_id, "signals": {hma_name(st): v for st, v in canon.items()}}


@curation.post("/bank/{bank_name}/content", summary="Add content to bank (by ?url= or multipart upload)")
async def bank_add_content(request: Request, p: Curator, bank_name: str,
                           url: str | None = None, content_type: str | None = None,
                           types: str | None = None) -> dict[str, Any]:
    """Returns `{"id": <content id>, "signals": {<signal type>: <hash>}}`. Metadata (`content_id`,
    `content_uri`, `json`) comes from a JSON body's `metadata` or a form field `metadata`; `note` likewise."""
    bank = await run_in_threadpool(_get_bank, request, bank_name)
    metadata_raw: Any = None
    note_raw: Any = None
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            metadata_raw, note_raw = body.get("metadata"), body.get("note")
    form = None
    if request.headers.get("content-type", "").startswith(("multipart/form-data",
                                                           "application/x-www-form-urlencoded")):
        form = await request.form()
        metadata_raw, note_raw = form.get("metadata"), form.get("note")
    labels = _labels(_metadata(metadata_raw), _note(note_raw))
    if url:
        hashes = await run_in_threadpool(_hash_url, request, url, content_type, types, bank.pdq_decode)
    elif form is not None and _files(form):
        hashes = await _hash_form(form, bank.pdq_decode)
    else:
        raise HTTPException(400, "Neither `url` nor multipart file upload was received")
    return await run_in_threadpool(_add_signals, request, p, bank, {hma_name(k): v for k, v in hashes.items()},
                                   labels)


@curation.post("/bank/{bank_name}/signal", summary="Add signals (hashes) to bank")
async def bank_add_signals(request: Request, p: Curator, bank_name: str) -> dict[str, Any]:
    """Body: `{"<signal type>": "<hash>", ..., "note": "..."}`."""
    bank = await run_in_threadpool(_get_bank, request, bank_name)
    try:
        data = await request.json()
    except ValueError:
        raise HTTPException(400, "this endpoint expects a json object payload") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "this endpoint expects a json object payload")
    note = _note(data.pop("note", None))
    return await run_in_threadpool(_add_signals, request, p, bank, data, _labels(None, note))


def _disable_ts(items: list[Any]) -> int:
    """HMA's disable_until_ts: 1 enabled, 0 disabled, else a Unix time until which matching is off."""
    until = max((it.disabled_until for it in items if it.disabled_until is not None), default=None)
    if until is None:
        return 1
    if until.year >= 9999:
        return 0
    return int(until.timestamp())


def _content_json(bank: Any, items: list[Any], *, signals: bool, metadata: bool) -> dict[str, Any]:
    first = min(items, key=lambda it: it.id)
    out: dict[str, Any] = {
        "id": _repo().content_id_of(first),
        "disable_until_ts": _disable_ts(items),
        "original_media_uri": None,
        "bank": _bank_json(bank),
    }
    if signals:
        out["signals"] = {hma_name(it.signal_type): it.signal for it in items}
    meta = first.labels.get("hma_metadata")
    if metadata and meta:  # HMA dumps its metadata model whole: absent fields are null
        out["metadata"] = {"content_id": meta.get("content_id"), "content_uri": meta.get("content_uri"),
                           "json": meta.get("json"), "collab": None}
    if first.labels.get("note"):
        out["note"] = first.labels["note"]
    return out


def _content_config_json(bank: Any, items: list[Any]) -> dict[str, Any]:
    """HMA's PUT answer: its BankContentConfig record as stored (not the GET shape)."""
    first = min(items, key=lambda it: it.id)
    return {"id": _repo().content_id_of(first), "disable_until_ts": _disable_ts(items), "collab_metadata": {},
            "original_media_uri": None, "bank": _bank_json(bank),
            "user_metadata": first.labels.get("hma_metadata"), "note": first.labels.get("note")}


def _content(request: Request, bank_name: str, content_id: int) -> tuple[Any, list[Any]]:
    bank = _get_bank(request, bank_name)
    items = _repo().content_items(_store(request), bank.name, content_id)
    if not items:
        raise HTTPException(404, f"content '{content_id}' not found")
    return bank, items


@curation.get("/bank/{bank_name}/content/{content_id}", summary="Get bank content")
def bank_get_content(request: Request, p: Curator, bank_name: str, content_id: int,
                     include_signals: str = "false", include_metadata: str = "true") -> dict[str, Any]:
    bank, items = _content(request, bank_name, content_id)
    return _content_json(bank, items, signals=include_signals.lower() == "true",
                         metadata=include_metadata.lower() == "true")


@curation.put("/bank/{bank_name}/content/{content_id}", summary="Update bank content (disable_until_ts, note)")
async def bank_update_content(request: Request, p: Curator, bank_name: str, content_id: int) -> dict[str, Any]:
    bank, items = await run_in_threadpool(_content, request, bank_name, content_id)
    try:
        data = await request.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise HTTPException(400, "this endpoint expects a json object payload")

    def apply() -> dict[str, Any]:
        repo, store = _repo(), _store(request)
        until: datetime | None | bool = False  # False: unchanged
        if "disable_until_ts" in data:
            try:
                ts = int(data["disable_until_ts"])
            except (TypeError, ValueError):
                raise HTTPException(400, f"Invalid int: '{data['disable_until_ts']}'") from None
            if ts < 0:
                raise HTTPException(400, "disable_until_ts must be a non-negative integer")
            now = request.app.state.service.now()  # the service's clock (basira.core.time.utcnow)
            if ts > now.timestamp() + 5 * 365 * 86400:
                raise HTTPException(400, "disable_until_ts must be less than 5 years in the future")
            until = None if ts == 1 else (datetime(9999, 1, 1, tzinfo=UTC) if ts == 0
                                          else datetime.fromtimestamp(ts, UTC))
        note = _note(data["note"]) if "note" in data else None
        with store.transaction() as tx:  # the whole change, or none of it
            for it in items if until is not False else ():
                repo.update_item(tx, it.id, disabled_until=until, actor=p.username)
            for it in items if "note" in data else ():
                labels = {k: v for k, v in it.labels.items() if k != "note"} | ({"note": note} if note else {})
                repo.update_item(tx, it.id, labels=labels, actor=p.username)
        _, fresh = _content(request, bank_name, content_id)
        return _content_config_json(bank, fresh)

    return await run_in_threadpool(apply)


@curation.delete("/bank/{bank_name}/content/{content_id}", summary="Delete bank content")
def bank_delete_content(request: Request, p: Curator, bank_name: str, content_id: int) -> dict[str, int]:
    bank = _get_bank(request, bank_name)
    repo, store = _repo(), _store(request)
    items = repo.content_items(store, bank.name, content_id)
    if items:
        from basira.signals.exchange import BankEntry

        with store.transaction() as tx:
            repo.add_entries(tx, bank.name, [BankEntry(it.signal_type, it.signal, deleted=True) for it in items],
                             actor=p.username, note="HMA API: content deleted")
    return {"deleted": len(items)}


# --- curation: exchanges, signal and content types ---------------------------------------------------------

@curation.get("/exchanges", response_model=list[str], summary="List exchanges")
def exchange_list(request: Request, p: Curator) -> list[str]:
    """The banks an exchange feeds (`basira banks sync` sources), by bank name as in HMA."""
    return _repo().exchange_fed_banks(_store(request))


def _exchange(request: Request, name: str) -> tuple[str, list[ExchangeSource]]:
    sources = _repo().exchange_sources(_store(request), name)
    if not sources:
        raise HTTPException(404, f"Exchange '{name}' not found")
    return name, sources


def _api_of(source: str) -> dict[str, Any]:
    """HMA's exchange API name (python-threatexchange's) for a `banks sync` source, with its config."""
    if source.startswith("threatexchange:"):
        group = source.split(":", 1)[1]
        return {"api": "fb_threatexchange", "privacy_group": int(group) if group.isdigit() else group}
    if source == "tat":
        return {"api": "tat"}
    return {"api": "basira_bank_file", "source": source}  # a file or URL in a bank format


@curation.get("/exchange/{exchange_name}", summary="Get exchange (a bank fed by `basira banks sync`)")
def exchange_show(request: Request, p: Curator, exchange_name: str) -> dict[str, Any]:
    name, sources = _exchange(request, exchange_name)
    return {"name": name, **_api_of(sources[0].source), "enabled": True}


@curation.get("/exchange/{exchange_name}/status", summary="Get exchange fetch status")
def exchange_status(request: Request, p: Curator, exchange_name: str) -> dict[str, Any]:
    """HMA's FetchStatus. Basira saves a checkpoint only with the page it belongs to, so the last one saved is
    the last fetch that succeeded; whether the exchange has more since is not known until the next sync."""
    name, sources = _exchange(request, exchange_name)
    last = sources[0].updated_at
    ts = int(last.timestamp()) if last else None
    items = sum(1 for _ in _repo().iter_items(_store(request), name))
    return {"checkpoint_ts": ts, "running_fetch_start_ts": None, "last_fetch_complete_ts": ts,
            "last_fetch_succeeded": True if ts else None, "up_to_date": False, "fetched_items": items}


@curation.get("/exchanges/apis", response_model=list[str], summary="List exchange API types")
def exchange_api_list(p: Curator) -> list[str]:
    return []  # exchanges are configured with `basira banks sync`, not through this API


@curation.post("/exchanges", summary="Create exchange (not supported: use `basira banks sync`)")
async def exchange_create(request: Request, p: Curator) -> dict[str, str]:
    try:
        data = await request.json()
    except ValueError:
        data = {}
    api = data.get("api") if isinstance(data, dict) else None
    raise HTTPException(400, f"No such exchange type '{api}': Basira's exchanges are set up with "
                             "`basira banks sync` (docs/hash-matching.md)")


@curation.get("/signal_type", summary="List signal types")
def signal_type_list(p: Curator) -> list[dict[str, Any]]:
    return [{"name": hma_name(n), "enabled_ratio": 1.0} for n in sorted(signal_types())]


@curation.get("/content_type", summary="List content types")
def content_type_list(p: Curator) -> list[dict[str, Any]]:
    return [{"name": n, "enabled": True} for n in CONTENT_SIGNALS]


# --- hashing -----------------------------------------------------------------------------------------------

def _signal_selection(content_type: str, types: str | None) -> tuple[str, ...]:
    if content_type not in CONTENT_SIGNALS:
        raise HTTPException(400, f"no such content_type: '{content_type}'")
    names = CONTENT_SIGNALS[content_type]
    if types is None:
        return names
    chosen = []
    for t in (x.strip() for x in types.split(",")):
        if not t:
            continue
        st = FROM_HMA.get(t, t)
        if st not in names:
            raise HTTPException(400, f"signal type '{t}' doesn't exist or is disabled")
        chosen.append(st)
    if not chosen:
        raise HTTPException(400, "empty signal type selection")
    return tuple(chosen)


def _hash_path(path: str, names: tuple[str, ...], pdq_decode: str) -> dict[str, str]:
    from basira.signals.banks import hash_file

    out = hash_file(path, names, pdq_decode=pdq_decode)
    if not out:
        raise HTTPException(400, f"the content cannot be hashed as any of {', '.join(map(hma_name, names))}")
    return out


def _content_type_of(mime: str, hint: str | None) -> str:
    if hint:
        return hint
    if mime.startswith("image"):
        return "photo"
    if mime.startswith("video"):
        return "video"
    raise HTTPException(400, f"unsupported url ContentType: '{mime}', if you know the expected type, provide it "
                             "with the content_type query param")


def _hash_url(request: Request, url: str, content_type: str | None, types: str | None,
              pdq_decode: str) -> dict[str, str]:
    """Basira signal name -> hash of the media at `url` (fetched under the Settings' fetch policy)."""
    from basira.core.settings import Settings
    from basira.web.media_fetch import FetchError, FetchPolicy, fetch_media

    if content_type is not None:
        _signal_selection(content_type, types)  # a bad selection fails before anything is fetched
    try:
        got = fetch_media(url, FetchPolicy.from_settings(Settings()))
    except FetchError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    try:
        names = _signal_selection(_content_type_of(got.content_type, content_type), types)
        return _hash_path(str(got.path), names, pdq_decode)
    finally:
        got.cleanup()


def _files(form: Any) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in form.multi_items() if hasattr(v, "filename") and hasattr(v, "read")]


async def _hash_form(form: Any, pdq_decode: str, types: str | None = None) -> dict[str, str]:
    """Hash the one uploaded file; its form field name is its content type (`photo`, `video`), as in HMA."""
    import tempfile
    from pathlib import Path

    files = _files(form)
    if not files:
        raise HTTPException(400, "Missing multipart/form-data file upload")
    if len(files) > 1:
        raise HTTPException(400, "Only one file allowed per request")
    field, upload = files[0]
    names = _signal_selection(field, types)
    from basira.core.settings import Settings

    cap = Settings().hma_fetch_max_bytes  # uploads are held to the same size cap as fetches
    tmp = tempfile.NamedTemporaryFile("wb", prefix="basira-upload-", delete=False)  # noqa: SIM115 - removed below
    path = Path(tmp.name)
    try:
        with tmp:
            size = 0
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > cap:
                    raise HTTPException(413, "Content too large")
                tmp.write(chunk)
        return await run_in_threadpool(_hash_path, str(path), names, pdq_decode)
    finally:
        path.unlink(missing_ok=True)


def _query_decode(request: Request, banks: set[str] | None = None) -> str:
    """Full-resolution PDQ when any bank consulted asks for it (a fast hash could miss its items)."""
    matcher = _matcher(request)
    scope = [b for b in matcher.banks.values() if banks is None or b.name in banks]
    return "full" if any(b.pdq_decode == "full" for b in scope) else "fast"


@hashing.get("/hash", summary="Hash content from URL")
def hash_get(request: Request, p: Matcher_, url: Annotated[str, Query(description="media to fetch and hash")],
             content_type: str | None = None, types: str | None = None) -> dict[str, str]:
    """`{"pdq": "...", "video_md5": "...", ...}`: the signals of the media at `url` (fetched with a size and time
    cap, never from private addresses)."""
    hashes = _hash_url(request, url, content_type, types, _query_decode(request))
    return {hma_name(k): v for k, v in hashes.items()}


@hashing.post("/hash", summary="Hash uploaded file (multipart; field name = content type)")
async def hash_post(request: Request, p: Matcher_, types: str | None = None) -> dict[str, str]:
    form = await request.form()
    decode = await run_in_threadpool(_query_decode, request)
    return {hma_name(k): v for k, v in (await _hash_form(form, decode, types)).items()}


# --- matching ----------------------------------------------------------------------------------------------

def _matcher(request: Request) -> Any:
    from basira.web.match_api import _cache

    cache = _cache(request)
    with cache.lock:
        return cache.get(_store(request))


def _distance(st: str, d: float, matcher: Any = None, item: Any = None, query: str | None = None) -> str:
    kind = get_signal_type(st).index_kind
    if kind == "exact":
        return NO_DISTANCE
    if kind == "hamming":
        return str(int(d))
    if kind == "vpdq" and item is not None and query is not None:
        from basira.signals.vpdq import distinct_frame_hashes, query_match_share

        back = query_match_share(distinct_frame_hashes(item.signal), distinct_frame_hashes(query))
        return f"{(1 - d) * 100:.0f}%[{back * 100:.0f}%]"
    return f"{d:.3f}"


def _banks_param(banks: str | None) -> set[str] | None:
    return {b for b in banks.split(",") if b} if banks else None


def _validated(st: str, signal: str) -> str:
    try:
        return get_signal_type(st).validate(signal)
    except SignalError as exc:
        raise HTTPException(400, f"invalid signal: {exc}") from None


def _lookup(request: Request, p: Principal, st: str, signal: str, banks: set[str] | None,
            seed: str | None, bypass_coinflip: bool = False) -> dict[str, list[dict[str, Any]]]:
    """HMA's lookup: bank name -> [{bank_content_id, distance}] under Basira's full match policy (thresholds,
    sampling keyed on `seed`, disabled items, negative opinions, allow-list vetoes, quarantine). Matches are
    recorded under `hma:<seed or username>`, like /api/v1/match."""
    from basira.web.match_api import _cache

    signal = _validated(st, signal)
    repo, store = _repo(), _store(request)
    cache = _cache(request)
    with cache.lock:
        matcher = cache.get(store)
        res = matcher.match(st, signal, key=seed or signal, sample=not bypass_coinflip)
        with store.transaction() as tx:
            repo.record_matches(tx, f"hma:{seed or p.username}", [res], monitor=matcher.monitor, actor=p.username)
    out: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, int]] = set()
    for m in res.matches:
        if banks is not None and m.bank not in banks:
            continue
        item = matcher.items.get(m.item_id)
        cid = repo.content_id_of(item) if item else m.item_id
        if (m.bank, cid) in seen:
            continue
        seen.add((m.bank, cid))
        out.setdefault(m.bank, []).append({"bank_content_id": cid,
                                           "distance": _distance(st, m.distance, matcher, item, signal)})
    return out


@matching.get("/raw_lookup", summary="Raw index lookup of a signal")
def raw_lookup(request: Request, p: Matcher_, signal: str, signal_type: str, banks: str | None = None,
               include_distance: bool = False) -> dict[str, list[Any]]:
    """Every item within its bank's threshold (no sampling or opinions), as content ids, or
    `{bank_content_id, distance}` with `include_distance=true`."""
    st = basira_type(signal_type)
    signal = _validated(st, signal)
    matcher, repo = _matcher(request), _repo()
    wanted = _banks_param(banks)
    out: list[Any] = []
    seen: set[int] = set()
    for item_id, d in sorted(matcher.candidates(st, signal), key=lambda c: (c[1], c[0])):
        item = matcher.items.get(item_id)
        if item is None or (wanted is not None and item.bank not in wanted):
            continue
        if d > matcher.banks[item.bank].threshold(st) + 1e-12:
            continue
        cid = repo.content_id_of(item)
        if cid in seen:
            continue
        seen.add(cid)
        out.append({"bank_content_id": cid, "distance": _distance(st, d, matcher, item, signal)}
                   if include_distance else cid)
    return {"matches": out}


@matching.get("/lookup", summary="Content lookup by URL or signal")
def lookup_get(request: Request, p: Matcher_, url: str | None = None, content_type: str | None = None,
               types: str | None = None, signal: str | None = None, signal_type: str | None = None,
               banks: str | None = None, seed: str | None = None, bypass_coinflip: bool = False) -> dict[str, Any]:
    """With `signal` and `signal_type`: `{bank: [{bank_content_id, distance}]}`. With `url`: the same keyed by
    signal type (`{"pdq": {bank: [...]}}`), or just that type's with `signal_type` given too."""
    wanted = _banks_param(banks)
    if url:
        hashes = _hash_url(request, url, content_type, types, _query_decode(request, wanted))
        resp = {hma_name(st): _lookup(request, p, st, sig, wanted, seed, bypass_coinflip)
                for st, sig in hashes.items()}
        if signal_type is not None:
            return resp.get(hma_name(basira_type(signal_type)), {})
        return resp
    if not signal or not signal_type:
        raise HTTPException(400, "Either url or both signal and signal_type are required")
    return _lookup(request, p, basira_type(signal_type), signal, wanted, seed, bypass_coinflip)


@matching.post("/lookup", summary="Content lookup of an uploaded file (multipart; field name = content type)")
async def lookup_post(request: Request, p: Matcher_, banks: str | None = None, seed: str | None = None,
                      types: str | None = None, bypass_coinflip: bool = False) -> dict[str, Any]:
    wanted = _banks_param(banks)
    form = await request.form()
    decode = await run_in_threadpool(_query_decode, request, wanted)
    hashes = await _hash_form(form, decode, types)
    return {hma_name(st): await run_in_threadpool(_lookup, request, p, st, sig, wanted, seed, bypass_coinflip)
            for st, sig in hashes.items()}


@matching.post("/compare", summary="Compare pairs of hashes")
async def compare(request: Request, p: Matcher_) -> dict[str, Any]:
    """`{"pdq": [h1, h2]}` -> `{"pdq": [matched, {"distance": 9}]}` (exact types: `[matched, {}]`)."""
    try:
        data = await request.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise HTTPException(400, "Request input was not a dict")
    out: dict[str, Any] = {}
    for name, pair in data.items():
        if not isinstance(pair, list):
            raise HTTPException(400, f"Comparison hashes for {name} was not a list")
        if len(pair) != 2:
            raise HTTPException(400, "Comparison hash list length must be exactly 2")
        st = get_signal_type(basira_type(name))
        try:
            a, b = st.validate(str(pair[0])), st.validate(str(pair[1]))
        except SignalError as exc:
            raise HTTPException(400, f"Invalid {name} hash: {exc}") from None
        d = st.distance(a, b)
        matched = bool(d <= st.default_threshold + 1e-12)
        if st.index_kind == "exact":
            info: dict[str, Any] = {}
        elif st.index_kind == "vpdq":
            from basira.signals.vpdq import distinct_frame_hashes, query_match_share

            info = {"query_match_percent": (1 - d) * 100,
                    "compared_match_percent": query_match_share(distinct_frame_hashes(b),
                                                                distinct_frame_hashes(a)) * 100}
        else:
            info = {"distance": int(d) if st.index_kind == "hamming" else d}
        out[name] = [matched, info]
    return out


@matching.get("/index/status", summary="Index status per signal type")
def index_status(request: Request, p: Matcher_, signal_type: str | None = None) -> dict[str, Any]:
    """`{"pdq": {"present": true, "built_to": <unix time of the newest item>, "size": <items>}, ...}`. Basira's
    index is rebuilt in memory whenever a bank changes, so it is always present and current."""
    matcher = _matcher(request)
    names = sorted(signal_types())
    if signal_type is not None:
        st = basira_type(signal_type)
        names = [st]
    out = {}
    for n in names:
        items = [it for it in matcher.items.values() if it.signal_type == n]
        newest = max((it.added_at for it in items if it.added_at is not None), default=None)
        out[hma_name(n)] = {"present": True, "built_to": int(newest.timestamp()) if newest else -1,
                            "size": len(items)}
    return out


# --- health (no token: load balancers and orchestrators call these) ------------------------------------------

@health.get("/livez", response_class=PlainTextResponse, summary="Liveness (also at HMA's /status/live)")
@health.get("/status/live", response_class=PlainTextResponse, include_in_schema=False)
def livez() -> str:
    return "I-AM-ALIVE"


@health.get("/readyz", response_class=PlainTextResponse, summary="Readiness (also at HMA's /status)",
            responses={503: {"description": "database or index not ready"}})
@health.get("/status", response_class=PlainTextResponse, include_in_schema=False)
def readyz(request: Request) -> Any:
    """200 when the database answers and the match index is loaded; 503 otherwise."""
    try:
        _matcher(request)
    except Exception:  # noqa: BLE001 - any failure means: not ready
        return PlainTextResponse("INDEX-NOT-LOADED", status_code=503)
    return "I-AM-ALIVE"


def error_response(status: int, message: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    """HMA's error shape: `{"message": ...}`."""
    return JSONResponse({"message": message if isinstance(message, str) else str(message)},
                        status_code=status, headers=headers)


routers = (curation, hashing, matching, health)
