"""A post's media, fetched by Basira only when a reviewer reveals it.

The case page and an order's confirmation page render media blurred and with no `src` (a `data-src` naming a
route here), so opening a case fetches nothing: before, every `<img>` pointed at the post's own host (e.g.
pbs.twimg.com), and opening a case told an arbitrary server that a reviewer looked (IP address, time). When the
reviewer reveals one, the browser asks Basira, which fetches it through `basira.ingest.media_fetch` (http(s)
only, size and time caps, no private, loopback or reserved addresses, the BASIRA_HMA_FETCH_* host list and
egress proxy) and answers it from its own origin; the pages' CSP allows images and media from `'self'` (and
inline `data:` images) only. What is answered is a raster image or a video (checked by content type, or by its
first bytes when the host says nothing useful), under a CSP that sandboxes it should a reviewer open it alone.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, PlainTextResponse, Response
from starlette.background import BackgroundTask

from basira.core.settings import Settings
from basira.ingest.media_fetch import FetchError, FetchPolicy, fetch_media
from basira.web.security import Principal, require

__all__ = ["case_media_src", "router", "target_media_src"]

router = APIRouter(include_in_schema=False)
# The answer is media, never a document: opened on its own it runs nothing and loads nothing.
MEDIA_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"GIF87a", "image/gif"),
          (b"GIF89a", "image/gif"), (b"BM", "image/bmp"), (b"\x1a\x45\xdf\xa3", "video/webm"))


def case_media_src(case_id: int, index: int) -> str:
    """Where the case page's n-th media item is fetched from when revealed."""
    return f"/cases/{int(case_id)}/media/{int(index)}"


def target_media_src(order_id: int, target_id: int, index: int) -> str:
    """Where an order target's n-th media item is fetched from when revealed (the confirmation page)."""
    return f"/orders/{int(order_id)}/targets/{int(target_id)}/media/{int(index)}"


def _sniff(head: bytes) -> str | None:
    for magic, ctype in _MAGIC:
        if head.startswith(magic):
            return ctype
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "image/avif" if head[8:12] in (b"avif", b"avis") else "video/mp4"
    return None


def _media_type(declared: str, path: Any) -> str | None:
    """The content type to answer with: a declared image (not SVG, a document) or video, else what the first
    bytes say; None when it is neither."""
    if declared.startswith("video/") or (declared.startswith("image/") and "svg" not in declared):
        return declared
    with open(path, "rb") as fh:
        return _sniff(fh.read(16))


def _proxied(url: str | None) -> Response:
    if not url or not url.startswith(("https://", "http://")):
        raise HTTPException(404, "no fetchable media here")  # a data: image is inline; anything else is not loaded
    try:
        got = fetch_media(url, FetchPolicy.from_settings(Settings()))
    except FetchError as exc:
        return PlainTextResponse(str(exc), status_code=413 if exc.status == 413 else 502,
                                 headers={"content-security-policy": MEDIA_CSP})
    ctype = _media_type(got.content_type, got.path)
    if ctype is None:
        got.cleanup()
        return PlainTextResponse(f"not an image or a video (content type {got.content_type!r})", status_code=502,
                                 headers={"content-security-policy": MEDIA_CSP})
    return FileResponse(got.path, media_type=ctype, background=BackgroundTask(got.cleanup),
                        headers={"content-security-policy": MEDIA_CSP, "content-disposition": "inline",
                                 "cache-control": "private, no-store"})


@router.get("/cases/{case_id}/media/{index}")
def case_media(request: Request, case_id: int, index: int,
               p: Annotated[Principal, Depends(require("view_case"))]) -> Response:
    """The case post's `index`-th media item (by position), fetched now through Basira."""
    detail = request.app.state.service.case(case_id)
    if detail is None or not 0 <= index < len(detail.media):
        raise HTTPException(404, f"no media {index} on case {case_id}")
    return _proxied(detail.media[index].get("url"))


@router.get("/orders/{order_id}/targets/{target_id}/media/{index}")
def target_media(request: Request, order_id: int, target_id: int, index: int,
                 p: Annotated[Principal, Depends(require("manage_orders"))]) -> Response:
    """An order target's `index`-th media item, as the confirmation page lists it, fetched now through Basira."""
    from basira.web.compliance_api import compliance

    found = [x for x in compliance(request).repo.target_previews(order_id) if x.id == target_id]
    if not found or not 0 <= index < len(found[0].media):
        raise HTTPException(404, f"no media {index} on target {target_id} of order {order_id}")
    return _proxied(found[0].media[index].url)
