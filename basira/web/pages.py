"""Server-rendered pages. Every value reaches the HTML through Jinja2 autoescaping; content text also gets
dir="auto", visible bidi controls and evidence highlighting from basira.review.content."""

from __future__ import annotations

import hmac
import operator
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from basira.core.errors import BasiraError
from basira.review.content import escape_controls, highlight, strip_controls
from basira.review.decisions import (
    ACTIONS_OF_STAGE,
    STAGE_OF_STATUS,
    DecisionError,
    DecisionRecord,
    plan_appeal,
)
from basira.review.panels import panels_for
from basira.review.repository import CaseView, LockoutError, QueueRow
from basira.review.roles import ROLES, STAGE_ROLES
from basira.web import i18n
from basira.web.api import queue_filter
from basira.web.errors import localise
from basira.web.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Principal, notice_mac, require

if TYPE_CHECKING:
    from basira.compliance.records import DueOrder

router = APIRouter(include_in_schema=False)
ORDER_BANNER_WINDOW = timedelta(minutes=30)  # the first deadline alert (30 minutes left) and later
ACTION_LABELS = {"remove": i18n.N_("Remove"), "keep": i18n.N_("Keep (not violating)"), "escalate": i18n.N_("Escalate"),
                 "refer": i18n.N_("Refer to authorities"), "uphold": i18n.N_("Uphold decision"),
                 "overturn": i18n.N_("Overturn (restore)")}
ACTION_KEYS = {"remove": "r", "keep": "k", "escalate": "e", "refer": "p", "uphold": "h", "overturn": "o"}


def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    p: Principal | None = getattr(request.state, "principal", None)
    svc = request.app.state.service
    lang = lang_of(request)
    with i18n.speaking(lang):  # a refusal carried by the redirect (str(exc)), in the reader's language
        ctx.update(request=request, me=p, now=svc.now(), notice=localise(_our_notice(request, p) or "") or None)
    if p is not None and p.session_started is not None:
        ctx["session_minutes"] = int((svc.now() - p.session_started).total_seconds() // 60)
    if p is not None and p.can("manage_orders"):
        ctx["due_orders"] = _due_orders(request, svc.now())
    ctx.update(lang=lang, dir=i18n.direction(lang))
    token = i18n.use(lang)  # the template renders now, in this context: its strings come out in `lang`
    try:
        resp = request.app.state.templates.TemplateResponse(request, name, ctx, status_code=status_code)
    finally:
        i18n.reset(token)
    resp.headers["Content-Language"] = lang
    return resp


def lang_of(request: Request) -> str:
    """The language of this request: the user's setting, else Accept-Language, else English."""
    p: Principal | None = getattr(request.state, "principal", None)
    return i18n.pick((p.prefs or {}).get("lang") if p else None, request.headers.get("accept-language"))


def say(request: Request, message: str, **variables: Any) -> str:
    """`message` in the language of this request: for the notices a redirect carries (`make i18n` extracts it)."""
    with i18n.speaking(lang_of(request)):
        return i18n.gettext(message, **variables)


def translate(request: Request, text: str) -> str:
    """A string already in the catalogue (a status, a label from a table), in the language of this request."""
    with i18n.speaking(lang_of(request)):
        return i18n.translations(i18n.current()).gettext(text)  # type: ignore[no-any-return]


def say_n(request: Request, singular: str, plural: str, n: int, **variables: Any) -> str:
    with i18n.speaking(lang_of(request)):
        return i18n.ngettext(singular, plural, n, **variables)


def _due_orders(request: Request, now: datetime) -> list[DueOrder]:
    """Open removal orders due within 30 minutes or overdue, for the banner that those who execute them see on
    every page (one indexed query)."""
    from basira.web.compliance_api import compliance

    return compliance(request).repo.due_orders(now, ORDER_BANNER_WINDOW)


def _our_notice(request: Request, p: Principal | None) -> str | None:
    """The `?notice=` banner only when we wrote it for this session (NoticeSigner added its MAC)."""
    notice, mac = request.query_params.get("notice"), request.query_params.get("ns", "")
    if not notice or p is None or not p.cookie:
        return None
    return notice if hmac.compare_digest(notice_mac(p.cookie, notice), mac.encode("ascii", "replace").decode()) else None


def back(url: str, notice: str | None = None) -> RedirectResponse:
    if notice:
        url += ("&" if "?" in url else "?") + urlencode({"notice": notice[:300]})
    return RedirectResponse(url, status_code=303)


# --- login ---------------------------------------------------------------------------------------------------

@router.get("/login")
def login_page(request: Request) -> Response:
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", login_csrf=token, next=_safe_next(request.query_params.get("next")))
    _cookie(request, resp, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return resp


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") and "\\" not in value else "/"


def _cookie(request: Request, resp: Response, name: str, value: str, max_age: int | None = None) -> None:
    resp.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict", path="/",
                    secure=request.app.state.service.settings.secure_cookies)


@router.post("/login")
async def login(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],
                csrf: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    svc, limiter = request.app.state.service, request.app.state.limiter
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf):
        raise HTTPException(403, "missing or bad CSRF token")
    username = username[:256]  # the name is logged and rate-limited by; a 1 MB name is cut, not stored
    shown = escape_controls(username[:64])  # NUL and other controls escaped: PostgreSQL refuses NUL in text
    keys = (f"u:{username.strip().lower()}", f"ip:{request.client.host if request.client else '?'}")
    wait = limiter.blocked(*keys)
    if wait > 0:
        await run_in_threadpool(svc.repo.log, "session.login_throttled", None, f"user:{shown}", {})
        resp = render(request, "login.html", status_code=429, login_csrf=expected, next=_safe_next(next),
                      error=say_n(request, "Too many failed attempts. Try again in %(num)s second.",
                                  "Too many failed attempts. Try again in %(num)s seconds.", int(wait) + 1))
        resp.headers["Retry-After"] = str(int(wait) + 1)
        return resp
    user = await run_in_threadpool(svc.authenticate, username.strip(), password)
    if user is None:
        limiter.failed(*keys)
        await run_in_threadpool(svc.repo.log, "session.login_failed", None, f"user:{shown}", {})
        return render(request, "login.html", status_code=401, login_csrf=expected, next=_safe_next(next),
                      error=say(request, "Wrong username or password."))
    limiter.succeeded(keys[0])
    token, _ = await run_in_threadpool(svc.start_session, user)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    _cookie(request, resp, SESSION_COOKIE, token, max_age=int(svc.settings.session_hours * 3600))
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return resp


