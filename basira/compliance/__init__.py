"""Compliance: removal orders (EU TCO, one hour), preservation, evidence packages, transparency reports and
DSA statements of reasons, acting on reviewers' decisions."""

from basira.core.faces import lazy_face

# name -> the module it lives in; loaded on first use (basira.core.faces says why)
_FACE = {
    "AlertSender": "alerts",
    "AlertSettings": "alerts",
    "PackageError": "evidence",
    "export_package": "evidence",
    "read_package": "evidence",
    "verify_entries": "evidence",
    "read_orders": "order_file",
    "OrderError": "orders",
    "order_from_dict": "orders",
    "build_report": "report",
    "render_html": "report_html",
    "render_pdf": "report_pdf",
    "ComplianceLoop": "service",
    "ComplianceService": "service",
    "NoStatement": "statements",
    "StatementFacts": "statements",
    "statement_of_reasons": "statements",
    "SubmitError": "tdb_submit",
    "submit_statements": "tdb_submit",
}
__all__, __getattr__, __dir__ = lazy_face(__name__, _FACE)
