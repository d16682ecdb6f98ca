"""Network-level cases: put a whole community (or coordinated group) in front of a reviewer at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from basira.network.analysis import NetworkAnalysis, account_summary, community_summaries
from basira.network.coordinated import CoordinatedGroup

if TYPE_CHECKING:
    from basira.store import Store


def network_priority(risks: np.ndarray) -> float:
    """On the review queue's 0–100 scale (basira.cases.priority): 80 × the members' mean risk + 20 × the
    riskiest member's, so a cluster of recruiters is reviewed alongside the flagged posts it produced, not after."""
    if len(risks) == 0:
        return 0.0
    return round(80.0 * float(np.mean(risks)) + 20.0 * float(np.max(risks)), 6)


def community_case_details(a: NetworkAnalysis, community: int, max_members: int = 500) -> dict[str, Any]:
    """What a reviewer needs to act on the community: members by risk, each with the reasons."""
    members = a.communities.members(community)
    members = members[np.argsort(-a.risk.score[members], kind="stable")]
    summary = next((c for c in community_summaries(a, min_size=1) if c["community"] == community), {})
    return {
        "community": community, "size": int(len(members)), "summary": summary,
        "members": [account_summary(a, int(i)) for i in members[:max_members]],
        "truncated": bool(len(members) > max_members),
    }


def open_community_case(store: Store, a: NetworkAnalysis, community: int,
                        actor: str | None = "basira") -> tuple[int, bool]:
    """Open (or find the open) case on a community; its anchor is its riskiest account."""
    from basira.store.network import open_network_case

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
    from basira.store.network import open_network_case

    anchor = max(group.accounts, key=lambda i: a.risk.score[i])
    reason = f"coordinated sharing: {len(group.accounts)} accounts shared {group.items} items in lockstep"
    return open_network_case(store, "coordinated", a.data.accounts[anchor].id, reason,
                             priority=network_priority(a.risk.score[list(group.accounts)]),
                             details=group_summary(a.data, group))
