"""The review workflow as functions over the store: what the CLI and the web app call."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import httpx

from basira.core.errors import BasiraError, InputError
from basira.core.i18n import N_
from basira.core.periodic import PeriodicLoop
from basira.core.settings import Settings
from basira.core.time import utcnow
from basira.review import webhooks
from basira.review.auth import hash_password, new_token, token_digest, verify_password
from basira.review.decisions import UNDO_SECONDS, Actor, DecisionError
from basira.review.effects import DecisionEffects, Removal, Undone
from basira.review.policy import PolicyCatalogue, load_catalogue
from basira.review.queue import QueueFilter
from basira.review.records import DecisionResult, DeliveryCounts, UndoResult
from basira.review.repository import CaseView, QueueCursor, QueuePage, QueueRow, ReviewRepo
from basira.review.roles import UserError, check_role
from basira.store import Store

Clock = Callable[[], datetime]
SESSION_CACHE_SECONDS = 2.0
DEFAULT_PREFS = {"blur_media": True, "greyscale_media": True, "break_reminder_minutes": 90}




@dataclass(frozen=True)
class ReviewSettings:
    undo_seconds: int = UNDO_SECONDS
    claim_minutes: float = 15.0
    session_hours: float = 12.0
    secure_cookies: bool = True
    webhook_url: str | None = None
    webhook_secret: str | None = None
    policy_catalogue: str | None = None

    @classmethod
    def from_settings(cls, s: Settings, **overrides: Any) -> ReviewSettings:
        r = cls(webhook_url=s.webhook_url, webhook_secret=s.webhook_secret, policy_catalogue=s.policy_catalogue,
                claim_minutes=s.claim_minutes)
        return replace(r, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_env(cls, **overrides: Any) -> ReviewSettings:
        return cls.from_settings(Settings.from_env(), **overrides)


@dataclass
class ReviewService:
    store: Store
    settings: ReviewSettings = field(default_factory=ReviewSettings)
    clock: Clock = utcnow
    catalogue: PolicyCatalogue = field(init=False)
    effects: DecisionEffects = field(default_factory=DecisionEffects)

    def __post_init__(self) -> None:
        self.repo = ReviewRepo(self.store)
        self._session_cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self.catalogue = load_catalogue(self.settings.policy_catalogue)
        if self.settings.webhook_url and not self.settings.webhook_secret:
            raise InputError("<settings>", None, "BASIRA_WEBHOOK_SECRET", "a webhook URL (BASIRA_WEBHOOK_URL) needs a secret")

    def now(self) -> datetime:
        return self.clock()

    @property
    def claim_ttl(self) -> timedelta:
        return timedelta(minutes=self.settings.claim_minutes)

    # --- users ----------------------------------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: str, actor: str | None = None) -> int:
        if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise UserError("usernames are 1–64 letters, digits, '.', '-' or '_'").said(
                N_("usernames are 1–64 letters, digits, '.', '-' or '_'"))
        return self.repo.add_user(username, hash_password(password), check_role(role), actor)

    def disable_user(self, username: str, actor: str | None = None, disabled: bool = True) -> bool:
        self._session_cache.clear()
        return self.repo.set_disabled(username, disabled, actor)

    def create_token(self, username: str, name: str, actor: str | None = None) -> str:
        """A new API token for a user; only its SHA-256 is stored, so show it now or never."""
        token = new_token()
        self.repo.add_token(username, name, token_digest(token), actor)
        return token

    def authenticate(self, username: str, password: str) -> dict[str, Any] | None:
        """The user for a password login, or None. The `platform` role signs in with API tokens only."""
        valid = 0 < len(username) <= 64 and username.isprintable()  # a NUL or a 1 MB name never reaches the DB
        user = self.repo.user_by_name(username) if valid else None
        ok = verify_password(user["password_hash"] if user else None, password)
        if not ok or user is None or user["disabled_at"] is not None or user["role"] == "platform":
            return None
        user.pop("password_hash", None)
        return user

    def start_session(self, user: dict[str, Any]) -> tuple[str, str]:
        """Return (cookie token, CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.repo.start_session(user, token_digest(token), csrf, self.now(), timedelta(hours=self.settings.session_hours))
        return token, csrf

    def session_user(self, token: str) -> dict[str, Any] | None:
        """The session's user. Looked up at most every SESSION_CACHE_SECONDS per process: logging out or
        disabling a user in this process takes effect at once, in other processes within that time."""
        digest = token_digest(token)
        hit = self._session_cache.get(digest)
        mono = time.monotonic()
        if hit is not None and hit[0] > mono:
            return hit[1]
        user = self.repo.session(digest, self.now())
        if user is not None:
            if len(self._session_cache) > 10_000:
                self._session_cache.clear()
            self._session_cache[digest] = (mono + SESSION_CACHE_SECONDS, user)
        return user

    def end_session(self, token: str, username: str) -> None:
        self._session_cache.pop(token_digest(token), None)
        self.repo.end_session(token_digest(token), username, self.now())

    def token_user(self, token: str) -> dict[str, Any] | None:
        return self.repo.user_for_token(token_digest(token))

    def prefs(self, user: dict[str, Any]) -> dict[str, Any]:
        return {**DEFAULT_PREFS, **(user.get("prefs") or {})}

    def set_prefs(self, user: dict[str, Any], blur: bool, greyscale: bool, reminder_minutes: int) -> None:
        prefs = {"blur_media": bool(blur), "greyscale_media": bool(greyscale),
                 "break_reminder_minutes": max(15, min(int(reminder_minutes), 480))}
        self.repo.set_prefs(user["id"], prefs, user["username"])
        self._session_cache.clear()

    def set_language(self, user: dict[str, Any], lang: str | None) -> None:
        """The user's interface language (None: follow the browser's Accept-Language again)."""
        self.repo.set_prefs(user["id"], {"lang": lang}, user["username"])
        self._session_cache.clear()  # a cached session still carries the old prefs

    MAX_SAVED_FILTERS = 20

    def save_filter(self, user: dict[str, Any], name: str, query: str) -> list[dict[str, str]]:
        """Keep a named queue filter (the query string of /queue) for this reviewer; the same name replaces."""
        name = " ".join((name or "").split())[:60]
        if not name:
            raise UserError("a saved filter needs a name").said(N_("a saved filter needs a name"))
        saved = [f for f in self.prefs(user).get("saved_filters", []) if f.get("name") != name]
        saved = [{"name": name, "query": (query or "")[:1000]}, *saved][: self.MAX_SAVED_FILTERS]
        self.repo.set_prefs(user["id"], {"saved_filters": saved}, user["username"])
        self._session_cache.clear()
        return saved

    def delete_filter(self, user: dict[str, Any], name: str) -> bool:
        saved = self.prefs(user).get("saved_filters", [])
        kept = [f for f in saved if f.get("name") != name]
        if len(kept) != len(saved):
            self.repo.set_prefs(user["id"], {"saved_filters": kept}, user["username"])
            self._session_cache.clear()
        return len(kept) != len(saved)

    # --- the workflow ---------------------------------------------------------------------------------------

    def queue(self, f: QueueFilter, limit: int = 50, offset: int = 0) -> tuple[list[QueueRow], int]:
        return self.repo.queue(f, self.now(), limit, offset)

    def queue_page(self, f: QueueFilter, limit: int = 50, offset: int = 0, after: str | None = None) -> QueuePage:
        """A page of the queue; `after` is the previous page's cursor token (the default order only)."""
        return self.repo.queue_page(f, self.now(), limit, offset, QueueCursor.parse(after))

    def claim(self, case_id: int, actor: Actor) -> datetime:
        return self.repo.claim(case_id, actor, self.now(), self.claim_ttl)

    def claim_next(self, actor: Actor, f: QueueFilter) -> int | None:
        return self.repo.claim_next(actor, f, self.now(), self.claim_ttl)

    def release(self, case_id: int, actor: Actor) -> bool:
        return self.repo.release(case_id, actor)

    def decide(self, case_id: int, actor: Actor, action: str, reason_code: str, note: str | None = None,
               add_to_bank: str | None = None) -> DecisionResult:
        """Record a decision; with `add_to_bank`, a removed post's text and media hashes go into that bank."""
        if add_to_bank:
            if action != "remove":
                raise DecisionError("invalid", "only content being removed can be added to a bank").said(
                N_("only content being removed can be added to a bank"))
            try:
                self.effects.check("add_to_bank", self.store, add_to_bank)  # banks' rule (effects.CHECKS)
            except BasiraError as exc:  # refused as a decision (the case page shows it), said the bank's way
                raise DecisionError("invalid", str(exc)).said_as(exc) from None
        reason = self.catalogue.get(reason_code)
        now = self.now()
        # One transaction: the decision and what it sets off (the preserved copy and notice, art. 6 and 11 of
        # Regulation (EU) 2021/784; the bank entry) commit together or not at all.
        with self.store.transaction() as tx:
            out = self.repo.decide(
                case_id, actor, action, reason_code, reason.actions if reason else None,
                (note or "")[:4000] or None, now, self.settings.undo_seconds, self.claim_ttl, self._webhook,
            )
            if action == "remove":
                out = replace(out, effects=self.effects.announce(
                    tx, "removed", Removal(case_id, out.decision_id, now, actor.username, add_to_bank)))
                for m in out.members:  # a group decision removed every copy: each is preserved
                    self.effects.announce(tx, "removed", Removal(m.case_id, m.decision_id, now, actor.username, None))
        return out

    def _webhook(self, decision_id: int, action: str, facts: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
        if not self.settings.webhook_url:
            return None
        key = webhooks.idempotency_key(decision_id, action)
        payload = {"type": "basira.action", "action": action, "idempotency_key": key, **facts}
        return self.settings.webhook_url, key, payload

    def undo(self, decision_id: int, actor: Actor) -> UndoResult:
        """Undo a decision within its window; an undone removal also takes back what it added to a bank."""
        now = self.now()
        with self.store.transaction() as tx:
            out = self.repo.undo(decision_id, actor, now, self.claim_ttl)
            if self.repo.decision_action(decision_id) == "remove":
                out = replace(out, effects=self.effects.announce(
                    tx, "undone", Undone(out.case_id, decision_id, now, actor.username)))
        return out

    def file_appeal(self, case_id: int, statement: str, filed_by: str) -> int:
        statement = (statement or "").strip()
        if not statement:
            raise DecisionError("invalid", "an appeal needs the owner's statement").said(
                N_("an appeal needs the owner's statement"))
        return self.repo.file_appeal(case_id, statement[:10_000], filed_by, self.now())

    def split_group(self, group_id: int, case_ids: list[int], actor: Actor) -> list[int]:
        from basira.cases.groups import GroupError, split
        from basira.cases.prioritize import reprioritize

        try:
            out = split(self.store, group_id, case_ids, actor.username, self.now())
        except GroupError as exc:
            raise DecisionError(exc.kind, str(exc)).said_as(exc) from None
        if out:
            lead = self.repo.group_lead(group_id)
            reprioritize(self.store, [*out, *([lead] if lead else [])])
        return out

    def case(self, case_id: int) -> CaseView | None:
        return self.repo.case_detail(case_id, self.now())

    # --- webhooks -------------------------------------------------------------------------------------------

    def deliver_due(self, client: httpx.Client | None = None, limit: int = 20) -> DeliveryCounts:
        """Send every due webhook once; return counts by resulting status."""
        counts = {"delivered": 0, "pending": 0, "failed": 0}
        if not self.settings.webhook_secret:
            return DeliveryCounts()
        own = client is None
        client = client or httpx.Client(timeout=10.0)
        try:
            for d in self.repo.lease_due_deliveries(self.now(), timedelta(seconds=60), limit):
                outcome = webhooks.post(client, d["url"], self.settings.webhook_secret, d["idempotency_key"],
                                        d["payload"], int(self.now().timestamp()))
                status, next_at = webhooks.next_state(d["attempts"] + 1, outcome, self.now())
                self.repo.record_attempt(d, status, next_at, outcome.status_code, outcome.error, self.now(),
                                        self.effects)
                counts[status] += 1
        finally:
            if own:
                client.close()
        return DeliveryCounts(**counts)


class DeliveryLoop(PeriodicLoop):
    """Runs deliver_due every `interval` seconds on a background thread (started by `basira serve`), over one
    HTTP client kept for the loop's life."""

    def __init__(self, service: ReviewService, interval: float = 2.0) -> None:
        self.service = service
        client = httpx.Client(timeout=10.0)
        super().__init__(lambda: service.deliver_due(client), interval, "basira-webhooks", on_stop=client.close)


def open_review_store(url: str) -> Store:
    """The store for the web app: on PostgreSQL, a connection pool sized for a threaded server (requests that
    wait on the audit chain's lock must not starve page views of connections)."""
    import sqlalchemy as sa

    from basira.store import open_store

    store = open_store(url)
    if store.dialect == "postgresql":
        old = store.engine
        store.engine = sa.create_engine(old.url, pool_size=30, max_overflow=20, pool_recycle=300)
        old.dispose()

        @sa.event.listens_for(store.engine, "connect")
        def _no_jit(dbapi_conn: Any, _record: Any) -> None:
            # The queue's plans look expensive on paper (100k-row estimates) and PostgreSQL would JIT-compile
            # them: 3.5 s of compilation for a 30 ms query, measured by bench/bench_review_scale.py.
            with dbapi_conn.cursor() as cur:
                cur.execute("SET jit = off")
            dbapi_conn.commit()
    return store