@router.post("/logout")
def logout(request: Request, p: Annotated[Principal, Depends(require("view_self"))]) -> Response:
    if p.cookie:
        request.app.state.service.end_session(p.cookie, p.username)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/")
def home(p: Annotated[Principal, Depends(require("view_self"))]) -> Response:
    if p.can("view_queue"):
        return RedirectResponse("/queue", status_code=303)
    return RedirectResponse("/audit" if p.can("view_audit") else "/settings", status_code=303)


# --- queue ---------------------------------------------------------------------------------------------------

@router.get("/queue")
def queue_page(request: Request, p: Annotated[Principal, Depends(require("view_queue"))],
               lang: str | None = None, category: str | None = None, source: str | None = None,
               max_age_hours: float | None = None, min_age_hours: float | None = None, status: str | None = None,
               policy: str | None = None, min_score: float | None = None, sort: str | None = None,
               page: int = 1, after: str | None = None) -> Response:
    svc = request.app.state.service
    f = queue_filter(p.role, lang, category, source, max_age_hours, min_age_hours, status, policy, min_score, sort)
    page = max(1, page)
    # The default order pages by keyset (`after` = the last row's cursor): page 1,000 costs what page 2 does.
    q = svc.queue_page(f, 50, (page - 1) * 50, after)
    rows, total = q.rows, q.total
    for r in rows:  # a case on an account or a whole network has no post: its reason says what it is
        r.snippet = strip_controls(r.snippet or (r.reason if r.subject_kind != "post" else "") or "")
    from basira.detect.lexicon import SUPPORT_CATEGORIES
    from basira.review.queue import POLICIES

    base = {**f.to_query(), **({"status": status} if status else {})}
    base.pop("sort", None)

    def sort_link(key: str) -> str:
        """The column header's link: sort by it (descending first), or flip the order when already sorted."""
        flip = f.sort == key and f.desc
        return "/queue?" + urlencode({**base, "sort": ("-" if flip else "") + key})

    query = urlencode({**f.to_query(), **({"status": status} if status else {})})
    nxt = None
    if q.next_after is not None:
        nxt = urlencode({**f.to_query(), **({"status": status} if status else {}), "page": page + 1,
                         "after": q.next_after.token()})
    elif total > page * 50 and len(rows) == 50:
        nxt = urlencode({**f.to_query(), **({"status": status} if status else {}), "page": page + 1})
    facets, saved = svc.repo.queue_facets(), p.prefs.get("saved_filters", [])
    # The controls and the table head, rendered once per language, filter, facets, saved filters and session
    # (lazily: while the page renders, in its language) and kept per process — see _queue_head.html.
    heads: dict[Any, Any] = request.app.state.__dict__.setdefault("queue_heads", {})
    key = (lang_of(request), f, status, query, repr(facets), repr(saved), p.csrf, p.can("claim"))

    class Head:
        def _get(self) -> tuple[Any, Any]:
            out = heads.get(key)
            if out is None:
                if len(heads) >= 2000:
                    heads.clear()
                m = request.app.state.templates.env.get_template("_queue_head.html").module
                out = heads[key] = (m.controls(f, status or "", facets, SUPPORT_CATEGORIES, POLICIES, saved, p, query),
                                    m.thead(f, sort_link))
            return out

        @property
        def controls(self) -> Any:
            return self._get()[0]

        @property
        def thead(self) -> Any:
            return self._get()[1]

    return render(request, "queue.html", rows=rows, total=total, total_exact=q.total_exact, next_query=nxt,
                  f=f, status=status or "", page=page, row_html=_row_cache(request).renderer(request, svc.now()),
                  head_html=Head(), filter_query=query)


