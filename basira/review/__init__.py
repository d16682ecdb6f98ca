"""Review workflow: queue and claims, decisions with an undo window, appeals, audit chain, webhooks.

Domain logic (priority, decisions, policy, webhooks signing/backoff, content display) is pure; `service`
wires it to the store."""

from basira.core.faces import lazy_face

# name -> the module it lives in; loaded on first use (basira.core.faces says why)
_FACE = {
    "hash_password": "auth",
    "verify_password": "auth",
    "Actor": "decisions",
    "DecisionError": "decisions",
    "DecisionRecord": "decisions",
    "DecisionEffects": "effects",
    "Removal": "effects",
    "Undone": "effects",
    "PolicyCatalogue": "policy",
    "load_catalogue": "policy",
    "QueueFilter": "queue",
    "DecisionResult": "records",
    "DeliveryCounts": "records",
    "GroupView": "records",
    "MemberDecision": "records",
    "UndoResult": "records",
    "AccountView": "repository",
    "CaseView": "repository",
    "QueueRow": "repository",
    "PERMISSIONS": "roles",
    "ROLES": "roles",
    "DeliveryLoop": "service",
    "ReviewService": "service",
    "ReviewSettings": "service",
    "open_review_store": "service",
}
__all__, __getattr__, __dir__ = lazy_face(__name__, _FACE)
