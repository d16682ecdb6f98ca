"""Repository functions of the review workflow. Each runs in one transaction; every state change appends to
the hash-chained event log in that same transaction. Decisions are checked by the pure state machine in
basira.review.decisions while the case row is locked (FOR UPDATE on PostgreSQL; SQLite writers are serial)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from basira.cases import events as case_events
from basira.cases.groups import refresh_groups
from basira.core.i18n import N_
from basira.review.decisions import (
    Actor,
    CaseState,
    DecisionError,
    DecisionRecord,
    Transition,
    plan_appeal,
    plan_claim,
    plan_decision,
    plan_undo,
)
from basira.review.effects import DecisionEffects, RemovalDelivered
from basira.review.groups import member_hidden
from basira.review.queue import QueueFilter
from basira.review.records import DecisionResult, MemberDecision, UndoResult
from basira.review.roles import UserError
from basira.store import bulk
from basira.store.db import Tx
from basira.store.events import append as append_events
from basira.store.group_models import ReviewGroup
from basira.store.models import Account, Case, Detection, Event, Media, Platform, Post
from basira.store.review_models import (
    ApiToken,
    Appeal,
    CaseClaim,
    Decision,
    ReviewSession,
    User,
    WebhookDelivery,
)
from basira.store.store import Store
from basira.store.subjects import subject_ids

U, TK, SS = User.__table__, ApiToken.__table__, ReviewSession.__table__
GR = ReviewGroup.__table__
C, CL, D, AP, W = Case.__table__, CaseClaim.__table__, Decision.__table__, Appeal.__table__, WebhookDelivery.__table__
P, A, DT, PF, M, E = Post.__table__, Account.__table__, Detection.__table__, Platform.__table__, Media.__table__, Event.__table__
# webhook(decision_id, platform action, facts) -> (url, idempotency key, payload) for the outbox, or None
Webhook = Callable[[int, str, dict[str, Any]], tuple[str, str, dict[str, Any]] | None]
COUNT_EXACT = 1000  # a queue total up to this is counted; above it, estimated ("about 60,000")
ESTIMATE_OVER = 5000  # a planner estimate this large is trusted without counting
ESTIMATE_TTL = 10.0  # seconds a filter's estimate is reused (planning it costs ~2 ms of Python and a round trip)
FACETS_TTL = 60.0  # seconds the filter's languages and sources are cached per process
_POLICY = DT.c.policy
_ACCOUNT_ID = sa.case((C.c.subject_kind == "account", C.c.subject_id), else_=P.c.account_id)
_USER_COLS = (U.c.id, U.c.username, U.c.role, U.c.prefs, U.c.disabled_at, U.c.created_at)

# Sortable columns of other tables: (column, the table it needs joined). Cases lacking it sort last.
_SORT_COLUMNS: dict[str, tuple[Any, str]] = {
    "score": (DT.c.score, "DT"), "policy": (_POLICY, "DT"), "lang": (P.c.lang, "P"), "source": (PF.c.name, "PF"),
    "group": (GR.c.size, "GR"),
}
# Sorted in full by PostgreSQL (no index gives their order): none left (the group size is walked by ranges).
_FULL_SORTS: tuple[str, ...] = ()
SIZE_BATCH = 200  # open groups one size range of the group sort holds at most, unless they share one size
# Sorts on a column with few distinct values: walked value by value (see _page_ids_by_value), each value's cases
# read in the queue's order from a partial index. Where the values come from: an index skip scan (a recursive
# CTE over posts' language index, migration 0014, and detections' policy index) or the platforms by name (the
# source: cases.platform_id, migration 0015, each platform's cases from ix_cases_queue_platform). Before the
# column, the source sorted every queue row (PostgreSQL misjudged the platform join: ~0.8 s a page).
_BY_VALUE = ("lang", "policy", "source")
_DISTINCT = {"lang": ("posts", "lang"), "policy": ("detections", "policy")}
# The column each value walk compares with a value, and the table it needs joined ("" for cases' own).
_WALKED: dict[str, tuple[Any, str]] = {"lang": (P.c.lang, "P"), "policy": (_POLICY, "DT"),
                                       "source": (C.c.platform_id, "")}
_JOIN_ORDER = ("P", "A", "PF", "DT", "CL", "GR")
_NEEDS = {"A": {"P"}}


def _with_joins(q: sa.Select[Any], need: set[str]) -> sa.Select[Any]:
    """`q` from cases with the left joins `need` names (P posts, A accounts, PF platforms, DT detections,
    CL claims, GR the open group a case leads), each on a unique key."""
    return q.select_from(_joined(need))


def _joined(need: set[str]) -> Any:
    """cases left-joined to what `need` names (see _with_joins)."""
    need = set(need)
    for t in list(need):
        need |= _NEEDS.get(t, set())
    j: Any = C
    for t in _JOIN_ORDER:
        if t not in need:
            continue
        if t == "P":
            j = j.outerjoin(P, sa.and_(C.c.subject_kind == "post", P.c.id == C.c.subject_id))
        elif t == "A":
            j = j.outerjoin(A, A.c.id == _ACCOUNT_ID)
        elif t == "PF":
            j = j.outerjoin(PF, PF.c.id == C.c.platform_id)  # the subject's, kept by intake (migration 0015)
        elif t == "DT":
            j = j.outerjoin(DT, DT.c.id == C.c.detection_id)
        elif t == "CL":
            j = j.outerjoin(CL, CL.c.case_id == C.c.id)
        elif t == "GR":
            j = j.outerjoin(GR, sa.and_(GR.c.lead_case_id == C.c.id, GR.c.status == "open"))
    return j


_CLAIMER = sa.alias(U, "claimer")
_ROW_COLUMNS = (
    C.c.id, C.c.status, C.c.priority, C.c.reason, C.c.opened_at, C.c.subject_kind, C.c.subject_id,
    sa.func.substr(P.c.text, 1, 240).label("snippet"), P.c.lang, PF.c.name.label("source"),
    # categories as their JSON text, parsed by _categories: a page's 50 rows hold a few distinct lists, and the
    # driver's json.loads of each was a fifth of the queue query's Python (0.5 of 2.6 ms a page)
    A.c.handle, A.c.id.label("account_id"), DT.c.score, sa.cast(DT.c.categories, sa.Text), _POLICY.label("policy"),
    CL.c.user_id.label("claimed_by_id"), CL.c.expires_at.label("claim_expires"),
    _CLAIMER.c.username.label("claimer"),
)
_GROUP_COLUMNS = (GR.c.id, GR.c.size, GR.c.accounts, GR.c.followers, GR.c.kind)
_GROUP_LABELS = ("group_id", "group_size", "group_accounts", "group_followers", "group_kind")
# A page's rows in one query (the claimant's name and the led group joined): one statement whatever the ids, so
# SQLAlchemy's compiled cache and psycopg's prepared statements serve it — `= ANY(array)` on PostgreSQL (an
# expanding IN of 50 ids re-rendered 50 placeholders and made the driver re-parse ~5 KB of SQL every page).
# The led group (the newest open one, should a case lead two) is a LATERAL probe of the lead index per row on
# PostgreSQL. It was joined by id = (SELECT max(id) …), and a plain join on the lead is planned the same way: a
# hash of every open group, 8-14 ms of every page at 10,000 groups (now ~0.1 ms). SQLite has no LATERAL: a plain
# join, queue_page keeping the newest group of a case.
_ROWS_FROM = _joined({"P", "A", "PF", "DT", "CL"}).outerjoin(_CLAIMER, _CLAIMER.c.id == CL.c.user_id)
_LED = (sa.select(*_GROUP_COLUMNS).where(GR.c.lead_case_id == C.c.id, GR.c.status == "open")
        .order_by(GR.c.id.desc()).limit(1).correlate(C).lateral("led"))
_ROWS_BY_ID = {
    "postgresql": sa.select(*_ROW_COLUMNS, *(c.label(n) for c, n in zip(_LED.c, _GROUP_LABELS, strict=True)))
    .select_from(_ROWS_FROM.outerjoin(_LED, sa.true()))
    .where(C.c.id == sa.func.any(sa.bindparam("ids", type_=ARRAY(sa.Integer)))),
    "sqlite": sa.select(*_ROW_COLUMNS, *(c.label(n) for c, n in zip(_GROUP_COLUMNS, _GROUP_LABELS, strict=True)))
    .select_from(_ROWS_FROM.outerjoin(GR, sa.and_(GR.c.lead_case_id == C.c.id, GR.c.status == "open")))
    .where(C.c.id.in_(sa.bindparam("ids", expanding=True))),
}


@contextmanager
def _prepared(conn: Connection) -> Iterator[None]:
    """Statements run inside use a server-side prepared statement (psycopg), though the engine prepares none
    (basira.store.db: plans made for a table's size of the moment). Only for statements whose plan does not
    depend on the values: the queue's rows by id (primary-key probes) — its 8-table join took PostgreSQL ~0.8 ms
    to plan, every page; prepared, it is planned once per connection."""
    raw: Any = conn.connection.dbapi_connection
    if conn.dialect.name != "postgresql" or not hasattr(raw, "prepare_threshold"):
        yield
        return
    before = raw.prepare_threshold
    raw.prepare_threshold = 0
    try:
        yield
    finally:
        raw.prepare_threshold = before


@dataclass(frozen=True, slots=True)
class QueueCursor:
    """Where a page of the default order (priority, then oldest, then id) ended: the next page starts after it."""

    priority: float
    opened_at: datetime
    case_id: int

    def condition(self) -> sa.ColumnElement[bool]:
        p, o, i = self.priority, self.opened_at, self.case_id
        return sa.or_(C.c.priority < p, sa.and_(C.c.priority == p, sa.or_(
            C.c.opened_at > o, sa.and_(C.c.opened_at == o, C.c.id > i))))

    def token(self) -> str:
        """The cursor in a URL (`after=`): repr keeps the float exact."""
        return f"{self.priority!r}~{self.opened_at.isoformat()}~{self.case_id}"

    @classmethod
    def parse(cls, token: str | None) -> QueueCursor | None:
        """The cursor from `token`, or None when it is absent or not one (a hand-edited URL starts over)."""
        try:
            p, o, i = (token or "").split("~")
            at = datetime.fromisoformat(o)
            return cls(float(p), at, int(i)) if at.tzinfo is not None else None
        except ValueError:
            return None


@dataclass(slots=True)
class QueueRow:
    """One row of the queue: a case (or a group's lead) with what the queue shows of it."""

    id: int
    status: str
    priority: float
    reason: str
    opened_at: datetime
    subject_kind: str
    subject_id: int
    snippet: str | None  # the first 240 characters of the post (raw: the web face marks controls)
    lang: str | None
    source: str | None  # the platform's name
    handle: str | None
    account_id: int | None
    score: float | None
    categories: list[str] | None
    policy: str | None  # detections.policy: terrorist_support | hate_speech | None
    claimed_by_id: int | None
    claim_expires: datetime | None
    claimed_by: str | None = None  # the live claim's username
    group_id: int | None = None  # the open review group this case leads
    group_size: int | None = None
    group_accounts: int | None = None
    group_followers: int | None = None
    group_kind: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The row as the REST API returns it (no internal user id)."""
        out = {f: getattr(self, f) for f in self.__dataclass_fields__}
        out.pop("claimed_by_id")
        return out


@dataclass(slots=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    total_exact: bool  # False: `total` is the planner's estimate (shown as "about")
    next_after: QueueCursor | None = None


class _Record:
    """A record read by attribute (`view.case`, `view.claim`); no dict-style reads, so a caller cannot go back
    to treating it as the dict it once was (a typo'd key would fail only at run time)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The record as the REST API returns it."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}  # type: ignore[attr-defined]


@dataclass(slots=True)
class CaseView(_Record):
    """A case as the case page, its panels and the API read it: the case's row and what it is about (post,
    account, detection, media, the account's other posts), its live claim, decisions (oldest first, each with
    `decided_by` and `final`), appeal and webhook deliveries. Inner records are the tables' rows."""

    case: dict[str, Any]
    post: dict[str, Any] | None  # the post's row and its platform's name (`source`)
    account: dict[str, Any] | None  # see AccountView.account
    detection: dict[str, Any] | None
    media: list[dict[str, Any]]
    other_posts: list[dict[str, Any]]  # the account's latest posts but this one, each with its case
    claim: dict[str, Any] | None  # user_id, username, expires_at; None when nobody holds it now
    decisions: list[dict[str, Any]]
    appeal: dict[str, Any] | None
    deliveries: list[dict[str, Any]]


@dataclass(slots=True)
class AccountView(_Record):
    """An account as its page and the API read it: the account's row with `source` (its platform),
    `post_count` and `removals` (posts removed and not undone), and its latest posts with their cases."""

    account: dict[str, Any]
    posts: list[dict[str, Any]]


REVIEW_TABLES = (U, TK, SS, CL, D, AP, W)


def ensure_review_tables(store: Store) -> list[str]:
    """Create the review tables if a database stamped by a later migration lacks them (a database migrated
    before 0002_review existed); return the names created."""
    missing = [t for t in REVIEW_TABLES if not sa.inspect(store.engine).has_table(t.name)]
    if missing:
        with store.write() as conn:
            for t in missing:
                t.create(conn, checkfirst=True)
    return [t.name for t in missing]


class LockoutError(UserError):
    """A user change refused because it would leave nobody able to manage users (a conflict, HTTP 409)."""

    kind = "conflict"


class ReviewRepo:
    """The review workflow's view of the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._facets: tuple[float, dict[str, list[str]]] | None = None
        self._estimates: dict[QueueFilter, tuple[float, int]] = {}  # filter -> (when, planner's row estimate)
        self._statements: dict[tuple[QueueFilter, tuple[str, ...]], sa.Select[Any]] = {}  # see _filtered
        self._size_histogram: tuple[float, list[tuple[Any, ...]]] | None = None  # (when, [(size, open groups)])
        ensure_review_tables(store)

    def _events(self, conn: Connection, *entries: tuple[str, str | None, str | None, dict[str, Any]]) -> None:
        append_events(conn, list(entries))

    # --- users, tokens, sessions ------------------------------------------------------------------------------

    def add_user(self, username: str, password_hash: str, role: str, actor: str | None = None) -> int:
        with self.store.write() as conn:
            try:
                uid = conn.execute(
                    sa.insert(U).values(username=username, password_hash=password_hash, role=role, prefs={},
                                        created_at=_now())
                    .returning(U.c.id)
                ).scalar_one()
            except IntegrityError:
                raise UserError(f"user {username!r} already exists", "conflict").said(
                    N_("user %(user)s already exists"), user=repr(username)) from None
            self._events(conn, ("user.added", actor, f"user:{username}", {"role": role}))
        return int(uid)

    def set_disabled(self, username: str, disabled: bool, actor: str | None = None) -> bool:
        """Disable (or enable) a user; False when there is no such user. Refuses (LockoutError) to disable the
        acting user itself or the last active admin: someone must be able to manage users afterwards."""
        with self.store.write() as conn:
            if disabled:
                if actor is not None and actor == username:
                    raise LockoutError("you cannot disable yourself; ask another admin").said(
                        N_("you cannot disable yourself; ask another admin"))
                q = sa.select(U.c.username).where(U.c.role == "admin", U.c.disabled_at.is_(None))
                # Locked: two admins disabling each other at once must not leave none.
                admins = set(conn.execute(q.with_for_update() if self.store.dialect == "postgresql" else q)
                             .scalars())
                if admins == {username}:
                    raise LockoutError(f"{username!r} is the last active admin; add or enable another admin first").said(
                        N_("%(user)s is the last active admin; add or enable another admin first"), user=repr(username))
            n = conn.execute(
                sa.update(U).where(U.c.username == username).values(disabled_at=_now() if disabled else None)
            ).rowcount
            if n:
                if disabled:  # end their sessions and revoke their tokens now
                    uid = sa.select(U.c.id).where(U.c.username == username).scalar_subquery()
                    conn.execute(sa.update(SS).where(SS.c.user_id == uid, SS.c.ended_at.is_(None)).values(ended_at=_now()))
                    conn.execute(sa.update(TK).where(TK.c.user_id == uid, TK.c.revoked_at.is_(None)).values(revoked_at=_now()))
                self._events(conn, ("user.disabled" if disabled else "user.enabled", actor, f"user:{username}", {}))
        return bool(n)

    def user_by_name(self, username: str) -> dict[str, Any] | None:
        with self.store.read() as conn:
            r = conn.execute(sa.select(*_USER_COLS, U.c.password_hash).where(U.c.username == username)).first()
        return r._asdict() if r else None

    def list_users(self) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            return [r._asdict() for r in conn.execute(sa.select(*_USER_COLS).order_by(U.c.username))]

    def set_prefs(self, user_id: int, prefs: dict[str, Any], actor: str) -> None:
        """Merge `prefs` into the user's stored preferences (keys not named are kept)."""
        with self.store.write() as conn:
            old = conn.execute(sa.select(U.c.prefs).where(U.c.id == user_id)).scalar() or {}
            conn.execute(sa.update(U).where(U.c.id == user_id).values(prefs={**old, **prefs}))
            self._events(conn, ("user.prefs", actor, f"user:{actor}", prefs))

    def add_token(self, username: str, name: str, digest: str, actor: str | None = None) -> int:
        with self.store.write() as conn:
            uid = conn.execute(sa.select(U.c.id).where(U.c.username == username)).scalar()
            if uid is None:
                raise UserError(f"no user {username!r}", "not_found").said(N_("no user %(user)s"), user=repr(username))
            tid = conn.execute(
                sa.insert(TK).values(user_id=uid, name=name, token_hash=digest, created_at=_now()).returning(TK.c.id)
            ).scalar_one()
            self._events(conn, ("token.created", actor, f"user:{username}", {"token_id": tid, "name": name}))
        return int(tid)

    def user_for_token(self, digest: str) -> dict[str, Any] | None:
        with self.store.read() as conn:
            r = conn.execute(
                sa.select(*_USER_COLS).join(TK, TK.c.user_id == U.c.id)
                .where(TK.c.token_hash == digest, TK.c.revoked_at.is_(None), U.c.disabled_at.is_(None))
            ).first()
        return r._asdict() if r else None

    def start_session(self, user: dict[str, Any], digest: str, csrf: str, now: datetime, ttl: timedelta) -> None:
        with self.store.write() as conn:
            conn.execute(sa.insert(SS).values(token_hash=digest, user_id=user["id"], csrf_token=csrf,
                                              created_at=now, expires_at=now + ttl))
            self._events(conn, ("session.started", user["username"], f"user:{user['username']}", {}))

    def session(self, digest: str, now: datetime) -> dict[str, Any] | None:
        """The live session for a cookie digest, with its user (None if ended, expired or user disabled)."""
        with self.store.read() as conn:
            r = conn.execute(
                sa.select(*_USER_COLS, SS.c.csrf_token, SS.c.created_at.label("session_started"))
                .join(SS, SS.c.user_id == U.c.id)
                .where(SS.c.token_hash == digest, SS.c.ended_at.is_(None), SS.c.expires_at > now,
                       U.c.disabled_at.is_(None))
            ).first()
        return r._asdict() if r else None

    def end_session(self, digest: str, username: str, now: datetime) -> None:
        with self.store.write() as conn:
            n = conn.execute(sa.update(SS).where(SS.c.token_hash == digest, SS.c.ended_at.is_(None))
                             .values(ended_at=now)).rowcount
            if n:
                self._events(conn, ("session.ended", username, f"user:{username}", {}))

    def log(self, kind: str, actor: str | None, subject: str | None, payload: dict[str, Any]) -> None:
        with self.store.write() as conn:
            self._events(conn, (kind, actor, subject, payload))

    # --- queue and claims -------------------------------------------------------------------------------------
    #
    # How a page stays cheap with 100,000 open cases (measured on the bench's data, EXPLAIN ANALYZE, PostgreSQL 15):
    # the page's ids come from a narrow query that walks a partial index in the queue's order (migration
    # 0012_queue_indexes) and stops after `limit` rows — the hidden group members are an anti-join on the
    # members' primary key, not a per-row subquery — then one query reads those rows' columns. A sort on a
    # column of another table that a case may lack (score, policy, language, source, group size) reads the
    # cases that have it in that column's order first (detections' score index, for the score), then those
    # without it, as NULLS LAST would. The total is exact up to COUNT_EXACT and the planner's estimate above it
    # ("about 60,000"; the exact count cost 60–110 ms, ~150 ms under load). Before: 1.0–3.2 s a page alone.

    def _filtered(self, f: QueueFilter, now: datetime, extra: tuple[str, ...] = ()) -> sa.Select[Any]:
        """SELECT cases.id with only the joins the filter (and `extra`: tables a sort needs) uses. Kept per filter
        (statements are immutable) unless it has an age, which moves with `now`: building one cost ~1 ms of
        Python, twice a page."""
        key = (f, extra)
        q = self._statements.get(key)
        if q is not None:
            return q
        need = set(extra)
        if f.lang:
            need.add("P")
        if f.category or f.policy or f.min_score is not None:
            need.add("DT")
        q = _with_joins(sa.select(C.c.id), need).where(*self._conditions(f, now))
        if f.max_age_hours is None and f.min_age_hours is None:
            if len(self._statements) > 512:
                self._statements.clear()
            self._statements[key] = q
        return q

    def _conditions(self, f: QueueFilter, now: datetime) -> list[sa.ColumnElement[bool]]:
        out: list[sa.ColumnElement[bool]] = [C.c.status.in_(f.statuses), ~member_hidden()]
        if f.lang:
            out.append(P.c.lang == f.lang)
        if f.source:  # from ix_cases_queue_platform, in the queue's order: no join
            out.append(C.c.platform_id == sa.select(PF.c.id).where(PF.c.name == f.source).scalar_subquery())
        if f.category:
            out.append(sa.cast(DT.c.categories, sa.Text).like(f'%"{_like_escape(f.category)}"%', escape="\\"))
        if f.max_age_hours is not None:
            out.append(C.c.opened_at >= now - timedelta(hours=f.max_age_hours))
        if f.min_age_hours is not None:
            out.append(C.c.opened_at <= now - timedelta(hours=f.min_age_hours))
        if f.policy:
            out.append(_POLICY == f.policy)
        if f.min_score is not None:
            out.append(DT.c.score >= f.min_score)
        return out

    def _page_ids(self, conn: Connection, f: QueueFilter, now: datetime, limit: int, offset: int,
                  after: QueueCursor | None) -> list[int]:
        ties = (C.c.priority.desc(), C.c.opened_at, C.c.id)  # every order is total: priority, oldest, id
        if f.sort in ("priority", "opened"):
            col = C.c.priority if f.sort == "priority" else C.c.opened_at
            q = self._filtered(f, now).order_by(col.desc() if f.desc else col.asc(), *ties)
            if after is not None and f.sort == "priority" and f.desc:
                q = q.where(after.condition())
                offset = 0
            return list(conn.execute(q.limit(limit).offset(offset)).scalars())
        if f.sort in _BY_VALUE:
            return self._page_ids_by_value(conn, f, now, limit, offset)
        if f.sort == "group":
            return self._page_ids_by_group(conn, f, now, limit, offset)
        col, table = _SORT_COLUMNS[f.sort]
        head = (self._filtered(f, now, (table,)).where(col.is_not(None))
                .order_by(col.desc() if f.desc else col.asc(), *ties))
        ids = list(conn.execute(head.limit(limit).offset(offset)).scalars())
        if len(ids) < limit:  # past the cases that have the column: those without it, by priority
            n_head = len(ids) + offset if ids or offset == 0 else conn.execute(
                sa.select(sa.func.count()).select_from(head.order_by(None).subquery())).scalar_one()
            tail = self._filtered(f, now, (table,)).where(col.is_(None)).order_by(*ties)
            ids += conn.execute(tail.limit(limit - len(ids)).offset(max(0, offset - n_head))).scalars()
        return ids

    def _page_ids_by_value(self, conn: Connection, f: QueueFilter, now: datetime, limit: int,
                           offset: int) -> list[int]:
        """A page sorted by language or policy without sorting the queue: the column's distinct values
        in order (a few: an index skip scan), then each value's cases in the queue's order (priority, oldest,
        id) from the priority index, until the page is full; then the cases lacking the column. The same order
        as ORDER BY column, priority DESC, opened_at, id with the lacking last (both directions). Before: every
        queue row sorted, 0.6-1.0 s a page at 100,000 cases."""
        ties = (C.c.priority.desc(), C.c.opened_at, C.c.id)
        col, table = _WALKED[f.sort]
        base = self._filtered(f, now, (table,) if table else ())
        values = self._sort_values(conn, f.sort)
        ids: list[int] = []
        skip = offset
        for v in reversed(values) if f.desc else values:
            q = base.where(col == v)
            if skip:  # earlier pages' rows: skip whole values by counting (at most skip + limit each)
                n = conn.execute(sa.select(sa.func.count()).select_from(
                    q.limit(skip + limit).subquery())).scalar_one()
                if n <= skip:
                    skip -= n
                    continue
            ids += conn.execute(q.order_by(*ties).limit(limit - len(ids)).offset(skip)).scalars()
            skip = 0
            if len(ids) == limit:
                return ids
        tail = base.where(col.is_(None)).order_by(*ties).limit(limit - len(ids)).offset(skip)
        return ids + list(conn.execute(tail).scalars())

    def _page_ids_by_group(self, conn: Connection, f: QueueFilter, now: datetime, limit: int,
                           offset: int) -> list[int]:
        """A page sorted by group size without sorting every group's lead (see _by_group), skipping earlier
        pages' rows by counting whole ranges. The same order as ORDER BY size, priority DESC, opened_at, id with
        the groupless last (both directions). Before: every lead joined and sorted, 75-200 ms a page at 10,000
        groups."""
        ids: list[int] = []
        skip = offset
        *ranges, tail = self._by_group(conn, self._filtered(f, now, ("GR",)), f.desc)
        for q in ranges:
            if skip:  # earlier pages' rows: skip whole ranges by counting (at most skip + limit each)
                n = conn.execute(sa.select(sa.func.count()).select_from(
                    q.order_by(None).limit(skip + limit).subquery())).scalar_one()
                if n <= skip:
                    skip -= n
                    continue
            ids += conn.execute(q.limit(limit - len(ids)).offset(skip)).scalars()
            skip = 0
            if len(ids) == limit:
                return ids
        return ids + list(conn.execute(tail.limit(limit - len(ids)).offset(skip)).scalars())

    def _by_group(self, conn: Connection, base: sa.Select[Any], desc: bool) -> list[sa.Select[Any]]:
        """`base` (cases joined to the open group each leads, GR) in group-size order as statements whose rows,
        one after the other, are that order: the sizes cut into ranges of at most SIZE_BATCH open groups (from
        the sizes' histogram), each range's cases in order — a range of several sizes is a few groups, sorted;
        one size shared by many groups is an equality, its cases walked from the priority index (the lead
        probed per case) — and last the cases leading no group. The ranges cover every size, so a histogram a
        few seconds old changes the cost, never the rows."""
        ties = (C.c.priority.desc(), C.c.opened_at, C.c.id)
        size = GR.c.size
        out = []
        for lo, hi in self._size_ranges(conn, desc):
            if lo is not None and lo == hi:
                out.append(base.where(size == lo).order_by(*ties))
            else:
                out.append(base.where(size.is_not(None), *([size >= lo] if lo is not None else []),
                                      *([size <= hi] if hi is not None else [])).order_by(
                    size.desc() if desc else size.asc(), *ties))
        return [*out, base.where(size.is_(None)).order_by(*ties)]

    def _size_ranges(self, conn: Connection, desc: bool) -> list[tuple[int | None, int | None]]:
        """Inclusive (low, high) size ranges (None: unbounded) covering every size, in the walk's order: runs of
        sizes holding at most SIZE_BATCH open groups together, a size holding more alone (low == high), with
        the gaps between as ranges of their own. The histogram is an index-only scan of ix_review_groups_open_size
        (~2 ms at 10,000 groups), kept for ESTIMATE_TTL."""
        t = time.monotonic()
        hit = self._size_histogram
        if hit is None or t - hit[0] > ESTIMATE_TTL:
            hit = self._size_histogram = (t, [tuple(r) for r in conn.execute(
                sa.select(GR.c.size, sa.func.count()).where(GR.c.status == "open", GR.c.size.is_not(None))
                .group_by(GR.c.size).order_by(GR.c.size))])
        sizes = hit[1] if not desc else list(reversed(hit[1]))
        out: list[tuple[int | None, int | None]] = []
        edge: int | None = None  # the next range starts past here (descending: below; ascending: above)
        run: list[int] = []
        held = 0

        def close_run() -> None:
            nonlocal edge, run, held
            if run:
                out.append((run[-1], edge) if desc else (edge, run[-1]))
                edge = run[-1] - 1 if desc else run[-1] + 1
            run, held = [], 0

        for v, n in sizes:
            if n > SIZE_BATCH:
                close_run()
                if edge is None or (edge > v if desc else edge < v):  # sizes between the last range and v
                    out.append((v + 1, edge) if desc else (edge, v - 1))
                out.append((v, v))
                edge = v - 1 if desc else v + 1
                continue
            if held + n > SIZE_BATCH:
                close_run()
            run.append(v)
            held += n
        close_run()
        out.append((None, edge) if desc else (edge, None))
        return out

    def _sort_values(self, conn: Connection, sort: str) -> list[Any]:
        """The distinct values of a sort column, ascending in the database's collation (as ORDER BY sorts); for
        the source, the platforms' ids in the order of their names."""
        if sort == "source":
            return list(conn.execute(sa.select(PF.c.id).order_by(PF.c.name)).scalars())
        t, c = _DISTINCT[sort]
        # One index probe per value (the "loose index scan"): a DISTINCT would read the whole index.
        return list(conn.execute(sa.text(
            # IS NOT NULL: what lets PostgreSQL read min() from a partial index (detections' policy index)
            f"WITH RECURSIVE v(x) AS (SELECT min({c}) FROM {t} WHERE {c} IS NOT NULL UNION ALL "  # noqa: S608
            f"SELECT (SELECT min({c}) FROM {t} WHERE {c} > v.x) FROM v WHERE v.x IS NOT NULL) "
            "SELECT x FROM v WHERE x IS NOT NULL ORDER BY x")).scalars())

    def queue(self, f: QueueFilter, now: datetime, limit: int = 50, offset: int = 0) -> tuple[list[QueueRow], int]:
        """One page of the queue and its total (exact up to COUNT_EXACT, else an estimate: see queue_page)."""
        page = self.queue_page(f, now, limit, offset)
        return page.rows, page.total

    def queue_page(self, f: QueueFilter, now: datetime, limit: int = 50, offset: int = 0,
                   after: QueueCursor | None = None) -> QueuePage:
        """One page of the queue: its rows in order, the total, and the cursor of the next page (keyset
        pagination: the default order only; other orders page by offset)."""
        with self.store.read() as conn:
            if self.store.dialect == "postgresql" and f.sort in _FULL_SORTS:
                # These sorts read every queue row (no index serves them): their cost estimates pass
                # jit_above_cost, and JIT compiling took 370 ms of a 490 ms query. The others stay below it.
                conn.execute(sa.text("SET LOCAL jit = off"))
            ids = self._page_ids(conn, f, now, limit, offset, after)
            total, exact = self._count(conn, f, now)
            found: Sequence[Any] = ()
            if ids:
                with _prepared(conn):
                    found = conn.execute(_ROWS_BY_ID[self.store.dialect], {"ids": ids}).all()
        rows: dict[int, QueueRow] = {}
        for r in found:
            row = QueueRow(*cast(tuple[Any, ...], r))  # _ROW_COLUMNS are QueueRow's fields in order (the claimant's name as claimed_by)
            row.categories = _categories(row.categories)  # type: ignore[arg-type]  # the column's JSON text
            if row.claim_expires is None or row.claim_expires <= now:
                row.claimed_by = None  # an expired claim holds nothing
            seen = rows.get(row.id)
            if seen is None or (seen.group_id or 0) < (row.group_id or 0):  # two open groups led: the newest
                rows[row.id] = row
        out = [rows[i] for i in ids if i in rows]
        nxt = None
        if len(out) == limit and f.sort == "priority" and f.desc:
            last = out[-1]
            nxt = QueueCursor(float(last.priority), last.opened_at, int(last.id))
        return QueuePage(out, total, exact, nxt)

    def _count(self, conn: Connection, f: QueueFilter, now: datetime) -> tuple[int, bool]:
        """(number of cases the filter shows, exact?). On PostgreSQL the planner's row estimate comes first (~1 ms;
        within 1 % of the truth on the bench's data): at ESTIMATE_OVER or more it is the answer ("about 60,000").
        Otherwise counting stops at COUNT_EXACT + 1 (a few ms), and only a larger total falls back to the estimate."""
        estimate = None
        if self.store.dialect == "postgresql":
            t = time.monotonic()
            hit = self._estimates.get(f)
            if hit is None or t - hit[0] > ESTIMATE_TTL:
                hit = (t, self._estimate(conn, self._filtered(f, now)))
                self._estimates[f] = hit
                if len(self._estimates) > 256:
                    self._estimates.clear()
            estimate = hit[1]
        if estimate is not None and estimate >= ESTIMATE_OVER:
            return _about(estimate), False
        q = self._filtered(f, now)
        n = conn.execute(sa.select(sa.func.count()).select_from(q.limit(COUNT_EXACT + 1).subquery())).scalar_one()
        if n <= COUNT_EXACT:
            return int(n), True
        if estimate is None:  # SQLite: a small database, counted
            return int(conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()), True
        return _about(max(estimate, COUNT_EXACT + 1)), False

    @staticmethod
    def _estimate(conn: Connection, q: sa.Select[Any]) -> int:
        compiled = q.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        plan: Any = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return int(plan[0]["Plan"]["Plan Rows"])

    def queue_facets(self) -> dict[str, list[str]]:
        """The languages and sources the filters offer (cached for FACETS_TTL: a DISTINCT over every post)."""
        t = time.monotonic()
        if self._facets is not None and t - self._facets[0] < FACETS_TTL:
            return self._facets[1]
        with self.store.read() as conn:
            langs = [r[0] for r in conn.execute(sa.select(P.c.lang).distinct().where(P.c.lang.is_not(None)).order_by(P.c.lang).limit(50))]
            sources = [r[0] for r in conn.execute(sa.select(PF.c.name).order_by(PF.c.name))]
        self._facets = (t, {"lang": langs, "source": sources})
        return self._facets[1]

    def _usernames(self, conn: Connection, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        return {r.id: r.username for r in conn.execute(sa.select(U.c.id, U.c.username).where(U.c.id.in_(ids)))}

    def _upsert_claim(self, conn: Connection, case_id: int, actor: Actor, now: datetime, ttl: timedelta) -> bool:
        stmt = bulk.dialect_insert(self.store.dialect, CL).values(case_id=case_id, user_id=actor.user_id, claimed_at=now, expires_at=now + ttl)
        stmt = stmt.on_conflict_do_update(
            index_elements=["case_id"],
            set_={"user_id": actor.user_id, "claimed_at": now, "expires_at": now + ttl},
            where=sa.or_(CL.c.user_id == actor.user_id, CL.c.expires_at <= now),
        )
        return conn.execute(stmt.returning(CL.c.case_id)).first() is not None

    def claim(self, case_id: int, actor: Actor, now: datetime, ttl: timedelta) -> datetime:
        """Claim (or extend the claim on) one case; raise DecisionError if another reviewer holds it."""
        with self.store.write() as conn:
            state = self._state(conn, case_id)
            plan_claim(state, actor, now)
            if not self._upsert_claim(conn, case_id, actor, now, ttl):
                raise DecisionError("conflict", f"case {case_id} is claimed by another reviewer")
            self._events(conn, ("review.claimed", actor.username, f"case:{case_id}", {"until": _iso(now + ttl)}))
        return now + ttl

    def claim_next(self, actor: Actor, f: QueueFilter, now: datetime, ttl: timedelta) -> int | None:
        """Claim the highest-priority case nobody else holds; None when the queue is empty for this reviewer.
        Race-free: candidates are locked with SKIP LOCKED (PostgreSQL) and the claim upsert re-checks."""
        mine = sa.select(D.c.id).where(D.c.case_id == C.c.id, D.c.user_id == actor.user_id, D.c.undone_at.is_(None))
        ties = (C.c.priority.desc(), C.c.opened_at, C.c.id)
        col, table = _SORT_COLUMNS.get(f.sort, (C.c.opened_at if f.sort == "opened" else C.c.priority, "C"))
        free = self._filtered(f, now, (table, "CL")).where(
            sa.or_(CL.c.case_id.is_(None), CL.c.expires_at <= now, CL.c.user_id == actor.user_id),
            ~sa.exists(mine),
        )
        order = col.desc() if f.desc else col.asc()
        # NULLS LAST only where a case may lack the column: cases' priority and opened_at are NOT NULL, and
        # `priority DESC NULLS LAST` is not the order of the priority index (DESC puts NULLs first), so every
        # free case was sorted — 430 ms a claim at 100,000 open cases, now a few ms.
        q = free.order_by(order if table == "C" else order.nulls_last(), *ties)

        def first(conn: Connection, q: sa.Select[Any]) -> int | None:
            lq = q.limit(1)
            if self.store.dialect == "postgresql":
                lq = lq.with_for_update(of=C, skip_locked=True)
            return cast(int | None, conn.execute(lq).scalar())

        for _ in range(20):
            with self.store.write() as conn:
                if f.sort == "group":  # the queue page's walk by size ranges: the ORDER BY above sorted every lead
                    cid = next((c for q in self._by_group(conn, free, f.desc) if (c := first(conn, q)) is not None),
                               None)
                else:
                    cid = first(conn, q)
                if cid is None:
                    return None
                if self._upsert_claim(conn, cid, actor, now, ttl):
                    self._events(conn, ("review.claimed", actor.username, f"case:{cid}", {"until": _iso(now + ttl)}))
                    return int(cid)
        return None

    def release(self, case_id: int, actor: Actor) -> bool:
        with self.store.write() as conn:
            n = conn.execute(sa.delete(CL).where(CL.c.case_id == case_id, CL.c.user_id == actor.user_id)).rowcount
            if n:
                self._events(conn, ("review.released", actor.username, f"case:{case_id}", {}))
        return bool(n)

    # --- decisions and appeals --------------------------------------------------------------------------------

    def _state(self, conn: Connection, case_id: int, lock: bool = True) -> CaseState:
        q = sa.select(C.c.id, C.c.status).where(C.c.id == case_id)
        if lock and self.store.dialect == "postgresql":
            q = q.with_for_update()
        row = conn.execute(q).first()
        if row is None:
            raise DecisionError("not_found", f"no case {case_id}")
        claim = conn.execute(sa.select(CL.c.user_id, CL.c.expires_at).where(CL.c.case_id == case_id)).first()
        decisions = tuple(
            DecisionRecord(r.id, r.stage, r.action, r.reason_code, r.user_id, r.decided_at, r.final_at,
                           r.prev_status, r.undone_at)
            for r in conn.execute(sa.select(D).where(D.c.case_id == case_id).order_by(D.c.id))
        )
        has_appeal = conn.execute(sa.select(AP.c.id).where(AP.c.case_id == case_id)).first() is not None
        return CaseState(case_id, row.status, claim.user_id if claim else None, claim.expires_at if claim else None,
                         decisions, has_appeal)

    def case_state(self, case_id: int) -> CaseState:
        with self.store.read() as conn:
            return self._state(conn, case_id, lock=False)

    def decide(
        self,
        case_id: int,
        actor: Actor,
        action: str,
        reason_code: str,
        reason_actions: tuple[str, ...] | None,
        note: str | None,
        now: datetime,
        undo_seconds: int,
        claim_ttl: timedelta,
        webhook: Webhook | None = None,
    ) -> DecisionResult:
        """Record a decision (claiming the case if free). `webhook(decision_id, platform_action, facts)` returns
        (url, idempotency key, payload) for the outbox, or None when no webhook is configured."""
        with self.store.write() as conn:
            state = self._state(conn, case_id)
            t = plan_decision(state, actor, action, reason_actions, now, undo_seconds)
            if not self._upsert_claim(conn, case_id, actor, now, claim_ttl):
                raise DecisionError("conflict", f"case {case_id} is claimed by another reviewer")
            try:
                with conn.begin_nested():
                    did = conn.execute(
                        sa.insert(D).values(case_id=case_id, stage=t.stage, action=action, reason_code=reason_code,
                                            note=note, user_id=actor.user_id, decided_at=now, final_at=t.final_at,
                                            prev_status=state.status).returning(D.c.id)
                    ).scalar_one()
            except IntegrityError:
                raise DecisionError("conflict", f"case {case_id} already has a {t.stage} decision") from None
            conn.execute(sa.update(C).where(C.c.id == case_id).values(
                status=t.new_status, closed_at=now if t.closes else None))
            conn.execute(sa.delete(CL).where(CL.c.case_id == case_id))  # the next stage is someone else's
            facts = {"case_id": case_id, "decision_id": did, "stage": t.stage, "action": action,
                     "reason_code": reason_code, "decided_by": actor.username, "final_at": _iso(t.final_at)}
            self._events(conn, case_events.decided(case_id, did, _stage(t), action, reason_code, actor.username,
                                                   t.final_at, state.status, t.new_status, note))
            self._enqueue_action(conn, case_id, did, t, facts, webhook, now)
            members = self._decide_members(conn, case_id, did, state.status, actor, action, reason_code,
                                           reason_actions, note, now, undo_seconds, webhook)
        return DecisionResult(did, t.new_status, t.final_at, _stage(t), tuple(members))

    def _enqueue_action(self, conn: Connection, case_id: int, did: int, t: Any, facts: dict[str, Any],
                        webhook: Webhook | None,
                        now: datetime) -> None:
        if not t.platform_action or webhook is None:
            return
        subject = conn.execute(
            sa.select(C.c.subject_kind, C.c.subject_id, C.c.details).where(C.c.id == case_id)).one()
        out = webhook(did, t.platform_action, {
            **facts, "platform_action": t.platform_action,
            **subject_ids(conn, subject.subject_kind, subject.subject_id),
            **_network_members(subject.subject_kind, subject.details)})
        if out is not None:
            url, key, payload = out
            conn.execute(sa.insert(W).values(
                case_id=case_id, decision_id=did, idempotency_key=key, url=url, action=t.platform_action,
                payload=payload, status="pending", attempts=0, next_attempt_at=t.final_at, created_at=now))

    def _decide_members(self, conn: Connection, lead_case_id: int, lead_did: int, lead_status: str, actor: Actor,
                        action: str, reason_code: str, reason_actions: tuple[str, ...] | None, note: str | None,
                        now: datetime, undo_seconds: int, webhook: Any) -> list[MemberDecision]:
        """A decision on a group's lead applies to every member in the same status: one decision, audit entry and
        webhook per member (same stage, action and reason), linked to the lead's decision so that undoing it
        undoes them. A member that cannot take it (another status, or claimed by someone else) leaves the group
        and is reviewed on its own."""
        from basira.store.group_models import ReviewGroup, ReviewGroupDecision, ReviewGroupMember

        G, GM, GD = ReviewGroup.__table__, ReviewGroupMember.__table__, ReviewGroupDecision.__table__
        g = conn.execute(sa.select(G.c.id).where(G.c.lead_case_id == lead_case_id, G.c.status == "open")).first()
        if g is None:
            return []
        out: list[MemberDecision] = []
        left = False
        for mid in conn.execute(sa.select(GM.c.case_id).where(GM.c.group_id == g.id, GM.c.role == "member")
                                .order_by(GM.c.case_id)).scalars().all():
            st = self._state(conn, mid)
            try:
                if st.status != lead_status:
                    raise DecisionError("conflict", f"case {mid} is {st.status}")
                t = plan_decision(st, actor, action, reason_actions, now, undo_seconds)
            except DecisionError as exc:
                conn.execute(sa.delete(GM).where(GM.c.case_id == mid))
                self._events(conn, ("group.left", actor.username, f"case:{mid}",
                                    {"group_id": g.id, "why": str(exc)}))
                left = True
                continue
            did = conn.execute(sa.insert(D).values(
                case_id=mid, stage=t.stage, action=action, reason_code=reason_code, note=note, user_id=actor.user_id,
                decided_at=now, final_at=t.final_at, prev_status=st.status).returning(D.c.id)).scalar_one()
            conn.execute(sa.insert(GD).values(decision_id=did, lead_decision_id=lead_did, group_id=g.id))
            conn.execute(sa.update(C).where(C.c.id == mid).values(status=t.new_status,
                                                                  closed_at=now if t.closes else None))
            conn.execute(sa.delete(CL).where(CL.c.case_id == mid))
            facts = {"case_id": mid, "decision_id": did, "stage": t.stage, "action": action,
                     "reason_code": reason_code, "decided_by": actor.username, "final_at": _iso(t.final_at),
                     "group_id": g.id, "group_decision_id": lead_did}
            entry = case_events.decided(mid, did, _stage(t), action, reason_code, actor.username, t.final_at,
                                        st.status, t.new_status, note)
            entry[3].update(group_id=g.id, group_decision_id=lead_did)
            self._events(conn, entry)
            self._enqueue_action(conn, mid, did, t, facts, webhook, now)
            out.append(MemberDecision(mid, did))
        if left:  # its size and reach without the members that left (an escalated or undone group is shown again)
            refresh_groups(conn, [g.id], now)
        if action != "escalate":  # an escalated group stays together for legal
            conn.execute(sa.update(G).where(G.c.id == g.id).values(status="closed", updated_at=now))
        return out

    def decision_action(self, decision_id: int) -> str | None:
        with self.store.read() as conn:
            return conn.execute(sa.select(D.c.action).where(D.c.id == decision_id)).scalar()

    def undo(self, decision_id: int, actor: Actor, now: datetime, claim_ttl: timedelta = timedelta(minutes=15)) -> UndoResult:
        with self.store.write() as conn:
            case_id = conn.execute(sa.select(D.c.case_id).where(D.c.id == decision_id)).scalar()
            if case_id is None:
                raise DecisionError("not_found", f"no decision {decision_id}")
            state = self._state(conn, case_id)
            t = plan_undo(state, decision_id, actor, now)
            conn.execute(sa.update(D).where(D.c.id == decision_id).values(undone_at=now))
            try:
                with conn.begin_nested():
                    conn.execute(sa.update(C).where(C.c.id == case_id).values(status=t.new_status, closed_at=None))
            except IntegrityError:
                raise DecisionError("conflict", "a newer case is open on the same subject; cannot reopen") from None
            self._leave_decided_group(conn, case_id, actor, now)
            self._upsert_claim(conn, case_id, actor, now, claim_ttl)  # the undoer keeps working on it
            cancelled = conn.execute(sa.update(W).where(W.c.decision_id == decision_id, W.c.status == "pending")
                                     .values(status="cancelled")).rowcount
            cancelled += self._undo_members(conn, decision_id, actor, now)
            self._events(conn, ("review.undone", actor.username, f"case:{case_id}",
                                {"decision_id": decision_id, "to": t.new_status, "webhooks_cancelled": cancelled}))
        return UndoResult(case_id, t.new_status)

    def _leave_decided_group(self, conn: Connection, case_id: int, actor: Actor, now: datetime) -> None:
        """A member's own decision undone after its group was decided: the case is open again, on its own, so it
        leaves the group — the queue hides a member behind its lead, and a decided group's lead is never shown
        again, so the case would stay open and out of sight (and claimable only by URL) for good."""
        from basira.store.group_models import ReviewGroupMember

        GM = ReviewGroupMember.__table__
        gid = conn.execute(sa.select(GM.c.group_id).join(GR, GR.c.id == GM.c.group_id)
                           .where(GM.c.case_id == case_id, GM.c.role == "member", GR.c.status != "open")).scalar()
        if gid is None:
            return
        conn.execute(sa.delete(GM).where(GM.c.case_id == case_id))
        self._events(conn, ("group.left", actor.username, f"case:{case_id}",
                            {"group_id": gid, "why": "its own decision was undone after the group's"}))
        refresh_groups(conn, [gid], now)

    def _undo_members(self, conn: Connection, lead_did: int, actor: Actor, now: datetime) -> int:
        """Undo the member decisions a group decision made; the group is open again. Returns webhooks cancelled."""
        from basira.store.group_models import ReviewGroup, ReviewGroupDecision

        G, GD = ReviewGroup.__table__, ReviewGroupDecision.__table__
        rows = conn.execute(sa.select(GD.c.decision_id, GD.c.group_id, D.c.case_id, D.c.prev_status)
                            .join(D, D.c.id == GD.c.decision_id)
                            .where(GD.c.lead_decision_id == lead_did, D.c.undone_at.is_(None))).all()
        cancelled = 0
        for r in rows:
            conn.execute(sa.update(D).where(D.c.id == r.decision_id).values(undone_at=now))
            conn.execute(sa.update(C).where(C.c.id == r.case_id).values(status=r.prev_status, closed_at=None))
            cancelled += conn.execute(sa.update(W).where(W.c.decision_id == r.decision_id, W.c.status == "pending")
                                      .values(status="cancelled")).rowcount
            self._events(conn, ("review.undone", actor.username, f"case:{r.case_id}",
                                {"decision_id": r.decision_id, "to": r.prev_status, "group_decision_id": lead_did}))
        for gid in {r.group_id for r in rows}:
            conn.execute(sa.update(G).where(G.c.id == gid).values(status="open", updated_at=now))
        return cancelled

    def group_lead(self, group_id: int) -> int | None:
        with self.store.read() as conn:
            return conn.execute(sa.select(GR.c.lead_case_id).where(GR.c.id == group_id)).scalar()

    def file_appeal(self, case_id: int, statement: str, filed_by: str, now: datetime) -> int:
        with self.store.write() as conn:
            state = self._state(conn, case_id)
            d = plan_appeal(state, now)
            try:
                with conn.begin_nested():
                    aid = conn.execute(sa.insert(AP).values(case_id=case_id, decision_id=d.id, statement=statement,
                                                            filed_by=filed_by, filed_at=now).returning(AP.c.id)).scalar_one()
            except IntegrityError:
                raise DecisionError("conflict", "this case has already been appealed") from None
            conn.execute(sa.update(C).where(C.c.id == case_id).values(status="appealed"))
            conn.execute(sa.delete(CL).where(CL.c.case_id == case_id))  # the appeal goes to a fresh reviewer
            self._events(conn, ("review.appeal_filed", filed_by, f"case:{case_id}",
                                {"appeal_id": aid, "decision_id": d.id, "statement": statement}))
        return int(aid)

    # --- reading a case ---------------------------------------------------------------------------------------

    def case_detail(self, case_id: int, now: datetime, other_posts: int = 20) -> CaseView | None:
        with self.store.read() as conn:
            c = conn.execute(sa.select(C).where(C.c.id == case_id)).first()
            if c is None:
                return None
            post: dict[str, Any] | None = None
            account: dict[str, Any] | None = None
            detection: dict[str, Any] | None = None
            media: list[dict[str, Any]] = []
            others: list[dict[str, Any]] = []
            account_id = c.subject_id if c.subject_kind == "account" else None
            if c.subject_kind == "post":
                p = conn.execute(sa.select(P, PF.c.name.label("source")).join(PF, PF.c.id == P.c.platform_id)
                                 .where(P.c.id == c.subject_id)).first()
                if p is not None:
                    post = p._asdict()
                    account_id = p.account_id
                    media = [m._asdict() for m in conn.execute(
                        sa.select(M).where(M.c.post_id == p.id).order_by(M.c.position))]
            if c.detection_id is not None:
                det = conn.execute(sa.select(DT).where(DT.c.id == c.detection_id)).first()
                detection = det._asdict() if det else None
            if account_id is not None:
                found = self._account(conn, account_id, other_posts,
                                      exclude_post=c.subject_id if c.subject_kind == "post" else None)
                if found is not None:
                    account, others = found.account, found.posts
            claim = conn.execute(sa.select(CL).where(CL.c.case_id == case_id)).first()
            decisions = [r._asdict() for r in conn.execute(sa.select(D).where(D.c.case_id == case_id).order_by(D.c.id))]
            appeal = conn.execute(sa.select(AP).where(AP.c.case_id == case_id)).first()
            deliveries = [r._asdict() for r in conn.execute(
                sa.select(W.c.id, W.c.decision_id, W.c.action, W.c.status, W.c.attempts, W.c.next_attempt_at,
                          W.c.last_status_code, W.c.last_error, W.c.delivered_at, W.c.idempotency_key)
                .where(W.c.case_id == case_id).order_by(W.c.id))]
            names = self._usernames(conn, {d["user_id"] for d in decisions} | ({claim.user_id} if claim else set()))
        for d in decisions:
            d["decided_by"] = names.get(d["user_id"])
            d["final"] = d["undone_at"] is None and now >= d["final_at"]
        live = claim is not None and claim.expires_at > now
        return CaseView(
            case=c._asdict(), post=post, account=account, detection=detection, media=media, other_posts=others,
            claim={"user_id": claim.user_id, "username": names.get(claim.user_id), "expires_at": claim.expires_at}
            if claim is not None and live else None,
            decisions=decisions, appeal=appeal._asdict() if appeal else None, deliveries=deliveries,
        )

    def _account(self, conn: Connection, account_id: int, limit: int,
                 exclude_post: int | None = None) -> AccountView | None:
        a = conn.execute(sa.select(A, PF.c.name.label("source")).join(PF, PF.c.id == A.c.platform_id)
                         .where(A.c.id == account_id)).first()
        if a is None:
            return None
        q = (sa.select(P.c.id, sa.func.substr(P.c.text, 1, 280).label("snippet"), P.c.lang, P.c.created_at,
                       C.c.id.label("case_id"), C.c.status.label("case_status"))
             .outerjoin(C, sa.and_(C.c.subject_kind == "post", C.c.subject_id == P.c.id))
             .where(P.c.account_id == account_id).order_by(P.c.created_at.desc(), P.c.id.desc()).limit(limit))
        if exclude_post is not None:
            q = q.where(P.c.id != exclude_post)
        acc = a._asdict()
        acc["post_count"] = conn.execute(sa.select(sa.func.count()).where(P.c.account_id == account_id)).scalar_one()
        acc["removals"] = conn.execute(
            sa.select(sa.func.count()).select_from(D).join(C, C.c.id == D.c.case_id).join(P, P.c.id == C.c.subject_id)
            .where(C.c.subject_kind == "post", P.c.account_id == account_id, D.c.action == "remove",
                   D.c.undone_at.is_(None))).scalar_one()
        return AccountView(acc, [r._asdict() for r in conn.execute(q)])

    def account_detail(self, account_id: int, limit: int = 100) -> AccountView | None:
        with self.store.read() as conn:
            return self._account(conn, account_id, limit)

    # --- webhooks ---------------------------------------------------------------------------------------------

    def lease_due_deliveries(self, now: datetime, lease: timedelta, limit: int = 20) -> list[dict[str, Any]]:
        """Pending deliveries due now, leased (next_attempt_at pushed out) so parallel senders skip them."""
        out = []
        with self.store.write() as conn:
            q = (sa.select(W.c.id).where(W.c.status == "pending", W.c.next_attempt_at <= now)
                 .order_by(W.c.next_attempt_at, W.c.id).limit(limit))
            if self.store.dialect == "postgresql":
                q = q.with_for_update(skip_locked=True)
            ids = [r.id for r in conn.execute(q)]
            for i in ids:
                r = conn.execute(sa.update(W).where(W.c.id == i, W.c.status == "pending", W.c.next_attempt_at <= now)
                                 .values(next_attempt_at=now + lease).returning(W)).first()
                if r is not None:
                    out.append(r._asdict())
        return out

    def record_attempt(self, delivery: dict[str, Any], status: str, next_at: datetime | None,
                       status_code: int | None, error: str | None, now: datetime,
                       effects: DecisionEffects | None = None) -> None:
        """Record one delivery attempt; a delivered removal is announced (`removal_delivered`) to `effects`'
        listeners in the same transaction (compliance confirms the order targets waiting on it)."""
        with self.store.write() as conn:
            values: dict[str, Any] = {"status": status, "attempts": W.c.attempts + 1, "last_status_code": status_code,
                                      "last_error": error}
            if next_at is not None:
                values["next_attempt_at"] = next_at
            if status == "delivered":
                values["delivered_at"] = now
            conn.execute(sa.update(W).where(W.c.id == delivery["id"]).values(**values))
            if status == "delivered" and delivery.get("action") == "remove":
                (effects or DecisionEffects()).announce(Tx(self.store, conn), "removal_delivered",
                                                        RemovalDelivered(delivery["case_id"], delivery["id"], now))
            self._events(conn, (f"webhook.{'delivered' if status == 'delivered' else 'attempt_failed'}", "basira",
                                f"case:{delivery['case_id']}",
                                {"delivery_id": delivery["id"], "status": status, "http": status_code,
                                 "error": error, "attempt": delivery["attempts"] + 1}))

    def retry_delivery(self, delivery_id: int, actor: str, now: datetime) -> bool:
        with self.store.write() as conn:
            r = conn.execute(sa.update(W).where(W.c.id == delivery_id, W.c.status == "failed")
                             .values(status="pending", attempts=0, next_attempt_at=now).returning(W.c.case_id)).first()
            if r is not None:
                self._events(conn, ("webhook.retry", actor, f"case:{r.case_id}", {"delivery_id": delivery_id}))
        return r is not None

    # --- audit ------------------------------------------------------------------------------------------------

    def events(self, limit: int = 100, before: int | None = None, subject: str | None = None, *,
               actor: str | None = None, kind: str | None = None, since: datetime | None = None,
               until: datetime | None = None) -> list[dict[str, Any]]:
        """Newest first, `limit` at a time (page with `before` = the last id shown). `kind` matches a prefix
        ('review.' → every review event); `subject` exactly, or a prefix when it ends with ':' ('case:')."""
        q = sa.select(E).order_by(E.c.id.desc()).limit(limit)
        if before is not None:
            q = q.where(E.c.id < before)
        if subject:
            q = q.where(E.c.subject.startswith(subject, autoescape=True) if subject.endswith(":")
                        else E.c.subject == subject)
        if actor:
            q = q.where(E.c.actor == actor)
        if kind:
            q = q.where(E.c.kind.startswith(kind, autoescape=True) if kind.endswith(".") else E.c.kind == kind)
        if since is not None:
            q = q.where(E.c.at >= since)
        if until is not None:
            q = q.where(E.c.at < until)
        with self.store.read() as conn:
            return [r._asdict() for r in conn.execute(q)]

    def event_kinds(self) -> list[str]:
        with self.store.read() as conn:
            return list(conn.execute(sa.select(E.c.kind).distinct().order_by(E.c.kind)).scalars())


def _network_members(kind: str, details: dict[str, Any] | None) -> dict[str, Any]:
    """A decision on a whole community or coordinated group acts on its members, not just the anchor account
    the case is filed under: the webhook names them all (external ids, as stored when the case was opened)."""
    from basira.store.network_models import NETWORK_SUBJECT_KINDS

    if kind not in NETWORK_SUBJECT_KINDS:
        return {}
    members = (details or {}).get("members") or (details or {}).get("accounts") or []
    return {"subject_kind": kind,
            "member_account_ids": [str(m["external_id"]) for m in members if isinstance(m, dict) and m.get("external_id")]}


def _stage(t: Transition) -> str:
    """A decision's stage (plan_decision always names one; only other transitions leave it None)."""
    if t.stage is None:
        raise DecisionError("invalid", "a decision needs a stage")
    return t.stage


_CATEGORY_LISTS: dict[str, tuple[str, ...] | None] = {}


def _categories(text: str | None) -> list[str] | None:
    """A detection's categories from their JSON text, each distinct text parsed once per process."""
    if text is None:
        return None
    parsed = _CATEGORY_LISTS.get(text)
    if parsed is None and text not in _CATEGORY_LISTS:
        value = json.loads(text)
        parsed = tuple(str(c) for c in value) if isinstance(value, list) else None
        if len(_CATEGORY_LISTS) > 4096:
            _CATEGORY_LISTS.clear()
        _CATEGORY_LISTS[text] = parsed
    return None if parsed is None else list(parsed)


def _now() -> datetime:
    from basira.store.models import now

    return now()


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _about(n: int) -> int:
    """An estimate rounded to two significant digits (60,068 -> 60,000): it claims no more than it knows."""
    digits = max(len(str(n)) - 2, 0)
    return int(round(n, -digits))


def _like_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace('"', "")