class QueueRowCache:
    """The HTML of queue rows, kept per process by everything it is rendered from (the row's fields, the
    language, the hours it has waited): 20 reviewers working one queue load the same rows again and again, and
    rendering a row (escaping, marking controls, localised numbers and plurals) was ~0.1 ms — half of a page's
    template time. A changed row (claimed, re-prioritised, grouped) is a new key; the cache is emptied at
    MAX_ROWS entries."""

    MAX_ROWS = 20_000

    def __init__(self) -> None:
        self._html: dict[tuple[Any, ...], Any] = {}

    def renderer(self, request: Request, now: datetime) -> Any:
        """`row_html(row)` for the queue template; call it while the page renders (in the page's language)."""
        macro = request.app.state.templates.env.get_template("_queue_row.html").module.row
        lang = lang_of(request)
        html = self._html

        def row_html(r: QueueRow) -> Any:
            hours = int((now - r.opened_at).total_seconds() // 3600)
            key = (lang, hours, _row_fields(r), tuple(r.categories or ()))
            out = html.get(key)
            if out is None:
                if len(html) >= self.MAX_ROWS:
                    html.clear()
                out = html[key] = macro(r, hours)
            return out

        return row_html


_ROW_KEY = tuple(f for f in QueueRow.__dataclass_fields__ if f not in ("categories", "claimed_by_id", "claim_expires"))
_row_fields = operator.attrgetter(*_ROW_KEY)  # one C call for the cache key (a generator of getattr was ~20 µs a row)


def _row_cache(request: Request) -> QueueRowCache:
    cache: QueueRowCache | None = getattr(request.app.state, "queue_rows", None)
    if cache is None:
        cache = request.app.state.queue_rows = QueueRowCache()
    return cache


def _user_of(p: Principal) -> dict[str, Any]:
    return {"id": p.user_id, "username": p.username, "prefs": p.prefs}


@router.post("/queue/filters")
def save_filter(request: Request, p: Annotated[Principal, Depends(require("view_queue"))],
                name: Annotated[str, Form()] = "", query: Annotated[str, Form()] = "") -> Response:
    query = query.lstrip("?")
    try:
        request.app.state.service.save_filter(_user_of(p), name, query)
    except BasiraError as exc:  # UserError: a filter without a name
        return back("/queue?" + query, str(exc))
    return back("/queue?" + query, say(request, "Filter “%(name)s” saved.", name=' '.join(name.split())[:60]))


@router.post("/queue/filters/delete")
def delete_filter(request: Request, p: Annotated[Principal, Depends(require("view_queue"))],
                  name: Annotated[str, Form()] = "") -> Response:
    ok = request.app.state.service.delete_filter(_user_of(p), name)
    return back("/queue", say(request, "Filter deleted.") if ok else say(request, "No such filter."))


@router.post("/queue/next")
def claim_next(request: Request, p: Annotated[Principal, Depends(require("claim"))],
               lang: Annotated[str, Form()] = "", category: Annotated[str, Form()] = "",
               source: Annotated[str, Form()] = "", status: Annotated[str, Form()] = "",
               policy: Annotated[str, Form()] = "") -> Response:
    f = queue_filter(p.role, lang, category, source, None, None, status, policy)
    cid = request.app.state.service.claim_next(p.actor, f)
    if cid is None:
        return back("/queue", say(request, "No unclaimed cases match these filters."))
    return back(f"/cases/{cid}")


# --- case ----------------------------------------------------------------------------------------------------

def _records(detail: CaseView) -> list[DecisionRecord]:
    return [DecisionRecord(d["id"], d["stage"], d["action"], d["reason_code"], d["user_id"], d["decided_at"],
                           d["final_at"], d["prev_status"], d["undone_at"]) for d in detail.decisions]


def case_view(request: Request, p: Principal, detail: CaseView) -> dict[str, Any]:
    svc = request.app.state.service
    now: datetime = svc.now()
    case = detail.case
    post = detail.post or {}
    det = detail.detection or {}
    raw = det.get("evidence") or {}
    ev = raw if isinstance(raw, list) else (raw.get("spans") or raw.get("evidence") or [])
    ev = [e for e in ev if isinstance(e, dict)]
    segments, truncated = highlight(post.get("text") or "", ev if isinstance(ev, list) else [])
    stage = STAGE_OF_STATUS.get(case["status"])
    claim = detail.claim
    claimed_by_other = claim is not None and claim["user_id"] != p.user_id
    decided_before = any(d["user_id"] == p.user_id and d["undone_at"] is None for d in detail.decisions)
    can_decide = (stage is not None and p.can("decide") and p.role in STAGE_ROLES[stage] and not claimed_by_other
                  and not (stage == "appeal" and decided_before))
    actions = list(ACTIONS_OF_STAGE[stage]) if stage else []
    from basira.review.decisions import CaseState

    state = CaseState(case["id"], case["status"], None, None, tuple(_records(detail)), detail.appeal is not None)
    try:
        plan_appeal(state, now)
        can_appeal = p.can("file_appeal")
    except DecisionError:
        can_appeal = False
    live = [d for d in detail.decisions if d["undone_at"] is None]
    latest = max(live, key=lambda d: (d["decided_at"], d["id"])) if live else None
    if p.role == "platform":  # integrations never learn who decided or what reviewers noted
        detail.claim = claim = None
        for d in detail.decisions:
            d["decided_by"], d["note"] = "a reviewer", None
    for d in detail.decisions:
        d["undo_seconds_left"] = max(0, int((d["final_at"] - now).total_seconds()))
        d["can_undo"] = (d is latest and d["user_id"] == p.user_id and d["undone_at"] is None and now < d["final_at"]
                         and p.can("undo"))
    media = []
    for m in detail.media:
        url = m.get("url") or ""
        safe = url.startswith(("https://", "http://")) or url.startswith("data:image/")
        media.append({**m, "safe_url": url if safe else None,
                      "is_video": (m.get("kind") or "") in ("video", "animated_gif")})
    from basira.review.groups import group_of_case

    group = group_of_case(svc.store, case["id"])
    with i18n.speaking(lang_of(request)):  # the panels' own words, in the reader's language
        panels = panels_for(svc.store, detail)
    return dict(
        group=group, d=detail, case=case, post=post, det=det, evidence=ev, segments=segments, truncated=truncated,
        text_len=len(post.get("text") or ""), stage=stage, claim=claim, claimed_by_other=claimed_by_other,
        can_decide=can_decide, actions=actions, action_labels=ACTION_LABELS, action_keys=ACTION_KEYS,
        reasons=[r for r in svc.catalogue.reasons if set(r.actions) & set(actions)], can_appeal=can_appeal,
        can_claim=stage is not None and p.can("claim") and not claimed_by_other and p.role in STAGE_ROLES[stage],
        media=media, panels=panels, account=detail.account,
        hash_banks=_review_banks(svc.store) if "remove" in actions else [],
        other_posts=[{**o, "snippet": strip_controls(o["snippet"] or "")} for o in detail.other_posts],
    )


def _review_banks(store: Any) -> list[str]:
    from basira.banks import list_banks

    return [b.name for b, _ in list_banks(store) if not b.negative]


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: int, p: Annotated[Principal, Depends(require("view_case"))]) -> Response:
    detail = request.app.state.service.case(case_id)
    if detail is None:
        raise HTTPException(404, f"no case {case_id}")
    return render(request, "case.html", **case_view(request, p, detail))


