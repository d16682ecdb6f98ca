"""Process validated content items with the scan's own functions: store ingest batch, score_posts and
record_detections (a case on each flagged post), the hash pass; then read each item's answer from the store.
Media given only by URL is fetched and hashed first (basira.ingest.media_fetch, the HMA fetcher's safety rules),
so its hashes are stored with the post and matched like precomputed ones; a fetch that fails is reported on
that media item, and the item is scored all the same."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from basira.ingest.clean import ReadOptions
from basira.ingest.records import AccountRecord, PostRecord

if TYPE_CHECKING:
    from basira.ingest.media_fetch import FetchPolicy
    from basira.store import Store

# URLs fetched per item, and fetches in flight per batch: a post rarely carries more than 4 photos (X's limit),
# and the fetches wait on the network, not the CPU, so a few threads overlap them on 2 cores.
MAX_FETCHED_PER_ITEM = 10
FETCH_THREADS = 4


def ensure_detector(pool_worker: bool = False) -> str:
    """Load the detector once in this process (the scan's scoring state); return the model version."""
    from basira.scan.score import ensure_detector as ensure

    return ensure(pool_worker)


def records_of(items: Sequence[dict[str, Any]], options: ReadOptions | None = None) -> list[tuple[PostRecord, AccountRecord | None]]:
    """Queue items (already validated once) back to records."""
    from basira.intake.items import parse_item

    options = options or ReadOptions.from_settings()
    return [parse_item(i, n, options)[1:] for n, i in enumerate(items)]


def _pending_fetches(store: Store, posts: Sequence[PostRecord]) -> list[Any]:
    """The media to fetch: given only by URL, on posts not stored yet. A post stored before (a resubmission, a
    batch retried after a worker died) keeps the media hashes stored with it: they are read back instead."""
    from basira.intake.items import IntakeMedia

    by_post = [(p, [m for m in p.media if isinstance(m, IntakeMedia) and m.source == "url" and m.url
                    and not m.error]) for p in posts]
    by_post = [(p, urls) for p, urls in by_post if urls]
    if not by_post:  # no read at all for items without media URLs (the sync path's latency)
        return []
    stored = _stored_ids(store, [p for p, _ in by_post])
    out = []
    for p, urls in by_post:
        if (p.platform, p.external_id) in stored:
            _read_back(store, p)
            continue
        for n, m in enumerate(urls):
            if n >= MAX_FETCHED_PER_ITEM:
                m.error = f"not fetched: more than {MAX_FETCHED_PER_ITEM} media URLs in one item"
            else:
                out.append(m)
    return out


def _read_back(store: Store, p: PostRecord) -> None:
    got = store.get_post(p.platform, p.external_id) or {}
    by_pos = {int(m["position"]): m for m in got.get("media") or []}
    for n, m in enumerate(p.media):
        if getattr(m, "source", "") != "url":
            continue
        sm = by_pos.get(n) or {}
        m.sha256, m.pdq, m.md5 = sm.get("sha256"), sm.get("pdq"), sm.get("md5")
        if not (m.sha256 or m.pdq or m.md5):
            m.error = "not fetched again: the post was stored before without this media's hashes"  # type: ignore[attr-defined]


def _stored_ids(store: Store, posts: Sequence[PostRecord]) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for platform in {p.platform for p in posts}:
        ids = store.post_ids(platform, sorted({p.external_id for p in posts if p.platform == platform}))
        keys.update((platform, e) for e in ids)
    return keys


def fetch_media_of(media: Sequence[Any], policy: FetchPolicy | None = None, pdq_decode: str = "fast") -> None:
    """Fetch and hash each media item given by URL, in place: its hashes, or its `error` (why not). A URL is
    requested once per call (a batch), however many media items carry it: a reposted photo or a thread's
    shared image would otherwise be downloaded once per post from the platform's CDN (each fetch under the
    policy's size and time caps, as before)."""
    from concurrent.futures import ThreadPoolExecutor

    from basira.ingest.media_fetch import FetchPolicy, fetch_media, hash_media_file, is_video_kind

    if not media:
        return
    if policy is None:
        from basira.core.settings import Settings

        policy = FetchPolicy.from_settings(Settings())
    by_url: dict[str, list[Any]] = {}
    for m in media:
        by_url.setdefault(m.url, []).append(m)

    def fail(ms: Sequence[Any], exc: Exception) -> None:
        for m in ms:
            m.error = str(exc) or type(exc).__name__

    def one(url: str) -> None:
        ms = by_url[url]
        try:
            got = fetch_media(url, policy)
        except Exception as exc:  # noqa: BLE001 - any failure is this media's, never the item's
            fail(ms, exc)
            return
        try:
            # Hashed once per way of hashing among the items (a video kind gets no PDQ), from the one download.
            for video in {is_video_kind(m.kind) for m in ms}:
                these = [m for m in ms if is_video_kind(m.kind) == video]
                try:
                    h = hash_media_file(str(got.path), got.content_type, these[0].kind, pdq_decode).hashes
                except Exception as exc:  # noqa: BLE001 - as above
                    fail(these, exc)
                    continue
                for m in these:
                    if not h:
                        m.error = "the content could not be hashed"
                        continue
                    m.sha256, m.pdq, m.md5 = h.get("sha256"), h.get("pdq"), h.get("md5")
                    m.mime, m.size = m.mime or got.content_type or None, got.size
        finally:
            got.cleanup()

    if len(by_url) == 1:
        one(next(iter(by_url)))
        return
    with ThreadPoolExecutor(min(FETCH_THREADS, len(by_url)), thread_name_prefix="basira-fetch") as ex:
        list(ex.map(one, by_url))


def _media_answer(m: Any) -> dict[str, Any]:
    """What the answer says of one media item: where its hashes came from, and them (or why there are none)."""
    source = getattr(m, "source", "hashes")
    out: dict[str, Any] = {"source": source}
    if m.url:
        out["url"] = m.url
    hashes = {k: v for k, v in (("md5", m.md5), ("sha256", m.sha256), ("pdq", m.pdq)) if v}
    error = getattr(m, "error", None)
    out["status"] = "error" if error else "hashed" if source in ("url", "upload") else "given"
    if error:
        out["reason"] = error
    out["hashes"] = hashes
    return out


def _match_content(pid: int, p: PostRecord) -> Any:
    from basira.signals.banks import PostContent

    return PostContent(pid, p.text, list(p.urls),
                       [{"md5": m.md5, "sha256": m.sha256, "pdq": m.pdq} for m in p.media])


def process(store: Store, records: Sequence[tuple[PostRecord, AccountRecord | None]],
            actor: str = "intake", fetch_policy: FetchPolicy | None = None,
            after_store: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """Fetch and hash media given by URL, store, score and hash-match the posts; one answer per record, in
    order: platform, post_id, post (store id), score, flagged, policy, categories, evidence, bank_matches,
    case_id, media (per media item: source, status, hashes or reason). Idempotent: a post already stored keeps
    its stored detection, media hashes and case. `after_store` (a kill test's pause) runs once the posts and
    their detections are committed, before the hash pass."""
    from basira import banks as repo
    from basira.ingest.repository import ingest_batch
    from basira.intake.queue import post_rows_on, stored_results
    from basira.scan.hashes import match_these
    from basira.scan.score import record, score_posts

    version = ensure_detector()
    accounts = [a for _, a in records if a is not None]
    posts = [p for p, _ in records]
    banks = repo.has_items(store)
    todo_fetch = _pending_fetches(store, posts)
    if todo_fetch:
        pdq_decode = "fast"
        if banks:
            from basira.scan.hashes import snapshot_for

            pdq_decode = snapshot_for(store).get(store).pdq_decode
        fetch_media_of(todo_fetch, fetch_policy, pdq_decode)
    # Scored before the transaction (no row lock is held while the detector runs; a post stored and scored
    # before is rare and costs only its own scoring), then stored, looked up and recorded in one transaction:
    # one commit per batch instead of two, and fewer round trips (measured: 6 transactions per sync item before).
    scored = score_posts([(n, p.text, p.lang) for n, p in enumerate(posts)])
    with store.transaction() as tx:
        ingest_batch(tx, accounts, posts)
        rows = post_rows_on(tx.conn, [(p.platform, p.external_id) for p in posts], version)
        todo, seen = [], set()
        for n, p in enumerate(posts):
            pid, done = rows[(p.platform, p.external_id)]
            if not done and pid not in seen:
                seen.add(pid)
                todo.append({**scored[n], "post_id": pid})
        if todo:
            record(store, todo)
    if after_store is not None:
        after_store()
    ids = {k: v[0] for k, v in rows.items()}
    post_ids = sorted(set(ids.values()))
    if banks:
        unique = {(p.platform, p.external_id): p for p in posts}
        match_these(store, [_match_content(ids[k], p) for k, p in unique.items()])
    have = stored_results(store, post_ids, version)
    out = []
    for p in posts:
        pid = ids[(p.platform, p.external_id)]
        r = have[pid]
        ev = r.get("evidence") or {}
        matches = []
        if banks:
            matches = [{"bank": m.bank, "item_id": m.item_id, "signal_type": m.signal_type, "distance": m.distance,
                        "status": m.status, "labels": m.labels} for m in repo.matches_for(store, f"post:{pid}")]
        out.append({"platform": p.platform, "post_id": p.external_id, "post": pid, "model_version": version,
                    "score": r.get("score"), "flagged": bool(ev.get("flagged")), "policy": ev.get("policy"),
                    "categories": r.get("categories", []),
                    "evidence": {k: ev[k] for k in ("lang", "threshold", "signals", "spans") if k in ev},
                    "bank_matches": matches, "case_id": r["case_id"], "media": [_media_answer(m) for m in p.media]})
    return out
