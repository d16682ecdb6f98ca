"""REST API under /api/v1 (OpenAPI schema at /api/v1/openapi.json). Sessions need X-CSRF-Token on writes;
integrations use `Authorization: Bearer <token>`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from basira.core.errors import HTTP_STATUS, BasiraError, http_status
from basira.review.decisions import DecisionError
from basira.review.queue import QueueFilter, parse_sort, statuses_for
from basira.review.repository import LockoutError
from basira.web.security import Principal, require

router = APIRouter(prefix="/api/v1", tags=["review"])
MAX_AGE_HOURS = 1e6  # about 114 years: any older bound means "all"
ERROR_STATUS = HTTP_STATUS  # the one kind -> status map (basira.core.errors)


def svc(request: Request):
    return request.app.state.service


def http_error(exc: DecisionError) -> HTTPException:
    return HTTPException(http_status(exc), str(exc))


class DecisionIn(BaseModel):
    action: str = Field(description="remove, keep, escalate, refer; at the appeal stage uphold or overturn")
    reason_code: str = Field(description="a code from the policy catalogue (GET /api/v1/policies)")
    note: str | None = Field(default=None, max_length=4000)
    add_to_bank: str | None = Field(default=None, max_length=128,
                                    description="with action remove: a bank to add the post's text and media hashes to")


class MemberDecisionOut(BaseModel):
    case_id: int
    decision_id: int


class BankedOut(BaseModel):
    bank: str
    signals: list[str] = Field(description="the signal types of the content (text_minhash, md5, sha256, pdq, ...)")
    added: int = Field(description="signals new to the bank")
    known: int = Field(description="signals the bank held already")


class DecisionOut(BaseModel):
    """basira.review.records.DecisionResult as JSON (its to_dict())."""

    decision_id: int
    status: str = Field(description="the case's status now")
    final_at: datetime | None = Field(description="when the decision becomes final (the undo window ends)")
    stage: str
    members: list[MemberDecisionOut] = Field(description="on a group's lead: the decision made on each member")
    banked: BankedOut | None = Field(default=None, description="with add_to_bank only: what went into the bank")


class UndoOut(BaseModel):
    """basira.review.records.UndoResult as JSON (its to_dict())."""

    case_id: int
    status: str = Field(description="the case's status now")
    unbanked: int | None = Field(default=None, description="an undone removal only: signals taken back out of banks")


class AppealIn(BaseModel):
    statement: str = Field(min_length=1, max_length=10_000, description="the content owner's statement")


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=12, max_length=1024)
    role: str


def queue_filter(
    role: str,
    lang: str | None = None,
    category: str | None = None,
    source: str | None = None,
    max_age_hours: float | None = None,
    min_age_hours: float | None = None,
    status: str | None = None,
    policy: str | None = None,
    min_score: float | None = None,
    sort: str | None = None,
) -> QueueFilter:
    for name, hours in (("max_age_hours", max_age_hours), ("min_age_hours", min_age_hours)):
        if hours is not None and not 0 <= hours <= MAX_AGE_HOURS:  # also NaN; now - 1e300 h overflows
            raise HTTPException(422, [{"loc": ["query", name], "msg": f"must be between 0 and {MAX_AGE_HOURS:g}",
                                       "type": "float_out_of_range"}])
    key, desc = parse_sort(sort)
    return QueueFilter(lang or None, category or None, source or None, max_age_hours, min_age_hours,
                       statuses_for(role, status or None), policy or None, min_score, key, desc)


class QueueParams(BaseModel):
    lang: str | None = None
    category: str | None = None
    source: str | None = None
    max_age_hours: float | None = Field(default=None, ge=0, le=1e6)
    min_age_hours: float | None = Field(default=None, ge=0, le=1e6)
    status: str | None = None
    policy: str | None = None
    min_score: float | None = Field(default=None, ge=0, le=1)
    sort: str | None = None


@router.get("/me")
def me(p: Annotated[Principal, Depends(require("view_self"))]) -> dict[str, Any]:
    return {"username": p.username, "role": p.role, "via": p.via, "prefs": p.prefs}


@router.get("/policies")
def policies(request: Request, p: Annotated[Principal, Depends(require("view_policies"))]) -> list[dict]:
    return [r.to_dict() for r in svc(request).catalogue.reasons]


@router.get("/queue")
def queue(
    request: Request,
    p: Annotated[Principal, Depends(require("view_queue"))],
    params: Annotated[QueueParams, Query()],
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    f = queue_filter(p.role, **params.model_dump())
    page = svc(request).queue_page(f, limit, offset)
    # total_exact false: `total` is an estimate (above basira.review.repository.COUNT_EXACT cases)
    return {"total": page.total, "total_exact": page.total_exact, "cases": [r.to_dict() for r in page.rows]}


@router.post("/queue/claim-next")
def claim_next(
    request: Request, p: Annotated[Principal, Depends(require("claim"))], params: Annotated[QueueParams, Query()]
) -> dict[str, Any]:
    cid = svc(request).claim_next(p.actor, queue_filter(p.role, **params.model_dump()))
    return {"case_id": cid}


def _case(request: Request, case_id: int, p: Principal) -> dict[str, Any]:
    view = svc(request).case(case_id)
    if view is None:
        raise HTTPException(404, f"no case {case_id}")
    d = view.to_dict()
    if d.get("claim"):
        d["claim"].pop("user_id", None)
    for x in d["decisions"]:
        x.pop("user_id", None)
    if p.role == "platform":
        # Integrations learn what was decided and why, never who decided it or what reviewers noted:
        # reviewers of terrorist content must not become targets.
        d["claim"] = None
        for x in d["decisions"]:
            x.pop("decided_by", None)
            x.pop("note", None)
        if d.get("appeal"):  # who filed it may be a reviewer acting for the owner
            d["appeal"].pop("filed_by", None)
    return d


@router.get("/cases/{case_id}")
def get_case(request: Request, case_id: int, p: Annotated[Principal, Depends(require("view_case"))]) -> dict:
    return _case(request, case_id, p)


@router.post("/cases/{case_id}/claim")
def claim(request: Request, case_id: int, p: Annotated[Principal, Depends(require("claim"))]) -> dict:
    try:
        return {"case_id": case_id, "expires_at": svc(request).claim(case_id, p.actor)}
    except DecisionError as exc:
        raise http_error(exc) from None


@router.delete("/cases/{case_id}/claim")
def release(request: Request, case_id: int, p: Annotated[Principal, Depends(require("claim"))]) -> dict:
    return {"released": svc(request).release(case_id, p.actor)}


# exclude_unset: a key the record leaves out (banked, unbanked) stays out of the answer rather than coming back null
@router.post("/cases/{case_id}/decisions", status_code=201, response_model_exclude_unset=True)
def decide(request: Request, case_id: int, body: DecisionIn,
           p: Annotated[Principal, Depends(require("decide"))]) -> DecisionOut:
    try:
        out = svc(request).decide(case_id, p.actor, body.action, body.reason_code, body.note, body.add_to_bank)
    except DecisionError as exc:
        raise http_error(exc) from None
    return DecisionOut.model_validate(out.to_dict())


@router.post("/decisions/{decision_id}/undo", response_model_exclude_unset=True)
def undo(request: Request, decision_id: int, p: Annotated[Principal, Depends(require("undo"))]) -> UndoOut:
    try:
        out = svc(request).undo(decision_id, p.actor)
    except DecisionError as exc:
        raise http_error(exc) from None
    return UndoOut.model_validate(out.to_dict())


@router.post("/cases/{case_id}/appeals", status_code=201)
def appeal(request: Request, case_id: int, body: AppealIn, p: Annotated[Principal, Depends(require("file_appeal"))]) -> dict:
    try:
        return {"appeal_id": svc(request).file_appeal(case_id, body.statement, p.username), "status": "appealed"}
    except DecisionError as exc:
        raise http_error(exc) from None


@router.get("/cases/{case_id}/deliveries")
def deliveries(request: Request, case_id: int, p: Annotated[Principal, Depends(require("view_case"))]) -> list[dict]:
    return _case(request, case_id, p)["deliveries"]


@router.post("/deliveries/{delivery_id}/retry")
def retry(request: Request, delivery_id: int, p: Annotated[Principal, Depends(require("retry_delivery"))]) -> dict:
    s = svc(request)
    if not s.repo.retry_delivery(delivery_id, p.username, s.now()):
        raise HTTPException(409, "only failed deliveries can be retried")
    return {"delivery_id": delivery_id, "status": "pending"}


@router.get("/accounts/{account_id}")
def account(request: Request, account_id: int, p: Annotated[Principal, Depends(require("investigate"))]) -> dict:
    d = svc(request).repo.account_detail(account_id)
    if d is None:
        raise HTTPException(404, f"no account {account_id}")
    return d.to_dict()


@router.get("/audit/events")
def audit_events(
    request: Request,
    p: Annotated[Principal, Depends(require("view_audit"))],
    limit: int = Query(100, ge=1, le=1000),
    before: int | None = None,
    subject: str | None = None,
) -> list[dict]:
    return svc(request).repo.events(limit, before, subject)


@router.get("/audit/verify")
def audit_verify(request: Request, p: Annotated[Principal, Depends(require("view_audit"))]) -> dict:
    s = svc(request)
    ok, bad = s.store.verify_events()
    return {"intact": ok, "first_bad_id": bad, "events": s.store.count_events()}


@router.get("/users")
def users(request: Request, p: Annotated[Principal, Depends(require("manage_users"))]) -> list[dict]:
    return svc(request).repo.list_users()


@router.post("/users", status_code=201)
def add_user(request: Request, body: UserIn, p: Annotated[Principal, Depends(require("manage_users"))]) -> dict:
    try:
        uid = svc(request).add_user(body.username, body.password, body.role, actor=p.username)
    except BasiraError as exc:  # UserError: a bad name, role or password, a taken name
        raise HTTPException(422, str(exc)) from None
    return {"id": uid, "username": body.username, "role": body.role}


@router.post("/users/{username}/disable")
def disable_user(request: Request, username: str, p: Annotated[Principal, Depends(require("manage_users"))]) -> dict:
    try:
        found = svc(request).disable_user(username, actor=p.username)
    except LockoutError as exc:  # yourself, or the last admin
        raise HTTPException(409, str(exc)) from None
    if not found:
        raise HTTPException(404, f"no user {username!r}")
    return {"username": username, "disabled": True}


@router.post("/users/{username}/enable")
def enable_user(request: Request, username: str, p: Annotated[Principal, Depends(require("manage_users"))]) -> dict:
    if not svc(request).disable_user(username, actor=p.username, disabled=False):
        raise HTTPException(404, f"no user {username!r}")
    return {"username": username, "disabled": False}
