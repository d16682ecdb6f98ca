"""Pages for removal orders and complaints: the dashboard of open orders with their deadline clocks, intake, an
order's page (execute, reject, statement, notices, complaints, preserved items and legal holds), complaints.
Everything works without JavaScript; /static/orders.js only ticks the displayed time left."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from basira.compliance.orders import OUTCOME_WORDS, OrderError, parse_time
from basira.compliance.preservation import HoldError
from basira.compliance.records import OrderView
from basira.compliance.repository import ComplianceError
from basira.compliance.statement_pdf import render_statement_pdf, statement_document
from basira.core.errors import BasiraError
from basira.core.i18n import speaking
from basira.web.compliance_api import compliance
from basira.web.errors import describe, localise
from basira.web.pages import back, lang_of, render, say, say_n, translate
from basira.web.security import Principal, require

router = APIRouter(include_in_schema=False)


def _refused(request: Request, exc: BasiraError) -> str:
    """What was refused, in the reader's language (from the error's template when it has one), for a notice; an
    order's field error gives its reason only."""
    with speaking(lang_of(request)):
        return localise(exc.reason) if isinstance(exc, OrderError) else describe(exc)


def _err(exc: Exception) -> str:
    if isinstance(exc, OrderError):
        return f"Not stored — {exc.field or 'order'}: {exc.reason}" if exc.field else f"Not stored — {exc.reason}"
    return str(exc)


@router.get("/orders")
def orders_page(request: Request, p: Annotated[Principal, Depends(require("view_orders"))]) -> Response:
    cs = compliance(request)
    rows = cs.orders()
    return render(request, "orders.html", open_orders=[o for o in rows if o.status == "open"],
                  closed=[o for o in rows if o.status != "open"][:100])


@router.post("/orders")
def create_order(request: Request, p: Annotated[Principal, Depends(require("manage_orders"))],
                 authority: Annotated[str, Form()] = "", order_ref: Annotated[str, Form()] = "",
                 reasons: Annotated[str, Form()] = "", targets: Annotated[str, Form()] = "",
                 legal_basis: Annotated[str, Form()] = "", contact: Annotated[str, Form()] = "",
                 received_at: Annotated[str, Form()] = "", lang: Annotated[str, Form()] = "") -> Response:
    data = {"authority": authority, "order_ref": order_ref, "reasons": reasons, "targets": targets,
            "legal_basis": legal_basis, "contact": contact, "received_at": received_at,
            "lang": lang if lang != "en" else ""}  # the language of the statement and notices (OrderView.language)
    try:
        oid = compliance(request).receive({k: v for k, v in data.items() if v.strip()}, "web", p.username)
    except (OrderError, ComplianceError) as exc:
        return back("/orders", _err(exc))
    return back(f"/orders/{oid}", say(request, "Order recorded; the one-hour clock is running."))


@router.get("/orders/{order_id}")
def order_page(request: Request, order_id: int, p: Annotated[Principal, Depends(require("view_orders"))]) -> Response:
    o = compliance(request).order(order_id)
    if o is None:
        raise HTTPException(404, f"no removal order {order_id}")
    return render(request, "order.html", o=o, words=OUTCOME_WORDS, statement_lang=o.language)


@router.get("/orders/{order_id}/execute")
def confirm_execute(request: Request, order_id: int,
                    p: Annotated[Principal, Depends(require("manage_orders"))]) -> Response:
    """The confirmation step: every target's content (escaped; media blurred) before anything is removed."""
    cs = compliance(request)
    o = cs.order(order_id)
    if o is None:
        raise HTTPException(404, f"no removal order {order_id}")
    if o.status != "open":
        return back(f"/orders/{order_id}", say(request, "Order %(ref)s is %(status)s, not open.", ref=o.order_ref,
                                                     status=translate(request, o.status)))
    previews = cs.repo.target_previews(order_id)  # media: each one's safe_url (or none) and is_video
    return render(request, "order_execute.html", o=o, previews=previews,
                  sink=bool(cs.review.webhook_url and cs.review.webhook_secret))


@router.post("/orders/{order_id}/execute")
def execute_order(request: Request, order_id: int,
                  p: Annotated[Principal, Depends(require("manage_orders"))],
                  confirm: Annotated[str, Form()] = "") -> Response:
    if confirm != "execute":  # one click never removes: show what would be removed first
        return RedirectResponse(f"/orders/{order_id}/execute", status_code=303)
    try:
        out = compliance(request).execute(order_id, p.username)
    except ComplianceError as exc:
        return back(f"/orders/{order_id}", _refused(request, exc))
    parts = []
    if out.sent:
        parts.append(say_n(request, "%(num)s removal sent to the platform, awaiting its acknowledgement",
                           "%(num)s removals sent to the platform, awaiting its acknowledgement", out.sent))
    if out.recorded:
        parts.append(say_n(request, "%(num)s item only recorded: no action sink is configured, so NOTHING was "
                           "removed on the platform — remove it there by hand",
                           "%(num)s items only recorded: no action sink is configured, so NOTHING was removed "
                           "on the platform — remove them there by hand", out.recorded))
    if out.already_removed:
        parts.append(say_n(request, "%(num)s already removed by review", "%(num)s already removed by review",
                           out.already_removed))
    return back(f"/orders/{order_id}", say(request, "Order actioned: %(parts)s.", parts="; ".join(parts)))


