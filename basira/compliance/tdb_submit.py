"""Submit statements of reasons to the DSA Transparency Database's batch API (`POST /api/v1/statements`).

The API (digital-services-act/transparency-database, StatementMultipleAPIController): a Bearer token, a JSON
body `{"statements": [...]}` of 1 to 100 statements; 201 with `{"statements": [... each with its uuid ...]}`;
422 with `{"errors": {"statement_<n>": {field: [messages]}}}` when any statement is invalid (nothing of that
call is stored), or `{"message": ..., "errors": {"puid": [...], "existing_puids": [...]}}` when PUIDs are
already in the database. A PUID already there was sent before (a re-run): it is counted as already submitted and
the rest of its batch is sent again without it, so running the same period twice submits nothing twice. A
refused statement is reported (PUID and the database's messages) and the rest of its batch sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from basira.core.errors import BasiraError
from basira.core.i18n import N_

MAX_BATCH = 100  # the batch API's limit


class SubmitError(BasiraError):
    """The database could not be reached, refused the token, or answered something unexpected; `sent` so far
    is in the result attached."""

    kind = "upstream"

    def __init__(self, message: str, result: SubmitResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class SubmitResult:
    batches: int = 0
    accepted: int = 0
    already_submitted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {"puid", "errors"} per refused statement
    uuids: dict[str, str] = field(default_factory=dict)  # puid -> the database's uuid

    def as_dict(self) -> dict[str, Any]:
        return {"batches": self.batches, "accepted": self.accepted, "already_submitted": self.already_submitted,
                "rejected": self.rejected}


def submit_statements(
    url: str, token: str, statements: Sequence[dict[str, Any]], *, batch_size: int = MAX_BATCH,
    client: Any = None, timeout: float = 60.0,
) -> SubmitResult:
    """POST the statements to `url` in batches of at most `batch_size` (<= 100); see the module docstring."""
    import httpx

    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch size must be 1..{MAX_BATCH}, not {batch_size}")  # a caller's bug, not a refusal
    result = SubmitResult()
    own = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=False)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        for i in range(0, len(statements), batch_size):
            _send(http, url, headers, list(statements[i : i + batch_size]), result)
    finally:
        if own:
            http.close()
    return result


def _send(http: Any, url: str, headers: dict[str, str], batch: list[dict[str, Any]], result: SubmitResult) -> None:
    import httpx

    for _attempt in range(3):  # again only after dropping PUIDs already there, then statements refused
        if not batch:
            return
        try:
            r = http.post(url, json={"statements": batch}, headers=headers)
        except httpx.HTTPError as exc:
            raise SubmitError(f"{url}: {type(exc).__name__}: {exc}", result) from None  # the network's words: not templated
        result.batches += 1
        body = _json(r)
        if r.status_code in (200, 201):
            got = body.get("statements") if isinstance(body, dict) else None
            if not isinstance(got, list):
                raise _refused(N_("%(url)s: HTTP %(status)s without a statements list"), result, url=url, status=r.status_code)
            result.accepted += len(batch)
            for s in got:
                if isinstance(s, dict) and s.get("puid") and s.get("uuid"):
                    result.uuids[str(s["puid"])] = str(s["uuid"])
            return
        errors = body.get("errors") if isinstance(body, dict) else None
        if r.status_code == 422 and isinstance(errors, dict) and "existing_puids" in errors:
            there = {str(p) for p in errors.get("existing_puids") or []}
            keep = [s for s in batch if s.get("puid") not in there]
            if len(keep) == len(batch):  # duplicates within the call itself: our bug, not a re-run
                raise _refused(N_("%(url)s: PUIDs refused as not unique: %(puids)s"), result, url=url,
                               puids=sorted(there)[:5])
            result.already_submitted += len(batch) - len(keep)
            batch = keep
            continue
        if r.status_code == 422 and isinstance(errors, dict):
            bad = set()
            for key, fields in errors.items():
                n = int(key[10:]) if key.startswith("statement_") and key[10:].isdigit() else None
                if n is None or n >= len(batch):
                    raise _refused(N_("%(url)s: HTTP %(status)s: %(detail)s"), result, url=url, status=422, detail=body)
                bad.add(n)
                result.rejected.append({"puid": batch[n].get("puid"), "errors": fields})
            # the database stores nothing of a call with an invalid statement: send the others again
            batch = [s for n, s in enumerate(batch) if n not in bad]
            continue
        detail = body.get("message") if isinstance(body, dict) else r.text[:200]
        raise _refused(N_("%(url)s: HTTP %(status)s: %(detail)s"), result, url=url, status=r.status_code, detail=detail)
    if batch:
        raise _refused(N_("%(url)s: a batch was still refused after dropping what the database refused"), result, url=url)


def _refused(template: str, result: SubmitResult, **params: Any) -> SubmitError:
    return SubmitError(template % params, result).said(template, **params)


def _json(r: Any) -> Any:
    try:
        return r.json()
    except ValueError:  # httpx: the body is not JSON
        return None
