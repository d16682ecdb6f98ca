"""One error body for the whole API, and its place in the OpenAPI schema.

Every error answer under /api/ is `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}` — the shape FastAPI
gives validation errors (422), used for every status: `loc` names the offending field (empty when the error is
about the request as a whole), `msg` says what is wrong, `type` is a stable machine-readable kind
(`not_authenticated`, `forbidden`, `not_found`, `conflict`, `invalid`, … or pydantic's own for 422). The schema
declares 400/401/403/404/409/422/429 on every operation with that body (docs/review.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from basira.core.errors import BasiraError
from basira.core.i18n import DEFAULT, N_, current, gettext

ERROR_TYPES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid", 429: "too_many_requests", 500: "internal", 503: "unavailable"}
DECLARED = (400, 401, 403, 404, 409, 422, 429)
DESCRIPTIONS = {400: "Bad request", 401: "Not authenticated (a session cookie or `Authorization: Bearer TOKEN`)",
                403: "Forbidden for this role, or a missing CSRF token", 404: "Not found",
                409: "Conflict with the current state", 422: "Invalid input", 429: "Too many requests"}


def error_items(status: int, detail: Any) -> list[dict[str, Any]]:
    """Any HTTPException detail (a string, a {field, reason} mapping, or a list already shaped) as error items."""
    kind = ERROR_TYPES.get(status, "error")
    if isinstance(detail, list) and all(isinstance(d, dict) and "msg" in d for d in detail):
        return [{"loc": list(d.get("loc") or []), "msg": str(d["msg"]), "type": str(d.get("type") or kind)}
                for d in detail]
    if isinstance(detail, dict) and "reason" in detail:
        loc = ["body", str(detail["field"])] if detail.get("field") else []
        return [{"loc": loc, "msg": str(detail["reason"]), "type": kind}]
    return [{"loc": [], "msg": str(detail if detail is not None else kind.replace("_", " ")), "type": kind}]


def validation_items(errors: Any) -> list[dict[str, Any]]:
    """Pydantic's validation errors, reduced to loc/msg/type (no echo of the input), `msg` in the current
    language. What one of our validators refused (pydantic's `value_error`, "Value error, ..." in its `msg`) says
    our message, without pydantic's prefix: the refusal's own (describe), from its template when it has one."""
    return [{"loc": [x if isinstance(x, int) else str(x) for x in e.get("loc", ())], "msg": _validation_msg(e),
             "type": str(e.get("type", "invalid"))} for e in errors]


def _validation_msg(e: Any) -> str:
    cause = (e.get("ctx") or {}).get("error") if e.get("type") == "value_error" else None
    if isinstance(cause, BaseException):
        # a validator that turned a BasiraError into the ValueError pydantic wants keeps it as the cause
        return describe(cause.__cause__ if isinstance(cause.__cause__, BasiraError) else cause)
    return localise(str(e.get("msg", "")))


def body(status: int, detail: Any) -> dict[str, Any]:
    return {"detail": error_items(status, detail)}


def message(items: list[dict[str, Any]]) -> str:
    """Error items as one line for the HTML error page."""
    return "; ".join(f"{'.'.join(map(str, i['loc']))}: {i['msg']}" if i["loc"] else i["msg"] for i in items)


ERROR_SCHEMA = {
    "title": "Error", "type": "object", "required": ["detail"],
    "properties": {"detail": {"title": "Detail", "type": "array", "items": {
        "title": "ErrorItem", "type": "object", "required": ["loc", "msg", "type"],
        "properties": {"loc": {"title": "Location", "type": "array",
                               "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                       "msg": {"title": "Message", "type": "string"},
                       "type": {"title": "Error Type", "type": "string"}}}}},
}


MESSAGE_SCHEMA = {"title": "HMAError", "type": "object", "required": ["message"],
                  "properties": {"message": {"title": "Message", "type": "string"}}}


def install_openapi(app: FastAPI, other: tuple[Callable[[str], bool], str, dict[str, Any]] | None = None) -> None:
    """Declare the error responses on every operation of the schema (whoever added the route). `other`:
    (path predicate, schema name, schema) for paths whose errors have another body (the HMA-compatible API)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        if other is not None:
            schema["components"]["schemas"][other[1]] = other[2]
        for path, ops in schema.get("paths", {}).items():
            shape = ref
            if other is not None and other[0](path):
                shape = {"application/json": {"schema": {"$ref": f"#/components/schemas/{other[1]}"}}}
            for op in ops.values():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                for code in DECLARED:
                    op["responses"][str(code)] = {"description": DESCRIPTIONS[code], "content": shape}
        schemas = schema["components"]["schemas"]
        if not any("HTTPValidationError" in str(op) for ops in schema.get("paths", {}).values() for op in ops.values()):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# --- messages in the reader's language ---------------------------------------------------------------------------
# What Basira refuses is said in English where it is raised (the CLI and the logs read that); the pages and the
# API's `msg` give it in the reader's language. An error raised with a template (BasiraError.said) is translated
# from it; the rest are matched against the English templates below — one per message the review, compliance and
# web layers raise — and translated from the template with the fields it matched. A field that is itself a word
# of the interface (a status, a stage, a role) or another known message is translated too; anything unmatched
# stays as it is (English), never lost. `type` (the kind) is the same in every language.
REFUSALS = (
    # review: the decision state machine (basira/review/decisions.py), its repository and service
    N_("case %(case)s is %(status)s: nothing to claim"),
    N_("case %(case)s is claimed by another reviewer"),
    N_("case %(case)s is %(status)s: no decision is pending"),
    N_("a %(role)s may not decide at the %(stage)s stage"),
    N_("an %(role)s may not decide at the %(stage)s stage"),
    N_("%(action)s is not a decision at the %(stage)s stage (one of %(actions)s)"),
    N_("unknown policy reason"),
    N_("that policy reason does not back %(action)s"),
    N_("an appeal must be decided by a reviewer who did not decide the case"),
    N_("case %(case)s already has a %(stage)s decision"),
    N_("no decision %(decision)s on case %(case)s"),
    N_("that decision was already undone"),
    N_("only the reviewer who made a decision may undo it"),
    N_("the undo window has closed; the decision is final"),
    N_("a later decision depends on this one"),
    N_("this case has already been appealed"),
    N_("case %(case)s is %(status)s: there is no decision to appeal"),
    N_("there is no decision to appeal"),
    N_("the decision is not final yet (undo window still open)"),
    N_("a %(action)s decision cannot be appealed"),
    N_("case %(case)s is %(status)s"),
    N_("no case %(case)s"),
    N_("no decision %(decision)s"),
    N_("a newer case is open on the same subject; cannot reopen"),
    N_("user %(user)s already exists"),
    N_("you cannot disable yourself; ask another admin"),
    N_("%(user)s is the last active admin; add or enable another admin first"),
    N_("no user %(user)s"),
    N_("no active user %(user)s"),
    N_("usernames are 1–64 letters, digits, '.', '-' or '_'"),
    N_("a saved filter needs a name"),
    N_("only content being removed can be added to a bank"),
    N_("an appeal needs the owner's statement"),
    N_("no open group %(group)s"),
    N_("unknown role %(role)s; one of: %(roles)s"),
    N_("passwords need at least %(n)s characters"),
    # banks (basira/banks/): a reviewer's "add to bank", the banks page
    N_("bank %(bank)s already exists"),
    N_("no bank named %(bank)s"),
    N_("no bank item %(item)s"),
    N_("bank %(bank)s has recorded matches (evidence for cases): not deleted"),
    N_("bank %(bank)s is an allow-list: removed content cannot go in it"),
    # compliance: removal orders, preservation, complaints (basira/compliance/repository.py, service.py, orders.py)
    N_("no removal order %(order)s"),
    N_("no complaint %(complaint)s"),
    N_("no preserved item %(item)s"),
    N_("removal order %(order)s is %(status)s, not open"),
    N_("none of the order's targets is on the service; reject the order with the reason (art. 3(7)/(8)) instead"),
    N_("case %(case)s already has a live order decision"),
    N_("status must be rejected or withdrawn"),
    N_("a reason is required"),
    N_("preserved item %(item)s was purged; nothing left to hold"),
    N_("a complaint is about one removal order or one case"),
    N_("a complaint needs the complainant and the grounds"),
    N_("removal order %(order)s is %(status)s: nothing was removed"),
    N_("post %(post)s was not removed under order %(order)s"),
    N_("case %(case)s has no live removal to complain about"),
    N_("a decision on a complaint needs its reasons"),
    N_("complaint %(complaint)s is already %(status)s"),
    N_("order %(ref)s from %(authority)s was already received"),
    N_("Not stored — %(field)s: %(reason)s"),
    N_("Not stored — %(reason)s"),
    N_("not an ISO-8601 time: %(value)s"),
    N_("must be an ISO-8601 time such as 2026-11-29T08:00:00Z"),
    N_("needs a UTC offset (e.g. Z or +01:00)"),
    N_("time out of range (years 1-9999) once in UTC: %(value)s"),
    N_("missing"),
    N_("must be a string"),
    N_("longer than %(limit)s characters"),
    N_("must be one line: control character %(char)s at position %(pos)s"),
    N_("contains a NUL character"),
    N_("item %(n)s must be a non-empty string"),
    N_("must be a list of URLs or ids"),
    N_("names no content"),
    N_("more than %(n)s targets in one order"),
    N_("an order must be an object"),
    N_("missing (the authority's reference of the order)"),
    N_("letters, digits, '.', '_' or '-' only"),
    N_("is in the future"),
    N_("%(target)s: contains a control character"),
    N_("%(target)s: a URL without a host"),
    N_("%(target)s: only http(s) URLs"),
    N_("%(target)s: expected an http(s) URL, post:PLATFORM:ID, account:PLATFORM:ID or PLATFORM:ID"),
    N_("no statement for removal order %(order)s (not executed or rejected yet)"),
    N_("the %(role)s role may not %(action)s"),
    N_("a legal hold needs a reason (the authority or court and its request)"),
    N_("a legal hold must end in the future"),
    N_("decision %(decision)s (%(action)s) restricts nothing: no statement of reasons is due"),
    # evidence subjects (basira/compliance/evidence_data.py)
    N_("account:%(spec)s: %(n)s accounts have that handle; name one as account:PLATFORM/EXTERNAL_ID or by its id"),
    N_("account:%(spec)s: give an id, @handle or PLATFORM/EXTERNAL_ID"),
    N_("account:%(spec)s: no such account"),
    N_("%(ref)s: expected case:ID, account:ID|@HANDLE|PLATFORM/EXTERNAL_ID or community:N"),
    N_("%(ref)s: a case id is a number"),
    N_("%(ref)s: no such case"),
    N_("%(ref)s: a community is named by its number (see `basira network communities`)"),
    N_("%(ref)s: no community case for community %(n)s; open one with `basira network communities --open-cases RISK`"),
    # the web app itself
    N_("missing or bad CSRF token"),
    N_("cross-origin request refused"),
    N_("forbidden for role %(role)s"),
    N_("not authenticated"),
    N_("no post text for case %(case)s"),
    N_("%(name)s: not a date (YYYY-MM-DD) or ISO time: %(value)s"),
    N_("only failed deliveries can be retried"),
    N_("no account %(account)s"),
    N_("no account %(account)s in the current analysis"),
    N_("no community %(community)s in the current analysis"),
    N_("unknown export format %(fmt)s; gexf or graphml"),
    N_("a value is out of the range the database can store"),
    # the request guards and the content and match APIs' limits (basira/web/guards.py, content_api.py, match_api.py)
    N_("NUL characters are not allowed"),
    N_("must be between %(min)s and %(max)s"),
    N_("over %(rate)s items/s (BASIRA_INTAKE_RATE); retry in %(wait)s s"),
    N_("request body over %(limit)s bytes (BASIRA_INTAKE_MAX_BYTES)"),
    N_("not JSON: %(error)s"),
    N_("must be a list"),
    N_("no items"),
    N_("at most %(n)s items per request, not %(count)s"),
    N_("at most %(n)s queries per request, not %(count)s"),
    N_("give at least one of text, pdq, md5, sha256, url, vpdq"),
    # times (basira/core/time.py parse_time): the reason inside a field error
    N_("expected a time, got a boolean"),
    N_("expected an ISO 8601 time or Unix seconds"),
    N_("not a time: %(value)s"),
    N_("not an ISO 8601 time: %(value)s"),
    N_("time out of range (years 1-9999): %(value)s"),
    N_("a number of thousands of digits"),
    # cases: the one subject check (basira/cases/intake.py)
    N_("source must be one of %(known)s, not %(value)s"),
    N_("subject_kind must be %(kinds)s for a %(source)s finding, not %(value)s"),
    # the policy catalogue (basira/review/policy.py)
    N_("%(where)s: missing code"),
    N_("%(where)s: duplicate code %(code)s"),
    N_("%(where)s (%(code)s): actions must be some of %(known)s, got %(actions)s"),
    N_("%(source)s: no reason backs the action(s) %(actions)s"),
    # signals and bank files (basira/signals/)
    N_("signal type %(type)s does not hash files"),
    N_("signal type %(type)s does not hash text"),
    N_("unknown signal type %(name)s (known: %(known)s)"),
    N_("pdq_decode must be one of %(known)s, not %(value)s"),
    N_("enabled_ratio must be within 0..1, not %(value)s"),
    N_("opinion must be one of %(known)s, not %(value)s"),
    N_("text is empty after normalization: nothing to hash"),
    N_("not a text MinHash (%(n)s hex characters): %(signal)s"),
    N_("%(path)s: not a UTF-8 text file (%(error)s)"),
    N_("empty raw_text"),
    N_("raw_text longer than %(limit)s characters (%(n)s)"),
    N_("%(path)s: cannot read (%(error)s)"),
    N_("not a %(type)s hash (%(n)s hex characters): %(signal)s"),
    N_("empty URL"),
    N_("not a URL: %(url)s"),
    N_("URL has no host: %(url)s"),
    N_("%(path)s: not an image PDQ can hash (%(error)s)"),
    N_("%(path)s: PDQ quality %(quality)s < %(min)s (image too flat to hash)"),
    N_("not a vPDQ signal (JSON list of 'pdq,quality,timestamp'): %(signal)s"),
    N_("vPDQ signal has no frames"),
    N_("vPDQ hashing needs the vpdq package (and FFmpeg's libraries)"),
    N_("%(path)s: no such file"),
    N_("%(path)s: not a video vPDQ can hash (%(error)s)"),
    N_("%(path)s: no video frames"),
    N_("unknown bank format %(name)s (known: %(known)s)"),
    N_("bad time %(value)s: %(error)s"),
    # live exchanges and partner files (basira/signals/partners/)
    N_("tat: set BASIRA_TAT_USERNAME and BASIRA_TAT_PASSWORD (a TCAP hash-list account)"),
    N_("%(source)s: expected threatexchange:<privacy group id>"),
    N_("threatexchange: set BASIRA_TE_TOKEN (a ThreatExchange app token, '<app id>|<secret>')"),
    N_("%(source)s: not a live exchange (tat, threatexchange:<privacy group id>)"),
    N_("tat: the TAT hash list API takes no opinions back (it is read-only)"),
    N_("threatexchange: BASIRA_TE_TOKEN is not an app token ('<app id>|<secret>')"),
    N_("reaction must be one of %(known)s, not %(value)s"),
    N_("%(source)s: the item has no ThreatExchange descriptor to react to"),
    N_("not a STIX 2.1 bundle: line %(line)s: %(error)s"),
    N_("not a STIX 2.1 bundle (type %(type)s)"),
    N_("page %(page)s: no 'results' list"),
    N_("%(where)s: not an object"),
    N_("line %(line)s: not JSON (%(error)s)"),
    N_("line %(line)s: expected '<signal_type> <signal>', got %(value)s"),
    # a bank file's line (basira.signals.exchange.BankFileError): the reasons inside its file:line: field form
    N_("expected '<signal_type> <signal>', got %(value)s"),
    N_("expected a JSON object (one item per line)"),
    N_("must be a JSON object"),
    # evidence packages, signing keys, the Transparency Database (basira/compliance/evidence.py, signing.py,
    # tdb_submit.py)
    N_("%(path)s: already exists (evidence packages are never overwritten)"),
    N_("%(path)s: no such file or directory"),
    N_("%(path)s: expands to more than %(n)s GiB; not read"),
    N_("%(path)s: the zip holds %(name)s twice"),
    N_("%(path)s: not a zip file or directory (%(error)s)"),
    N_("%(path)s: a key pair already exists there (refusing to overwrite it)"),
    N_("%(path)s: cannot read the signing key (%(error)s)"),
    N_("%(path)s: not a PEM private key (%(error)s)"),
    N_("%(path)s: not an Ed25519 key"),
    N_("%(path)s: not a PEM public key (%(error)s)"),
    N_("%(path)s: not an Ed25519 public key"),
    N_("%(path)s: cannot read the public key (%(error)s)"),
    N_("%(url)s: HTTP %(status)s without a statements list"),
    N_("%(url)s: PUIDs refused as not unique: %(puids)s"),
    N_("%(url)s: HTTP %(status)s: %(detail)s"),
    N_("%(url)s: a batch was still refused after dropping what the database refused"),
    # order files (basira/compliance/order_file.py): the reason of its file:line: field error
    N_("cannot open: %(error)s"),
    N_("larger than %(n)s MB"),
    N_("invalid UTF-8 at byte %(n)s"),
    N_("unknown format: use .jsonl, .json or .csv"),
    N_("no orders in the file"),
    N_("the same order as line %(line)s"),
    N_("invalid JSON: %(error)s (column %(column)s)"),
    N_("expected a JSON object (one order per line)"),
    N_("expected a JSON array of orders or {\"orders\": [...]}"),
    N_("expected a JSON object for each order"),
    N_("expected ',' or ']' between orders"),
    N_("unterminated JSON array"),
    N_("no header row"),
    N_("missing column"),
    N_("more cells than the %(n)s columns of the header"),
    N_("bad CSV: %(error)s"),
    N_("Not Found"), N_("Method Not Allowed"), N_("not found"), N_("forbidden"), N_("conflict"), N_("bad request"),
    N_("too many requests"), N_("internal"), N_("unavailable"),
)
# Said from their templates only (BasiraError.said), never matched against English text: each would match any
# "something: something" — basira.signals.exchange.BankFileError's file:line: field form around a reason.
WRAPPERS = (
    N_("%(where)s: field %(field)s: %(reason)s"),
    N_("%(where)s: %(reason)s"),
    N_("line %(line)s: field %(field)s: %(reason)s"),
    N_("line %(line)s: %(reason)s"),
)
_FIELD = re.compile(r"%\((\w+)\)s")


def _pattern(template: str) -> re.Pattern[str]:
    parts, last = [], 0
    for m in _FIELD.finditer(template):
        parts += [re.escape(template[last:m.start()]), f"(?P<{m.group(1)}>.+?)"]
        last = m.end()
    return re.compile("".join([*parts, re.escape(template[last:])]) + r"\Z", re.S)


# Most literal text first, so "no account 5 in the current analysis" is not read as "no account %(account)s".
_PATTERNS = sorted(((t, _pattern(t)) for t in REFUSALS), key=lambda tp: -len(_FIELD.sub("", tp[0])))


def localise(text: str, depth: int = 0) -> str:
    """An English message Basira raised, in the current language (basira.core.i18n): translated from its
    template with the fields it matched (those translated too when they are words or messages); else as it is."""
    from basira.web.i18n import WORDS

    if not text or current() == DEFAULT:
        return text
    if text in WORDS:
        return gettext(text)
    if len(text) > 2 and text[0] == text[-1] == "'" and text[1:-1] in WORDS:  # a quoted action: 'remove'
        return f"«{gettext(text[1:-1])}»"
    for template, pattern in _PATTERNS:
        m = pattern.match(text)
        if m:
            fields = {k: localise(v, depth + 1) if depth < 2 else v for k, v in m.groupdict().items()}
            return gettext(template, **fields)
    return text


def describe(exc: BaseException) -> str:
    """What a refusal says, in the current language: from its template when it has one (BasiraError.said)."""
    template = getattr(exc, "template", None)
    if template:
        return gettext(template, **{k: localise(str(v), 1) for k, v in getattr(exc, "params", {}).items()})
    return localise(str(exc))


def localised_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Error items with `msg` in the current language; `loc` and `type` unchanged (the machine's part)."""
    return [{**i, "msg": localise(i["msg"])} for i in items]