def _with_statement(request: Request, order_id: int) -> tuple[OrderView, dict[str, Any]]:
    o = compliance(request).order(order_id)
    if o is None or o.statement is None:
        raise HTTPException(404, f"no statement for removal order {order_id} (not executed or rejected yet)")
    return o, o.statement


@router.get("/orders/{order_id}/statement")
def statement_page(request: Request, order_id: int,
                   p: Annotated[Principal, Depends(require("view_orders"))]) -> Response:
    o, st = _with_statement(request, order_id)
    doc = statement_document(st, o.language)  # the authority's language, not the reader's
    return render(request, "order_statement.html", o=o, st=st, rows=doc["rows"], doc=doc,
                  doc_lang=doc["lang"], doc_dir=doc["dir"])


@router.get("/orders/{order_id}/statement.pdf")
def statement_pdf(request: Request, order_id: int,
                  p: Annotated[Principal, Depends(require("view_orders"))]) -> Response:
    o, st = _with_statement(request, order_id)
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in o.order_ref)[:80]
    return Response(render_statement_pdf(st, o.language), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="statement-{name}.pdf"'})


@router.post("/orders/{order_id}/close")
def close_order(request: Request, order_id: int, p: Annotated[Principal, Depends(require("manage_orders"))],
                status: Annotated[str, Form()] = "rejected", reason: Annotated[str, Form()] = "") -> Response:
    try:
        compliance(request).close(order_id, status, reason, p.username)
    except ComplianceError as exc:
        return back(f"/orders/{order_id}", _refused(request, exc))
    return back(f"/orders/{order_id}", say(request, "Order %(status)s.", status=translate(request, status)))


@router.post("/orders/{order_id}/statement-sent")
def statement_sent(request: Request, order_id: int,
                   p: Annotated[Principal, Depends(require("manage_orders"))]) -> Response:
    ok = compliance(request).mark_statement_sent(order_id, p.username)
    return back(f"/orders/{order_id}", say(request, "Statement marked as sent.") if ok
                else say(request, "Nothing to mark."))


@router.post("/preserved/{item_id}/hold")
def hold(request: Request, item_id: int, p: Annotated[Principal, Depends(require("manage_orders"))],
         until: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
         order_id: Annotated[int, Form()] = 0) -> Response:
    where = f"/orders/{order_id}" if order_id else "/orders"
    try:
        end = parse_time(until if "T" in until else f"{until}T00:00:00Z", "until")
        compliance(request).set_legal_hold(item_id, end, reason, p.username)
    except (OrderError, ComplianceError, HoldError) as exc:
        return back(where, say(request, "No hold set: %(why)s", why=_refused(request, exc)))
    return back(where, say(request, "Legal hold on item %(id)s until %(t)s UTC.", id=item_id,
                                t=f"{end:%Y-%m-%d %H:%M}"))


@router.get("/complaints")
def complaints_page(request: Request, p: Annotated[Principal, Depends(require("decide_complaints"))],
                    status: str | None = None) -> Response:
    rows = compliance(request).repo.complaints(status or None)
    return render(request, "complaints.html", complaints=rows, status=status or "")


@router.post("/complaints")
def file_complaint(request: Request, p: Annotated[Principal, Depends(require("file_complaint"))],
                   order_id: Annotated[int, Form()] = 0, post_id: Annotated[int, Form()] = 0,
                   complainant: Annotated[str, Form()] = "", grounds: Annotated[str, Form()] = "") -> Response:
    where = f"/orders/{order_id}" if order_id else "/orders"
    try:
        cid = compliance(request).file_complaint(complainant=complainant, grounds=grounds, order_id=order_id or None,
                                                 post_id=post_id or None, actor=p.username)
    except ComplianceError as exc:
        return back(where, _refused(request, exc))
    return back(where, say(request, "Complaint %(id)s recorded.", id=cid))


@router.post("/complaints/{complaint_id}/decide")
def decide_complaint(request: Request, complaint_id: int,
                     p: Annotated[Principal, Depends(require("decide_complaints"))],
                     outcome: Annotated[str, Form()] = "", reasons: Annotated[str, Form()] = "",
                     next: Annotated[str, Form()] = "/complaints") -> Response:
    where = next if next.startswith("/") and not next.startswith("//") else "/complaints"
    if outcome not in ("upheld", "rejected"):
        return back(where, say(request, "Choose: uphold (reinstate) or reject."))
    try:
        out = compliance(request).decide_complaint(complaint_id, outcome == "upheld", reasons, p.username)
    except ComplianceError as exc:
        return back(where, _refused(request, exc))
    return back(where, say(request, "Complaint %(id)s %(status)s: content reinstated.", id=complaint_id,
                           status=translate(request, out.status)) if out.reinstated else
                say(request, "Complaint %(id)s %(status)s.", id=complaint_id, status=translate(request, out.status)))
