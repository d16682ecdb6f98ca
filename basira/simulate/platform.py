"""A synthetic X-like platform with known ground truth: accounts, follows, posts, networks, suspensions.

Everything is drawn from one `random.Random(seed)`, in a fixed order, so a seed gives the same files byte for byte.
Accounts belong to personas; a persona suspended and returning gets a new account (an incarnation) with a
similar handle, the same picture, a near-identical bio and overlapping follows. Outputs are streamed.
"""

from __future__ import annotations

import bisect
import random
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from basira.core.jsonio import atomic_output
from basira.simulate.corpus import BuiltinCorpus, PooledTexts, Text

TWEPOCH_MS = 1288834974657
WINDOW_START_MS = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1000)
WINDOW_DAYS = 120
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
WINDOW_END_MS = WINDOW_START_MS + WINDOW_DAYS * DAY_MS
PAGE_SIZE = 100
MIN_ACCOUNTS = 50
ROLES = ("ordinary", "news", "researcher", "counter_speech", "recruiter_hub", "member", "amplifier")
NETWORK_ROLES = ("recruiter_hub", "member", "amplifier")
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_URL_RE = re.compile(r"https?://\S+")
_MENTION_RE = re.compile(r"(?<![\w@])@(\w{1,15})")
_HASHTAG_RE = re.compile(r"(?<![\w&#])[#＃](\w*[^\W\d]\w*)")


@dataclass
class SimulationSummary:
    """What `simulate_platform` wrote: counts for a quick look, and where the files are."""

    out_dir: str
    seed: int
    accounts: int
    tweets: int
    pages: int
    follows: int
    positive_tweets: int
    networks: int
    hubs: int
    suspended: int
    returning: int
    coordinated_groups: int
    bursts: int
    roles: dict[str, int] = field(default_factory=dict)
    langs: dict[str, int] = field(default_factory=dict)
    texts: str = "built-in"
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- names -----------------------------------------------------------------------------------------------

# Latin spellings of a name: the first is the usual one, the rest are transliteration variants.
_NAMES_F = {
    "sumayya": ("سمية", ("sumayya", "sumaya", "somaya", "sumaiya")),
    "khadija": ("خديجة", ("khadija", "khadeeja", "khadijah", "hadija")),
    "aisha": ("عائشة", ("aisha", "aysha", "aicha", "ayesha")),
    "maryam": ("مريم", ("maryam", "mariam", "meryem")),
    "safiyya": ("صفية", ("safiyya", "safiya", "safia")),
    "asma": ("أسماء", ("asma", "asmaa", "esma")),
    "hafsa": ("حفصة", ("hafsa", "hafsah", "hafssa")),
    "zaynab": ("زينب", ("zaynab", "zainab", "zeinab")),
    "fatima": ("فاطمة", ("fatima", "fatimah", "fatma")),
    "nour": ("نور", ("nour", "noor", "nur")),
    "sara": ("سارة", ("sara", "sarah", "saraa")),
    "huda": ("هدى", ("huda", "houda", "hoda")),
}
_NAMES_M = {
    "muhammad": ("محمد", ("muhammad", "mohammed", "mohamed", "mhmd")),
    "ahmad": ("أحمد", ("ahmad", "ahmed", "ahmd")),
    "umar": ("عمر", ("umar", "omar", "omer")),
    "khalid": ("خالد", ("khalid", "khaled", "khalld")),
    "yusuf": ("يوسف", ("yusuf", "yousef", "youssef")),
    "abdullah": ("عبدالله", ("abdullah", "abdallah", "abdulla")),
    "ibrahim": ("إبراهيم", ("ibrahim", "ibraheem", "ebrahim")),
    "hamza": ("حمزة", ("hamza", "hamzah", "hamzaa")),
    "bilal": ("بلال", ("bilal", "belal", "bilaal")),
    "tariq": ("طارق", ("tariq", "tarek", "tareq")),
    "ali": ("علي", ("ali", "aly", "alii")),
    "saad": ("سعد", ("saad", "sa3d", "saed")),
}
_RU_NAMES = {"f": ("Мадина", "Амина", "Зарема", "Марьям", "Айша", "Анна", "Ольга", "Екатерина", "Дарья"),
             "m": ("Магомед", "Руслан", "Ислам", "Тимур", "Ахмед", "Иван", "Дмитрий", "Сергей", "Алексей")}
_RU_LATIN = {"Мадина": "madina", "Амина": "amina", "Зарема": "zarema", "Марьям": "maryam", "Айша": "aisha",
             "Анна": "anna", "Ольга": "olga", "Екатерина": "katya", "Дарья": "dasha", "Магомед": "magomed",
             "Руслан": "ruslan", "Ислам": "islam", "Тимур": "timur", "Ахмед": "akhmed", "Иван": "ivan",
             "Дмитрий": "dima", "Сергей": "sergey", "Алексей": "lesha"}
_EN_NAMES = {"f": ("Emily", "Sarah", "Jess", "Hannah", "Amira", "Layla", "Chloe", "Aisha"),
             "m": ("James", "Tom", "Daniel", "Omar", "Adam", "Ryan", "Yusuf", "Sam")}
_SURNAMES = ("ali", "hassan", "salem", "k", "m", "ahmed", "smith", "jones", "khan", "99", "ivanov", "al")

_NET_PATTERNS_F = ("umm_{k}", "ukhti_{n}", "{n}_muhajira", "bint_{n}", "ghariba_{n}", "umm{k}")
_NET_PATTERNS_M = ("abu_{k}", "{n}_almuhajir", "akh_{n}", "ibn_{n}", "abu{k}_")
_NET_DISPLAY = {
    ("ar", "f"): ("أم {k}", "{n} المهاجرة", "غريبة | أم {k}", "بنت {n}"),
    ("ar", "m"): ("أبو {k}", "{n} المهاجر", "أبو {k} الأنصاري"),
    ("en", "f"): ("Umm {K}", "{N} al-Muhajirah", "Ghariba | Umm {K}"),
    ("en", "m"): ("Abu {K}", "{N} al-Muhajir", "Abu {K} al-Ansari"),
    ("ru", "f"): ("Умм {K}", "Чужеземка {N}", "Ухти {N}"),
    ("ru", "m"): ("Абу {K}", "Мухаджир {N}", "Ахи {N}"),
}
_NET_BIOS = {
    "ar": ("غريبة في زمن الغربة 🤍", "اللهم اجعلنا من الشهداء", "الهجرة طريقي ☝️", "أمة تأبى الذل",
           "صبر ثم نصر | باقية"),
    "en": ("Stranger in this dunya 🤍", "Hijra is the way ☝️", "Ghuraba. Patience. Victory.", "Baqiyah 🤍"),
    "ru": ("Чужеземка в этом мире 🤍", "Хиджра — мой путь ☝️", "Терпение и победа", "Гураба 🤍"),
}
_ACCOUNT_NO = {"ar": " | الحساب {i}", "en": " | acc {i}", "ru": " | акк {i}"}
_ORD_BIOS = {
    "ar": ("أحب القهوة والكتب ☕", "هلالي حتى النخاع 💙", "طالبة جامعية", "مهندس | أب لثلاثة", "وصفات ومطبخ 🍰",
           "اللهم اغفر لي ولوالدي", "نصراوي 💛", "مصور هاوي 📷", "", "معلمة رياضيات"),
    "en": ("Coffee, books, cats", "Football fan ⚽", "Student. Opinions my own.", "Dad of three", "Food blogger 🍰",
           "Nurse | runner", "", "Software engineer", "Travel & photos 📷"),
    "ru": ("Люблю кофе и книги ☕", "Болею за Спартак", "Студентка", "Папа, инженер", "Фото и путешествия 📷",
           "", "Готовлю вкусно 🍰"),
}
_NEWS = {
    "ar": (("alkhabar", "الخبر"), ("alyawm", "اليوم"), ("alhadath", "الحدث"), ("alwatan", "الوطن"),
           ("almasdar", "المصدر"), ("alakhbar", "الأخبار")),
    "en": (("dailyledger", "The Daily Ledger"), ("worldwire", "World Wire"), ("globalpost", "Global Post"),
           ("mideastnow", "Mideast Now"), ("thecourier", "The Courier")),
    "ru": (("novosti", "Новости"), ("vesti_sim", "Вести"), ("segodnya", "Сегодня"), ("pulse_ru", "Пульс")),
}
_NEWS_SUFFIX = ("_news", "24", "_now", "_today", "_live", "tv")
_NEWS_BIO = {"ar": "{n} — أخبار عاجلة على مدار الساعة", "en": "{n}: breaking news and analysis",
             "ru": "{n}: новости 24/7"}
