"""Stance features: what a text *does* with the group's vocabulary, as nine 0/1 flags on normalized text.

The n-gram model reads vocabulary; on a source it has never seen it cannot tell a hadith on jihad, a newspaper
quoting a spokesman or a morning dua from propaganda that uses the same words (docs/model-card.md). These flags
name the frame a text speaks in, for the support gate (gate.py) to weigh against the n-gram margin:

towards support — the group speaking as "we" with its self-name; its self-name with no outsider label in front;
a «ولاية X» province next to an operation word; enemy forces named by sect or apostasy; an attack with thanks or
praise;
away from support — scripture quoted (Quran/hadith framing); a text that opens with a prayer; a devotional
formula anywhere (dua, inshallah, condolence, greeting; en/ar/ru); reported or attributed speech in a news frame.

Cheap by construction: one Aho-Corasick pass over the whole batch (joined by "\\n"; normalized text never holds
a newline) finds the texts that contain a feature's anchor literals, and only those are searched with its one
compiled alternation — no Python loop over term lists (0.16 CPU-s per 20,000 posts of the bench's unseen-like
mix, at load ≈ 3). The text must already be normalized (basira.text.normalize_text: alef, ya and ta marbuta
folded, diacritics and tatweel gone, lower case), which is why the patterns spell «الدوله», «تعالي», «اللهم».
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import ahocorasick
import numpy as np

# Arabic clitics a word may carry in front (wa-, fa-, bi-, li-, ka-, and the article's l- after li-).
_P = r"(?:[وف])?(?:[بلك])?"
# «لل» is li- + the article («للدوله»).
_SELF_NAME = r"(?:(?:ال|لل)دوله الاسلاميه|دوله الخلافه|(?:ال|لل)خلافه الاسلاميه|دوله الاسلام|(?:ال|لل)دوله النبويه)"
_OP = (r"(?:عمليه|عمليات|هجوم|هجمات|استهداف|تفجير|غزوه|غزوات|اغاره|انغماسي|استشهادي|مفخخه|قنص|كمين|"
       r"تدمير|مقتل|هلاك|اسر|attack|operation|raid|ambush|martyrdom)")

_FEATURES: dict[str, str] = {
    # The group's first person: «دولتنا», «خلافتنا», «نحن جنود الخلافه», "our caliphate", "we, the islamic state".
    "group_we": (
        r"(?<!\w)" + _P + r"(?:دولتنا|خلافتنا|ولاياتنا|اميرنا|خليفتنا|جنود دولتنا)(?!\w)"
        r"|نحن (?:جنود |ابناء |رجال )?" + _SELF_NAME +
        r"|\bour (?:caliphate|khilafah|khilafa|caliph|wilayat|mujahideen)\b"
        r"|\bwe(?:,)? (?:the )?(?:soldiers of the )?(?:islamic state|caliphate|khilafah)\b"
    ),
    # The self-name, not in an outsider's mouth: no «تنظيم», «ما يسمي», «داعش» in front, no «المزعومه» after.
    # (The check is in the pattern: the lookbehinds are fixed-width, one per label.)
    "self_name": (
        r"(?<!تنظيم )(?<!يسمي )(?<!يسمي ب)(?<!يسمي بـ)(?<!يعرف ب)(?<!المسمي )(?<!عصابه )(?<!داعش )(?<!مسلحي )"
        r"(?<!عناصر )(?<!ارهابيي )" + _P + _SELF_NAME + r"(?! المزعوم)(?!\w)(?! ?\(?داعش)"
        r"|(?<!so-called )(?<!so called )\bislamic state\b(?! group| militants| fighters| of iraq| \(is)"
    ),
    # A province of the group beside an operation word, either way round, within a short span of one text.
    "wilayah_op": (
        r"(?<!\w)" + _P + r"ولايه \w+.{0,60}?" + _OP + r"|" + _OP + r".{0,60}?ولايه \w+"
        r"|\bwilaya[th]? \w+.{0,60}?" + _OP + r"|" + _OP + r".{0,60}?\bwilaya[th]? \w+"
    ),
    # Enemy forces named by sect or apostasy (the propaganda's naming; sectarian quarrels use some of it too).
    "enemy_sect": (
        r"(?<!\w)" + _P + r"(?:الرافضه|الروافض|رافضه|المرتدين|المرتدون|الصحوات|النصيريه|النصيريين|"
        r"الصليبيين|الصليبيون|جيش الرده|الطواغيت|الحشد الرافضي|الجيش الرافضي)(?!\w)"
        r"|\b(?:rafidah|rafidi|rawafid|nusayri|murtadd?in|apostate (?:forces|army|militias?|soldiers|regime)|"
        r"crusader (?:forces|army|coalition|soldiers))\b"
    ),
    # An attack reported with thanks or praise in the same text (the glorifying frame): both in one text.
    "attack_praise": "",  # built below from two patterns
    # Scripture quoted: Quran and hadith framing, verse brackets, narrator chains, collections.
    "scripture_frame": (
        r"(?:قال|قوله|يقول|وقال) (?:الله )?(?:تعالي|عز وجل|سبحانه)"
        r"|(?:قال|يقول) (?:رسول الله|النبي|الرسول)|عن (?:ابي|ابن|عبد الله|عائشه|انس|عمر)\S* [^\n]{0,30}?رضي الله عن"
        r"|رواه (?:البخاري|مسلم|الترمذي|ابو داود|احمد|النسائي|ابن ماجه|الطبراني|البيهقي)|صحيح (?:البخاري|مسلم)"
        r"|[﴿﴾]|\[\w+ ?: ?\d+\]"
        r"|\bnarrated\b|\ballah (?:says|said|the (?:exalted|almighty) said)\b|\b(?:sahih|sunan) \w+"
        r"|\b(?:qur'?an|surah?|surat) ?\d+ ?: ?\d+|\bthe prophet (?:\([^)\n]{1,25}\) )?said\b"
        r"|\bпередал\b|сказал пророк|пророк \(?[^)\n]{0,25}\)? сказал|\bсура\b|\bаят\b"
    ),
    # A text that opens with a prayer: «اللهم», the morning/evening adhkar, «بسم الله الرحمن الرحيم» + supplication.
    "prayer_open": (
        r"^[^\w\n]*(?:اللهم|اصبحنا|امسينا|يا رب|ربنا|يارب|استغفر الله|سبحان الله|لا اله الا الله وحده"
        r"|o allah|oh allah|ya allah|our lord|о аллах|господи)"
        r"|^[^\w\n]*بسم الله الرحمن الرحيم[^\w\n]*(?:اللهم|ربنا|يا رب|الحمد لله|سبحان)"
    ),
    # A devotional formula *anywhere* in the text (not only at its opening, as prayer_open): "may allah …",
    # "inshallah", "ameen", "jazakallah", "alhamdulillah", Friday/Ramadan/Eid greetings, condolence formulas, and
    # the same in Arabic and Russian. English devotional posts pray in the words the English positives use, so the
    # n-grams alone learn them as support (v4 flagged "May Allah have mercy on my father" at 0.967); a
    # language-independent flag lets the gate carry over what the Arabic and Russian religious sources teach.
    # The martyr's formula «تقبله الله» is left out (attack_praise reads it).
    "devotion": (
        r"\bmay allah\b|\ballah (?:willing|bless(?:es)?|have mercy|grant|accept|forgive|reward|protect|ease)\b"
        r"|\bin ?sh(?:aa?|a'?)? ?allah\b|\binsh?a'?a?llah\b|\ba{1,2}me{1,2}n\b|\bjazak\w*|\bbaraka? ?allahu?\b"
        r"|\balhamdulill?ah?\b|\bsubhan ?allah\b|\bmash?a'? ?allah\b|\ballahumm?a\b|\brahimah?ullah\b"
        r"|\b(?:ramadh?an|eid|jum(?:u'?ah|'?ah|ma|mah|aa?h)) (?:mubarak|kareem|saeed)\b|\binna lill?ahi\b"
        r"|\b(?:make|making|made) (?:a )?duas?\b|\bduas?\b (?:for|request)|\bin (?:your|my|our) (?:duas?|prayers)\b"
        r"|(?<!\w)" + _P + r"(?:ان شاء الله|انشاء الله|انشالله|رحمه الله|رحمها الله|رحمهم الله|يرحمه الله|يرحمها الله"
        r"|جزاك الله|جزاكم الله|بارك الله|امين|اللهم|يا رب|يارب|الحمد لله|سبحان الله|ما شاء الله|ماشاء الله"
        r"|جمعه مباركه|رمضان كريم|رمضان مبارك|عيد مبارك|تقبل الله منا ومنكم|انا لله وانا اليه راجعون"
        r"|اسال الله|نسال الله)(?!\w)"
        r"|\b(?:иншаа?ллах?|ин ша аллах?|амин|альхамдулиллях?|машаа?ллах?|джазака?ллах?\w*|о аллах|дуа)\b"
        r"|\bда (?:помилует|благословит|вознаградит|простит|примет|облегчит)\b|\bхвала аллаху\b"
        r"|\b(?:рамадан|джума|ид) мубарак\b"
    ),
    # Reported or attributed speech in a news frame: a source is quoted, not the author speaking.
    "attributed_speech": (
        r"(?<!\w)" + _P + r"(?:بحسب|حسب ما|وفقا ل|طبقا ل|نقلا عن|نقلت|افادت|ذكرت|اعلنت|صرح|صرحت|اوضح|اوضحت"
        r"|اضافت|اكدت|مصادر|مصدر امني|مصدر عسكري|المتحدث باسم|متحدث باسم|وكاله الانباء|وسائل اعلام)(?!\w)"
        r"|(?<!\w)(?:و)?(?:قال|قالت|اعلن|افاد|ذكر|اكد) (?:مصدر|مصادر|المتحدث|متحدث|مسؤول|مسوول|الشرطه|الجيش|"
        r"وزاره|وزير|الوزير|شهود|مراسل|بيان|رئيس|الرئيس|قائد|وكاله|المرصد|التحالف|الناطق|ناطق)"
        r"|\b(?:said|says|according to|claimed|reported|told reporters|told \w+|stated|announced|spokesman|"
        r"spokesperson|officials? said)\b"
        r"|\b(?:сообщил[аи]?|сообщает|сообщили|по данным|по словам|заявил[аи]?|как сообщает|передает|передаёт)\b"
    ),
}
_ATTACK = (r"(?:عمليه|هجوم|تفجير|غزوه|اغاره|انغماسي|استشهادي|مفخخه|قتلي|مقتل|هلاك|قتل|نحر|ذبح|"
           r"\b(?:attack|operation|killed|slaughtered|martyrdom)\b)")
_PRAISE = (r"(?:ولله الحمد|الحمد لله|بفضل الله|بحمد الله|تقبله الله|تقبلهم الله|تقبل الله|الله اكبر|مباركه|المباركه|"
           r"\b(?:praise be to allah|alhamdulillah|may allah accept|allahu akbar|blessed)\b)")

# Literals every match of a feature contains (normalized): one Aho-Corasick pass over the batch finds the few
# texts that can match, and only those are searched with the feature's pattern. Without it the patterns alone
# cost 9.8 CPU-s per 20,000 shared-dataset posts (Python's re cannot skip ahead to a literal when a pattern
# starts with a lookbehind); tests/test_stance.py checks the anchors never hide a match.
_ANCHORS: dict[str, tuple[str, ...]] = {
    "group_we": ("دولتنا", "خلافتنا", "ولاياتنا", "اميرنا", "خليفتنا", "نحن ", "our ", "islamic state", "caliphate",
                 "khilafah"),
    "self_name": ("لدوله الاسلاميه", "دوله الخلافه", "لخلافه الاسلاميه", "دوله الاسلام", "لدوله النبويه",
                  "islamic state"),
    "wilayah_op": ("ولايه ", "wilaya"),
    "enemy_sect": ("رافضه", "روافض", "المرتدين", "المرتدون", "الصحوات", "النصيري", "الصليبي", "جيش الرده", "الطواغيت",
                   "الحشد الرافضي", "الجيش الرافضي", "rafid", "rawafid", "nusayri", "murtad", "apostate ", "crusader "),
    "attack_praise": ("ولله الحمد", "الحمد لله", "بفضل الله", "بحمد الله", "تقبله الله", "تقبلهم الله", "تقبل الله",
                      "الله اكبر", "مباركه", "praise be to allah", "alhamdulillah", "may allah accept", "allahu akbar",
                      "blessed"),
    "scripture_frame": ("تعالي", "عز وجل", "سبحانه", "رسول الله", "النبي", "الرسول", "رضي الله عن", "رواه ",
                        "صحيح ", "﴿", "﴾", "[", "narrated", "allah ", "sahih ", "sunan ", "qur", "sura",
                        "the prophet", "передал", "пророк", "сура", "аят"),
    "prayer_open": ("اللهم", "اصبحنا", "امسينا", "يا رب", "ربنا", "يارب", "استغفر الله", "سبحان الله",
                    "لا اله الا الله وحده", "allah", "our lord", "о аллах", "господи", "بسم الله الرحمن الرحيم"),
    "devotion": ("llah", "amen", "ameen", "jazak", "barak", "alhamdulil", "subhan",
                 "mashallah", "masha", "allahum", "rahim", "mubarak", "kareem", "saeed", "inna lil", "dua", "prayers",
                 "شاء الله", "انشالله", "رحمه الله", "رحمها الله", "رحمهم الله", "جزاك", "جزاكم", "بارك الله", "امين",
                 "اللهم", "يا رب", "يارب", "الحمد لله", "سبحان الله", "شاء الله", "جمعه مباركه", "رمضان", "عيد مبارك",
                 "تقبل الله منا", "انا لله", "سال الله", "иншаа", "иншал", "ин ша", "амин", "альхамдулил", "машаа",
                 "машал", "джазак", "о аллах", "дуа", "да помилует", "да благословит", "да вознаградит", "да простит",
                 "да примет", "да облегчит", "хвала аллаху", "мубарак"),
    "attributed_speech": ("بحسب", "حسب ما", "وفقا ل", "طبقا ل", "نقلا عن", "نقلت", "افادت", "ذكرت", "اعلنت", "صرح",
                          "اوضح", "اضافت", "اكدت", "مصادر", "مصدر", "متحدث", "وكاله", "وسائل اعلام", "مسؤول", "مسوول",
                          "الشرطه", "الجيش", "وزاره", "وزير", "شهود", "مراسل", "بيان", "رئيس", "قائد", "المرصد",
                          "التحالف", "ناطق", "said", "says", "according to", "claimed", "reported", "told ", "stated",
                          "announced", "spokes", "сообщ", "по данным", "по словам", "заявил", "переда"),
}

STANCE_FEATURES: tuple[str, ...] = tuple(_FEATURES)
# The gate's stance columns are these flags and their products with the n-gram margin ("margin×<flag>").
SUPPORT_STANCE = ("group_we", "self_name", "wilayah_op", "enemy_sect", "attack_praise")
AWAY_STANCE = ("scripture_frame", "prayer_open", "devotion", "attributed_speech")

_COMPILED = {name: re.compile(p, re.MULTILINE) for name, p in _FEATURES.items() if p}
_ATTACK_RE = re.compile(_ATTACK)
_PRAISE_RE = re.compile(_PRAISE)


@lru_cache(maxsize=1)
def _automaton() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    owners: dict[str, set[int]] = {}
    for j, name in enumerate(STANCE_FEATURES):
        for anchor in _ANCHORS[name]:
            owners.setdefault(anchor, set()).add(j)
    for anchor, js in owners.items():
        automaton.add_word(anchor, tuple(sorted(js)))
    automaton.make_automaton()
    return automaton


def _matches(j: int, text: str) -> bool:
    name = STANCE_FEATURES[j]
    if name == "attack_praise":
        return _PRAISE_RE.search(text) is not None and _ATTACK_RE.search(text) is not None
    return _COMPILED[name].search(text) is not None


def candidates(normalized: Sequence[str]) -> np.ndarray:
    """(n, features) booleans: which texts contain an anchor of each feature (one automaton pass over the batch)."""
    out = np.zeros((len(normalized), len(STANCE_FEATURES)), dtype=bool)
    if not len(normalized):
        return out
    blob = "\n".join(normalized)
    lengths = np.fromiter((len(t) + 1 for t in normalized), dtype=np.int64, count=len(normalized))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    ends, owners = [], []
    for end, js in _automaton().iter(blob):
        for j in js:
            ends.append(end)
            owners.append(j)
    if ends:
        rows = np.searchsorted(starts, np.array(ends, dtype=np.int64), side="right") - 1
        out[rows, np.array(owners, dtype=np.int64)] = True
    return out


def stance_matrix(normalized: Sequence[str]) -> np.ndarray:
    """An (n, len(STANCE_FEATURES)) 0/1 float array: which stance frames each normalized text speaks in."""
    out = np.zeros((len(normalized), len(STANCE_FEATURES)), dtype=np.float64)
    for i, j in zip(*np.nonzero(candidates(normalized)), strict=True):
        if _matches(int(j), normalized[i]):
            out[i, j] = 1.0
    return out


def stance_matrix_unfiltered(normalized: Sequence[str]) -> np.ndarray:
    """stance_matrix without the anchor prefilter (slow; the reference the tests compare it with)."""
    out = np.zeros((len(normalized), len(STANCE_FEATURES)), dtype=np.float64)
    for i, text in enumerate(normalized):
        for j in range(len(STANCE_FEATURES)):
            out[i, j] = float(_matches(j, text))
    return out


def stance_of(normalized: str) -> dict[str, bool]:
    """The flags of one normalized text, by name (for tests and explanations)."""
    row = stance_matrix([normalized])[0]
    return {name: bool(v) for name, v in zip(STANCE_FEATURES, row, strict=True)}


def stance_columns(flags: np.ndarray, margins: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The gate's stance columns: `names` are flags ("scripture_frame") or margin products ("margin×prayer_open")."""
    cols = []
    z = np.asarray(margins, dtype=np.float64)
    for name in names:
        product = name.startswith("margin×")
        col = flags[:, STANCE_FEATURES.index(name.removeprefix("margin×"))]
        cols.append(z * col if product else col)
    return np.column_stack(cols) if cols else np.zeros((len(z), 0))
