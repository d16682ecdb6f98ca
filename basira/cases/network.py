"""Network-level cases: put a whole community (or coordinated group) in front of a reviewer at once.

What such a case holds and how it ranks come from the analysis (basira.network.cases); opening it goes through
intake like every other case, named by the group's anchor account (its riskiest member).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from basira.cases.intake import Finding, submit

if TYPE_CHECKING:
    from basira.network.analysis import NetworkAnalysis
    from basira.network.coordinated import CoordinatedGroup
    from basira.store.store import Store

__all__ = ["open_community_case", "open_community_cases", "open_group_case", "open_network_case"]


def open_network_case(
    store: Store,
    kind: str,
    anchor_account_id: int,
    reason: str,
    *,
    priority: float = 0.0,
    details: dict[str, Any] | None = None,
    actor: str | None = "basira",
) -> tuple[int, bool]:
    """Open a case on a whole community or coordinated group, named by its anchor account (its riskiest
    member), unless one is open for that anchor; return (case id, newly opened). Logged as `case.opened`."""
    f = Finding((kind, int(anchor_account_id)), "network", reason, priority=float(priority), details=details or {})
    with store.transaction() as tx:
        got = submit(tx, [f], actor, lookup=True)
    return got.cases[f.subject], bool(got.opened)


def open_community_case(store: Store, a: NetworkAnalysis, community: int,
                        actor: str | None = "basira") -> tuple[int, bool]:
    """Open (or find the open) case on a community; its anchor is its riskiest account."""
    from basira.network.cases import community_case_details, network_priority

    details = community_case_details(a, community)
    top = details["members"][0]
    anchor_id = int(top["account_id"])
    s = details["summary"]
    reason = (f"community {community}: {details['size']} accounts, {s.get('accounts_posting_flagged', 0)} posting "
              f"flagged material; led by @{top['handle'] or top['external_id']} ({'; '.join(top['why'][:2])})")
    priority = network_priority(a.risk.score[a.communities.members(community)])
    return open_network_case(store, "community", anchor_id, reason, priority=priority, details=details, actor=actor)


def open_community_cases(store: Store, a: NetworkAnalysis, *, min_mean_risk: float = 0.3,
                         min_size: int = 3) -> list[dict[str, Any]]:
    """Open cases on every community at or above the mean-risk bar; return what was opened."""
    from basira.network.analysis import community_summaries

    out = []
    for c in community_summaries(a, min_size=min_size):
        if c["mean_risk"] < min_mean_risk:
            continue
        cid, new = open_community_case(store, a, c["community"])
        if new:
            out.append({"case_id": cid, "community": c["community"], "size": c["size"], "mean_risk": c["mean_risk"]})
    return out


def open_group_case(store: Store, a: NetworkAnalysis, group: CoordinatedGroup) -> tuple[int, bool]:
    """Open (or find) the case on a coordinated group, anchored on its riskiest member."""
    from basira.network.analysis import group_summary
    from basira.network.cases import network_priority

    anchor = max(group.accounts, key=lambda i: a.risk.score[i])
    reason = f"coordinated sharing: {len(group.accounts)} accounts shared {group.items} items in lockstep"
    return open_network_case(store, "coordinated", a.data.accounts[anchor].id, reason,
                             priority=network_priority(a.risk.score[list(group.accounts)]),
                             details=group_summary(a.data, group))
