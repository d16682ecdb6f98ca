"""basira.core: one error base with a kind and one status map; one Settings reading every BASIRA_* variable."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from basira.compliance.orders import OrderError
from basira.compliance.repository import ComplianceError
from basira.compliance.signing import SigningKeyError
from basira.core.errors import HTTP_STATUS, BasiraError, InputError, http_detail, http_status
from basira.core.settings import Settings
from basira.core.time import iso, parse_time, utcnow
from basira.review.decisions import DecisionError
from basira.signals.base import SignalError

PACKAGE = Path(__file__).resolve().parents[1] / "basira"


def test_every_project_exception_derives_from_the_one_base():
    """Walk the package: every class whose name ends in Error (or NoStatement/NotLoggedIn) is a BasiraError."""
    import importlib

    found = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.bases and (
                    node.name.endswith("Error") or node.name in ("NoStatement", "NotLoggedIn")):
                mod = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
                found.append(getattr(importlib.import_module(mod), node.name))
    assert len(found) >= 13
    outside = [c.__qualname__ for c in found if not issubclass(c, BasiraError)]
    assert outside == []


def test_kind_maps_to_status():
    assert http_status(DecisionError("conflict", "claimed by someone else")) == 409
    assert http_status(ComplianceError("not_found", "no order 9")) == 404
    assert http_status(SignalError("bad pdq")) == HTTP_STATUS["invalid"] == 422
    assert http_status(InputError("a.jsonl", 3, "text", "missing")) == 422
    # an order error names its field; a compliance error does not
    assert http_detail(OrderError("authority", "missing")) == (422, {"field": "authority", "reason": "missing"})
    assert http_detail(OrderError(None, "empty file")) == (422, {"field": None, "reason": "empty file"})
    assert http_detail(ComplianceError("forbidden", "legal only")) == (403, "legal only")


def test_no_basira_error_is_a_value_error():
    # One base: `except ValueError` catches the standard library's parse errors, never a refusal of Basira's.
    for cls in (SigningKeyError, OrderError, InputError, ComplianceError, SignalError, DecisionError):
        assert issubclass(cls, BasiraError) and not issubclass(cls, ValueError)
    assert str(InputError("a.jsonl", 3, "text", "missing")) == "a.jsonl:3: field 'text': missing"


def test_settings_read_every_variable_from_the_given_environment():
    env = {"BASIRA_DB": "x.db", "BASIRA_WEBHOOK_URL": "https://h.example/", "BASIRA_CLAIM_MINUTES": "5",
           "BASIRA_SMTP_PORT": "2525", "BASIRA_ALERT_EMAIL_TO": "a@x.example, b@x.example,",
           "BASIRA_SMTP_STARTTLS": "yes", "BASIRA_INSECURE_COOKIES": "1", "BASIRA_SIGNING_KEY": "",
           "BASIRA_SCAN_TEST_PAUSE": "after:3"}
    s = Settings.from_env(env)
    assert s.db_url == "sqlite:///x.db" and s.webhook_url == "https://h.example/" and s.claim_minutes == 5.0
    assert s.smtp_port == 2525 and s.alert_email_to == ("a@x.example", "b@x.example") and s.smtp_starttls
    assert s.insecure_cookies and s.signing_key is None  # empty means unset
    assert s.test_pauses == {"BASIRA_SCAN_TEST_PAUSE": "after:3"}
    assert Settings.from_env({}).db_url == "sqlite:///basira.db"
    assert s.with_db("postgresql+psycopg://u@h/db").db_url == "postgresql+psycopg://u@h/db"


def test_no_module_outside_settings_reads_the_environment():
    readers = []
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).as_posix() == "core/settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and \
                    isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert readers == []


def test_time_helpers():
    t = parse_time("2026-11-29T08:00:00Z")
    assert iso(t) == "2026-11-29T08:00:00Z" and iso(None) is None
    assert parse_time(0).year == 1970 and utcnow().tzinfo is not None
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        parse_time("yesterday")
