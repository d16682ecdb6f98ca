"""Deadline alerts and statements out: a JSON webhook (HMAC-signed like the action webhooks, when a secret is
set) and e-mail through a configured SMTP server. Settings come from the environment (docs/compliance.md):

    BASIRA_ALERT_WEBHOOK_URL, BASIRA_ALERT_WEBHOOK_SECRET       webhook channel
    BASIRA_SMTP_HOST, BASIRA_SMTP_PORT (25), BASIRA_SMTP_FROM,  e-mail channel (alerts go to BASIRA_ALERT_EMAIL_TO,
    BASIRA_ALERT_EMAIL_TO (comma-separated), BASIRA_SMTP_USER,  statements to the order's contact address)
    BASIRA_SMTP_PASSWORD, BASIRA_SMTP_STARTTLS (1/0)
"""

from __future__ import annotations

import email.errors
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import httpx

from basira.compliance.orders import one_line
from basira.core.i18n import N_, gettext, ngettext, speaking
from basira.core.settings import Settings
from basira.core.time import utcnow
from basira.review import webhooks
from basira.store import canonical_json


@dataclass(frozen=True)
class AlertSettings:
    webhook_url: str | None = None
    webhook_secret: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    email_to: tuple[str, ...] = ()
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    timeout: float = 10.0
    lang: str | None = None  # the language of the e-mail (its readers', BASIRA_ALERT_LANG); webhooks stay JSON

    @classmethod
    def from_settings(cls, s: Settings, **overrides: Any) -> AlertSettings:
        a = cls(webhook_url=s.alert_webhook_url, webhook_secret=s.alert_webhook_secret, smtp_host=s.smtp_host,
                smtp_port=s.smtp_port, smtp_from=s.smtp_from, email_to=s.alert_email_to, smtp_user=s.smtp_user,
                smtp_password=s.smtp_password, smtp_starttls=s.smtp_starttls, lang=s.alert_lang)
        return replace(a, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_env(cls, **overrides: Any) -> AlertSettings:
        return cls.from_settings(Settings.from_env(), **overrides)

    @property
    def smtp_ready(self) -> bool:
        return bool(self.smtp_host and self.smtp_from)

    def channels(self) -> tuple[str, ...]:
        """The alert channels configured: 'webhook' and/or 'email'."""
        out = []
        if self.webhook_url:
            out.append("webhook")
        if self.smtp_ready and self.email_to:
            out.append("email")
        return tuple(out)


class AlertSender:
    """Sends one message on one channel; returns (delivered, error). Never raises on a delivery failure."""

    def __init__(self, settings: AlertSettings, client: httpx.Client | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._clock = clock
        self.settings = settings
        self._client = client

    def send(self, channel: str, message: dict[str, Any]) -> tuple[bool, str | None]:
        if channel == "webhook":
            return self.post(message)
        if channel == "email":
            with speaking(self.settings.lang):
                subject, text = email_headline(message), render_text(message)
            return self.email(list(self.settings.email_to), subject, text)
        return False, f"unknown channel {channel!r}"

    def post(self, message: dict[str, Any]) -> tuple[bool, str | None]:
        s = self.settings
        if not s.webhook_url:
            return False, "no alert webhook configured"
        body = canonical_json(message)
        headers = {"Content-Type": "application/json", "User-Agent": "basira-alerts/1"}
        if s.webhook_secret:
            headers["X-Basira-Signature"] = webhooks.sign(s.webhook_secret, body, int(self._clock().timestamp()))
        if self._client is None:  # kept open: a tick may send hundreds of alerts
            self._client = httpx.Client(timeout=s.timeout)
        try:
            r = self._client.post(s.webhook_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}: {exc}"[:500]
        return (True, None) if 200 <= r.status_code < 300 else (False, f"HTTP {r.status_code}")

    def email(self, to: list[str], subject: str, text: str) -> tuple[bool, str | None]:
        s = self.settings
        if not s.smtp_ready:
            return False, "no SMTP server configured (BASIRA_SMTP_HOST, BASIRA_SMTP_FROM)"
        if not to:
            return False, "no recipient"
        bad = [a for a in to if not valid_address(a)]
        if bad:  # a newline in an address is header injection: refused, never sent
            return False, f"invalid recipient address {one_line(bad[0])[:100]!r}"
        try:
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = s.smtp_from, ", ".join(to), one_line(subject)[:200]
            msg.set_content(text)
        except (ValueError, TypeError, email.errors.MessageError) as exc:
            return False, f"message refused: {type(exc).__name__}: {one_line(str(exc))}"[:500]
        try:
            with smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=s.timeout) as smtp:  # smtp_ready: set
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password or "")
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            return False, f"{type(exc).__name__}: {exc}"[:500]
        return True, None


_ADDRESS = re.compile(r"^[^\s@<>()\[\],;:\"\\]+@[^\s@<>()\[\],;:\"\\]+$")


def valid_address(address: str) -> bool:
    """A bare mailbox `local@domain`, no display name, no whitespace or control character."""
    return bool(_ADDRESS.match(address or "")) and not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in address)


# The e-mail's labels for the alert's fields, in the reader's language (the JSON keys stay as they are).
FIELD_LABELS = {"type": N_("Type"), "order_id": N_("Order id"), "order_ref": N_("Order reference"),
                "authority": N_("Authority"), "threshold_minutes": N_("Minutes left"), "received_at": N_("Received"),
                "deadline_at": N_("Deadline"), "time_left": N_("Time left"), "targets": N_("Targets")}


def email_headline(message: dict[str, Any]) -> str:
    """The subject line, in the current language (basira.core.i18n): an alert's own words, else its headline."""
    if message.get("type") != "basira.removal_order_alert":
        return str(message.get("headline", ""))
    t = message.get("threshold_minutes")
    if t:
        return ngettext("Removal order %(ref)s from %(authority)s: %(num)s minute left",
                        "Removal order %(ref)s from %(authority)s: %(num)s minutes left", int(t),
                        ref=message.get("order_ref"), authority=message.get("authority"))
    return gettext("Removal order %(ref)s from %(authority)s: deadline reached — execute now",
                   ref=message.get("order_ref"), authority=message.get("authority"))


def render_text(message: dict[str, Any]) -> str:
    """A JSON message as plain text lines (the e-mail body): 'label: value', nested values as JSON; labels and
    headline in the current language."""
    lines = [email_headline(message), ""] if message.get("headline") else []
    for k, v in message.items():
        if k == "headline":
            continue
        label = gettext(FIELD_LABELS[k]) if k in FIELD_LABELS else k
        lines.append(f"{label}: {canonical_json(v).decode() if isinstance(v, dict | list) else v}")
    return "\n".join(lines) + "\n"
