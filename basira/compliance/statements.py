"""DSA statements of reasons (Art. 17 and 24(5)): one per restrictive decision, in the field names and values of
the DSA Transparency Database API, so a platform can submit them as they are (docs/reports.md).

Pure: takes the decision's facts (a StatementFacts row from basira.compliance.report_data.statement_facts) and
the policy catalogue. No personal data goes into a statement: no handles, no texts, no reviewer names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from basira.core.errors import BasiraError
from basira.core.i18n import N_
from basira.review.policy import PolicyCatalogue

# Territorial scope when none is configured: the EEA (EU member states plus Iceland, Liechtenstein, Norway).
EEA = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT", "LI",
       "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK")
# Media kinds as ingest stores them (X v2 `type`, Telegram Desktop `media_type`) -> TDB content types.
CONTENT_TYPE_OF_MEDIA = {
    "photo": "CONTENT_TYPE_IMAGE", "image": "CONTENT_TYPE_IMAGE", "sticker": "CONTENT_TYPE_IMAGE",
    "video": "CONTENT_TYPE_VIDEO", "animated_gif": "CONTENT_TYPE_VIDEO", "gif": "CONTENT_TYPE_VIDEO",
    "animation": "CONTENT_TYPE_VIDEO", "video_file": "CONTENT_TYPE_VIDEO", "video_message": "CONTENT_TYPE_VIDEO",
    "audio": "CONTENT_TYPE_AUDIO", "audio_file": "CONTENT_TYPE_AUDIO", "voice_message": "CONTENT_TYPE_AUDIO",
    "voice": "CONTENT_TYPE_AUDIO",
}
# ISO 639-1: the content languages the Transparency Database accepts (upper case there).
ISO_639_1 = frozenset("""aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii
ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr
ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh
zu""".split())
# Codes platforms and language identifiers write that are not ISO 639-1 today: X's and CLD3's deprecated `in`,
# `iw`, `ji`, `jw`, and a few ISO 639-2/3 codes with a 639-1 equivalent.
LANGUAGE_ALIASES = {"in": "id", "iw": "he", "ji": "yi", "jw": "jv", "mo": "ro", "sh": "sr", "fil": "tl",
                    "ckb": "ku", "kmr": "ku", "arb": "ar", "ary": "ar", "arz": "ar", "apc": "ar", "cmn": "zh",
                    "yue": "zh", "nob": "nb", "nno": "nn", "pes": "fa", "prs": "fa", "zsm": "ms"}
TDB_EARLIEST_CONTENT_DATE = date(2000, 1, 1)  # the database refuses content dates before this
TDB_LATEST_DATE = date(2038, 1, 1)
PUID_MAX = 500
_PUID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
# Field lengths the Transparency Database enforces (StatementStoreRequest): longer texts are cut, marked.
MAX_LEN = {"incompatible_content_ground": 500, "incompatible_content_explanation": 2000,
           "illegal_content_legal_ground": 500, "illegal_content_explanation": 2000, "decision_facts": 5000,
           "content_type_other": 500, "decision_ground_reference_url": 500}
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
    puid: str | None  # the platform's own id of the post or account (the statement's PUID is built from it)
    content_date: datetime | None  # the post's date; for an account (or its community, group) its creation date
    lang: str | None
    media_kinds: tuple[str, ...] = ()
    detector: bool = False
    hash_bank: bool = False
    network: bool = False
    source: str | None = None  # case.details["source"] when a notice, flagger or order opened the case
    order: dict[str, Any] | None = None  # authority, order_ref, legal_basis of the order an order-stage decision executed
    # The platform acknowledged the removal (its `remove` webhook delivered). A statement says the content was
    # removed, so the exports withhold unconfirmed ones unless told the platform acts by other means.
    confirmed: bool = True


def content_language(lang: str | None) -> str | None:
    """The TDB's code (ISO 639-1, upper case) for a platform's or detector's language tag, or None (`und`,
    `zxx`, codes with no 639-1 equivalent): `in` -> ID, `iw` -> HE, `pt-BR` -> PT, `zh-Hant` -> ZH."""
    if not lang:
        return None
    base = lang.strip().lower().replace("_", "-").split("-", 1)[0]
    base = LANGUAGE_ALIASES.get(base, base)
    return base.upper() if base in ISO_639_1 else None


def statement_puid(f: StatementFacts) -> str:
    """The statement's PUID: unique per statement (the decision id ends it, so a removal after an undo gets a
    new one), in the TDB's alphabet (letters, digits, `-`, `_`; a Telegram `chat/message` id becomes
    `chat_message`), at most 500 characters."""
    suffix = f"-d{f.decision_id}"
    subject = "post" if f.subject_kind == "post" else f.subject_kind
    ref = _PUID_UNSAFE.sub("_", f.puid).strip("_") if f.puid else ""
    head = "-".join(x for x in (_PUID_UNSAFE.sub("_", f.platform or "basira"), subject, ref) if x)
    return head[: PUID_MAX - len(suffix)] + suffix


def _content_date(f: StatementFacts) -> str:
    """YYYY-MM-DD within the TDB's range: the content's date, else the decision's; an earlier one (a broken or
    zero timestamp) is sent as 2000-01-01, the earliest the database takes, and a later one as the decision's."""
    d = (f.content_date or f.decided_at).date()
    d = max(d, TDB_EARLIEST_CONTENT_DATE)
    if d > min(f.decided_at.date(), TDB_LATEST_DATE):
        d = max(TDB_EARLIEST_CONTENT_DATE, min(f.decided_at.date(), TDB_LATEST_DATE))
    return d.isoformat()


def _cap(s: dict[str, Any]) -> dict[str, Any]:
    for k, n in MAX_LEN.items():
        v = s.get(k)
        if isinstance(v, str) and len(v) > n:
            s[k] = v[: n - 1] + "…"
    return s


class NoStatement(BasiraError):
    """A decision that restricts nothing (keep, escalate, refer, appeal outcomes): no statement is due."""


def statement_of_reasons(f: StatementFacts, catalogue: PolicyCatalogue, *,
                         territorial_scope: tuple[str, ...] = EEA, policy_url: str | None = None) -> dict[str, Any]:
    """The Transparency Database statement for one restrictive decision."""
    if f.action not in RESTRICTIVE_ACTIONS:
        raise NoStatement(f"decision {f.decision_id} ({f.action}) restricts nothing: no statement of reasons is due").said(
            N_("decision %(decision)s (%(action)s) restricts nothing: no statement of reasons is due"),
            decision=f.decision_id, action=f.action)
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
        types = {"CONTENT_TYPE_TEXT"} | {CONTENT_TYPE_OF_MEDIA.get((k or "").lower(), "CONTENT_TYPE_OTHER")
                                         for k in f.media_kinds}
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
    lang = None if on_account else content_language(f.lang)
    if lang:
        s["content_language"] = lang
    s["content_date"] = _content_date(f)  # required for every decision, accounts included
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
    s["puid"] = statement_puid(f)
    return _cap(s)
