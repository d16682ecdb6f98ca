"""Roles and what each may do. Every web and API endpoint names exactly one permission from here."""

from __future__ import annotations

from basira.core.errors import BasiraError
from basira.core.i18n import N_

ROLES = ("admin", "reviewer", "analyst", "legal", "auditor", "platform")
# `platform` is a service account for platform integrations (API tokens only): it files appeals on behalf of
# content owners and reads decisions. The five human roles are admin, reviewer, analyst, legal and auditor.
HUMAN_ROLES = ROLES[:5]

PERMISSIONS: dict[str, frozenset[str]] = {
    "view_self": frozenset(ROLES),
    "view_policies": frozenset(ROLES),
    "view_queue": frozenset({"admin", "reviewer", "analyst", "legal"}),
    "view_case": frozenset({"admin", "reviewer", "analyst", "legal", "auditor", "platform"}),
    "investigate": frozenset({"admin", "reviewer", "analyst", "legal"}),
    "claim": frozenset({"admin", "reviewer", "legal"}),
    "decide": frozenset({"admin", "reviewer", "legal"}),  # which stage each may decide: STAGE_ROLES
    "undo": frozenset({"admin", "reviewer", "legal"}),  # own decisions only
    "file_appeal": frozenset({"admin", "reviewer", "platform"}),
    "view_audit": frozenset({"admin", "auditor"}),
    "manage_users": frozenset({"admin"}),
    "retry_delivery": frozenset({"admin"}),
    "set_prefs": frozenset(HUMAN_ROLES),
    # POST /api/v1/content: a platform hands Basira posts as they are published (basira.intake).
    "submit_content": frozenset({"admin", "platform"}),
    "match_content": frozenset({"admin", "reviewer", "analyst", "legal", "platform"}),  # POST /api/v1/match
    # Curating banks through the HMA-compatible API (/c/...): a platform integration (Coop) creates its banks.
    "manage_banks": frozenset({"admin", "analyst", "platform"}),
    # Removal orders, complaints and preservation (Regulation (EU) 2021/784; basira.compliance).
    "view_orders": frozenset({"admin", "legal", "reviewer", "auditor"}),
    "manage_orders": frozenset({"admin", "legal"}),  # intake, execute, reject, legal holds
    "file_complaint": frozenset({"admin", "legal", "platform"}),  # platform: on behalf of the content provider
    "decide_complaints": frozenset({"admin", "legal"}),
    # Transparency reports (aggregate figures) and signed evidence packages (everything about a subject).
    "view_reports": frozenset({"admin", "legal", "auditor"}),
    "export_evidence": frozenset({"admin", "legal"}),
}

# Who may decide at each stage of a case.
STAGE_ROLES: dict[str, frozenset[str]] = {
    "review": frozenset({"admin", "reviewer"}),
    "escalation": frozenset({"admin", "legal"}),
    "appeal": frozenset({"admin", "reviewer"}),
}


def allowed(role: str, permission: str) -> bool:
    """Whether a role holds a permission (unknown permissions are denied)."""
    return role in PERMISSIONS.get(permission, frozenset())


class UserError(BasiraError):
    """A change to the review app's users refused: a bad name, role or password, a name taken, no such user, a
    saved filter without a name. `kind` invalid unless said (conflict, not_found)."""

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; one of: {', '.join(ROLES)}").said(
            N_("unknown role %(role)s; one of: %(roles)s"), role=repr(role), roles=", ".join(ROLES))
    return role
