"""The DSA Transparency Database's validation rules for a statement of reasons, as a checker for tests.

Restated (not copied) from digital-services-act/transparency-database at commit
69e80a0bc8eb3cbfbe8246e898194c3bdf490a4b: app/Http/Requests/StatementStoreRequest.php (POST /api/v1/statement),
app/Services/GroupedSubmissionsService.php `multi_rules` (POST /api/v1/statements, the batch API: 1-100
statements, PUIDs unique within the call; app/Http/Controllers/Api/v1/StatementMultipleAPIController.php), the
allowed values in app/Models/Statement.php (the array keys of DECISION_VISIBILITIES, CONTENT_TYPES, ...),
app/Services/EuropeanCountriesService.php (EUROPEAN_COUNTRY_CODES) and EuropeanLanguagesService.php
(ALL_LANGUAGES). `check(statement)` returns the reasons the database would refuse it ([] when it would take it).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

DECISION_VISIBILITIES = {
    "DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED", "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED", "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED", "DECISION_VISIBILITY_OTHER"}
DECISION_MONETARIES = {"DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER"}
DECISION_PROVISIONS = {"DECISION_PROVISION_PARTIAL_SUSPENSION", "DECISION_PROVISION_TOTAL_SUSPENSION",
                       "DECISION_PROVISION_PARTIAL_TERMINATION", "DECISION_PROVISION_TOTAL_TERMINATION"}
DECISION_ACCOUNTS = {"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"}
ACCOUNT_TYPES = {"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"}
DECISION_GROUNDS = {"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
YES_NO = {"Yes", "No"}  # AUTOMATED_DETECTIONS, INCOMPATIBLE_CONTENT_ILLEGALS (values, not keys)
CONTENT_TYPES = {"CONTENT_TYPE_APP", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_PRODUCT",
                 "CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO", "CONTENT_TYPE_OTHER"}
SOURCE_TYPES = {"SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY"}
AUTOMATED_DECISIONS = {"AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"}
STATEMENT_CATEGORIES = {"STATEMENT_CATEGORY_" + c for c in (
    "ANIMAL_WELFARE", "CONSUMER_INFORMATION", "CYBER_VIOLENCE", "CYBER_VIOLENCE_AGAINST_WOMEN",
    "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "ILLEGAL_OR_HARMFUL_SPEECH", "INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", "NOT_SPECIFIED_NOTICE", "OTHER_VIOLATION_TC",
    "PROTECTION_OF_MINORS", "RISK_FOR_PUBLIC_SECURITY", "SCAMS_AND_FRAUD", "SELF_HARM",
    "UNSAFE_AND_PROHIBITED_PRODUCTS", "VIOLENCE")}
KEYWORDS = {"KEYWORD_" + k for k in (
    "ADULT_SEXUAL_MATERIAL", "AGE_SPECIFIC_RESTRICTIONS", "AGE_SPECIFIC_RESTRICTIONS_MINORS", "ANIMAL_HARM",
    "BIOMETRIC_DATA_BREACH", "BULLYING_AGAINST_GIRLS", "CHILD_SEXUAL_ABUSE_MATERIAL",
    "CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE", "CONTENT_PROMOTING_EATING_DISORDERS", "COORDINATED_HARM",
    "COPYRIGHT_INFRINGEMENT", "CYBER_BULLYING_INTIMIDATION", "CYBER_HARASSMENT", "CYBER_HARASSMENT_AGAINST_WOMEN",
    "CYBER_INCITEMENT", "CYBER_STALKING", "CYBER_STALKING_AGAINST_WOMEN", "DATA_FALSIFICATION", "DEFAMATION",
    "DESIGN_INFRINGEMENT", "DISCRIMINATION", "FEMALE_GENDERED_DISINFORMATION", "GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
    "GEOGRAPHICAL_REQUIREMENTS", "GOODS_SERVICES_NOT_PERMITTED", "GROOMING_SEXUAL_ENTICEMENT_MINORS", "HATE_SPEECH",
    "HIDDEN_ADVERTISEMENT", "HUMAN_EXPLOITATION", "HUMAN_TRAFFICKING", "ILLEGAL_ORGANIZATIONS",
    "IMPERSONATION_ACCOUNT_HIJACKING", "INAUTHENTIC_ACCOUNTS", "INAUTHENTIC_LISTINGS", "INAUTHENTIC_USER_REVIEWS",
    "INCITEMENT_AGAINST_WOMEN", "INCITEMENT_VIOLENCE_HATRED", "INSUFFICIENT_INFORMATION_ON_TRADERS",
    "LANGUAGE_REQUIREMENTS", "MISINFORMATION_DISINFORMATION", "MISLEADING_INFO_CONSUMER_RIGHTS",
    "MISLEADING_INFO_GOODS_SERVICES", "MISSING_PROCESSING_GROUND", "NON_CONSENSUAL_IMAGE_SHARING",
    "NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN", "NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    "NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN", "NONCOMPLIANCE_PRICING", "NUDITY", "PATENT_INFRINGEMENT",
    "PHISHING", "PROHIBITED_PRODUCTS", "PYRAMID_SCHEMES", "RIGHT_TO_BE_FORGOTTEN", "RISK_ENVIRONMENTAL_DAMAGE",
    "RISK_PUBLIC_HEALTH", "SELF_MUTILATION", "STALKING", "SUICIDE", "TERRORIST_CONTENT", "TRADE_SECRET_INFRINGEMENT",
    "TRADEMARK_INFRINGEMENT", "TRAFFICKING_WOMEN_GIRLS", "UNLAWFUL_SALE_ANIMALS", "UNSAFE_CHALLENGES",
    "UNSAFE_PRODUCTS", "VIOLATION_EU_LAW", "VIOLATION_NATIONAL_LAW", "OTHER")}
EUROPEAN_COUNTRY_CODES = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
                          "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"}
ALL_LANGUAGES = set("""AB AA AF AK SQ AM AR AN HY AS AV AE AY AZ BM BA EU BE BN BH BI BS BR BG MY CA KM CH CE NY ZH CU
CV KW CO CR HR CS DA DV NL DZ EN EO ET EE FO FJ FI FR FF GD GL LG KA DE KI EL KL GN GU HT HA HE HZ HI HO HU IS IO IG
ID IA IE IU IK GA IT JA JV KN KR KS KK RW KV KG KO KJ KU KY LO LA LV LB LI LN LT LU MK MG MS ML MT GV MI MR MH RO MN
NA NV ND NG NE SE NO NB NN II OC OJ OR OM OS PI PA PS FA PL PT QU RM RN RU SM SG SA SC SR SN SD SI SK SL SO ST NR ES
SU SW SS SV TL TY TG TA TT TE TH BO TI TO TS TN TR TK TW UG UK UR UZ VE VI VO WA CY FY WO XH YI YO ZA ZU""".split())
PUID = re.compile(r"[a-zA-Z0-9_-]+")  # /^[a-zA-Z0-9-_]+$/D: no trailing newline either
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX = {"decision_visibility_other": 500, "decision_monetary_other": 500, "category_specification_other": 500,
       "decision_ground_reference_url": 500, "illegal_content_legal_ground": 500, "illegal_content_explanation": 2000,
       "incompatible_content_ground": 500, "incompatible_content_explanation": 2000, "content_type_other": 500,
       "decision_facts": 5000, "source_identity": 500, "puid": 500}
FIELDS = {*MAX, "decision_visibility", "decision_monetary", "decision_provision", "decision_account", "account_type",
          "category_specification", "decision_ground", "incompatible_content_illegal", "content_type", "category",
          "category_addition", "territorial_scope", "content_language", "content_date", "application_date",
          "end_date_account_restriction", "end_date_monetary_restriction", "end_date_service_restriction",
          "end_date_visibility_restriction", "source_type", "automated_detection", "automated_decision", "content_id",
          "content_id_ean"}
MAX_BATCH = 100


def _present(v: Any) -> bool:  # Laravel's "required": not null, not "", not []
    return v is not None and v != "" and v != []


def _date(errors: list[str], s: dict[str, Any], field: str, lo: date | None, hi: date, required: bool) -> None:
    v = s.get(field)
    if not _present(v):
        if required:
            errors.append(f"{field}: required")
        return
    if not isinstance(v, str) or not DATE.fullmatch(v):
        errors.append(f"{field}: not YYYY-MM-DD: {v!r}")
        return
    try:
        d = date.fromisoformat(v)
    except ValueError:
        errors.append(f"{field}: not a date: {v!r}")
        return
    if lo is not None and d < lo:
        errors.append(f"{field}: before {lo}")
    if d > hi:
        errors.append(f"{field}: after {hi}")


def check(s: dict[str, Any]) -> list[str]:
    """Why the Transparency Database would refuse statement `s` ([] if it would accept it)."""
    errors: list[str] = []
    for k in s:  # stricter than the database, which drops unknown fields silently: we would lose them unseen
        if k not in FIELDS:
            errors.append(f"{k}: not a Transparency Database field")

    def one_of(field: str, allowed: set[str], required: bool = False) -> None:
        v = s.get(field)
        if not _present(v):
            if required:
                errors.append(f"{field}: required")
        elif v not in allowed:
            errors.append(f"{field}: {v!r} is not one of the allowed values")

    def many_of(field: str, allowed: set[str], required: bool = False) -> None:
        v = s.get(field)
        if not _present(v):
            if required:
                errors.append(f"{field}: required")
            return
        if not isinstance(v, list):
            errors.append(f"{field}: must be an array")
            return
        errors.extend(f"{field}: {x!r} is not one of the allowed values" for x in v if x not in allowed)

    def required(field: str) -> None:
        if not _present(s.get(field)):
            errors.append(f"{field}: required")

    restrictions = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
    if not any(_present(s.get(f)) for f in restrictions):
        errors.append("decision_visibility: required when none of decision_monetary, decision_provision, "
                      "decision_account is given")
    many_of("decision_visibility", DECISION_VISIBILITIES)
    if "DECISION_VISIBILITY_OTHER" in (s.get("decision_visibility") or []):
        required("decision_visibility_other")
    one_of("decision_monetary", DECISION_MONETARIES)
    if s.get("decision_monetary") == "DECISION_MONETARY_OTHER":
        required("decision_monetary_other")
    one_of("decision_provision", DECISION_PROVISIONS)
    one_of("decision_account", DECISION_ACCOUNTS)
    one_of("account_type", ACCOUNT_TYPES)
    many_of("category_specification", KEYWORDS)

    one_of("decision_ground", DECISION_GROUNDS, required=True)
    url = s.get("decision_ground_reference_url")
    if _present(url):
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(f"decision_ground_reference_url: not a URL: {url!r}")
    ground = s.get("decision_ground")
    illegal = ("illegal_content_legal_ground", "illegal_content_explanation")
    incompatible = ("incompatible_content_ground", "incompatible_content_explanation")
    if ground == "DECISION_GROUND_ILLEGAL_CONTENT":
        for f in illegal:
            required(f)
    if ground == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        for f in incompatible:
            required(f)
        one_of("incompatible_content_illegal", YES_NO)

    many_of("content_type", CONTENT_TYPES, required=True)
    other = "CONTENT_TYPE_OTHER" in (s.get("content_type") or [])
    if other:
        required("content_type_other")
    one_of("category", STATEMENT_CATEGORIES, required=True)
    many_of("category_addition", STATEMENT_CATEGORIES)
    many_of("territorial_scope", EUROPEAN_COUNTRY_CODES)
    one_of("content_language", ALL_LANGUAGES)

    _date(errors, s, "content_date", date(2000, 1, 1), date(2038, 1, 1), required=True)
    _date(errors, s, "application_date", date(2020, 1, 1), date(2038, 1, 1), required=True)
    for f in ("end_date_account_restriction", "end_date_monetary_restriction", "end_date_service_restriction",
              "end_date_visibility_restriction"):
        _date(errors, s, f, None, date(2038, 1, 1), required=False)

    required("decision_facts")
    one_of("source_type", SOURCE_TYPES, required=True)
    one_of("automated_detection", YES_NO, required=True)
    one_of("automated_decision", AUTOMATED_DECISIONS, required=True)

    puid = s.get("puid")
    if not _present(puid):
        errors.append("puid: required")
    elif not isinstance(puid, str) or not PUID.fullmatch(puid):
        errors.append(f"puid: the puid format is invalid: {puid!r}")

    for f, n in MAX.items():
        v = s.get(f)
        if isinstance(v, str) and len(v) > n:
            errors.append(f"{f}: longer than {n} characters ({len(v)})")
    return errors


def check_batch(statements: list[dict[str, Any]]) -> list[str]:
    """The batch API's rules on top: 1-100 statements, PUIDs unique within the call, each statement valid."""
    errors = []
    if not 1 <= len(statements) <= MAX_BATCH:
        errors.append(f"statements: must have between 1 and {MAX_BATCH} items, not {len(statements)}")
    puids = [s.get("puid") for s in statements]
    dups = sorted({p for p in puids if puids.count(p) > 1 and p is not None})
    if dups:
        errors.append(f"puid: not unique within this call: {dups}")
    for i, s in enumerate(statements):
        errors.extend(f"statement_{i}.{e}" for e in check(s))
    return errors