_RESEARCH_BIO = {
    "researcher": {"ar": "باحث في شؤون الجماعات المتطرفة", "en": "Researcher on extremism & online radicalisation. Views my own.",
                   "ru": "Исследую экстремизм и онлайн-радикализацию"},
    "counter_speech": {"ar": "ضد التطرف والإرهاب 🚫", "en": "Exposing extremist propaganda. Reporting hate.",
                       "ru": "Против терроризма и вербовки"},
}
_RESEARCH_HANDLES = {"researcher": ("dr_", "prof_", "", "analyst_"), "counter_speech": ("no2", "stop_", "against_", "")}
_RESEARCH_TOPIC = {"researcher": ("extremism", "cve", "radical", "jihadism", "osint"),
                   "counter_speech": ("hate", "daesh", "extremism", "terror", "isis")}


@dataclass(slots=True)
class Account:
    """One simulated account (an incarnation of a persona)."""

    idx: int
    id: str
    username: str
    name: str
    description: str
    created_ms: int
    image_url: str
    verified: bool
    role: str
    lang: str
    persona: int
    community: int | None = None
    cluster: str | None = None
    gender: str | None = None
    suspended_ms: int | None = None
    returns_of: int | None = None
    returned_as: int | None = None
    lookalike_of: int | None = None
    incarnation: int = 1
    tweets: int = 0
    followers: int = 0
    following: int = 0

    @property
    def start_ms(self) -> int:
        return max(self.created_ms, WINDOW_START_MS)

    @property
    def end_ms(self) -> int:
        return self.suspended_ms if self.suspended_ms is not None else WINDOW_END_MS


@dataclass(slots=True)
class Persona:
    """A person or organisation behind one or more accounts."""

    idx: int
    role: str
    lang: str
    gender: str | None
    community: int | None
    cluster: str | None
    accounts: list[int] = field(default_factory=list)


class Tweet:
    """A compact post record; rendered to an X API v2 object only when written."""

    __slots__ = ("id", "ms", "author", "kind", "ref", "text", "lang", "label", "category", "source_id",
                 "urls", "media", "retweets", "replies", "quotes")

    def __init__(self, tid: int, ms: int, author: int, kind: str, ref: Tweet | None, text: str, lang: str,
                 label: int, category: str, source_id: str | None) -> None:
        self.id = tid
        self.ms = ms
        self.author = author
        self.kind = kind
        self.ref = ref
        self.text = text
        self.lang = lang
        self.label = label
        self.category = category
        self.source_id = source_id
        self.urls: tuple[tuple[str, str, str, str | None], ...] = ()
        self.media: tuple[tuple[str, str, str], ...] = ()
        self.retweets = 0
        self.replies = 0
        self.quotes = 0


_DAYS: dict[int, str] = {}


