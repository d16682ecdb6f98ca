"""REST API for removal orders, complaints and preservation (Regulation (EU) 2021/784), under /api/v1.
Same authentication as the rest of the API; each endpoint names one permission (basira.review.roles)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from basira.compliance.alerts import AlertSettings
from basira.compliance.records import (
    CloseResult,
    ComplaintDecision,
    ComplaintListItem,
    ComplaintView,
    ExecutionResult,
    LegalHold,
    OrderView,
    PreservedListItem,
)
from basira.compliance.service import ComplianceService
from basira.core.errors import HTTP_STATUS, BasiraError, http_detail
from basira.web.security import Principal, require

router = APIRouter(prefix="/api/v1", tags=["compliance"])
ERROR_STATUS = HTTP_STATUS  # the one kind -> status map (basira.core.errors)


def compliance(request: Request) -> ComplianceService:
    """One ComplianceService per app, sharing the review service's store, settings and clock."""
    st = request.app.state
    cs = getattr(st, "compliance", None)
    if cs is None:
        rs = st.service
        cs = st.compliance = ComplianceService(rs.store, rs.settings, AlertSettings.from_env(), clock=rs.now)
    return cs


def http_error(exc: Exception) -> HTTPException:
    if isinstance(exc, BasiraError):  # OrderError: 422 {field, reason}; ComplianceError: its kind's status
        return HTTPException(*http_detail(exc))
    return HTTPException(422, str(exc))


async def call(fn: Any, *args: Any, **kw: Any) -> Any:
    try:
        return await run_in_threadpool(fn, *args, **kw)
    except (BasiraError, ValueError) as exc:  # ValueError: plain parse errors of the service's own callees
        raise http_error(exc) from None


class OrderIn(BaseModel):
    authority: str = Field(description="the competent authority that issued the order")
    order_ref: str = Field(description="the authority's reference; unique per authority")
    reasons: str = Field(description="the authority's statement of reasons")
    targets: list[str] = Field(description="URLs, post:PLATFORM:ID, account:PLATFORM:ID or PLATFORM:ID")
    legal_basis: str | None = None
    reason_code: str | None = None
    contact: str | None = Field(default=None, description="where the statement back goes (e-mail address or URL)")
    received_at: datetime | None = Field(default=None, description="when it reached the service; default now")
    notice_withheld_until: datetime | None = Field(default=None, description="art. 11(3): delay the notice")
    details: dict[str, Any] = Field(default_factory=dict, description="anything else on the order")


class CloseIn(BaseModel):
    status: str = Field(description="rejected or withdrawn")
    reason: str = Field(min_length=1, max_length=20_000)


class ComplaintIn(BaseModel):
    order_id: int | None = None
    case_id: int | None = None
    post_id: int | None = None
    complainant: str = Field(min_length=1, max_length=256)
    grounds: str = Field(min_length=1, max_length=20_000)


class ComplaintDecisionIn(BaseModel):
    upheld: bool = Field(description="true: the complaint is upheld and the content reinstated")
    reasons: str = Field(min_length=1, max_length=20_000)


class HoldIn(BaseModel):
    until: datetime
    reason: str = Field(min_length=1, max_length=4000)


@router.get("/orders")
async def list_orders(request: Request, p: Annotated[Principal, Depends(require("view_orders"))],
                      status: str | None = None) -> list[dict[str, Any]]:
    return [o.to_dict() for o in await call(compliance(request).orders, status)]


@router.post("/orders", status_code=201)
async def create_order(request: Request, body: OrderIn,
                       p: Annotated[Principal, Depends(require("manage_orders"))]) -> dict[str, Any]:
    data = body.model_dump()
    extra = data.pop("details") or {}
    data = {**extra, **{k: v for k, v in data.items() if v is not None}}
    cs = compliance(request)
    oid = await call(cs.receive, data, "api", p.username)
    return _order(await call(cs.order, oid), oid).to_dict()


def _order(o: OrderView | None, order_id: int) -> OrderView:
    if o is None:
        raise HTTPException(404, f"no removal order {order_id}")
    return o


