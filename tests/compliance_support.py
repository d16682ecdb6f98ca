"""Helpers for the compliance tests: a movable clock, a local HTTP receiver and a local SMTP server, users."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from basira.review.auth import hash_password
from basira.review.repository import ReviewRepo

HASH = hash_password("a long enough password")  # once: argon2 is deliberately slow
T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, t: datetime = T0) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


class Receiver:
    """HTTP on 127.0.0.1 that records each POSTed JSON body with its headers; answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status, self.got = status, []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append((dict(self.headers), json.loads(body)))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self, type_: str | None = None) -> list[dict]:
        return [b for _, b in self.got if type_ is None or b.get("type") == type_ or b.get("action") == type_]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """A local SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        outer = self
        self.messages = []

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                outer.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
                return "250 OK"

        with socket.socket() as s:  # a free port (aiosmtpd cannot be asked for port 0)
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


def add_users(store) -> dict[str, int]:
    repo = ReviewRepo(store)
    return {name: repo.add_user(name, HASH, role) for name, role in
            (("lena", "legal"), ("alice", "reviewer"), ("admin", "admin"), ("owner", "platform"))}