@router.get("/cases/{case_id}/text")
def case_text(request: Request, case_id: int, p: Annotated[Principal, Depends(require("view_case"))]) -> Response:
    detail = request.app.state.service.case(case_id)
    if detail is None or detail.post is None:
        raise HTTPException(404, f"no post text for case {case_id}")
    resp = PlainTextResponse(detail.post["text"])
    resp.headers["content-security-policy"] = "default-src 'none'; sandbox"
    return resp


def _decision_error(case_id: int, exc: DecisionError) -> Response:
    return back(f"/cases/{case_id}", str(exc))


@router.post("/cases/{case_id}/claim")
def claim(request: Request, case_id: int, p: Annotated[Principal, Depends(require("claim"))]) -> Response:
    try:
        request.app.state.service.claim(case_id, p.actor)
    except DecisionError as exc:
        return _decision_error(case_id, exc)
    return back(f"/cases/{case_id}")


@router.post("/cases/{case_id}/release")
def release(request: Request, case_id: int, p: Annotated[Principal, Depends(require("claim"))]) -> Response:
    request.app.state.service.release(case_id, p.actor)
    return back("/queue")


@router.post("/cases/{case_id}/decide")
def decide(request: Request, case_id: int, p: Annotated[Principal, Depends(require("decide"))],
           action: Annotated[str, Form()] = "", reason_code: Annotated[str, Form()] = "",
           note: Annotated[str, Form()] = "", bank_it: Annotated[str, Form()] = "",
           add_to_bank: Annotated[str, Form()] = "") -> Response:
    bank = add_to_bank if bank_it and action == "remove" else None  # the box only applies to "remove"
    try:
        out = request.app.state.service.decide(case_id, p.actor, action, reason_code, note, bank)
    except DecisionError as exc:
        return _decision_error(case_id, exc)
    banked = out.banked
    svc = request.app.state.service
    text = say(request, "Decision recorded: %(action)s.", action=translate(request, ACTION_LABELS.get(action, action)))
    text += " " + say_n(request, "You can undo it for %(num)s second.", "You can undo it for %(num)s seconds.",
                        svc.settings.undo_seconds)
    if banked:
        text += " " + say_n(request, "Added %(num)s new signal to bank %(bank)s.",
                            "Added %(num)s new signals to bank %(bank)s.", banked["added"], bank=banked["bank"])
    if out.members:
        text += " " + say_n(request, "Applied to the %(num)s other copy in its group.",
                            "Applied to the %(num)s other copies in its group.", len(out.members))
    return back(f"/cases/{case_id}", text)


