"""DSA statements of reasons (Art. 17 and 24(5)): one per restrictive decision, in the field names and values of
the DSA Transparency Database API, so a platform can submit them as they are (docs/reports.md).

Pure: takes the decision's facts (a StatementFacts row from basira.compliance.report_data.statement_facts) and
the policy catalogue. No personal data goes into a statement: no handles, no texts, no reviewer names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from basira.core.errors import BasiraError
from basira.review.policy import PolicyCatalogue

# Territorial scope when none is configured: the EEA (EU member states plus Iceland, Liechtenstein, Norway).
EEA = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT", "LI",
       "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK")
CONTENT_TYPE_OF_MEDIA = {"photo": "CONTENT_TYPE_IMAGE", "image": "CONTENT_TYPE_IMAGE", "video": "CONTENT_TYPE_VIDEO",
                         "animated_gif": "CONTENT_TYPE_VIDEO", "gif": "CONTENT_TYPE_VIDEO", "audio": "CONTENT_TYPE_AUDIO"}
# The TVEC reasons describe terrorist content in the sense of Regulation (EU) 2021/784, Art. 2(7): illegal in the
# EU as well as against the terms. Threats also fall under violence.
ILLEGAL_PREFIXES = ("TVEC-",)
ADDITIONAL_CATEGORY = {"TVEC-1.4": ["STATEMENT_CATEGORY_VIOLENCE"]}
SOURCE_TYPE = {"notice": "SOURCE_ARTICLE_16", "article_16": "SOURCE_ARTICLE_16",
               "trusted_flagger": "SOURCE_TRUSTED_FLAGGER", "removal_order": "SOURCE_TYPE_OTHER_NOTIFICATION",
               "order": "SOURCE_TYPE_OTHER_NOTIFICATION", "authority": "SOURCE_TYPE_OTHER_NOTIFICATION"}
RESTRICTIVE_ACTIONS = frozenset({"remove"})
STAGE_WORDS = {"review": "at first review", "escalation": "after escalation to a senior (legal) reviewer",
               "appeal": "on appeal", "order": "to execute a removal order"}
TCO = "Regulation (EU) 2021/784 (terrorist content online), Article 3"


@dataclass(frozen=True)
class StatementFacts:
    decision_id: int
    case_id: int
    stage: str
    action: str
    reason_code: str
    decided_at: datetime
    subject_kind: str  # post, account, community, coordinated
    platform: str | None
    puid: str | None  # the platform's own id of the post or account
    content_date: datetime | None
    lang: str | None
    media_kinds: tuple[str, ...] = ()
    detector: bool = False
    hash_bank: bool = False
    network: bool = False
    source: str | None = None  # case.details["source"] when a notice, flagger or order opened the case
    order: dict[str, Any] | None = None  # authority, order_ref, legal_basis of the order an order-stage decision executed


class NoStatement(BasiraError, ValueError):
    """A decision that restricts nothing (keep, escalate, refer, appeal outcomes): no statement is due."""


def statement_of_reasons(f: StatementFacts, catalogue: PolicyCatalogue, *,
                         territorial_scope: tuple[str, ...] = EEA, policy_url: str | None = None) -> dict[str, Any]:
    """The Transparency Database statement for one restrictive decision."""
    if f.action not in RESTRICTIVE_ACTIONS:
        raise NoStatement(f"decision {f.decision_id} ({f.action}) restricts nothing: no statement of reasons is due")
    reason = catalogue.get(f.reason_code)
    title = reason.title if reason else f.reason_code
    explanation = reason.description if reason else ""
    on_account = f.subject_kind != "post"
    s: dict[str, Any] = {}
    if on_account:
        s["decision_account"] = "DECISION_ACCOUNT_SUSPENDED"
        s["end_date_account_restriction"] = None
        s["content_type"] = ["CONTENT_TYPE_OTHER"]
        s["content_type_other"] = "account"
    else:
        s["decision_visibility"] = ["DECISION_VISIBILITY_CONTENT_REMOVED"]
        s["end_date_visibility_restriction"] = None
        types = {"CONTENT_TYPE_TEXT"} | {CONTENT_TYPE_OF_MEDIA.get(k or "", "CONTENT_TYPE_OTHER") for k in f.media_kinds}
        s["content_type"] = sorted(types)
        if "CONTENT_TYPE_OTHER" in types:
            s["content_type_other"] = "attachment"
    by_order = f.stage == "order"
    if by_order:  # the authority found the content illegal; the platform executed its order
        o = f.order or {}
        s["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"
        s["illegal_content_legal_ground"] = o.get("legal_basis") or TCO
        s["illegal_content_explanation"] = (
            f"Removal order {o.get('order_ref') or '(reference not recorded)'} from "
            f"{o.get('authority') or 'a competent authority'} found the content to be terrorist content and ordered "
            "its removal.")
    else:
        s["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        if policy_url:
            s["decision_ground_reference_url"] = policy_url
        s["incompatible_content_ground"] = f"Terms of service, policy {f.reason_code}: {title}"
        s["incompatible_content_explanation"] = explanation or title
        s["incompatible_content_illegal"] = "Yes" if f.reason_code.startswith(ILLEGAL_PREFIXES) else "No"
    s["category"] = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    s["category_specification"] = ["KEYWORD_TERRORIST_CONTENT"]
    if f.reason_code in ADDITIONAL_CATEGORY:
        s["category_addition"] = ADDITIONAL_CATEGORY[f.reason_code]
    if not on_account and f.lang and len(f.lang) == 2 and f.lang.isalpha():
        s["content_language"] = f.lang.upper()
    if f.content_date is not None:
        s["content_date"] = f.content_date.strftime("%Y-%m-%d")
    s["application_date"] = f.decided_at.strftime("%Y-%m-%d")
    s["territorial_scope"] = sorted(territorial_scope)
    s["source_type"] = "SOURCE_TYPE_OTHER_NOTIFICATION" if by_order else SOURCE_TYPE.get(f.source or "",
                                                                                           "SOURCE_VOLUNTARY")
    automated = f.detector or f.hash_bank or f.network
    s["automated_detection"] = "Yes" if automated else "No"
    s["automated_decision"] = "AUTOMATED_DECISION_NOT_AUTOMATED"  # Basira supports people; it never decides
    how = [w for w, on in (("a text classifier", f.detector), ("a match against a hash bank of known terrorist "
                                                                 "content", f.hash_bank),
                           ("network analysis of coordinated accounts", f.network)) if on]
    what = "account" if on_account else "content"
    done = "suspended the account" if on_account else "removed it"
    if by_order:
        o = f.order or {}
        s["decision_facts"] = (
            f"A removal order ({o.get('order_ref') or 'reference not recorded'}) from "
            f"{o.get('authority') or 'a competent authority'} under {o.get('legal_basis') or TCO} named this {what}; "
            f"the platform {done} to execute the order.")
    else:
        s["decision_facts"] = (
            f"The {what} was " + (f"flagged for review by {' and '.join(how)}" if how else "reported for review")
            + f". A human reviewer decided {STAGE_WORDS.get(f.stage, f.stage)} that it violates policy "
            f"{f.reason_code} ({title}) and {done}.")
    if f.puid:
        s["puid"] = f.puid
    return s
