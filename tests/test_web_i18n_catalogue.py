"""Every word a template shows goes through the translation layer, and Arabic has all of them: a simple
extraction check over the templates' literal text (what is neither a `{{ … }}` nor a `{% … %}`), the visible
attributes (title, placeholder, aria-label, alt), and the catalogues."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from jinja2 import Environment

from basira.web import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"
# Latin words a template may print as they are: names, formats, standards, keys, not English sentences.
ALLOWED = {"Basira", "PDF", "JSON", "GEXF", "GraphML", "SHA", "HTTP", "UTC", "Enter", "PageRank", "BASIRA_WEBHOOK_URL",
           "basira", "users", "token", "USERNAME", "name", "NAME", "banks", "create", "report", "transparency"}
VISIBLE_ATTRS = re.compile(r"""\b(title|placeholder|aria-label|alt)\s*=\s*"([^"]*)\"""")
TAG = re.compile(r"<[^>]*>", re.S)
WORD = re.compile(r"[A-Za-z][A-Za-z_'-]*[A-Za-z]")


def _literal_text(source: str) -> str:
    """What a template prints literally: its data, each `{{ … }}`/`{% … %}` replaced by one NUL (so tags that
    contain expressions stay whole), comments dropped."""
    parts: list[str] = []
    for _line, kind, value in Environment(extensions=["jinja2.ext.i18n"]).lex(source):
        if kind == "data":
            parts.append(value)
        elif not parts or parts[-1] != "\0":
            parts.append("\0")
    return "".join(parts)


def _untranslated(source: str) -> list[str]:
    text = _literal_text(source)
    found = [f"{attr}={value!r}" for attr, value in VISIBLE_ATTRS.findall(text)
             if any(w not in ALLOWED for w in WORD.findall(value))]
    shown = TAG.sub("\0", re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S))
    for chunk in re.sub(r"&\w+;", " ", shown).split("\0"):
        if any(w not in ALLOWED for w in WORD.findall(chunk)):
            found.append(repr(chunk.strip()[:80]))
    return found


@pytest.mark.parametrize("name", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_visible_text_outside_the_translation_layer(name):
    assert _untranslated((TEMPLATES / name).read_text(encoding="utf-8")) == []


def test_the_check_finds_bare_text_and_attributes():
    bad = '<p title="Click here">Hello {{ _("ok") }} <b>world</b></p><input placeholder="{{ _(\'x\') }}">'
    assert len(_untranslated(bad)) == 3 and _untranslated('<p>{{ _("Hello") }} · PDF</p>') == []


def _catalogue(lang: str) -> dict:
    with open(i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "basira.po", "rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(f) if m.id}


def test_every_template_string_is_in_the_catalogue_and_arabic_has_it():
    ar = _catalogue("ar")
    missing, empty = [], []
    for path in sorted(TEMPLATES.glob("*.html")):
        for _line, message, *_rest in extract_from_file(
                "jinja2", str(path), keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
                options={"extensions": "jinja2.ext.i18n"}):
            key = message if isinstance(message, str) else message[0]
            if key not in ar:
                missing.append(f"{path.name}: {key!r}")
                continue
            s = ar[key].string
            if not (all(s) if isinstance(s, list | tuple) else s):
                empty.append(f"{path.name}: {key!r}")
    assert missing == [], f"run `make i18n`: {missing[:10]}"
    assert empty == [], f"Arabic translations missing: {empty[:10]}"


def test_arabic_plural_forms_header_and_every_form_filled():
    with open(i18n.LOCALE_DIR / "ar" / "LC_MESSAGES" / "basira.po", "rb") as f:
        cat = read_po(f)
    assert cat.num_plurals == 6
    plurals = [m for m in cat if m.id and not isinstance(m.id, str)]
    assert len(plurals) > 30 and all(len(m.string) == 6 and all(m.string) for m in plurals)
    # Placeholders survive translation: a form may drop %(num)s (zero, one, two) but never add a name.
    names = re.compile(r"%\((\w+)\)s")
    for m in cat:
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        allowed = set().union(*(names.findall(x) for x in ids)) | ({"num"} if len(ids) > 1 else set())
        for s in ([m.string] if isinstance(m.string, str) else m.string):
            assert set(names.findall(s)) <= allowed, (m.id, s)
