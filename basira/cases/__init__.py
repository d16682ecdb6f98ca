"""Cases, the product's central object: how they open (intake), how they rank (priority), how they are logged (events).

`basira.cases.intake.submit` is the only code that inserts or raises a case; detector, hash, network, order
and manual paths all call it inside their own transaction."""

from basira.core.faces import lazy_face

# name -> the module it lives in; loaded on first use (basira.core.faces says why)
_FACE = {
    "record_detections": "detector",
    "GroupError": "groups",
    "assign_groups": "groups",
    "split": "groups",
    "Finding": "intake",
    "Intake": "intake",
    "SubjectError": "intake",
    "check_subject": "intake",
    "submit": "intake",
    "open_case_for": "manual",
    "open_cases_for": "manual",
    "open_community_case": "network",
    "open_community_cases": "network",
    "open_group_case": "network",
    "open_network_case": "network",
    "explain": "prioritize",
    "reprioritize": "prioritize",
    "PrioritySignals": "priority",
    "case_priority": "priority",
    "GroupingCounts": "records",
    "PriorityExplanation": "records",
    "TopCase": "records",
    "top_cases": "views",
}
__all__, __getattr__, __dir__ = lazy_face(__name__, _FACE)
