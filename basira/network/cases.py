"""What a network-level case holds and how it ranks (pure: the analysis in, plain data out); basira.cases.network
opens it."""

from __future__ import annotations

from typing import Any

import numpy as np

from basira.network.analysis import NetworkAnalysis, account_summary, community_summaries


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
