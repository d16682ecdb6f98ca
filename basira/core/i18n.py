"""Translation for everything Basira says to people — pages, notices, e-mails, PDFs: gettext catalogues
(basira/web/locale/<lang>/LC_MESSAGES/basira.po, compiled to .mo by `make i18n` and committed, so an install needs
no build step), the language of what is rendered next (a context variable, so threads and requests don't mix),
and numbers and dates by locale (Babel's CLDR data). The web face picks the language per request
(basira.web.i18n); a document addressed to an authority or a content provider is rendered in *its* language with
`speaking(lang)`, whoever is looking at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).parent.parent / "web" / "locale"
DOMAIN = "basira"
LANGUAGES: dict[str, tuple[str, str]] = {"en": ("English", "ltr"), "ar": ("العربية", "rtl"), "ru": ("Русский", "ltr")}
DEFAULT = "en"
_lang: ContextVar[str] = ContextVar("basira_lang", default=DEFAULT)


@lru_cache(maxsize=8)
def translations(lang: str) -> Any:
    from babel.support import NullTranslations, Translations

    if lang == DEFAULT:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [lang], domain=DOMAIN)


def current() -> str:
    return _lang.get()


def use(lang: str | None) -> Any:
    """Make `lang` the language of what is rendered next in this context; returns a token for `reset`."""
    return _lang.set(lang if lang in LANGUAGES else DEFAULT)


def reset(token: Any) -> None:
    _lang.reset(token)


@contextmanager
def speaking(lang: str | None) -> Iterator[str]:
    """`with speaking("ar"):` everything translated inside comes out in Arabic (unknown languages: English)."""
    token = use(lang)
    try:
        yield current()
    finally:
        reset(token)


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "extract me, translate later"
    return message


def gettext(message: str, **variables: Any) -> str:
    text: str = translations(current()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text: str = translations(current()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def number(value: float | int | None, digits: int | None = None) -> str:
    if value is None:
        return ""
    return _number(current(), value, digits)


@lru_cache(maxsize=4096)
def _number(lang: str, value: float | int, digits: int | None) -> str:
    """Cached, with the parsed locale and pattern: formatting cost ~0.1 ms a call, ~150 calls a queue page
    (hours waiting and group sizes repeat)."""
    from babel.numbers import format_decimal

    return str(format_decimal(value, format=_pattern(digits), locale=_locale(lang)))


@lru_cache(maxsize=16)
def _locale(lang: str) -> Any:
    from babel import Locale

    return Locale.parse(lang)


@lru_cache(maxsize=16)
def _pattern(digits: int | None) -> Any:
    from babel.numbers import parse_pattern

    return None if digits is None else parse_pattern("#,##0." + "0" * digits if digits else "#,##0")


def percent(share: float | None, digits: int = 1) -> str:
    from babel.numbers import format_percent

    if share is None:
        return "—"
    return str(format_percent(share, format="#,##0." + "0" * digits + "%" if digits else "#,##0%", locale=current()))


def when(value: datetime | str | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A time in the reader's locale. The default pattern is the ISO-like one every page used (digits and order
    the same in en/ar/ru, so it reads the same in a table); pass "medium"/"long" for month names."""
    from babel.dates import format_datetime

    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return str(format_datetime(value, fmt, tzinfo=None, locale=current()))


__all__ = ["LANGUAGES", "DEFAULT", "LOCALE_DIR", "N_", "current", "gettext", "ngettext", "number", "percent",
           "reset", "speaking", "translations", "use", "when"]
