"""Language identification on short everyday sentences, including the Central Asian ones gcld3 confuses."""

from __future__ import annotations

import timeit

import pytest

from basira.text import detect_language, detect_languages

SENTENCES = {
    "ar": [
        "ذهبت إلى السوق صباح اليوم لشراء الخبز والحليب.",
        "الطقس جميل جدا في هذا الموسم.",
        "هل يمكنك مساعدتي في حل هذا السؤال؟",
    ],
    "en": [
        "I went to the market this morning to buy bread.",
        "The weather is lovely this time of year.",
        "Can you help me with this question?",
    ],
    "ru": [
        "Сегодня утром я ходил на рынок за хлебом.",
        "Погода в это время года прекрасная.",
        "Ты можешь помочь мне с этим вопросом?",
    ],
    "kk": [
        "Бүгін таңертең мен нан сатып алу үшін базарға бардым.",
        "Жылдың осы мезгілінде ауа райы өте жақсы.",
        "Сен маған осы сұрақ бойынша көмектесе аласың ба?",
    ],
    "uz": [
        "Bugun ertalab non sotib olish uchun bozorga bordim.",
        "Yilning bu faslida havo juda yaxshi.",
        "Menga bu savol bo'yicha yordam bera olasizmi?",
        "Бугун эрталаб нон сотиб олиш учун бозорга бордим.",
        "Йилнинг бу фаслида ҳаво жуда яхши.",
        "Менга бу савол бўйича ёрдам бера оласизми?",
        "Укам мактабда яхши ўқийди.",
    ],
    "tg": [
        "Имрӯз субҳ ман барои харидани нон ба бозор рафтам.",
        "Ҳаво дар ин фасли сол хеле хуб аст.",
        "Метавонӣ ба ман дар ин савол кӯмак кунӣ?",
    ],
    "tr": [
        "Bu sabah ekmek almak için pazara gittim.",
        "Yılın bu zamanında hava çok güzel.",
        "Bu soruda bana yardım edebilir misin?",
    ],
    "fr": [
        "Ce matin, je suis allé au marché acheter du pain.",
        "Il fait très beau à cette période de l'année.",
        "Peux-tu m'aider avec cette question ?",
    ],
    "de": [
        "Heute Morgen bin ich auf den Markt gegangen, um Brot zu kaufen.",
        "Das Wetter ist um diese Jahreszeit herrlich.",
        "Kannst du mir bei dieser Frage helfen?",
    ],
    "fa": [
        "امروز صبح برای خرید نان به بازار رفتم.",
        "هوا در این فصل سال بسیار خوب است.",
    ],
    "ur": [
        "آج صبح میں روٹی خریدنے بازار گیا۔",
        "سال کے اس وقت موسم بہت اچھا ہوتا ہے۔",
    ],
}
CASES = [(lang, s) for lang, ss in SENTENCES.items() for s in ss]


@pytest.mark.parametrize(("lang", "sentence"), CASES)
def test_short_sentences(lang: str, sentence: str) -> None:
    assert detect_language(sentence) == lang


@pytest.mark.parametrize("text", ["", "   ", "12345 !!!", "https://t.me/x @user", "\u200b\u200f"])
def test_nothing_to_tell_is_undetermined(text: str) -> None:
    assert detect_language(text) == "und"


def test_links_mentions_and_obfuscation_do_not_mislead() -> None:
    assert detect_language("@news_bot https://t.me/abc انشروا هذا الإصدار الجديد يا إخوة #الدولة_الإسلامية") == "ar"
    assert detect_language("الـــدولـــة الإسْلامِيَّة باقية وتتمدد") == "ar"
    assert detect_language("Подписывайтесь на канал t.me/abc, братья, новости каждый день") == "ru"


def test_short_arabic_falls_back_to_arabic() -> None:
    assert detect_language("باقية") == "ar"


def test_batch_keeps_order() -> None:
    texts = [SENTENCES["en"][0], SENTENCES["ar"][0], "", SENTENCES["ru"][1]]
    assert detect_languages(texts) == ["en", "ar", "und", "ru"]


def test_is_cheap() -> None:
    text = SENTENCES["ar"][0] * 3
    detect_language(text)  # model load
    per_call = timeit.timeit(lambda: detect_language(text), number=200) / 200
    assert per_call < 2e-3


def test_script_counts_and_cleaning_shortcuts_match_the_patterns() -> None:
    # detect_language counts scripts with one translate and skips link/mention/hashtag patterns on a cheap
    # hint; both must give what the patterns give, for every character and every kind of link.
    import re
    import sys

    from basira.text import lang
    from basira.text.normalize import _HASHTAG, _MENTION, _URL

    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    letters = every.translate(lang._SCRIPT_LETTER)
    for letter, pattern in (("a", lang._ARABIC), ("c", lang._CYRILLIC), ("l", lang._LATIN)):
        assert letters.count(letter) == len(pattern.findall(every))
    for text in ("HTTPS://X.COM/a @Someone #Tag_Two", "WWW.example.org", "T.ME/chan", "httpſ://x", "a@b #", "no links"):
        s = __import__("unicodedata").normalize("NFKC", text).translate(lang._FOLD_INVISIBLE)
        s = _HASHTAG.sub(lambda m: m.group(1).replace("_", " "), _MENTION.sub(" ", _URL.sub(" ", s)))
        assert lang._clean(text) == re.sub(r"\s+", " ", s).strip()
