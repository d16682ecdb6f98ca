"""Normalization: evasion variants meet their clean form, fast and offset paths agree, offsets stay sound."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from basira.text import extract_hashtags, extract_mentions, extract_urls, normalize, normalize_text

CLEAN_STATE = normalize_text("الدولة الإسلامية")

# Characters the rules care about, so that hypothesis generates them often, not once in a million.
_ALPHABET = (
    "ابتثجحخدذرسشصضطظعغفقكلمنهويءآأإٱؤئةى"  # Arabic letters and hamza/alef/ya/ta marbuta variants
    "کیہەۀھۃٮڡٯںپچژگ"  # Persian/Urdu look-alikes and distinct letters
    "\u064b\u064e\u064f\u0650\u0651\u0652\u0670\u0640"  # harakat, dagger alef, tatweel
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2066\u2069\ufeff\u061c\u00ad\u034f"  # invisibles
    "\ufe8d\ufedf\ufef7\ufdf2\ufdfa\ufe70"  # presentation forms and ligatures
    "abcdeiklmnopstxyzABCISWé"  # Latin
    "аеорсухіѕжмнтвдпИСАЕ"  # Cyrillic
    "αεορτυΙΟ"  # Greek
    "0123456789٠١٢٣۴۵@$#_.-·*| \t\n/:"  # digits, leet and separator symbols
)
texts = st.text(alphabet=_ALPHABET, max_size=60) | st.text(max_size=30)


def tokens(*parts: str) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(parts), max_size=12).map("".join)


# Whole chunks (URLs, hashtags, spaced letters) that a char-by-char strategy would rarely assemble.
chunks = tokens("https://t.me/x", " www.a.b ", "t.me/c", "@user", "#Islamic", "State", "#دولة_", "ا ", "ا.", "s ",
                "i.", "1s", "ооо", "ooo", "ااا", " ", "د", "\u0640", "ІS", "с", "c", "3", "@")
any_text = texts | chunks | st.tuples(texts, chunks, texts).map("".join)


@settings(deadline=None)
@given(any_text)
def test_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(deadline=None)
@given(any_text)
def test_fast_path_equals_offset_path(text: str) -> None:
    assert normalize(text).text == normalize_text(text)


@settings(deadline=None)
@given(any_text)
def test_offsets_are_sound(text: str) -> None:
    nt = normalize(text)
    assert nt.original == text
    assert len(nt.starts) == len(nt.ends) == len(nt.text)
    assert list(nt.starts) == sorted(nt.starts)
    for s, e in zip(nt.starts, nt.ends, strict=True):
        assert 0 <= s < e <= len(text)
    for i in range(len(nt.text)):
        s, e = nt.to_original(i, i + 1)
        assert text[s:e]
    if nt.text:
        assert nt.to_original(0, len(nt.text)) == (nt.starts[0], max(nt.ends))


@pytest.mark.parametrize(
    "variant",
    [
        "الدولة الإسلامية",
        "الـــدولـــة الإسـلامـيـة",  # tatweel
        "الدَّوْلَةُ الإِسْلَامِيَّةُ",  # harakat
        "ال\u200dدولة الإس\u200cلامية",  # zero-width joiner / non-joiner
        "\u202bالدولة\u202c \u2067الإسلامية\u2069",  # bidi controls
        "ﺍﻟﺪﻭﻟﺔ ﺍﻹﺳﻼﻣﻴﺔ",  # presentation forms
        "ا_ل_د_و_ل_ة ا_ل_إ_س_ل_ا_م_ي_ة",  # spaced out, one separator per word
        "ا.ل.د.و.ل.ة ا.ل.إ.س.ل.ا.م.ي.ة",
        "#الدولة_الإسلامية",
        "  الدولة\n\tالإسلامية  ",
        "الدولة الأسلاميه",  # hamza and ta marbuta spellings
        "ﺍﻟﺪﻭﻟﺔ ﺍﻹﺳﻼﻣﻴﺔ",
    ],
)
def test_arabic_variants_meet_the_clean_form(variant: str) -> None:
    assert normalize_text(variant) == CLEAN_STATE


def test_clean_state_form() -> None:
    assert CLEAN_STATE == "الدوله الاسلاميه"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("د ا ع ش", "داعش"),
        ("ا_ل_د_و_ل_ة", "الدوله"),
        ("i.s.i.s", "isis"),
        ("I-S-I-S", "isis"),
        ("d·a·e·s·h", "daesh"),
        ("is a good", "is a good"),  # a lone single letter stays a word
        ("a b", "a b"),  # two are not a run
        ("ا ل د و ل ة ا ل ا س ل ا م ي ة", "الدولهالاسلاميه"),  # word gaps collapse: one run
        ("ا ا ا ب ج", "ابج"),
    ],
)
def test_spaced_out_letters_are_joined(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u0406\u0405\u0406\u0405", "\u0456\u0455\u0456\u0455"),  # all Cyrillic: a Cyrillic word, left alone
        ("\u0406S\u0406S", "isis"),  # Cyrillic І in a Latin word
        ("IS\u0406\u0405", "isis"),  # tie, but the Cyrillic letters all read as Latin
        ("\u0399SIS", "isis"),  # Greek Iota
        ("Hеllo wоrld", "hello world"),
        ("Привeт", "привет"),  # Latin e in a Russian word
        ("мoсквa", "москва"),
        ("1s1s", "isis"),
        ("d@esh", "daesh"),
        ("$h4r14", "sharia"),
        ("mp3 4chan covid19 1st 2024", "mp3 4chan covid19 1st 2024"),  # real tokens and numbers stay
        ("داعش 1s1s", "داعش isis"),
    ],
)
def test_homoglyphs_and_leetspeak(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("مووووت", "موت"),
        ("goooood", "good"),
        ("Нееееет", "неет"),
        ("1000000", "1000000"),
        ("!!!!", "!!!!"),
        ("#IslamicState", "islamic state"),
        ("#ISISNews", "isis news"),
        ("#ИсламскоеГосударство", "исламское государство"),
        ("##jihad", "jihad"),
        ("a#b", "a#b"),
        ("ﷲ أكبر", "الله اكبر"),
        ("٢٠٢٤ و۱۴۰۳", "2024 و1403"),
        ("کتاب یک", "كتاب يك"),
        ("پدر چای ژاله گل", "پدر چاي ژاله گل"),  # distinct Persian letters stay
        ("Ｈｅｌｌｏ", "hello"),
        ("see https://example.com/a?b=1, then www.x.org and t.me/chan.", "see <url>, then <url> and <url>."),
        ("ping @someone and @x_y!", "ping <user> and <user>!"),
        ("mail me@example", "mail meaexample"),  # not a mention: the @ is inside a word
        ("", ""),
        ("\u200b\u200f", ""),
    ],
)
def test_rules(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


def test_offsets_point_back_to_the_source() -> None:
    text = "انشروا #الدولة_الإسلامية https://t.me/x د ا ع ش goooood"
    nt = normalize(text)
    assert nt.text == "انشروا الدوله الاسلاميه <url> داعش good"
    span = nt.text.index("<url>")
    s, e = nt.to_original(span, span + 5)
    assert text[s:e] == "https://t.me/x"
    span = nt.text.index("داعش")
    s, e = nt.to_original(span, span + 4)
    assert text[s:e] == "د ا ع ش"
    span = nt.text.index("good")
    s, e = nt.to_original(span, span + 4)
    assert text[s:e] == "goooood"
    span = nt.text.index("الاسلاميه")
    s, e = nt.to_original(span, span + len("الاسلاميه"))
    assert text[s:e] == "الإسلامية"


def test_ligature_maps_to_its_one_source_char() -> None:
    nt = normalize("x ﷲ")
    assert nt.text == "x الله"
    assert nt.to_original(2, 6) == (2, 3)


def test_extractors_return_the_original_strings() -> None:
    text = "Join https://t.me/Chan_1 via @Recruiter_9 #IslamicState #الدولة_الإسلامية (www.Example.com)."
    assert extract_urls(text) == ["https://t.me/Chan_1", "www.Example.com"]
    assert extract_mentions(text) == ["@Recruiter_9"]
    assert extract_hashtags(text) == ["#IslamicState", "#الدولة_الإسلامية"]


def test_empty_span_maps_to_a_position() -> None:
    nt = normalize("ab cd")
    assert nt.to_original(2, 2) == (2, 2)
    assert nt.to_original(5, 9) == (5, 5)


def test_fast_path_is_fast() -> None:
    # Budget ~30 µs on a 140-char tweet; the bound is loose so that a busy CI box does not fail it.
    import timeit

    tweet = "عاجل: الـدولـة الإسلامـية تعلن عن إصدار جديد بعنوان «وأعدوا لهم» من مؤسسة الفرقان، انشروا الرابط "
    tweet = (tweet + "https://t.me/abc123 #الدولة_الإسلامية @user")[:140]
    per_call = min(timeit.repeat(lambda: normalize_text(tweet), number=500, repeat=3)) / 500
    assert per_call < 300e-6


def test_words_made_only_of_look_alikes_follow_the_surrounding_script():
    # "уеѕ" and "hе" are written entirely with Cyrillic look-alikes inside an English sentence.
    assert normalize_text("nidalgazaui and уеѕ hе's suspendee") == "nidalgazaui and yes he's suspendee"
    # ...and Latin look-alikes inside Russian text fold to Cyrillic.
    assert normalize_text("Мы пошли домой, вот тaк") == "мы пошли домой, вот так"


def test_whitespace_is_collapsed_as_the_regex_would() -> None:
    # normalize_text collapses with str.split (fast); the offset path with _WS (\s+): they agree only because
    # re's \s is exactly str.isspace, for every code point.
    import re
    import sys

    space = re.compile(r"\s")
    assert [c for c in range(sys.maxunicode + 1) if (space.match(chr(c)) is not None) != chr(c).isspace()] == []
    text = "one\x1c\x1d\x1e\x1ftwo\x85three\u2028\u2029four\u1680\u2000\u200a five\u3000\u205f\u202f\t\n\r\x0b\x0csix "
    assert normalize_text(text) == normalize(text).text == "one two three four five six"
