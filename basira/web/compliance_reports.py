"""Transparency reports and evidence packages in the web app: thin faces over basira.compliance (docs/reports.md,
docs/evidence.md). The report's own HTML page is served as it is, under a CSP that allows exactly its one
<style> block by hash (the app's CSP forbids inline styles) and nothing else."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from basira.core.errors import BasiraError
from basira.core.i18n import N_, gettext, speaking
from basira.core.settings import Settings
from basira.web.errors import describe
from basira.web.pages import back, lang_of, render, say
from basira.web.security import Principal, require

pages = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["reports"])
Reader = Annotated[Principal, Depends(require("view_reports"))]
From = Annotated[str | None, Query(alias="from", description="First day, YYYY-MM-DD (UTC)")]
To = Annotated[str | None, Query(alias="to", description="Last day, YYYY-MM-DD (UTC), inclusive")]
DEFAULT_DAYS = 30  # the form's default period: the last 30 whole days, today included
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NONE = "'none'"
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
NO_KEY = N_("Evidence export is not configured: no signing key. Create one with `basira evidence keygen --out DIR`, "
            "set BASIRA_SIGNING_KEY to DIR/basira-evidence.key in the server's environment and restart it; give "
            "investigators DIR/basira-evidence.pub.")


class PeriodError(BasiraError):
    """A report period the form or the API cannot use: `field` (from/to) and `reason`, the reason also as a
    template and its fields (BasiraError.said), so the page and the API say it in the reader's language."""

    def __init__(self, field: str, template: str, **params: Any) -> None:
        self.field, self.reason = field, template % params
        super().__init__(f"{field}: {self.reason}")
        self.said(template, **params)

    def localised(self) -> str:
        return f"{self.field}: {gettext(self.template or self.reason, **self.params)}"


