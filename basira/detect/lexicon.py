"""Indicator lexicon: phrases that signal support for a jihadist organisation, or distance from one.

Terms are written here as people write them; they are normalized with `basira.text.normalize_text` when
compiled, so the matcher sees the same folding as the model (alef/ya/ta-marbuta variants, case, homoglyphs).
Arabic terms match inside words (Arabic attaches و ف ب ل ال to the next word); English and Russian terms
match at word starts, so Russian stems catch their inflections ("халифат" matches "халифата").

Categories that indicate support (`SUPPORT_CATEGORIES`) are what reviewers see and what the policy names.
`distancing` (reporting, derogatory names, condemnation), its subset `condemnation` (the words outsiders use of
the group, without the reporting register its own news accounts share) and `sectarian_hate` are stance signals: they
feed the model and the explanation, but never make a text a terrorism case on their own. Sectarian and
political hate speech is a different policy from support for a terrorist organisation.

Kazakh (`kk`) and Uzbek (`uz`, Latin and Cyrillic) terms are the group's own canonical phrases (hijra, bay'ah, the
caliphate's soldiers, "remaining and expanding", Amaq) and the news and condemnation register, written for reach
in Central Asia. No row of ../shared/datasets matches any of them (checked when they were added), so adding them
left every trained model's features, weights and held-out figures unchanged; their only measure is the
synthetic fixture tests/fixtures/detect_kk_uz_synthetic.jsonl, written by the same hand — read its recall as
"the phrases are matched", not as field recall.
"""

from __future__ import annotations

SUPPORT_CATEGORIES = (
    "recruitment",  # calls to join, fight, migrate (hijra), mobilise (nafir)
    "glorification",  # praise of attacks, fighters, "martyrs", martyrdom operations
    "propaganda_brand",  # official outlets, media brands, "provinces" (wilayat), the group's self-names
    "threat_incitement",  # threats, calls to kill, "we are coming"
    "pledge",  # pledges of allegiance (bay'ah) to the group or its "caliph"
)
STANCE_CATEGORIES = ("distancing", "sectarian_hate", "condemnation")

