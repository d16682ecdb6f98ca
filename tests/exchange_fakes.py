"""Local fake servers speaking the exchanges' documented protocols (port 0), for the live-sync tests.

- TAT hash list v2: POST /token-auth/tcap/ (username, password -> {token, user}); GET /api/hash-list/v2/all with
  `Authorization: Bearer <token>`, `limit`/`offset` paging, `order`, `after=<updated_on>,<id>`; pages
  `{count, next, previous, checkpoint, results}`.
- ThreatExchange Graph API: GET /<privacy group>/threat_updates/?access_token&start_time&limit&fields (pages with
  `paging.next`), POST /<descriptor id>/?access_token&reactions=<REACTION> -> {"success": true}.

Everything they hold is synthetic (digests of made-up strings).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class _Handler(BaseHTTPRequestHandler):
    fake: Any = None

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, list[str]]:
        n = int(self.headers.get("Content-Length") or 0)
        return parse_qs(self.rfile.read(n).decode()) if n else {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        self.fake.requests.append(("GET", parts.path, parse_qs(parts.query), dict(self.headers)))
        self._send(*self.fake.get(parts.path, parse_qs(parts.query), self.headers))

    def do_POST(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        body = self._body()
        self.fake.requests.append(("POST", parts.path, {**parse_qs(parts.query), **body}, dict(self.headers)))
        self._send(*self.fake.post(parts.path, {**parse_qs(parts.query), **body}, self.headers))


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]], dict[str, str]]] = []
        handler = type("H", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def get(self, path: str, q: dict[str, list[str]], headers: Any) -> tuple[int, Any]:
        return 404, {"error": "not found"}

    def post(self, path: str, q: dict[str, list[str]], headers: Any) -> tuple[int, Any]:
        return 404, {"error": "not found"}


def _one(q: dict[str, list[str]], key: str, default: str = "") -> str:
    return (q.get(key) or [default])[0]


class FakeTat(FakeServer):
    PAGE = 2

    def __init__(self, username: str = "tcap-user", password: str = "tcap-pass") -> None:
        super().__init__()
        self.users = {username: password}
        self.tokens: set[str] = set()
        self.records: list[dict[str, Any]] = []

    def post(self, path: str, q: dict[str, list[str]], headers: Any) -> tuple[int, Any]:
        if path.rstrip("/") != "/token-auth/tcap":
            return 404, {"error": "not found"}
        user, pw = _one(q, "username"), _one(q, "password")
        if self.users.get(user) != pw or not pw:
            return 400, {"error": "Unable to log in with provided credentials."}
        token = f"jwt-{len(self.tokens) + 1}"
        self.tokens.add(token)
        return 200, {"token": token, "user": {"username": user}}

    def get(self, path: str, q: dict[str, list[str]], headers: Any) -> tuple[int, Any]:
        if path.rstrip("/") not in ("/api/hash-list/v2/all", "/hash-list/v2/all"):
            return 404, {"error": "not found"}
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return 401, {"error": "Authentication credentials were not provided."}
        rows = sorted(self.records, key=lambda r: (r["updated_on"], r["id"]))
        after = _one(q, "after")
        if after:
            ts, _, rid = after.partition(",")
            rows = [r for r in rows if (r["updated_on"], r["id"]) > (float(ts), int(rid or 0))]
        offset = int(_one(q, "offset", "0") or 0)
        page = rows[offset : offset + self.PAGE]
        more = offset + self.PAGE < len(rows)
        nxt = f"{self.base}/api/hash-list/v2/all?limit={self.PAGE}&offset={offset + self.PAGE}" if more else None
        last = page[-1] if page else None
        return 200, {"count": len(rows), "next": nxt, "previous": None,
                     "checkpoint": f"{last['updated_on']},{last['id']}" if last else after, "results": page}


class FakeThreatExchange(FakeServer):
    PAGE = 2

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.groups: dict[int, list[dict[str, Any]]] = {}
        self.reactions: list[tuple[int, str]] = []

    def get(self, path: str, q: dict[str, list[str]], headers: Any) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if len(parts) != 2 or parts[1] != "threat_updates" or not parts[0].isdigit():
            return 404, {"error": {"message": "Unknown path"}}
        if _one(q, "access_token") != self.token:
            return 400, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException"}}
        pg = int(parts[0])
        if pg not in self.groups:
            return 400, {"error": {"message": f"Unsupported get request. Object with ID '{pg}' does not exist"}}
        rows = sorted(self.groups[pg], key=lambda r: (r["last_updated"], r["id"]))
        start = _one(q, "start_time")
        if start:
            rows = [r for r in rows if r["last_updated"] >= int(start)]
        offset = int(_one(q, "after", "0") or 0)
        page = rows[offset : offset + min(self.PAGE, int(_one(q, "limit", "100") or 100))]
        out: dict[str, Any] = {"data": page, "paging": {}}
        if offset + len(page) < len(rows):
            out["paging"]["next"] = (f"{self.base}/{pg}/threat_updates/?access_token={self.token}"
                                     f"&start_time={start}&limit={_one(q, 'limit')}&after={offset + len(page)}")
        return 200, out

    def post(self, path: str, q: dict[str, list[str]], headers: Any) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if len(parts) != 1 or not parts[0].isdigit():
            return 404, {"error": {"message": "Unknown path"}}
        if _one(q, "access_token") != self.token:
            return 400, {"error": {"message": "Invalid OAuth access token."}}
        reaction = _one(q, "reactions")
        if reaction not in ("HELPFUL", "NOT_HELPFUL", "OUTDATED", "SAW_THIS_TOO", "WANT_MORE_INFO",
                            "DISAGREE_WITH_TAGS"):
            return 400, {"error": {"message": f"Invalid reaction {reaction!r}"}}
        self.reactions.append((int(parts[0]), reaction))
        return 200, {"success": True}


def te_update(id_: int, type_: str, indicator: str, last_updated: int, *, descriptors: list[dict] | None = None,
              should_delete: bool = False) -> dict[str, Any]:
    """A /threat_updates record as the Graph API returns it (descriptors only when live)."""
    rec: dict[str, Any] = {"id": str(id_), "indicator": indicator, "type": type_, "last_updated": last_updated,
                           "should_delete": should_delete}
    if descriptors is not None:
        rec["descriptors"] = {"data": descriptors}
    return rec


def te_descriptor(id_: int, owner: int, status: str = "MALICIOUS", tags: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"id": str(id_), "owner": {"id": str(owner)}, "status": status, "tags": list(tags), "reactions": []}