def _statement(o: OrderView | None, order_id: int) -> dict[str, Any]:
    if o is None or o.statement is None:
        raise HTTPException(404, f"no statement for removal order {order_id} (not executed or rejected yet)")
    return o.statement


@router.get("/orders/{order_id}")
async def get_order(request: Request, order_id: int,
                    p: Annotated[Principal, Depends(require("view_orders"))]) -> dict[str, Any]:
    return _order(await call(compliance(request).order, order_id), order_id).to_dict()


@router.get("/orders/{order_id}/statement")
async def get_statement(request: Request, order_id: int,
                        p: Annotated[Principal, Depends(require("view_orders"))]) -> dict[str, Any]:
    return _statement(await call(compliance(request).order, order_id), order_id)


@router.post("/orders/{order_id}/execute")
async def execute_order(request: Request, order_id: int,
                        p: Annotated[Principal, Depends(require("manage_orders"))]) -> dict[str, Any]:
    out: ExecutionResult = await call(compliance(request).execute, order_id, p.username)
    return out.to_dict()


@router.post("/orders/{order_id}/close")
async def close_order(request: Request, order_id: int, body: CloseIn,
                      p: Annotated[Principal, Depends(require("manage_orders"))]) -> dict[str, Any]:
    out: CloseResult = await call(compliance(request).close, order_id, body.status, body.reason, p.username)
    return out.to_dict()


@router.post("/orders/{order_id}/statement-sent")
async def statement_sent(request: Request, order_id: int,
                         p: Annotated[Principal, Depends(require("manage_orders"))]) -> dict[str, Any]:
    return {"marked": await call(compliance(request).mark_statement_sent, order_id, p.username)}


@router.get("/complaints")
async def list_complaints(request: Request, p: Annotated[Principal, Depends(require("decide_complaints"))],
                          status: str | None = None) -> list[dict[str, Any]]:
    rows: list[ComplaintListItem] = await call(compliance(request).repo.complaints, status)
    return [c.to_dict() for c in rows]


@router.post("/complaints", status_code=201)
async def file_complaint(request: Request, body: ComplaintIn,
                         p: Annotated[Principal, Depends(require("file_complaint"))]) -> dict[str, Any]:
    cs = compliance(request)
    cid = await call(cs.file_complaint, complainant=body.complainant, grounds=body.grounds, order_id=body.order_id,
                     case_id=body.case_id, post_id=body.post_id, actor=p.username)
    c: ComplaintView | None = await call(cs.repo.complaint, cid)
    if c is None:  # filed a moment ago in its own transaction
        raise HTTPException(404, f"no complaint {cid}")
    return c.to_dict()


@router.post("/complaints/{complaint_id}/decision")
async def decide_complaint(request: Request, complaint_id: int, body: ComplaintDecisionIn,
                           p: Annotated[Principal, Depends(require("decide_complaints"))]) -> dict[str, Any]:
    out: ComplaintDecision = await call(compliance(request).decide_complaint, complaint_id, body.upheld, body.reasons,
                                        p.username)
    return out.to_dict()


@router.get("/preserved")
async def list_preserved(request: Request,
                         p: Annotated[Principal, Depends(require("manage_orders"))]) -> list[dict[str, Any]]:
    rows: list[PreservedListItem] = await call(compliance(request).repo.preserved)
    return [r.to_dict() for r in rows]


@router.post("/preserved/{item_id}/hold")
async def hold(request: Request, item_id: int, body: HoldIn,
               p: Annotated[Principal, Depends(require("manage_orders"))]) -> dict[str, Any]:
    held: LegalHold = await call(compliance(request).set_legal_hold, item_id, body.until, body.reason, p.username)
    return held.to_dict()


def background_loop(review_service: Any) -> Any:
    """The compliance tick (alerts, statements, purge) as a background thread for `basira serve`."""
    from basira.compliance.service import ComplianceLoop

    rs = review_service
    return ComplianceLoop(ComplianceService(rs.store, rs.settings, AlertSettings.from_env(), clock=rs.now))
