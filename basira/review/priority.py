"""Queue priority: confidence (independent signals combined) × severity of the worst category, plus account risk."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SEVERITY: dict[str, float] = {
    "threat_incitement": 1.0,
    "recruitment": 0.9,
    "pledge": 0.8,
    "glorification": 0.7,
    "propaganda_brand": 0.6,
}
DEFAULT_SEVERITY = 0.5
HASH_MATCH_CONFIDENCE = 0.97  # a match against a vetted bank is strong, independent evidence
ACCOUNT_RISK_WEIGHT = 25.0


@dataclass(frozen=True, slots=True)
class PrioritySignals:
    model_score: float = 0.0
    other_scores: tuple[float, ...] = ()  # independent signals in [0, 1] (e.g. second-stage model, network)
    hash_matches: int = 0
    categories: tuple[str, ...] = ()
    account_risk: float = 0.0  # [0, 1], see account_risk()


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


def case_priority(s: PrioritySignals) -> float:
    """0–125: 100 × confidence × severity + 25 × account risk. Higher is reviewed first."""
    scores = [s.model_score, *s.other_scores] + [HASH_MATCH_CONFIDENCE] * min(s.hash_matches, 3)
    conf = combined_confidence(scores)
    return round(100.0 * conf * severity(s.categories) + ACCOUNT_RISK_WEIGHT * account_risk_clamped(s), 4)


def account_risk_clamped(s: PrioritySignals) -> float:
    return min(max(s.account_risk, 0.0), 1.0)
