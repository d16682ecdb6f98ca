"""What the data says in codes and stored English, in the reader's language: category codes (`recruitment`,
`propaganda_brand`) as labels, a case's reason and an evidence span's explanation rebuilt from their parts.

The reasons and explanations are stored in English, as written when the case was opened or the post scored
(the audit log quotes them so, and the API returns them so); a page renders them again from their parts at
render time: «detector flagged the post (score 0.973; recruitment)» is read as its score and categories and
said again in the reader's language. A part that is not one of the known shapes (a reviewer's own reason, a
network case's summary) is shown as it was written. Template filters: `category`, `case_reason`,
`evidence_why`, `policy_title` (installed by `install`).
"""

from __future__ import annotations

import re
from typing import Any

from basira.core.i18n import N_, gettext, ngettext, number
from basira.web.i18n import word

__all__ = ["CATEGORIES", "POLICY_TITLES", "case_reason", "category", "evidence_why", "install", "policy_title"]

# The detector's categories (basira.detect.lexicon, detector.UNSPECIFIED_SUPPORT), its stance signals, and the
# reason's word for none; a code not listed is shown as it is.
CATEGORIES = {
    "recruitment": N_("recruitment"),
    "glorification": N_("glorification"),
    "propaganda_brand": N_("propaganda brand"),
    "threat_incitement": N_("threat or incitement"),
    "pledge": N_("pledge of allegiance"),
    "other_support": N_("other support"),
    "unspecified": N_("unspecified"),
    "distancing": N_("distancing"),
    "sectarian_hate": N_("sectarian hate"),
    "condemnation": N_("condemnation"),
}

# The titles of the policy reasons Basira ships (basira/review/policies.toml), for `make i18n` to keep; a
# deployment's own catalogue is shown as written unless its titles are added to the catalogues too.
POLICY_TITLES = (
    N_("Recruitment for a designated terrorist organisation"),
    N_("Glorification of terrorist attacks or perpetrators"),
    N_("Official propaganda of a designated organisation"),
    N_("Credible threat or incitement to violence"),
    N_("Pledge of allegiance to a designated organisation"),
    N_("Needs senior or legal review"),
    N_("Imminent threat to life: refer to law enforcement"),
    N_("Not violating: news reporting or research"),
    N_("Not violating: counter-speech or condemnation"),
    N_("Not violating: other (false positive)"),
    N_("Appeal rejected: the original decision stands"),
    N_("Appeal accepted: the original decision was wrong"),
)

_DETECTOR = re.compile(r"detector flagged the post \(score (?P<score>[0-9.]+); (?P<cats>[^()]*)\)")
_MATCH = re.compile(r"(?:hash match: )?bank (?P<bank>'[^']*'|\"[^\"]*\") item (?P<item>\d+) "
                    r"\((?P<type>[\w.-]+), distance (?P<distance>[0-9.e+-]+)\)(?: and (?P<more>\d+) more)?")
_ORDER = re.compile(r"removal order (?P<ref>.+) \((?P<authority>[^()]+)\)")
_LOCKSTEP = re.compile(r"coordinated sharing: (?P<accounts>\d+) accounts shared (?P<items>\d+) items in lockstep")
_COMMUNITY = re.compile(r"community (?P<c>\d+): (?P<size>\d+) accounts, (?P<flagged>\d+) posting flagged material")
_LED_BY = re.compile(r"led by @(?P<handle>[^ ()]*) \((?P<why>.*)\)")
_INDICATOR = re.compile(r"(?P<cat>\w+) indicator: «(?P<term>.*)»")
_MODEL_WORD = re.compile(r"model: «(?P<word>.*)» weighs towards propaganda")


def category(code: Any) -> str:
    """A category code as a label in the reader's language (the code itself when not a known one)."""
    text = "" if code is None else str(code)
    return gettext(CATEGORIES[text]) if text in CATEGORIES else text


def _categories(listed: str) -> str:
    return gettext(", ").join(category(c.strip()) for c in listed.split(","))


def _parts(reason: str) -> list[str]:
    """The reason's parts: intake joins a case's reasons with "; " (a semicolon inside parentheses is not one)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(reason):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth <= 0 and reason.startswith("; ", i):
            parts.append(reason[start:i])
            start = i + 2
    parts.append(reason[start:])
    return parts


def _part(text: str) -> str:
    if m := _DETECTOR.fullmatch(text):
        return gettext("detector flagged the post (score %(score)s; %(categories)s)",
                       score=number(float(m["score"]), 3), categories=_categories(m["cats"]))
    if m := _MATCH.fullmatch(text):
        said = gettext("bank %(bank)s item %(item)s (%(type)s, distance %(distance)s)", bank=m["bank"],
                       item=m["item"], type=word(m["type"]), distance=number(float(m["distance"])))
        if text.startswith("hash match: "):
            said = gettext("hash match: %(matches)s", matches=said)
        if m["more"]:
            said += " " + ngettext("and %(num)s more", "and %(num)s more", int(m["more"]),
                                   num=number(int(m["more"])))
        return said
    if m := _ORDER.fullmatch(text):
        return gettext("removal order %(ref)s (%(authority)s)", ref=m["ref"], authority=m["authority"])
    if m := _LOCKSTEP.fullmatch(text):
        n, items = int(m["accounts"]), int(m["items"])
        return ngettext("coordinated sharing: %(num)s account shared %(items)s items in lockstep",
                        "coordinated sharing: %(num)s accounts shared %(items)s items in lockstep", n,
                        num=number(n), items=number(items))
    if m := _COMMUNITY.fullmatch(text):
        size = int(m["size"])
        return ngettext("community %(c)s: %(num)s account, %(flagged)s posting flagged material",
                        "community %(c)s: %(num)s accounts, %(flagged)s posting flagged material", size,
                        c=m["c"], num=number(size), flagged=number(int(m["flagged"])))
    if m := _LED_BY.fullmatch(text):
        return gettext("led by @%(handle)s (%(why)s)", handle=m["handle"], why=m["why"])
    return text


def case_reason(reason: Any) -> str:
    """A case's stored reason, each known part said in the reader's language; the rest as written."""
    text = "" if reason is None else str(reason)
    return gettext("; ").join(_part(p) for p in _parts(text))


def evidence_why(why: Any) -> str:
    """An evidence span's stored explanation (basira.detect.detector.Detector.explain), in the reader's
    language; another explanation as written."""
    text = "" if why is None else str(why)
    if m := _INDICATOR.fullmatch(text):
        if m["cat"] in CATEGORIES:
            return gettext("%(category)s indicator: «%(term)s»", category=category(m["cat"]), term=m["term"])
    if m := _MODEL_WORD.fullmatch(text):
        return gettext("model: «%(word)s» weighs towards propaganda", word=m["word"])
    return text


def policy_title(title: Any) -> str:
    """A policy reason's title, in the reader's language when the catalogues have it."""
    text = "" if title is None else str(title)
    return gettext(text) if text else text


def install(env: Any) -> None:
    """The filters `category`, `case_reason`, `evidence_why` and `policy_title` on a Jinja environment."""
    env.filters["policy_title"] = policy_title
    env.filters["category"] = category
    env.filters["case_reason"] = case_reason
    env.filters["evidence_why"] = evidence_why
