"""The hash banks page: every bank with its size, and banking a known text by pasting the text itself (its
MinHash is computed here, never typed by hand). Everything else about banks is in the CLI and the APIs
(docs/hash-matching.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from basira.web.security import Principal, require

router = APIRouter(include_in_schema=False)
MAX_TEXT = 20_000


@router.get("/banks")
def banks_page(request: Request, p: Annotated[Principal, Depends(require("manage_banks"))]) -> Response:
    from basira import banks
    from basira.web.pages import render

    return render(request, "banks.html", banks=banks.list_banks(request.app.state.service.store))


@router.post("/banks/{name}/text")
def bank_text(request: Request, name: str, p: Annotated[Principal, Depends(require("manage_banks"))],
              text: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    from basira import banks
    from basira.signals.base import SignalError
    from basira.signals.text import minhash_hex, minhash_values
    from basira.web.pages import back, say

    store = request.app.state.service.store
    if banks.get_bank(store, name) is None:
        return back("/banks", say(request, "No bank %(name)s.", name=repr(name)))
    if not text.strip():
        return back("/banks", say(request, "Paste the text to bank."))
    try:
        signal = minhash_hex(minhash_values(text[:MAX_TEXT]))
    except SignalError as exc:
        return back("/banks", say(request, "Not banked: %(why)s", why=exc))
    with store.transaction() as tx:
        content, ids = banks.add_content(tx, name, {"text_minhash": signal}, source="web", actor=p.username,
                                         note=(note or "").strip()[:500] or None)
    return back("/banks", say(request, "Text banked in %(name)s (item %(id)s); later scans match its copies.",
                                name=name, id=ids["text_minhash"]))