LEXICON: dict[str, dict[str, list[str]]] = {
    "recruitment": {
        "ar": [
            "انفروا", "النفير", "نفير عام", "هاجروا", "الهجره الى ارض", "الهجرة إلى الشام", "هاجر الى الدولة",
            "هاجر إلى أرض الخلافة", "ارض الخلافه", "دار الاسلام", "التحقوا بركب", "التحق بركب", "الحقوا بالركب",
            "انضموا الى", "انضم الى صفوف المجاهدين", "يا شباب الاسلام هبوا", "الى ساحات الجهاد", "حي على الجهاد",
            "ركب المجاهدين", "الهجره فريضه", "انصر اخوانك", "نفرت", "كن من جنود",
            "متى تنفر", "ترك القعود", "تترك القعود", "فانفروا",
        ],
        "en": [
            "make hijrah", "make hijra", "perform hijrah", "hijrah to", "hijra to", "join the caliphate",
            "join the khilafah", "join the mujahideen", "join the ranks", "come to the land of", "nafir",
            "answer the call of jihad", "migrate to the khilafah", "migrate to the caliphate", "land of khilafah",
            "rise up and join", "join the caravan", "come to sham",
        ],
        "ru": [
            "совершите хиджру", "совершить хиджру", "хиджру в", "присоединяйтесь к", "вступайте в ряды",
            "приезжайте в шам", "земля халифата", "землю халифата", "на землю халифата", "встать в ряды моджахедов",
            "вставайте на джихад", "ступай на джихад", "присоединиться к халифату", "выезжайте в",
        ],
        "kk": [
            "һижрет етіңдер", "һижрет етіңіз", "халифат жеріне", "халифатқа қосыл", "мемлекетінің қатарына қосыл",
            "жиһадқа аттан", "мұжаһидтердің керуен", "мұжаһидтер қатарына",
        ],
        "uz": [
            "hijrat qilinglar", "hijrat qiling", "xalifat yeriga", "xalifatga qo'shil", "davlat safiga qo'shil",
            "jihodga otlan", "mujohidlar karvon", "mujohidlar safiga",
            "ҳижрат қилинглар", "ҳижрат қилинг", "халифат ерига", "халифатга қўшил", "давлат сафига қўшил",
            "жиҳодга отлан", "мужоҳидлар карвон", "мужоҳидлар сафига",
        ],
    },
    "glorification": {
        "ar": [
            "استشهادي", "الاستشهادي", "عمليه استشهاديه", "انغماسي", "الانغماسي", "غزوه مباركه", "غزوة",
            "تقبله الله", "تقبلهم الله", "نحسبه شهيدا", "نحسبه والله حسيبه", "نحسبهم", "اسود الخلافه",
            "ابطال الدوله", "فرسان الشهاده", "بفضل الله هلاك", "هلاك", "نسال الله النكايه", "النكايه والتسديد",
            "الفتح المبين", "ثبتهم الله", "نصرهم الله", "اثخن", "الاثخان",
            "تقبلك الله", "فزت ورب الكعبة", "تحت أقدام المجاهدين", "إخواننا المجاهدين", "أسود الدولة",
        ],
        "en": [
            "martyrdom operation", "martyrdom-seeking", "istishhadi", "inghimasi", "may allah accept him",
            "may allah accept them", "we consider him a shaheed", "lions of the caliphate", "lions of the khilafah",
            "blessed attack", "blessed raid", "brothers of the khilafah", "soldiers of the khilafah",
            "heroes of the islamic state", "knights of martyrdom", "mujahid brothers", "allahu akbar the lions",
        ],
        "ru": [
            "операция мученичества", "истишхади", "да примет аллах его", "да примет его аллах", "львы халифата",
            "благословенная атака", "благословенный рейд", "воины халифата", "солдаты халифата",
            "герои исламского государства", "рыцари шахады", "братья моджахеды", "наши братья моджахеды",
        ],
        "kk": [
            "халифат сарбаздары", "халифаттың арыстандары", "халифат арыстандары", "берекетті шабуыл",
            "шаһидтерімізді қабыл", "шаһидтерді қабыл",
        ],
        "uz": [
            "xalifat askarlari", "xalifat sherlari", "muborak hujum", "shahidlarimizni qabul",
            "халифат аскарлари", "халифат шерлари", "муборак ҳужум", "шаҳидларимизни қабул",
        ],
    },
    "propaganda_brand": {
        "ar": [
            "الدوله الاسلاميه باقيه", "باقيه وتتمدد", "باقيه تتمدد", "دوله الخلافه", "دولة_الخلافة",
            "ولايه نينوى", "ولايه الرقه", "ولايه الانبار", "ولايه صلاح الدين", "ولايه بغداد", "ولايه سيناء",
            "ولايه خراسان", "ولايه الخير", "ولايه حلب", "ولايه البركه", "ولايه كركوك", "ولايه ديالى",
            "ولايه الجنوب", "ولايه دجله", "ولايه الفرات", "ولايه حمص", "ولايه طرابلس", "ولايه برقه",
            "ولايه غرب افريقيا", "ولايه الجزيره", "وكاله اعماق", "اعماق", "مؤسسه الفرقان", "مؤسسه الاعتصام",
            "مركز الحياه للاعلام", "مؤسسه اجناد", "صحيفه النبا", "مجله دابق", "دابق", "رميه", "البيان الاذاعيه",
            "امير المؤمنين ابي بكر", "الخليفه ابراهيم", "جنود الخلافه", "جند الخلافه", "دولتنا",
            "خلافة على منهاج النبوة", "على منهاج النبوة", "البغدادي حفظه الله", "الشيخ العدناني",
            # the group's own names for its enemies (Sunni tribal forces, Saudi Arabia, Arab armies and police)
            "الصحوات", "صحوات الردة", "جيش الردة", "شرطة الردة", "عبيد آل سلول", "آل سلول", "الطواغيت",
            "جنود الطاغوت",
        ],
        "en": [
            "baqiyah", "remaining and expanding", "remaining & expanding", "amaq", "al-hayat media",
            "alhayat media", "dabiq magazine", "rumiyah", "al-naba", "al-furqan", "furqan media",
            "wilayat ninawa", "wilayat raqqa", "wilayat sinai", "wilayah sinai", "wilayat khurasan",
            "wilayah khurasan", "wilayat", "wilayah", "dawlah", "dawla islamiyya", "khilafah",
            "islamic state of iraq and sham", "soldiers of the caliphate",
        ],
        "ru": [
            "амак", "агентство амак", "дабик", "румийя", "аль-хаят", "вилаят", "вилайят", "дауля",
            "остается и расширяется", "пребудет и расширится", "халифат пребудет",
        ],
        "kk": ["қалады және кеңейеді", "амақ агенттігі", "халифат мәңгі", "тағұттар", "тағұттардың"],
        "uz": [
            "boqiy qoladi va kengayadi", "a'moq agentligi", "amaq agentligi", "xalifat abadiy", "tog'utlar",
            "боқий қолади ва кенгаяди", "аъмоқ агентлиги", "амақ агентлиги", "халифат абадий", "тоғутлар",
        ],
    },
    "threat_incitement": {
        "ar": [
            "اقتلوهم", "فاقتلوا المشركين", "اقتلوا الكفار", "سنسحق", "سنذبح", "جئناكم بالذبح", "قادمون",
            "يا عباد الصليب", "سنفجر", "سنقتل", "اضربوا رقاب", "الذئاب المنفرده", "ذئب منفرد", "دمائكم حلال",
            "نطهر جزيره العرب", "سنغزوكم", "سنفتح روما",
            "فاضربوا فوق الأعناق", "أبيدوهم",
        ],
        "en": [
            "kill the kuffar", "kill the kafir", "kill the disbelievers", "kill the crusaders", "we are coming for you",
            "you will be slaughtered", "we will slaughter", "lone wolf", "lone wolves", "strike them in their homes",
            "your blood is halal", "we will conquer rome", "we will conquer your rome", "o crusaders",
            "o worshippers of the cross", "expect our soldiers",
        ],
        "ru": [
            "убивайте неверных", "убивайте кафиров", "смерть кафирам", "смерть неверным", "мы идём за вами",
            "мы идем за вами", "вас будут резать", "мы будем резать", "одинокие волки", "кровь ваша дозволена",
            "о поклонники креста", "о крестоносцы", "завоюем рим",
        ],
        "kk": ["кәпірлерді өлтіріңдер", "мүртәдтерді өлтіріңдер", "кәпірлерді өлтір"],
        "uz": ["kofirlarni o'ldiring", "murtadlarni o'ldiring", "кофирларни ўлдиринг", "муртадларни ўлдиринг"],
    },
    "pledge": {
        "ar": [
            "بايعت", "نبايع", "ابايع", "نجدد البيعه", "بيعه لامير المؤمنين", "البيعه لامير المؤمنين",
            "بايعنا", "بيعه للخليفه", "على السمع والطاعه في المنشط والمكره", "تبايع",
        ],
        "en": [
            "pledge allegiance to", "pledged allegiance to", "i pledge", "we pledge", "bayah to", "bay'ah to",
            "baya to", "renew our bayah", "renew our pledge", "amir al-muminin", "ameer ul mumineen",
            "to hear and obey",
        ],
        "ru": [
            "присягаю", "присягнули", "приносим присягу", "принес присягу", "байат", "бай'ат", "баят",
            "амиру правоверных", "повелителю правоверных", "слушать и повиноваться",
        ],
        "kk": ["байғат береміз", "байғат бердік", "әміріне байғат", "халифаға ант бердік", "тыңдаймыз және бағынамыз"],
        "uz": [
            "bay'at beramiz", "bay'at berdik", "amiriga bay'at", "xalifaga qasamyod", "eshitamiz va itoat",
            "байъат берамиз", "байъат бердик", "амирига байъат", "халифага қасамёд", "эшитамиз ва итоат",
        ],
    },
    # Stance: how someone writes *about* the group (reporting, derogatory names, condemnation).
    "distancing": {
        "ar": [
            "داعش", "الدواعش", "داعشي", "ما يسمى", "ما يعرف ب", "تنظيم داعش الارهابي", "التنظيم الارهابي",
            "الارهابيه", "الارهابي", "الارهابيين", "خوارج", "الخوارج", "المتطرفه", "المتطرفين", "الفكر المتطرف",
            "الفكر الضال", "الفئه الضاله", "مكافحه الارهاب", "نددت", "ندد", "ادان", "يدين", "ادانت", "اعتقال",
            "القبض على", "قالت مصادر", "وقال", "وافادت", "بحسب", "وكاله الانباء", "قتلى", "ضحايا", "المتحدث باسم",
            # the news register of a claim: outsiders write "the organisation" and "claims", supporters do not
            "عاجل", "يتبنى", "تبنى", "تبنت", "تتبنى", "اعلن مسؤوليته", "اعلنت مسؤوليتها", "مسؤوليته عن",
            "تنظيم الدوله", "التنظيم", "المسلحين", "مسلحي", "عناصر التنظيم", "الجماعات الارهابيه",
        ],
        "en": [
            "so-called", "so called", "daesh", "isil", "terrorist group", "terror group", "terrorists",
            "extremist", "extremists", "condemn", "condemned", "arrested", "sentenced", "convicted", "according to",
            "officials said", "reported", "counter-terrorism", "counterterrorism", "victims", "khawarij",
            "deradicalization", "prevent", "propaganda", "claimed responsibility", "claims responsibility",
            "breaking", "militants", "militant group", "the group said",
        ],
        "ru": [
            "запрещенная в россии", "запрещённая в россии", "запрещенной в россии", "запрещённой в рф",
            "так называемое", "так называемого", "игил", "террористическая организация", "террористической",
            "террористы", "террористов", "боевики", "боевиков", "экстремист", "задержан", "задержали", "осужден",
            "приговорил", "по данным", "сообщает", "сообщили", "жертвы", "теракт", "фсб", "контртеррор",
            "взяло на себя ответственность", "взяла на себя ответственность", "заявило о причастности", "сми",
            "группировка", "группировки", "вербовщик",
        ],
        "kk": ["содырлары", "лаңкес", "террористік ұйым", "террористік топ", "деп хабарлады", "ұсталды", "экстремистік"],
        "uz": [
            "ishid", "jangarilari", "terrorchi", "ekstremistik", "deb xabar berdi", "qo'lga olindi",
            "жангарилари", "террорчи", "экстремистик", "деб хабар берди", "қўлга олинди",
        ],
    },
    # Condemnation: the words outsiders use for the group and its acts and supporters never use of themselves
    # (derogatory names, "terrorist", "takfiri", "Kharijites", "so-called", condemning verbs). A subset of
    # `distancing` without its reporting register: pro-ISIS news accounts write «عاجل», «قتلى» and «وقال» too
    # (95 of 1,291 per-text positives carry «عاجل»), but almost never «الإرهابي» (0), «داعش» (33) or «الخوارج» (0).
    "condemnation": {
        "ar": [
            "داعش", "الدواعش", "داعشي", "ما يسمى", "تنظيم داعش الارهابي", "التنظيم الارهابي", "الارهابيه",
            "الارهابي", "الارهابيين", "ارهابيه", "الارهاب", "عمل ارهابي", "منظمه ارهابيه", "خوارج", "الخوارج",
            "المتطرفه", "المتطرفين", "الفكر المتطرف", "الفكر الضال", "الفئه الضاله", "الفئات الضاله", "التكفيري",
            "التكفيريه", "التكفيريين", "المارقين", "البغاه", "المغرر بهم", "المزعومه", "مزعومه", "مكافحه الارهاب",
            "نددت", "ندد", "ادان", "ادانت", "استنكر", "استنكار", "براء من",
        ],
        "en": [
            "so-called", "so called", "daesh", "isil", "terrorist group", "terror group", "terrorist organisation",
            "terrorist organization", "extremist", "extremists", "counter-terrorism", "counterterrorism",
            "deradicalization", "deradicalisation", "militants", "militant group", "condemned", "condemns",
        ],
        "ru": [
            "запрещенная в россии", "запрещённая в россии", "запрещенной в россии", "запрещённой в рф",
            "запрещенной в рф", "так называемое", "так называемого", "игил", "террористическая организация",
            "террористической", "террористы", "террористов", "экстремист", "контртеррор", "вербовщик",
            "осуждаем", "осудил", "осудили",
        ],
        "kk": ["лаңкес", "террористік", "экстремистік", "айыптаймыз", "жалған уәде"],
        "uz": [
            "ishid", "terrorchi", "ekstremistik", "qoralaymiz", "yolg'on va'da",
            "террорчи", "экстремистик", "қоралаймиз", "ёлғон ваъда",
        ],
    },
    # Sectarian and political hate speech: a separate policy, shared vocabulary with propaganda.
    "sectarian_hate": {
        "ar": [
            "الرافضه", "رافضي", "روافض", "الروافض", "صفوي", "الصفوي", "الصفويه", "المجوس", "مجوسي", "النصيريه",
            "النصيري", "عباد القبور", "المشركين الانجاس", "الكلاب", "خنازير",
        ],
        "en": ["rafidah", "rafidi", "rawafid", "safavid", "majus", "nusayri", "grave worshippers", "apostates"],
        "ru": ["рафидиты", "рафидитов", "сафавиды", "маджусы", "нусайриты", "вероотступники", "муртады"],
    },
}