def iso(ms: int) -> str:
    """X's timestamp format: ISO 8601, UTC, millisecond field, Z."""
    day, sec = divmod(ms // 1000, 86_400)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS.setdefault(day, datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%dT"))
    h, rest = divmod(sec, 3600)
    return f"{date}{h:02d}:{rest // 60:02d}:{rest % 60:02d}.000Z"


class Simulator:
    """Builds the platform in memory as compact records, then streams it out."""

    def __init__(self, n_accounts: int, seed: int, texts: PooledTexts | BuiltinCorpus) -> None:
        if n_accounts < MIN_ACCOUNTS:
            raise ValueError(f"accounts must be at least {MIN_ACCOUNTS}")
        self.n = n_accounts
        self.seed = seed
        self.rng = random.Random(seed)
        self.texts = texts
        self.personas: list[Persona] = []
        self.accounts: list[Account] = []
        self.usernames: dict[str, int] = {}
        self.tweets: list[Tweet] = []
        self.follows: list[tuple[int, int]] = []
        self.seq = 0
        self.networks: list[dict[str, Any]] = []
        self.groups: list[dict[str, Any]] = []
        self.by_role: dict[str, list[int]] = {r: [] for r in ROLES}  # persona indices
        self._user_json: dict[int, orjson.Fragment] = {}
        self._ref_json: dict[int, orjson.Fragment] = {}

    # --- ids and small helpers ---------------------------------------------------------------------------

    def snowflake(self, ms: int) -> int:
        self.seq += 1
        return ((ms - TWEPOCH_MS) << 22) | ((self.seq * 2654435761) & 0x3FFFFF)

    def code(self, k: int = 10) -> str:
        return "".join(self.rng.choices(_ALNUM, k=k))

    def unique_username(self, wanted: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "", wanted)[:15] or "user"
        name, i = base, 1
        while name.lower() in self.usernames:
            i += 1
            suffix = str(i)
            name = base[: 15 - len(suffix)] + suffix
        return name

    def image_url(self) -> str:
        return f"https://pbs.twimg.com/profile_images/{self.rng.randrange(10**17, 10**18)}/{self.code(8)}_normal.jpg"

    def add_persona(self, role: str, lang: str, gender: str | None, community: int | None,
                    cluster: str | None) -> Persona:
        p = Persona(len(self.personas), role, lang, gender, community, cluster)
        self.personas.append(p)
        self.by_role[role].append(p.idx)
        return p

    def add_account(self, p: Persona, username: str, name: str, description: str, created_ms: int,
                    image_url: str | None = None, verified: bool = False) -> Account:
        username = self.unique_username(username)
        a = Account(len(self.accounts), str(self.snowflake(created_ms)), username, name, description, created_ms,
                    image_url or self.image_url(), verified, p.role, p.lang, p.idx, p.community, p.cluster, p.gender)
        self.accounts.append(a)
        self.usernames[username.lower()] = a.idx
        p.accounts.append(a.idx)
        return a

    def old_created(self) -> int:
        start = int(datetime(2011, 1, 1, tzinfo=UTC).timestamp() * 1000)
        return self.rng.randrange(start, WINDOW_START_MS - 7 * DAY_MS) // 1000 * 1000

    # --- population --------------------------------------------------------------------------------------

    def build_population(self) -> None:
        rng, n = self.rng, self.n
        n_news = max(2, round(0.006 * n))
        n_research = max(2, round(0.004 * n))
        n_counter = max(2, round(0.004 * n))
        n_networks = rng.randint(2, 5) if n >= 300 else 2
        # Networks are a small share of a large platform: 3.5% of the first 5,000 accounts, 1.5% beyond.
        net_budget = max(n_networks * 5, round(0.035 * min(n, 5000) + 0.015 * max(0, n - 5000)))
        self.build_networks(n_networks, net_budget)
        for i in range(n_news):
            self.make_news(i)
        for role, count in (("researcher", n_research), ("counter_speech", n_counter)):
            for _ in range(count):
                self.make_analyst(role)
        n_lookalike = max(2, round(0.004 * n))
        remaining = n - len(self.accounts)
        if remaining < 3 * n_lookalike + 5:
            raise ValueError(f"accounts={n} is too small for the simulated population")
        # Ordinary users fall into interest clusters by language; follows are mostly within a cluster.
        lang_weights = {"ar": 0.6, "en": 0.25, "ru": 0.15}
        n_clusters = {lang: max(1, round(remaining * w / 150)) for lang, w in lang_weights.items()}

        def pick_lang() -> str:
            return rng.choices(("ar", "en", "ru"), weights=(0.6, 0.25, 0.15))[0]

        def cluster(lang: str) -> str:
            return f"{lang}-{rng.randrange(n_clusters[lang])}"

        hubs = [a for a in self.accounts if a.role == "recruiter_hub"]
        for _ in range(n_lookalike):
            hub = rng.choice(hubs)
            self.make_hub_lookalike(hub, hub.lang, cluster(hub.lang))
        for _ in range(n_lookalike):
            lang = pick_lang()
            self.make_ordinary(lang, cluster(lang), lookalike=True)
        while len(self.accounts) < n:
            lang = pick_lang()
            self.make_ordinary(lang, cluster(lang))
        # A few ordinary accounts are suspended for spam and never return: suspension alone is not recruitment.
        for a in self.accounts:
            if a.role == "ordinary" and a.lookalike_of is None and rng.random() < 0.003:
                a.suspended_ms = rng.randrange(WINDOW_START_MS + 10 * DAY_MS, WINDOW_END_MS - DAY_MS) // 1000 * 1000

    def make_ordinary(self, lang: str, cluster: str, lookalike: bool = False) -> None:
        rng = self.rng
        gender = rng.choice(("f", "m"))
        p = self.add_persona("ordinary", lang, gender, None, cluster)
        if lang == "ar":
            key, (ar, spellings) = rng.choice(list((_NAMES_F if gender == "f" else _NAMES_M).items()))
            latin = rng.choice(spellings)
            name = ar + rng.choice(("", " " + rng.choice(("العتيبي", "الحربي", "محمد", "علي", "سالم")), " 🌙", ""))
        elif lang == "ru":
            ru = rng.choice(_RU_NAMES[gender])
            latin, name = _RU_LATIN[ru], ru + rng.choice(("", " ✨", " " + rng.choice("АБВКМС") + "."))
        else:
            en = rng.choice(_EN_NAMES[gender])
            latin, name = en.lower(), en + rng.choice(("", " " + rng.choice(("Smith", "Khan", "Jones", "Ali"))))
        pattern = rng.random()
        if pattern < 0.3:
            handle = f"{latin}_{rng.choice(_SURNAMES)}"
        elif pattern < 0.6:
            handle = f"{latin}{rng.randrange(1, 2000)}"
        elif pattern < 0.75 and lang == "ar":
            handle = f"{'umm' if gender == 'f' else 'abu'}_{latin}"  # kunyas are ordinary too
        else:
            handle = f"{latin}{rng.choice(('_', '.', ''))}{self.code(3).lower()}".replace(".", "_")
        bio = rng.choice(_ORD_BIOS[lang])
        a = self.add_account(p, handle, name, bio, self.old_created())
        if lookalike:
            # A second, unrelated account with a handle that looks like a returning one (`x` → `x2`).
            q = self.add_persona("ordinary", lang, rng.choice(("f", "m")), None, cluster)
            twin = self.add_account(q, a.username[:14] + "2", a.name, rng.choice(_ORD_BIOS[lang]), self.old_created())
            twin.lookalike_of = a.idx

    def make_hub_lookalike(self, hub: Account, lang: str, cluster: str) -> None:
        """A benign account whose handle and name resemble a recruiter's: a hard negative."""
        rng = self.rng
        p = self.add_persona("ordinary", lang, hub.gender, None, cluster)
        handle = hub.username.rstrip("_0123456789") + rng.choice(("_", "", "_k", "x", "_home", "1"))
        bio = rng.choice(("وصفات ومطبخ 🍰", "أم لثلاثة | تربية وتعليم", "Mum of three | recipes", "Мама двоих детей"))
        a = self.add_account(p, handle, hub.name, bio, self.old_created())
        a.lookalike_of = hub.idx

    def make_news(self, i: int) -> None:
        rng = self.rng
        lang = rng.choices(("ar", "en", "ru"), weights=(0.5, 0.3, 0.2))[0]
        base, display = rng.choice(_NEWS[lang])
        suffix = rng.choice(_NEWS_SUFFIX)
        p = self.add_persona("news", lang, None, None, f"news-{lang}")
        name = display + (" " + suffix.strip("_").upper() if rng.random() < 0.5 else "")
        self.add_account(p, base + suffix, name, _NEWS_BIO[lang].format(n=display), self.old_created(),
                         verified=rng.random() < 0.7)

    def make_analyst(self, role: str) -> None:
        rng = self.rng
        lang = rng.choices(("en", "ar", "ru"), weights=(0.55, 0.3, 0.15))[0]
        gender = rng.choice(("f", "m"))
        p = self.add_persona(role, lang, gender, None, f"{role}-{lang}")
        if lang == "ru":
            ru = rng.choice(_RU_NAMES[gender])
            first, name = _RU_LATIN[ru], ru + " " + rng.choice(("Петрова" if gender == "f" else "Петров", "Ахмедова"
                                                               if gender == "f" else "Ахмедов"))
        elif lang == "ar":
            key, (ar, spellings) = rng.choice(list((_NAMES_F if gender == "f" else _NAMES_M).items()))
            first, name = spellings[0], ("د. " if role == "researcher" else "") + ar
        else:
            en = rng.choice(_EN_NAMES[gender])
            first, name = en.lower(), ("Dr " if role == "researcher" else "") + en + " " + rng.choice(("Carter", "Haddad", "Novak"))
        handle = rng.choice(_RESEARCH_HANDLES[role]) + rng.choice((first, rng.choice(_RESEARCH_TOPIC[role])))
        if rng.random() < 0.5:
            handle += "_" + rng.choice(_RESEARCH_TOPIC[role])
        self.add_account(p, handle, name, _RESEARCH_BIO[role][lang], self.old_created(), verified=rng.random() < 0.3)

    def build_networks(self, n_networks: int, budget: int) -> None:
        rng = self.rng
        weights = [rng.uniform(0.5, 1.5) for _ in range(n_networks)]
        total = sum(weights)
        for k in range(n_networks):
            size = max(5, round(budget * weights[k] / total))
            lang = rng.choices(("ar", "en", "ru"), weights=(0.6, 0.2, 0.2))[0] if k else "ar"
            n_hubs = rng.randint(1, 3)
            n_amp = max(1, round((size - n_hubs) * 0.4))
            n_mem = max(1, size - n_hubs - n_amp)
            net: dict[str, Any] = {"id": k, "lang": lang, "hub_personas": [], "member_personas": [],
                                   "amplifier_personas": [], "squads": []}
            for role, count in (("recruiter_hub", n_hubs), ("member", n_mem), ("amplifier", n_amp)):
                for _ in range(count):
                    # Most hubs present as women; members and amplifiers are mixed.
                    p_f = 0.75 if role == "recruiter_hub" else 0.4
                    gender = "f" if rng.random() < p_f else "m"
                    plang = lang if rng.random() < 0.85 else rng.choice(("ar", "en", "ru"))
                    p = self.add_persona(role, plang, gender, k, f"net-{k}")
                    net[{"recruiter_hub": "hub_personas", "member": "member_personas",
                         "amplifier": "amplifier_personas"}[role]].append(p.idx)
                    self.make_incarnations(p)
            pool = net["amplifier_personas"] + net["member_personas"]
            n_squads = min(3, 1 + len(pool) // 15)
            for _ in range(n_squads):
                if len(pool) < 3:
                    break
                size = min(len(pool), rng.randint(4, 12))
                amps = net["amplifier_personas"]
                squad = rng.sample(amps, k=min(len(amps), max(1, size * 2 // 3)))
                rest = [q for q in pool if q not in squad]
                squad += rng.sample(rest, k=min(len(rest), size - len(squad)))
                net["squads"].append(squad)
            self.networks.append(net)

    def make_incarnations(self, p: Persona) -> None:
        """Create a network persona's accounts: suspended, perhaps back under a similar handle, again and again."""
        rng = self.rng
        first_f = p.gender == "f"
        names = _NAMES_F if first_f else _NAMES_M
        key = rng.choice(list(names))
        kunya = rng.choice(list(_NAMES_F if rng.random() < 0.5 else _NAMES_M))
        pattern = rng.choice(_NET_PATTERNS_F if first_f else _NET_PATTERNS_M)
        spelling = 0

        def handle(sp: int) -> str:
            return pattern.format(n=names[key][1][sp % len(names[key][1])],
                                  k=(_NAMES_F | _NAMES_M)[kunya][1][sp % len((_NAMES_F | _NAMES_M)[kunya][1])])

        k_ar, n_ar = (_NAMES_F | _NAMES_M)[kunya][0], names[key][0]
        display = rng.choice(_NET_DISPLAY[(p.lang, p.gender or "f")]).format(
            k=k_ar, n=n_ar, K=kunya.capitalize(), N=key.capitalize())
        bio_base = rng.choice(_NET_BIOS[p.lang])
        numbered = rng.random() < 0.5
        image = self.image_url()
        p_suspend = {"recruiter_hub": 0.7, "member": 0.2, "amplifier": 0.3}[p.role]
        p_return = {"recruiter_hub": 0.9, "member": 0.6, "amplifier": 0.75}[p.role]
        # Some network accounts are created during the window, most before it.
        created = self.old_created() if rng.random() < 0.8 else rng.randrange(
            WINDOW_START_MS - 30 * DAY_MS, WINDOW_START_MS + 30 * DAY_MS) // 1000 * 1000
        prev: Account | None = None
        name = display
        for inc in range(1, 6):
            bio = bio_base + (_ACCOUNT_NO[p.lang].format(i=inc) if numbered else "")
            if prev is None:
                username = handle(0)
            else:
                username = self.return_handle(prev.username, handle, spelling, inc)
                spelling += 1
                name = self.edit_display(name, p.lang)
                bio = self.edit_bio(bio)
                if rng.random() < 0.2:
                    image = self.image_url()
            a = self.add_account(p, username, name, bio, created, image)
            a.incarnation = inc
            if prev is not None:
                a.returns_of, prev.returned_as = prev.idx, a.idx
            start = max(created, WINDOW_START_MS)
            if rng.random() >= p_suspend * (0.85 ** (inc - 1)) or WINDOW_END_MS - start < 4 * DAY_MS:
                break
            a.suspended_ms = rng.randrange(start + DAY_MS, WINDOW_END_MS - 2 * DAY_MS) // 1000 * 1000
            gap = int(HOUR_MS * 2 ** rng.uniform(0, 8))  # one hour to ~10 days
            created = (a.suspended_ms + gap) // 1000 * 1000
            if rng.random() >= p_return or created > WINDOW_END_MS - 2 * DAY_MS:
                break
            prev = a
            p_suspend = min(0.9, p_suspend + 0.1)

    def return_handle(self, prev: str, handle: Any, spelling: int, inc: int) -> str:
        """A returning account's handle: incremented number, another transliteration, or a small tweak."""
        rng = self.rng
        r = rng.random()
        m = re.search(r"(\d+)$", prev)
        if r < 0.45:
            return prev[: m.start()] + str(int(m.group(1)) + 1) if m else prev[:14] + str(inc)
        if r < 0.75:
            new = handle(spelling + 1)
            return new + (str(inc) if rng.random() < 0.4 else "")
        tweak = rng.choice(("_", "x", "__", "0", "_new"))
        if rng.random() < 0.5 and "o" in prev:
            return prev.replace("o", "0", 1)
        if rng.random() < 0.5 and "i" in prev:
            return prev.replace("i", "1", 1)
        return (prev + tweak)[:15] if rng.random() < 0.7 else ("_" + prev)[:15]

    def edit_display(self, name: str, lang: str) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return name
        if r < 0.5:
            return name + rng.choice((" 🤍", " ²", " ³", " ☝️"))
        if r < 0.7:
            return name + " " + {"ar": "عودة", "en": "(back)", "ru": "(вернулась)"}[lang]
        if r < 0.85 and lang == "ar" and len(name) > 3:
            i = rng.randrange(1, len(name) - 1)
            return name[:i] + "\u0640" + name[i:]
        return name.rstrip(" 🤍²³☝️") if name.endswith(("🤍", "²", "³", "☝️")) else name + "."

    def edit_bio(self, bio: str) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.4:
            return bio
        if r < 0.7:
            return bio + rng.choice((" 🤍", ".", " ☝️"))
        return bio.replace(" | ", " - ", 1) if " | " in bio else bio + " ."

    # --- follows -----------------------------------------------------------------------------------------

    def build_follows(self) -> None:
        """Follows are drawn between personas, then expanded to every pair of their accounts alive at once."""
        rng = self.rng
        P = self.personas
        by_cluster: dict[str, list[int]] = {}
        for p in P:
            if p.role == "ordinary":
                by_cluster.setdefault(p.cluster or "", []).append(p.idx)
        ordinary = self.by_role["ordinary"]
        news = self.by_role["news"]
        news_by_lang = {lang: [i for i in news if P[i].lang == lang] or news for lang in ("ar", "en", "ru")}
        analysts = self.by_role["researcher"] + self.by_role["counter_speech"]
        hubs_all = self.by_role["recruiter_hub"]
        members_all = self.by_role["member"] + self.by_role["amplifier"]

        def some(pool: list[int], k: int) -> list[int]:
            if not pool:
                return []
            return [pool[rng.randrange(len(pool))] for _ in range(k)]

        def zipf_news(lang: str, k: int) -> list[int]:
            pool = news_by_lang[lang]
            return [pool[min(len(pool) - 1, int(rng.paretovariate(1.2)) - 1)] for _ in range(k)]

        for p in P:
            t: list[int] = []
            role = p.role
            if role == "ordinary":
                k = min(60, 1 + int(rng.expovariate(1 / 6)))
                cluster = by_cluster[p.cluster or ""]
                for _ in range(k):
                    r = rng.random()
                    if r < 0.72:
                        t.append(cluster[rng.randrange(len(cluster))])
                    elif r < 0.85:
                        t += zipf_news(p.lang, 1)
                    elif r < 0.97:
                        t += some(ordinary, 1)
                    else:
                        t += some(analysts, 1)
                if rng.random() < 0.004:
                    t += some(hubs_all, 1)  # the curious, and a recruiter's relatives: not members
            elif role == "news":
                t += some(news, rng.randint(1, 5)) + some(analysts, rng.randint(0, 3))
            elif role in ("researcher", "counter_speech"):
                share = 0.5 if role == "researcher" else 0.3
                t += [h for h in hubs_all if rng.random() < share]
                t += [m for m in members_all if rng.random() < share / 8]
                t += zipf_news(p.lang, rng.randint(3, 10)) + some(analysts, rng.randint(2, 8))
                t += some(ordinary, rng.randint(0, 5))
            else:
                net = self.networks[p.community or 0]
                hubs = net["hub_personas"]
                mates = net["member_personas"] + net["amplifier_personas"]
                if role == "recruiter_hub":
                    t += [h for h in hubs if rng.random() < 0.9]
                    t += [h for h in hubs_all if rng.random() < 0.1]
                    t += [m for m in mates if rng.random() < 0.3]
                    t += zipf_news(p.lang, rng.randint(0, 2))
                else:
                    t += [h for h in hubs if rng.random() < (0.95 if role == "amplifier" else 0.85)]
                    t += some(mates, rng.randint(3, 15))
                    for squad in net["squads"]:
                        if p.idx in squad:
                            t += squad
                    t += some(members_all, rng.randint(0, 3)) + zipf_news(p.lang, rng.randint(0, 3))
                    t += some(ordinary, rng.randint(0, 4))  # cover: friends and family
                    if rng.random() < 0.3:
                        t += some(hubs_all, 1)
            self.expand_follows(p, t)
        # A few ordinary users are followed by network members' relatives etc. — already covered above.

    def expand_follows(self, p: Persona, targets: list[int]) -> None:
        rng, A, P = self.rng, self.accounts, self.personas
        seen: dict[int, None] = {}
        for t in targets:
            if t != p.idx:
                seen[t] = None
        for src_i in p.accounts:
            src = A[src_i]
            s0, s1 = src.created_ms, src.end_ms
            for t in seen:
                for dst_i in P[t].accounts:
                    dst = A[dst_i]
                    if dst.created_ms >= s1 or s0 >= dst.end_ms:
                        continue  # never alive at the same time
                    if (src.incarnation > 1 or dst.incarnation > 1) and rng.random() >= 0.8:
                        continue  # returning accounts rebuild most, not all, of their follows
                    self.follows.append((src_i, dst_i))
            if src.incarnation > 1 and P[p.idx].role in NETWORK_ROLES:
                for _ in range(rng.randint(0, 3)):
                    other = rng.randrange(len(A))
                    if other != src_i and A[other].created_ms < s1 and A[other].end_ms > s0:
                        self.follows.append((src_i, other))

    # --- posts -------------------------------------------------------------------------------------------

    def new_tweet(self, author: Account, ms: int, kind: str, ref: Tweet | None, text: Text) -> Tweet:
        ms = ms // 1000 * 1000 + self.rng.randrange(1000)
        t = Tweet(self.snowflake(ms), ms, author.idx, kind, ref, text.text, text.lang, text.label,
                  text.category, text.source_id)
        self.tweets.append(t)
        author.tweets += 1
        if ref is not None:
            if kind == "retweeted":
                ref.retweets += 1
            elif kind == "replied_to":
                ref.replies += 1
            else:
                ref.quotes += 1
        return t

    def decorate(self, t: Tweet, author: Account, link_p: float, media_p: float, domain: str) -> None:
        """Append a t.co link and/or a media attachment, as the platform would."""
        rng = self.rng
        if rng.random() < link_p:
            tco = "https://t.co/" + self.code()
            expanded = f"https://{domain}/{rng.choice(('a', 'p', 'news', 'post'))}/{self.code(8).lower()}"
            t.text += " " + tco
            t.urls += ((tco, expanded, expanded.split("://", 1)[1][:24] + "…", None),)
        if rng.random() < media_p:
            kind = rng.choices(("photo", "video", "animated_gif"), weights=(0.65, 0.28, 0.07))[0]
            self.attach_media(t, author, kind, None)

    def attach_media(self, t: Tweet, author: Account, kind: str, url: str | None) -> None:
        prefix = {"photo": "3", "video": "7", "animated_gif": "16"}[kind]
        key = f"{prefix}_{self.snowflake(t.ms)}"
        if url is None:
            if kind == "photo":
                url = f"https://pbs.twimg.com/media/{self.code(15)}.jpg"
            else:
                folder = "ext_tw_video_thumb" if kind == "video" else "tweet_video_thumb"
                url = f"https://pbs.twimg.com/{folder}/{key.split('_')[1]}/pu/img/{self.code(15)}.jpg"
        t.media += ((key, kind, url),)
        tco = "https://t.co/" + self.code()
        t.text += " " + tco
        expanded = f"https://twitter.com/{author.username}/status/{t.id}/{'video' if kind != 'photo' else 'photo'}/1"
        t.urls += ((tco, expanded, "pic.twitter.com/" + tco[-10:], key),)

    def draw(self, category: str, lang: str, mention: str | None = None) -> Text:
        return self.texts.draw(self.rng, category, lang, mention)

    def post_lang(self, a: Account, other: float = 0.1) -> str:
        if self.rng.random() < other:
            return self.rng.choice(("ar", "en", "ru"))
        return a.lang

    def times(self, a: Account, per_day: float, cap: int = 5000) -> list[int]:
        """Posting times: a Poisson number over the account's active days, uniform within them."""
        s, e = a.start_ms, a.end_ms
        if e - s < 60_000:
            return []
        lam = per_day * (e - s) / DAY_MS
        k = min(cap, _poisson(self.rng, lam))
        return sorted(self.rng.randrange(s, e) for _ in range(k))

    def post_originals(self) -> None:
        rng = self.rng
        cat_weights = {
            "ordinary": (("ordinary", "religious", "counter", "news", "sectarian"), (0.71, 0.2, 0.04, 0.02, 0.03)),
            "news": (("news", "ordinary"), (0.85, 0.15)),
            "researcher": (("research", "counter", "news"), (0.75, 0.15, 0.1)),
            "counter_speech": (("counter", "research", "religious"), (0.75, 0.1, 0.15)),
            "recruiter_hub": (("propaganda", "migrate", "pledge", "religious", "ordinary"),
                              (0.45, 0.22, 0.08, 0.15, 0.1)),
            "member": (("propaganda", "migrate", "pledge", "religious", "ordinary"), (0.3, 0.1, 0.1, 0.2, 0.3)),
            "amplifier": (("propaganda", "religious", "ordinary"), (0.35, 0.3, 0.35)),
        }
        rates = {"ordinary": (0.003, 0.025), "news": (0.15, 0.5), "researcher": (0.05, 0.15),
                 "counter_speech": (0.05, 0.15), "recruiter_hub": (0.8, 2.5), "member": (0.03, 0.12),
                 "amplifier": (0.005, 0.03)}
        for a in self.accounts:
            lo, hi = rates[a.role]
            per_day = rng.uniform(lo, hi) * (1 if a.role != "ordinary" else rng.expovariate(1.0) * 2)
            cats, weights = cat_weights[a.role]
            cum = _cumulative(weights)
            is_net = a.role in NETWORK_ROLES
            for ms in self.times(a, per_day):
                category = cats[bisect.bisect(cum, rng.random() * cum[-1])]
                lang = self.post_lang(a, 0.2 if is_net else 0.05)
                t = self.new_tweet(a, ms, "original", None, self.draw(category, lang))
                if a.role == "news":
                    self.decorate(t, a, 0.9, 0.3, f"{a.username.lower()}.example")
                elif a.role == "researcher":
                    self.decorate(t, a, 0.4, 0.1, "journal.example")
                elif is_net and t.label:
                    self.decorate(t, a, 0.3 if a.role == "recruiter_hub" else 0.1,
                                  0.5 if a.role == "recruiter_hub" else 0.2, "archive.example.org")
                else:
                    self.decorate(t, a, 0.05, 0.15, "blog.example")

    def index(self, tweets: Iterable[Tweet]) -> tuple[list[int], list[Tweet]]:
        ordered = sorted(tweets, key=lambda t: t.id)
        return [t.ms for t in ordered], ordered

    def pick(self, pool: tuple[list[int], list[Tweet]], at: int, author: int) -> Tweet | None:
        """A post from `pool` published before `at`, biased to recent ones; never the author's own."""
        times, items = pool
        i = bisect.bisect_left(times, at - 30_000)
        if i == 0:
            return None
        for _ in range(3):
            j = i - 1 - min(i - 1, int(self.rng.expovariate(1 / 25)))
            if items[j].author != author:
                return items[j]
        return None

    def post_interactions(self) -> None:
        rng, A = self.rng, self.accounts
        originals = list(self.tweets)
        pools: dict[str, tuple[list[int], list[Tweet]]] = {}

        def pool(name: str, pred: Any) -> tuple[list[int], list[Tweet]]:
            if name not in pools:
                pools[name] = self.index(t for t in originals if pred(t))
            return pools[name]

        for k in range(len(self.networks)):
            pool(f"hub{k}", lambda t, k=k: t.label == 1 and A[t.author].role == "recruiter_hub"
                 and A[t.author].community == k)
            pool(f"net{k}", lambda t, k=k: t.label == 1 and A[t.author].community == k)
        pool("prop", lambda t: t.label == 1)
        for lang in ("ar", "en", "ru"):
            pool(f"news-{lang}", lambda t, lang=lang: A[t.author].role == "news" and t.lang == lang)
            pool(f"ord-{lang}", lambda t, lang=lang: A[t.author].role == "ordinary" and t.lang == lang)
        pool("analysis", lambda t: A[t.author].role in ("researcher", "counter_speech"))

        # (pool, kind, per-day rate range, reply/quote category or None for a retweet)
        plans: dict[str, list[tuple[str, str, tuple[float, float], str | None]]] = {
            "ordinary": [("ord", "retweeted", (0.0, 0.01), None), ("ord", "replied_to", (0.0, 0.01), "ordinary"),
                         ("news", "retweeted", (0.0, 0.006), None)],
            "news": [("news", "retweeted", (0.0, 0.05), None)],
            "researcher": [("prop", "quoted", (0.03, 0.1), "research"), ("prop", "replied_to", (0.0, 0.03), "counter"),
                           ("analysis", "retweeted", (0.02, 0.06), None), ("news", "quoted", (0.0, 0.03), "research")],
            "counter_speech": [("prop", "replied_to", (0.04, 0.12), "counter"), ("prop", "quoted", (0.01, 0.04), "counter"),
                               ("analysis", "retweeted", (0.02, 0.06), None)],
            "recruiter_hub": [("net", "retweeted", (0.1, 0.4), None), ("hub", "replied_to", (0.02, 0.1), "support")],
            "member": [("hub", "retweeted", (0.05, 0.15), None), ("hub", "replied_to", (0.01, 0.05), "support"),
                       ("net", "retweeted", (0.02, 0.06), None)],
            "amplifier": [("hub", "retweeted", (0.1, 0.3), None), ("net", "retweeted", (0.05, 0.15), None)],
        }
        for a in A:
            for pool_kind, kind, (lo, hi), category in plans[a.role]:
                if pool_kind in ("hub", "net"):
                    name = f"{pool_kind}{a.community}"
                elif pool_kind in ("news", "ord"):
                    name = f"{pool_kind}-{a.lang}"
                else:
                    name = pool_kind
                for ms in self.times(a, rng.uniform(lo, hi)):
                    ref = self.pick(pools[name], ms, a.idx)
                    if ref is None:
                        continue
                    self.interact(a, ms, kind, ref, category)

    def interact(self, a: Account, ms: int, kind: str, ref: Tweet, category: str | None) -> Tweet:
        if kind == "retweeted":
            text = Text(ref.text, ref.label, ref.category, ref.lang, ref.source_id)
            return self.new_tweet(a, ms, kind, ref, text)
        lang = ref.lang if self.rng.random() < 0.7 else a.lang
        drawn = self.draw(category or "ordinary", lang)
        t = self.new_tweet(a, ms, kind, ref, drawn)
        if kind == "replied_to":
            t.text = f"@{self.accounts[ref.author].username} {t.text}"
        else:
            tco = "https://t.co/" + self.code()
            expanded = f"https://twitter.com/{self.accounts[ref.author].username}/status/{ref.id}"
            t.text += " " + tco
            t.urls += ((tco, expanded, expanded[8:32] + "…", None),)
        return t

    def post_shoutouts(self) -> None:
        """When a network account returns, others announce the new handle."""
        rng, A, P = self.rng, self.accounts, self.personas
        for a in A:
            if a.returns_of is None or a.community is None:
                continue
            net = self.networks[a.community]
            announcers = [i for q in net["hub_personas"] + net["member_personas"] for i in P[q].accounts
                          if i != a.idx and P[A[i].persona] is not P[a.persona]]
            for _ in range(rng.randint(1, 3)):
                if not announcers:
                    break
                b = A[rng.choice(announcers)]
                ms = a.created_ms + rng.randrange(HOUR_MS // 2, 2 * DAY_MS)
                if not (b.start_ms <= ms < b.end_ms and ms < a.end_ms):
                    continue
                self.new_tweet(b, ms, "original", None, self.draw("shoutout", b.lang, "@" + a.username))

    def post_bursts(self) -> None:
        """Squads share a hub's post within minutes: retweets or copy-pasted text with the same picture."""
        rng, A, P = self.rng, self.accounts, self.personas
        for net in self.networks:
            k = net["id"]
            hub_posts = [t for t in self.tweets if t.kind == "original" and t.label == 1
                         and A[t.author].role == "recruiter_hub" and A[t.author].community == k]
            hub_posts.sort(key=lambda t: t.id)
            for g, squad in enumerate(net["squads"]):
                bursts = []
                members: dict[int, None] = {}
                for _ in range(rng.randint(3, 8)):
                    if not hub_posts:
                        break
                    src = hub_posts[rng.randrange(len(hub_posts))]
                    window = rng.choice((120, 180, 300, 600)) * 1000
                    start = (src.ms // 1000 + rng.randrange(30, 900)) * 1000
                    end = start + window
                    mode = "retweet" if rng.random() < 0.65 else "copy"
                    ids: list[str] = []
                    accts: list[int] = []
                    for q in squad:
                        alive = [i for i in P[q].accounts if A[i].created_ms <= start and A[i].end_ms > end]
                        if not alive or rng.random() < 0.1:
                            continue
                        b = A[alive[0]]
                        ms = rng.randrange(start, end - 1000)
                        if mode == "retweet":
                            t = self.interact(b, ms, "retweeted", src, None)
                        else:
                            t = self.new_tweet(b, ms, "original", None,
                                               Text(src.text.split(" https://t.co/")[0], src.label, src.category,
                                                    src.lang, src.source_id))
                            for _key, kind, url in src.media:
                                self.attach_media(t, b, kind, url)
                        ids.append(str(t.id))
                        accts.append(b.idx)
                    if len(ids) < 2:
                        continue
                    for i in accts:
                        members[i] = None
                    bursts.append({"source_tweet_id": str(src.id), "mode": mode, "tweet_ids": ids,
                                   "accounts": [A[i].id for i in accts],
                                   "window": {"start": iso(start), "end": iso(end),
                                              "start_ms": start, "end_ms": end, "seconds": window // 1000}})
                if bursts:
                    self.groups.append({
                        "id": f"net{k}-squad{g}", "community": k,
                        "accounts": [A[i].id for i in members],
                        "personas": list(squad),
                        "tweet_ids": [tid for b in bursts for tid in b["tweet_ids"]],
                        "window_seconds": max(b["window"]["seconds"] for b in bursts),
                        "bursts": bursts,
                    })

    # --- output ------------------------------------------------------------------------------------------

    def user_obj(self, a: Account) -> dict[str, Any]:
        return {
            "id": a.id, "username": a.username, "name": a.name, "description": a.description,
            "created_at": iso(a.created_ms), "profile_image_url": a.image_url, "verified": a.verified,
            "protected": False,
            "public_metrics": {"followers_count": a.followers, "following_count": a.following,
                               "tweet_count": a.tweets, "listed_count": a.followers // 40},
        }

    def user_json(self, i: int) -> orjson.Fragment:
        """A user object, serialised once: users recur on many pages."""
        frag = self._user_json.get(i)
        if frag is None:
            frag = self._user_json[i] = orjson.Fragment(orjson.dumps(self.user_obj(self.accounts[i])))
        return frag

    def ref_json(self, t: Tweet) -> orjson.Fragment:
        """A referenced tweet, serialised once: a hub's post may be retweeted hundreds of times."""
        frag = self._ref_json.get(t.id)
        if frag is None:
            frag = self._ref_json[t.id] = orjson.Fragment(orjson.dumps(self.tweet_obj(t)))
        return frag

    def tweet_obj(self, t: Tweet) -> dict[str, Any]:
        A = self.accounts
        author = A[t.author]
        ref = t.ref
        if t.kind == "retweeted" and ref is not None:
            ref_author = A[ref.author]
            prefix = f"RT @{ref_author.username}: "
            text = prefix + ref.text
            urls = ref.urls
        else:
            text, urls = t.text, t.urls
        tid = str(t.id)
        likes = 0 if t.kind == "retweeted" else t.retweets * 3 + t.id % 7 + (t.replies + t.quotes) * 2
        obj: dict[str, Any] = {
            "id": tid, "text": text, "author_id": author.id, "created_at": iso(t.ms), "lang": t.lang,
            "conversation_id": tid, "edit_history_tweet_ids": [tid], "possibly_sensitive": False,
            "public_metrics": {"retweet_count": t.retweets if t.kind != "retweeted" else ref.retweets if ref else 0,
                               "reply_count": t.replies, "like_count": likes, "quote_count": t.quotes,
                               "bookmark_count": likes // 10, "impression_count": likes * 37 + t.id % 97},
        }
        if ref is not None:
            if t.kind == "replied_to":
                root = ref
                while root.kind == "replied_to" and root.ref is not None:
                    root = root.ref
                obj["conversation_id"] = str(root.id)
                obj["in_reply_to_user_id"] = A[ref.author].id
            obj["referenced_tweets"] = [{"type": t.kind, "id": str(ref.id)}]
        entities = self.entities(text, urls)
        if entities:
            obj["entities"] = entities
        media = ref.media if t.kind == "retweeted" and ref is not None else t.media
        if media:
            obj["attachments"] = {"media_keys": [m[0] for m in media]}
        return obj

    def entities(self, text: str, urls: tuple[tuple[str, str, str, str | None], ...]) -> dict[str, Any]:
        """Mentions, hashtags and URLs with code-point offsets, as X reports them."""
        out: dict[str, Any] = {}
        url_spans: list[tuple[int, int]] = []
        known = {u[0]: u for u in urls}
        found_urls = []
        for m in _URL_RE.finditer(text) if "http" in text else ():
            url = m.group(0)
            url_spans.append((m.start(), m.end()))
            entry: dict[str, Any] = {"start": m.start(), "end": m.end(), "url": url}
            if url in known:
                _, expanded, display, media_key = known[url]
                entry["expanded_url"] = expanded
                entry["display_url"] = display
                if media_key:
                    entry["media_key"] = media_key
            else:
                entry["expanded_url"] = url
                entry["display_url"] = url.split("://", 1)[1][:24]
            found_urls.append(entry)
        mentions = []
        for m in _MENTION_RE.finditer(text) if "@" in text else ():
            idx = self.usernames.get(m.group(1).lower())
            if idx is None or _inside(m.start(), url_spans):
                continue
            a = self.accounts[idx]
            mentions.append({"start": m.start(), "end": m.end(), "username": a.username, "id": a.id})
        hashtags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)}
                    for m in (_HASHTAG_RE.finditer(text) if "#" in text or "＃" in text else ())
                    if not _inside(m.start(), url_spans)]
        if mentions:
            out["mentions"] = mentions
        if hashtags:
            out["hashtags"] = hashtags
        if found_urls:
            out["urls"] = found_urls
        return out

    def media_objs(self, t: Tweet) -> list[dict[str, Any]]:
        out = []
        for key, kind, url in t.media:
            if kind == "photo":
                out.append({"media_key": key, "type": kind, "url": url, "width": 1200, "height": 675})
            else:
                out.append({"media_key": key, "type": kind, "preview_image_url": url, "width": 1280, "height": 720,
                            "duration_ms": 0 if kind == "animated_gif" else 15_000 + int(key[2:]) % 240_000})
        return out

    def write_tweets(self, fh: IO[bytes]) -> int:
        ordered = sorted(self.tweets, key=lambda t: t.id, reverse=True)  # newest first, as search returns them
        pages = 0
        for start in range(0, len(ordered), PAGE_SIZE):
            page = ordered[start:start + PAGE_SIZE]
            data = [self.tweet_obj(t) for t in page]
            users: dict[int, None] = {}
            refs: dict[int, Tweet] = {}
            media: list[dict[str, Any]] = []
            for t, obj in zip(page, data, strict=True):
                users[t.author] = None
                for mention in obj.get("entities", {}).get("mentions", ()):
                    users[self.usernames[mention["username"].lower()]] = None
                if t.ref is not None:
                    refs[t.ref.id] = t.ref
                    users[t.ref.author] = None
                media += self.media_objs(t)
                if t.ref is not None:
                    media += self.media_objs(t.ref)
            pages += 1
            last = start + PAGE_SIZE >= len(ordered)
            meta: dict[str, Any] = {"result_count": len(data), "newest_id": data[0]["id"], "oldest_id": data[-1]["id"]}
            if not last:
                meta["next_token"] = f"b26v89c19zqg8o3f{pages:08x}{self.seed & 0xFFFF:04x}"
            includes: dict[str, Any] = {"users": [self.user_json(i) for i in users]}
            if media:
                seen: dict[str, dict[str, Any]] = {}
                for m in media:
                    seen.setdefault(m["media_key"], m)
                includes["media"] = list(seen.values())
            if refs:
                includes["tweets"] = [self.ref_json(r) for r in refs.values()]
            fh.write(orjson.dumps({"data": data, "includes": includes, "meta": meta}))
            fh.write(b"\n")
        return pages

    def write_users_lookup(self, fh: IO[bytes]) -> int:
        """What `GET /2/users?ids=` answers at the end of the window, 100 ids a request: active users in
        `data`, suspended ones as X's error objects (the only sign of a suspension the API gives)."""
        A = self.accounts
        ordered = sorted(A, key=lambda a: int(a.id))
        n = 0
        for start in range(0, len(ordered), 100):
            batch = ordered[start:start + 100]
            resp: dict[str, Any] = {}
            data = [self.user_json(a.idx) for a in batch if a.suspended_ms is None]
            errors = [{"value": a.id, "detail": f"User has been suspended: [{a.id}].", "title": "Forbidden",
                       "resource_type": "user", "parameter": "ids", "resource_id": a.id,
                       "type": "https://api.twitter.com/2/problems/resource-not-found"}
                      for a in batch if a.suspended_ms is not None]
            if data:
                resp["data"] = data
            if errors:
                resp["errors"] = errors
            fh.write(orjson.dumps(resp))
            fh.write(b"\n")
            n += 1
        return n

    def write_suspended_list(self, fh: IO[bytes]) -> int:
        """The platform's list of suspended accounts, as platforms share it (ids, handles, dates), in the
        generic account format (docs/formats.md)."""
        n = 0
        for a in sorted(self.accounts, key=lambda a: (a.suspended_ms or 0, int(a.id))):
            if a.suspended_ms is None:
                continue
            fh.write(orjson.dumps({"type": "account", "platform": "x", "id": a.id, "handle": a.username,
                                   "created_at": iso(a.created_ms), "suspended_at": iso(a.suspended_ms),
                                   "status": "suspended"}))
            fh.write(b"\n")
            n += 1
        return n

    def write_follows(self, fh: IO[bytes]) -> None:
        A = self.accounts
        for s, d in self.follows:
            fh.write(b'{"source_id":"%s","target_id":"%s"}\n' % (A[s].id.encode(), A[d].id.encode()))

    def count_follows(self) -> None:
        seen: set[tuple[int, int]] = set()
        unique = []
        for edge in self.follows:
            if edge not in seen:
                seen.add(edge)
                unique.append(edge)
        self.follows = unique
        for s, d in unique:
            self.accounts[s].following += 1
            self.accounts[d].followers += 1

    def account_gt(self, a: Account) -> dict[str, Any]:
        A = self.accounts
        return {
            "username": a.username, "role": a.role, "community": a.community, "cluster": a.cluster,
            "gender": a.gender, "lang": a.lang,
            "status": "suspended" if a.suspended_ms is not None else "active",
            "created_at": iso(a.created_ms),
            "suspended_at": iso(a.suspended_ms) if a.suspended_ms is not None else None,
            "returns_of": A[a.returns_of].id if a.returns_of is not None else None,
            "returned_as": A[a.returned_as].id if a.returned_as is not None else None,
            "lookalike_of": A[a.lookalike_of].id if a.lookalike_of is not None else None,
            "persona": a.persona, "incarnation": a.incarnation, "tweets": a.tweets,
        }

    def summary_dict(self, pages: int) -> dict[str, Any]:
        A = self.accounts
        roles = {r: sum(1 for a in A if a.role == r) for r in ROLES}
        return {
            "description": ("Synthetic platform written by `basira simulate`: X API v2 search pages in tweets.jsonl, "
                            "follow edges in follows.jsonl, an X API v2 users lookup at the end of the window "
                            "(suspended users as error objects) in users_lookup.jsonl, the platform's list of "
                            "suspended accounts in suspended_accounts.jsonl, and this ground truth. All accounts and texts are "
                            "synthetic (or sampled from the --texts files). label 1 = post promotes a jihadist "
                            "organisation; retweets inherit the label of the retweeted post."),
            "seed": self.seed, "accounts": len(A), "tweets": len(self.tweets), "pages": pages,
            "follows": len(self.follows), "positive_tweets": sum(t.label for t in self.tweets),
            "roles": roles, "networks": len(self.networks),
            "hubs": roles["recruiter_hub"],
            "suspended": sum(1 for a in A if a.suspended_ms is not None),
            "returning": sum(1 for a in A if a.returns_of is not None),
            "lookalikes": sum(1 for a in A if a.lookalike_of is not None),
            "coordinated_groups": len(self.groups), "bursts": sum(len(g["bursts"]) for g in self.groups),
            "langs": {lang: sum(1 for t in self.tweets if t.lang == lang) for lang in ("ar", "en", "ru")},
            "window": {"start": iso(WINDOW_START_MS), "end": iso(WINDOW_END_MS)},
            "texts": self.texts.counts if isinstance(self.texts, PooledTexts) else "built-in",
        }

    def write_ground_truth(self, fh: IO[bytes], summary: dict[str, Any]) -> None:
        A, P = self.accounts, self.personas
        dumps = orjson.dumps
        fh.write(b'{\n"summary": ' + dumps(summary) + b',\n"accounts": {')
        for i, a in enumerate(A):
            fh.write((b"\n" if i == 0 else b",\n") + dumps(a.id) + b": " + dumps(self.account_gt(a)))
        fh.write(b'\n},\n"networks": [')
        for i, net in enumerate(self.networks):
            def ids(key: str, net: dict[str, Any] = net) -> list[str]:
                return [A[j].id for q in net[key] for j in P[q].accounts]
            entry = {"id": net["id"], "lang": net["lang"], "hubs": ids("hub_personas"),
                     "members": ids("member_personas"), "amplifiers": ids("amplifier_personas"),
                     "accounts": ids("hub_personas") + ids("member_personas") + ids("amplifier_personas"),
                     "personas": net["hub_personas"] + net["member_personas"] + net["amplifier_personas"]}
            fh.write((b"\n" if i == 0 else b",\n") + dumps(entry))
        fh.write(b'\n],\n"returning_pairs": [')
        first = True
        for a in A:
            if a.returns_of is None:
                continue
            old = A[a.returns_of]
            pair = {"old": old.id, "new": a.id, "old_username": old.username, "new_username": a.username,
                    "gap_seconds": (a.created_ms - (old.suspended_ms or 0)) // 1000}
            fh.write((b"\n" if first else b",\n") + dumps(pair))
            first = False
        fh.write(b'\n],\n"coordinated_groups": [')
        for i, g in enumerate(self.groups):
            fh.write((b"\n" if i == 0 else b",\n") + dumps(g))
        fh.write(b'\n],\n"posts": {')
        for i, t in enumerate(sorted(self.tweets, key=lambda t: t.id)):
            entry = {"label": t.label, "author_id": A[t.author].id, "type": t.kind, "category": t.category,
                     "lang": t.lang}
            if t.source_id is not None:
                entry["source_id"] = t.source_id
            fh.write((b"\n" if i == 0 else b",\n") + dumps(str(t.id)) + b": " + dumps(entry))
        fh.write(b"\n}\n}\n")

    def run(self, out_dir: str) -> dict[str, Any]:
        self.build_population()
        self.build_follows()
        self.post_originals()
        self.post_shoutouts()
        self.post_interactions()
        self.post_bursts()
        self.count_follows()
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        with atomic_output(str(out / "tweets.jsonl")) as fh:
            pages = self.write_tweets(fh)
        with atomic_output(str(out / "follows.jsonl")) as fh:
            self.write_follows(fh)
        with atomic_output(str(out / "users_lookup.jsonl")) as fh:
            self.write_users_lookup(fh)
        with atomic_output(str(out / "suspended_accounts.jsonl")) as fh:
            self.write_suspended_list(fh)
        summary = self.summary_dict(pages)
        with atomic_output(str(out / "ground_truth.json")) as fh:
            self.write_ground_truth(fh, summary)
        return summary


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, lam**0.5)))
    # Knuth's method in log space: fine for small means.
    k, total = 0, 0.0
    while True:
        total += rng.expovariate(1.0)
        if total > lam:
            return k
        k += 1


def _cumulative(weights: Iterable[float]) -> list[float]:
    out, acc = [], 0.0
    for w in weights:
        acc += w
        out.append(acc)
    return out


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in spans)


def simulate_platform(accounts: int, seed: int, out_dir: str, texts: Iterable[str] | None = None) -> SimulationSummary:
    """Write a synthetic platform (tweets.jsonl, follows.jsonl, ground_truth.json) to `out_dir`."""
    started = time.perf_counter()
    paths = [str(p) for p in texts or ()]
    source: PooledTexts | BuiltinCorpus = PooledTexts(paths, seed) if paths else BuiltinCorpus()
    sim = Simulator(accounts, seed, source)
    s = sim.run(out_dir)
    return SimulationSummary(
        out_dir=str(out_dir), seed=seed, accounts=s["accounts"], tweets=s["tweets"], pages=s["pages"],
        follows=s["follows"], positive_tweets=s["positive_tweets"], networks=s["networks"], hubs=s["hubs"],
        suspended=s["suspended"], returning=s["returning"], coordinated_groups=s["coordinated_groups"],
        bursts=s["bursts"], roles=s["roles"], langs=s["langs"],
        texts="built-in" if not paths else ", ".join(paths),
        seconds=round(time.perf_counter() - started, 3),
        files=[str(Path(out_dir) / f) for f in ("tweets.jsonl", "follows.jsonl", "users_lookup.jsonl",
                                                 "suspended_accounts.jsonl", "ground_truth.json")],
    )