@router.post("/groups/{group_id}/split")
def split_group(request: Request, group_id: int, p: Annotated[Principal, Depends(require("claim"))],
                case_id: Annotated[list[int], Form()] = [], back_to: Annotated[int, Form()] = 0) -> Response:  # noqa: B006
    where = f"/cases/{back_to}" if back_to else "/queue"
    try:
        out = request.app.state.service.split_group(group_id, case_id, p.actor)
    except DecisionError as exc:
        return back(where, str(exc))
    return back(where, say_n(request, "%(num)s case split off the group: it is reviewed on its own now.",
                                    "%(num)s cases split off the group: each is reviewed on its own now.", len(out))
                if out else say(request, "Nothing split: choose members of the group."))


@router.post("/decisions/{decision_id}/undo")
def undo(request: Request, decision_id: int, p: Annotated[Principal, Depends(require("undo"))]) -> Response:
    svc = request.app.state.service
    try:
        out = svc.undo(decision_id, p.actor)
    except DecisionError as exc:
        return back("/queue", str(exc))
    return back(f"/cases/{out.case_id}", say(request, "Decision undone."))


@router.post("/cases/{case_id}/appeal")
def appeal(request: Request, case_id: int, p: Annotated[Principal, Depends(require("file_appeal"))],
           statement: Annotated[str, Form()] = "") -> Response:
    try:
        request.app.state.service.file_appeal(case_id, statement, p.username)
    except DecisionError as exc:
        return _decision_error(case_id, exc)
    return back(f"/cases/{case_id}", say(request, "Appeal filed; a different reviewer will decide it."))


@router.post("/deliveries/{delivery_id}/retry")
def retry(request: Request, delivery_id: int, p: Annotated[Principal, Depends(require("retry_delivery"))],
          case_id: Annotated[int, Form()] = 0) -> Response:
    svc = request.app.state.service
    ok = svc.repo.retry_delivery(delivery_id, p.username, svc.now())
    return back(f"/cases/{case_id}" if case_id else "/queue", say(request, "Delivery re-queued.") if ok else say(request, "Only failed deliveries can be retried."))


# --- account, audit, users, settings -----------------------------------------------------------------------

