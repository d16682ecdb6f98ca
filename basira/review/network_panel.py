"""The case page's "Network context" panel: for a post or account case, the account's community, risk and the
reasons for it; for a network-level case (a community or coordinated group), its member accounts. Links go to
the account and community pages. Never waits for an analysis: without one at hand it says so and one starts
in the background."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from basira.core.i18n import gettext as _
from basira.core.i18n import ngettext
from basira.review.panels import Panel, register_panel

if TYPE_CHECKING:
    from basira.review.repository import CaseView

MAX_MEMBERS = 200


def member_links(details: dict[str, Any]) -> list[tuple[str, str]]:
    """(text, URL) per member stored in a network case's details, riskiest first as stored."""
    members = details.get("members") or details.get("accounts") or []
    out = []
    for m in members[:MAX_MEMBERS]:
        if not isinstance(m, dict) or m.get("account_id") is None:
            continue
        text = f"@{m.get('handle') or m.get('external_id') or m['account_id']}"
        if m.get("risk") is not None:
            text += " · " + _("risk %(r)s", r=f"{float(m['risk']):.2f}")
        if m.get("why"):
            text += " · " + "; ".join(str(w) for w in m["why"][:2])
        out.append((text, f"/accounts/{int(m['account_id'])}"))
    return out


@register_panel("network")
def network_panel(store: Any, detail: CaseView) -> Panel | None:
    from basira.network.cache import cache_for
    from basira.store.network_models import NETWORK_SUBJECT_KINDS

    case = detail.case
    kind = case.get("subject_kind")
    snap = cache_for(store).current(store)
    if kind in NETWORK_SUBJECT_KINDS:
        details = case.get("details") or {}
        members = details.get("members") or details.get("accounts") or []
        n = len(members)
        subject = (ngettext("community of %(num)s account", "community of %(num)s accounts", n) if kind == "community"
                   else ngettext("coordinated group of %(num)s account", "coordinated group of %(num)s accounts", n))
        rows = [("Subject", subject + (" " + _("(first 500 stored)") if details.get("truncated") else ""))]
        if kind == "coordinated":
            rows.append(("Shared in lockstep", _("%(items)s items in %(bursts)s bursts (evidence in the case details)",
                                                 items=details.get("items", "?"), bursts=len(details.get("bursts") or []))))
        links = member_links(details)
        node = snap.view.node(case["subject_id"]) if snap else None
        if node is not None:
            c = int(snap.view.community_of_node[node])  # type: ignore[union-attr]
            links.insert(0, (_("Community %(n)s today (of its riskiest member)", n=c), f"/communities/{c}"))
        return Panel("Network context", rows, "No members recorded.", links)
    account = detail.account
    if not account:
        return None
    if snap is None:
        return Panel("Network context", [], "The network analysis is being computed; reload in a few seconds.",
                     [(_("Investigate account"), f"/accounts/{int(account['id'])}")])
    node = snap.view.node(account["id"])
    if node is None:
        return Panel("Network context", [], "This account is newer than the current network analysis.",
                     [(_("Investigate account"), f"/accounts/{int(account['id'])}")])
    a = snap.view.analysis
    c = int(a.communities.membership[node])
    rows = [
        ("Risk", _("%(risk)s (rank %(r)s of %(n)s)", risk=f"{float(a.risk.score[node]):.2f}",
                   r=int((a.risk.score > a.risk.score[node]).sum()) + 1, n=a.data.n)),
        ("Why", "; ".join(a.risk.explain(node)) or _("no risk signals")),
        ("Community", ngettext("%(c)s (%(num)s account)", "%(c)s (%(num)s accounts)", int(a.communities.sizes[c]),
                               c=c)),
    ]
    return Panel("Network context", rows, "", [(_("Investigate account (network, graph)"), f"/accounts/{int(account['id'])}"),
                                               (_("Community %(n)s", n=c), f"/communities/{c}")])
