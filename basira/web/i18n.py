"""The interface's languages: the language of each request (the user's setting, else the browser's
Accept-Language, else English), its direction, and the Jinja side of basira.core.i18n (catalogues, plural forms,
localised numbers and dates), which also serves the notices, e-mails and PDFs."""

from __future__ import annotations

from typing import Any

from basira.core.i18n import (
    DEFAULT,
    DOMAIN,
    LANGUAGES,
    LOCALE_DIR,
    N_,
    current,
    gettext,
    ngettext,
    number,
    percent,
    reset,
    speaking,
    translations,
    use,
    when,
)

# Words the pages show from the data (statuses, roles, stages, outcomes, kinds): translated by the `word` filter,
# shown as they are when not listed. Marked with N_ so that `make i18n` extracts them.
WORDS = {w: w for w in (
    N_("open"), N_("escalated"), N_("appealed"), N_("decided"), N_("closed"), N_("removed"), N_("kept"),
    N_("referred"), N_("executed"), N_("rejected"), N_("withdrawn"), N_("upheld"), N_("overturned"),
    N_("active"), N_("suspended"), N_("deleted"), N_("disabled"), N_("pending"), N_("sent"), N_("failed"),
    N_("delivered"), N_("recorded"), N_("already_removed"), N_("not_found"), N_("lead"), N_("member"),
    N_("review"), N_("escalation"), N_("appeal"), N_("admin"), N_("reviewer"), N_("analyst"), N_("legal"),
    N_("auditor"), N_("platform"), N_("post"), N_("account"), N_("community"), N_("coordinated"), N_("media"),
    N_("image"), N_("photo"), N_("video"), N_("animated_gif"), N_("gif"), N_("text"), N_("minhash"), N_("md5"), N_("pdq"), N_("retweet"),
    N_("remove"), N_("keep"), N_("escalate"), N_("refer"), N_("uphold"), N_("overturn"),
    N_("terrorist_support"), N_("hate_speech"), N_("risk"), N_("follow"), N_("mention"), N_("reply"),
    N_("repost"), N_("forward"), N_("quote"), N_("co_share"), N_("email"), N_("webhook"), N_("log"),
    N_("api"), N_("web"), N_("file"), N_("queued"), N_("done"), N_("expired"), N_("merged"),
    # the case page's panels (basira.review.panels): their titles, row labels and empty messages
    N_("Hash matches"), N_("Network context"), N_("Subject"), N_("Shared in lockstep"), N_("Risk"), N_("Why"),
    N_("Community"), N_("Nothing recorded."), N_("No members recorded."),
    N_("No hash-bank matches recorded for this content."),
    N_("The network analysis is being computed; reload in a few seconds."),
    N_("This account is newer than the current network analysis."),
)}


def word(value: Any) -> str:
    """A status/role/kind from the data, in the reader's language when it is one of WORDS."""
    text = "" if value is None else str(value)
    return gettext(text) if text in WORDS else text


def pick(preference: str | None, accept_language: str | None) -> str:
    """The user's own setting wins; else the first supported language of Accept-Language by q; else English."""
    if preference in LANGUAGES:
        return preference  # type: ignore[return-value]
    best: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and q > 0:
            best.append((-q, i, base))
    return min(best)[2] if best else DEFAULT


def direction(lang: str | None = None) -> str:
    return LANGUAGES.get(lang or current(), LANGUAGES[DEFAULT])[1]


def install(env: Any) -> None:
    """Jinja: {{ _('…') }}, {% trans %}, ngettext with plural forms per language; filters `num`, `pct`, `when`
    and `word`."""
    env.add_extension("jinja2.ext.i18n")
    # Jinja's newstyle callables format the result once, with the template's (escaped) variables; ours must not
    # format first (a plural's %(num)s would be filled with the raw count, not the localised `num=` given).
    env.install_gettext_callables(lambda message: translations(current()).gettext(message),
                                  lambda one, many, n: translations(current()).ngettext(one, many, n), newstyle=True)
    env.filters["num"] = number
    env.filters["pct"] = percent
    env.filters["when"] = when
    env.filters["word"] = word
    env.globals["LANGUAGES"] = LANGUAGES


__all__ = ["DEFAULT", "DOMAIN", "LANGUAGES", "LOCALE_DIR", "WORDS", "current", "direction", "gettext", "install",
           "ngettext", "number", "percent", "pick", "reset", "speaking", "translations", "use", "when", "word"]
