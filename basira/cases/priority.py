"""Case priority, the one rule: one documented formula (docs/review.md, "Priority") over the signals a case
carries. Pure. Every way a case opens (basira.cases.intake) ranks it with this.

    P = 55·harm + 15·risk + 12·reach + 10·group + 8·fresh + tie            (0 ≤ P < 100.001)

harm   = evidence × severity. evidence = ½·conf + ½·logodds(conf): conf is the noisy-OR of the independent signals
         (calibrated model score, other scores, 0.97 per hash-bank match, up to 3); logodds maps logit(conf) over
         [-9.2, 9.2] (conf 1e-4 … 1-1e-4) linearly onto [0, 1], so scores crowded near 1.000 still spread out.
         severity is the worst category's (threat/incitement 1.0 … propaganda brand 0.6, else 0.5).
risk   = 1 − (1 − account risk)(1 − 0.6 · community risk)
reach  = min(1, log10(1 + followers + 3 · reposts) / 6)          (a million followers saturate)
group  = min(1, log10(size) / 3) · (½ + ½ · accounts / size)     (1,000 copies by distinct accounts saturate)
fresh  = 2^(−age_hours / 72), age since the newest post in the case (its group) when the priority was computed;
         0.5 when unknown
tie    = 10⁻³ · (SHA-256 of the inputs as a fraction of 2³²): a deterministic tie-breaker that is a function of
         the inputs only (not of the case id), so two cases share a priority only when their inputs are identical.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

SEVERITY: dict[str, float] = {
    "threat_incitement": 1.0,
    "recruitment": 0.9,
    "pledge": 0.8,
    "glorification": 0.7,
    "propaganda_brand": 0.6,
}
DEFAULT_SEVERITY = 0.5


def label_categories(labels: Iterable[Mapping[str, object]]) -> tuple[str, ...]:
    """Bank-item labels that name a category (behaviour: recruitment, ...): they count towards the severity, at
    the match and whenever the priority is computed again from what is stored (the case's details)."""
    return tuple(sorted({v for lab in labels for v in lab.values() if isinstance(v, str) and v in SEVERITY}))
HASH_MATCH_CONFIDENCE = 0.97  # a match against a vetted bank is strong, independent evidence
WEIGHTS = {"harm": 55.0, "risk": 15.0, "reach": 12.0, "group": 10.0, "fresh": 8.0}
TIE_SCALE = 1e-3
FRESH_HALF_LIFE_HOURS = 72.0
_LOGIT_CAP = 9.2
# A removal order's case is executed from the orders page within the hour, not picked from the queue; it keeps
# the priority it has always had (issue 12: low on the scale; a product decision, not taken in the move).
ORDER_PRIORITY = 1.0


@dataclass(frozen=True, slots=True)
class PrioritySignals:
    model_score: float = 0.0
    other_scores: tuple[float, ...] = ()  # independent signals in [0, 1] (e.g. second-stage model, network)
    hash_matches: int = 0
    categories: tuple[str, ...] = ()
    account_risk: float = 0.0  # [0, 1], see account_risk()
    community_risk: float = 0.0  # [0, 1]: share of the account's network neighbours with flagged content
    followers: int = 0
    reposts: int = 0
    group_size: int = 1
    group_accounts: int = 1
    age_hours: float | None = None


_SIGNAL_FIELDS = tuple(f.name for f in fields(PrioritySignals))


def combined_confidence(scores: Iterable[float]) -> float:
    """Noisy-OR of independent signals: 1 − Π(1 − s)."""
    miss = 1.0
    for s in scores:
        miss *= 1.0 - min(max(float(s), 0.0), 1.0)
    return 1.0 - miss


def severity(categories: Iterable[str], table: Mapping[str, float] = SEVERITY) -> float:
    return max((table.get(c, DEFAULT_SEVERITY) for c in categories), default=DEFAULT_SEVERITY)


def account_risk(prior_removals: int, suspended: bool = False, returning: bool = False) -> float:
    """[0, 1]: prior removals saturate quickly; suspension and ban evasion add to it."""
    r = 1.0 - 0.5 ** max(prior_removals, 0)
    r = max(r, 0.6 if returning else 0.0, 0.4 if suspended else 0.0)
    return min(r, 1.0)


def _clamp(x: float) -> float:
    return min(max(float(x), 0.0), 1.0)


def evidence(conf: float) -> float:
    c = min(max(conf, 1e-12), 1 - 1e-12)
    lo = (min(max(math.log(c / (1 - c)), -_LOGIT_CAP), _LOGIT_CAP) + _LOGIT_CAP) / (2 * _LOGIT_CAP)
    return 0.5 * c + 0.5 * lo


def components(s: PrioritySignals) -> dict[str, float]:
    """Each term of the formula in [0, 1] (shown on the case page as the reasons for the rank)."""
    scores = [s.model_score, *s.other_scores] + [HASH_MATCH_CONFIDENCE] * min(max(s.hash_matches, 0), 3)
    size = max(int(s.group_size), 1)
    accounts = min(max(int(s.group_accounts), 1), size)
    return {
        "harm": evidence(combined_confidence(scores)) * severity(s.categories),
        "risk": 1.0 - (1.0 - _clamp(s.account_risk)) * (1.0 - 0.6 * _clamp(s.community_risk)),
        "reach": min(1.0, math.log10(1 + max(s.followers, 0) + 3 * max(s.reposts, 0)) / 6.0),
        "group": min(1.0, math.log10(size) / 3.0) * (0.5 + 0.5 * accounts / size),
        "fresh": 0.5 if s.age_hours is None else 2.0 ** (-max(s.age_hours, 0.0) / FRESH_HALF_LIFE_HOURS),
    }


def tie_breaker(s: PrioritySignals) -> float:
    """[0, TIE_SCALE): a function of the inputs only."""
    # The fields read directly: dataclasses.astuple deep-copies and took 78 % of a scan tail's priority pass
    # (1.2 of 1.5 CPU-s at 3,453 cases); the fields are scalars and tuples of scalars, so the text is the same.
    canon = repr(tuple(round(x, 9) if isinstance(x, float) else x
                       for x in (getattr(s, f) for f in _SIGNAL_FIELDS))).encode()
    return TIE_SCALE * int.from_bytes(hashlib.sha256(canon).digest()[:4], "big") / 2**32


def case_priority(s: PrioritySignals) -> float:
    """0–100 (see the module docstring). Higher is reviewed first."""
    parts = components(s)
    return sum(WEIGHTS[k] * v for k, v in parts.items()) + tie_breaker(s)