@router.get("/audit")
def audit_page(request: Request, p: Annotated[Principal, Depends(require("view_audit"))],
               before: int | None = None, verify: int = 0, actor: str | None = None, kind: str | None = None,
               subject: str | None = None, since: str | None = None, until: str | None = None) -> Response:
    svc = request.app.state.service
    t0, t1 = _day_or_time(since, "since"), _day_or_time(until, "until", end=True)
    filters = {k: v for k, v in {"actor": actor, "kind": kind, "subject": subject, "since": since,
                                  "until": until}.items() if v}
    events = svc.repo.events(AUDIT_PAGE + 1, before, subject or None, actor=actor or None, kind=kind or None,
                             since=t0, until=t1)
    more = len(events) > AUDIT_PAGE
    events = events[:AUDIT_PAGE]
    result = svc.store.verify_events() if verify else None
    return render(request, "audit.html", events=events, verify=result, total=svc.store.count_events(),
                  filters=filters, more=more, kinds=svc.repo.event_kinds(),
                  older=("/audit?" + urlencode({**filters, "before": events[-1]["id"]})) if more else None,
                  newest=("/audit?" + urlencode(filters)) if before else None)


AUDIT_PAGE = 100


def _day_or_time(value: str | None, name: str, end: bool = False) -> datetime | None:
    """'2026-11-29' (a whole day, in UTC) or an ISO time with an offset; 422 on anything else."""
    from datetime import UTC

    if not value:
        return None
    v = value.strip()
    try:
        if len(v) == 10:
            d = datetime.fromisoformat(v).replace(tzinfo=UTC)
            return d + timedelta(days=1) if end else d
        t = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:  # datetime.fromisoformat's own parse error
        raise HTTPException(422, f"{name}: not a date (YYYY-MM-DD) or ISO time: {value!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@router.get("/admin/users")
def users_page(request: Request, p: Annotated[Principal, Depends(require("manage_users"))]) -> Response:
    return render(request, "users.html", users=request.app.state.service.repo.list_users(), roles=ROLES)


@router.post("/admin/users")
def add_user(request: Request, p: Annotated[Principal, Depends(require("manage_users"))],
             username: Annotated[str, Form()], password: Annotated[str, Form()], role: Annotated[str, Form()]) -> Response:
    try:
        request.app.state.service.add_user(username.strip(), password, role, actor=p.username)
    except BasiraError as exc:  # UserError: a bad name, role or password, a name taken
        return back("/admin/users", str(exc))
    return back("/admin/users", say(request, "User %(name)s added.", name=username.strip()))


@router.post("/admin/users/{username}/disable")
def disable_user(request: Request, username: str, p: Annotated[Principal, Depends(require("manage_users"))]) -> Response:
    try:
        ok = request.app.state.service.disable_user(username, actor=p.username)
    except LockoutError as exc:  # yourself, or the last admin
        return back("/admin/users", str(exc))
    return back("/admin/users", say(request, "User %(name)s disabled.", name=username) if ok
                else say(request, "No such user."))


@router.post("/admin/users/{username}/enable")
def enable_user(request: Request, username: str, p: Annotated[Principal, Depends(require("manage_users"))]) -> Response:
    ok = request.app.state.service.disable_user(username, actor=p.username, disabled=False)
    return back("/admin/users", say(request, "User %(name)s enabled.", name=username) if ok
                else say(request, "No such user."))


@router.get("/settings")
def settings_page(request: Request, p: Annotated[Principal, Depends(require("set_prefs"))]) -> Response:
    return render(request, "settings.html")


@router.post("/settings")
def save_settings(request: Request, p: Annotated[Principal, Depends(require("set_prefs"))],
                  blur_media: Annotated[str, Form()] = "", greyscale_media: Annotated[str, Form()] = "",
                  break_reminder_minutes: Annotated[int, Form()] = 90, lang: Annotated[str, Form()] = "") -> Response:
    svc = request.app.state.service
    svc.set_prefs({"id": p.user_id, "username": p.username}, blur_media == "on", greyscale_media == "on",
                  break_reminder_minutes)
    if lang in i18n.LANGUAGES or (lang == "" and p.prefs.get("lang")):  # "" = follow the browser again
        svc.set_language({"id": p.user_id, "username": p.username}, lang or None)
    token = i18n.use(i18n.pick(lang or None, request.headers.get("accept-language")))
    try:
        saved = i18n.gettext("Preferences saved.")
    finally:
        i18n.reset(token)
    return back("/settings", saved)