def parse_period(start: str | None, end: str | None, today: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC from YYYY-MM-DD dates, both inclusive; missing ones default to the last 30 days."""
    start = (start or "").strip() or (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    end = (end or "").strip() or today.isoformat()
    out = []
    for name, value in (("from", start), ("to", end)):
        if not _DATE.match(value):
            raise PeriodError(name, N_("%(value)s is not a date (YYYY-MM-DD)"), value=repr(value[:40]))
        try:
            out.append(datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC))
        except ValueError:
            raise PeriodError(name, N_("%(value)s is not a calendar date"), value=repr(value)) from None
    a, b = out[0], out[1] + timedelta(days=1)
    if a >= b:
        raise PeriodError("from", N_("%(start)s is after to %(end)s"), start=start, end=end)
    return a, b


def _period(request: Request, start: str | None, end: str | None) -> tuple[datetime, datetime]:
    try:
        return parse_period(start, end, request.app.state.service.now().date())
    except PeriodError as exc:
        with speaking(lang_of(request)):
            raise HTTPException(400, exc.localised()) from None


def build(request: Request, a: datetime, b: datetime) -> dict[str, Any]:
    """The report dict, exactly as `basira report transparency` builds it (platform name from the same env var)."""
    from basira.compliance.report import build_report
    from basira.compliance.report_data import gather_counts

    svc = request.app.state.service
    return build_report(gather_counts(svc.store, a, b), platform_name=Settings.from_env().platform_name,
                        generated_at=svc.now())


def _stem(a: datetime, b: datetime) -> str:
    return f"transparency-{a:%Y%m%d}-{(b - timedelta(seconds=1)):%Y%m%d}"


def _attachment(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type, headers={"content-disposition": f'attachment; filename="{name}"'})


# --- transparency reports --------------------------------------------------------------------------------------

@pages.get("/reports")
def reports_page(request: Request, p: Reader, start: From = None, end: To = None) -> Response:
    from basira.compliance.report import duration, key_figures, percent, period_text

    given = {"from": start or "", "to": end or ""}
    try:
        a, b = parse_period(given["from"], given["to"], request.app.state.service.now().date())
    except PeriodError as exc:
        with speaking(lang_of(request)):
            why = exc.localised()
        return render(request, "reports.html", status_code=400, error=why, form=given, r=None)
    r = build(request, a, b)
    form = {"from": a.date().isoformat(), "to": (b - timedelta(days=1)).date().isoformat()}
    with speaking(lang_of(request)):
        tiles, period = key_figures(r), period_text(r)
    return render(request, "reports.html", r=r, form=form, period=period, tiles=tiles,
                  query=f"from={form['from']}&to={form['to']}", pct=percent, dur=duration, error=None)


@pages.get("/reports/transparency.html")
def report_html(request: Request, p: Reader, start: From = None, end: To = None) -> Response:
    from basira.compliance.report_html import render_html

    a, b = _period(request, start, end)
    html = render_html(build(request, a, b), lang_of(request))  # in the reader's language (the CLI: --lang)
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
                      for s in _STYLE.findall(html))
    csp = (f"default-src 'none'; style-src {hashes or NONE}; img-src data:; "
           "form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
    return Response(html, media_type="text/html; charset=utf-8", headers={"content-security-policy": csp})


@pages.get("/reports/transparency.pdf")
def report_pdf(request: Request, p: Reader, start: From = None, end: To = None) -> Response:
    from basira.compliance.report_pdf import render_pdf

    a, b = _period(request, start, end)
    return _attachment(render_pdf(build(request, a, b), lang_of(request)), "application/pdf",
                       f"{_stem(a, b)}.pdf")


@pages.get("/reports/transparency.json")
def report_json(request: Request, p: Reader, start: From = None, end: To = None) -> Response:
    import orjson

    a, b = _period(request, start, end)
    data = orjson.dumps(build(request, a, b), option=orjson.OPT_INDENT_2) + b"\n"
    return _attachment(data, "application/json", f"{_stem(a, b)}.json")


@pages.get("/reports/statements.jsonl")
def statements_jsonl(request: Request, p: Reader, start: From = None, end: To = None,
                     unconfirmed: bool = False) -> Response:
    """DSA statements of reasons for the period's live removals, as `basira report statements` writes them: the
    removals the platform acknowledged (`unconfirmed=true`: all, as `--include-unconfirmed`)."""
    import orjson

    from basira.compliance.report_data import statement_facts
    from basira.compliance.statements import NoStatement, statement_of_reasons

    a, b = _period(request, start, end)
    svc = request.app.state.service
    policy_url = Settings.from_env().policy_url
    try:
        lines = [orjson.dumps({"decision_id": f.decision_id, "case_id": f.case_id,
                               "statement": statement_of_reasons(f, svc.catalogue, policy_url=policy_url)}) + b"\n"
                 for f in statement_facts(svc.store, start=a, end=b) if f.confirmed or unconfirmed]
    except NoStatement as exc:
        raise HTTPException(409, str(exc)) from None
    return _attachment(b"".join(lines), "application/x-ndjson",
                       f"statements-{a:%Y%m%d}-{(b - timedelta(seconds=1)):%Y%m%d}.jsonl")


@api_router.get("/reports/transparency", summary="Transparency report (schema basira-transparency-report/1)")
def api_report(request: Request, p: Reader, start: From = None, end: To = None) -> dict[str, Any]:
    """`from` and `to` are dates (YYYY-MM-DD, both inclusive, UTC); default the last 30 days."""
    a, b = _period(request, start, end)
    return build(request, a, b)


# --- evidence packages -----------------------------------------------------------------------------------------

_REF = re.compile(r"^(case|account):\d+$|^community:-?\d+$")


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/"


@pages.post("/evidence/export")
def export_evidence(request: Request, p: Annotated[Principal, Depends(require("export_evidence"))],
                    ref: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    """Export the signed package for `ref` and send it as a download; export_package logs `evidence.exported`
    with the web user as exporter before the package exists (chain of custody)."""
    from basira.compliance import signing
    from basira.compliance.evidence import PackageError, export_package
    from basira.compliance.evidence_data import SubjectError

    where = _safe_next(next)
    if not _REF.match(ref):
        return back(where, say(request, "Not exported — ref: %(ref)s is not case:ID, account:ID or community:N.",
                               ref=repr(ref[:60])))
    key_path = Settings.from_env().signing_key
    if not key_path:
        return back(where, say(request, NO_KEY))
    try:
        key = signing.load_private_key(key_path)
    except signing.SigningKeyError as exc:
        return back(where, say(request, "Not exported — BASIRA_SIGNING_KEY: %(why)s", why=str(exc)))
    tmp = Path(tempfile.mkdtemp(prefix="basira-evidence-"))
    name = f"evidence-{ref.replace(':', '-')}-{request.app.state.service.now():%Y%m%dT%H%M%SZ}.zip"
    try:
        r = export_package(request.app.state.service.store, ref, tmp / name, key, exporter=p.username,
                           now=request.app.state.service.now())
    except (SubjectError, PackageError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        with speaking(lang_of(request)):
            why = describe(exc)
        if ref.startswith("community:"):
            return back(where, say(request, "Not exported — %(why)s Open a case on this whole community first.",
                                   why=why))
        return back(where, say(request, "Not exported — %(why)s", why=why))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(r.path, media_type="application/zip", filename=name,
                        headers={"x-basira-manifest-sha256": r.manifest_sha256, "x-basira-event-id": str(r.event_id)},
                        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True))


router = APIRouter()  # what app.py includes: the pages (not in the OpenAPI schema) and the API twin
router.include_router(pages)
router.include_router(api_router)
