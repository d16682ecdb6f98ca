"""SYNTHETIC text corpus for the platform simulator — every sentence here was written for Basira's tests.

Nothing in this module comes from real accounts. Positive (label 1) templates are deliberately generic and
non-operational: slogans glorifying "the state", calls to "make hijra and join the caravan", pledges to "the
caliph", praise of "martyrs", and shout-outs for returning accounts. They contain no instructions, weapons,
targets, real people or real places. Negative (label 0) templates cover the hard cases a detector must not
flag: news reporting on attacks and arrests (including headlines about the group's own claims), research and
counter-speech ("so-called ISIS", «داعش», «ما يسمى تنظيم الدولة»), ordinary chatter, religious text (greetings,
adhkar, hadith and verses that mention jihad or fighting), and sectarian quarrels (`sectarian`: hate speech, a
different policy, never terrorist support).

Templates are combined with slot fillers and surface noise (hashtags, emojis, tatweel, letter repetition,
spelling variants) so that a classifier cannot win by matching identical strings.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

from basira.core.jsonio import iter_jsonl

LANGS = ("ar", "en", "ru")
POSITIVE_CATEGORIES = frozenset({"propaganda", "migrate", "pledge", "support", "shoutout"})
NEGATIVE_CATEGORIES = frozenset({"news", "research", "counter", "ordinary", "religious", "sectarian"})
CATEGORIES = tuple(sorted(POSITIVE_CATEGORIES | NEGATIVE_CATEGORIES))
MAX_TEXT_CHARS = 280


@dataclass(frozen=True, slots=True)
class Text:
    """A drawn post text: its label (1 = promotes a jihadist organisation), category and provenance."""

    text: str
    label: int
    category: str
    lang: str
    source_id: str | None = None


FILLERS: dict[str, dict[str, tuple[str, ...]]] = {
    "ar": {
        "state": ("الدولة الإسلامية", "دولة الخلافة", "الدولة", "دولة الإسلام", "خلافتنا"),
        "caliph": ("الخليفة", "أمير المؤمنين", "خليفة المسلمين"),
        "martyrs": ("الشهداء", "شهداءنا", "الإخوة الشهداء", "فرسان الشهادة"),
        "brothers": ("إخوتي", "يا إخوة", "أخواتي", "يا أنصار", "يا موحدين", "يا أخوات"),
        "land": ("أرض الخلافة", "أرض العزة", "دار الإسلام", "أرض التمكين"),
        "media": ("المكتب الإعلامي", "إخوة الإعلام", "مؤسسة الإعلام"),
        "group": ("تنظيم داعش", "تنظيم الدولة الإسلامية", "داعش", "التنظيم الإرهابي", "ما يسمى تنظيم الدولة"),
        "agency": ("مصادر أمنية", "الشرطة", "وكالة الأنباء", "مراسلنا", "وزارة الداخلية"),
        "region": ("شمال البلاد", "في إحدى المحافظات الشرقية", "قرب الحدود", "في العاصمة", "جنوب البلاد"),
        "theme": ("الحنين إلى الانتماء", "صورة البطولة", "وعود الزواج والأسرة", "خطاب المظلومية"),
        "counter": ("قتلوا المسلمين قبل غيرهم", "والإسلام بريء منهم", "هم خوارج هذا العصر", "دينهم الدم والخراب"),
        "team": ("الهلال", "النصر", "الاتحاد", "الأهلي", "الزمالك", "الرجاء", "الوداد"),
        "weather": ("حار جدا", "غبار", "ممطر", "جميل", "بارد"),
        "food": ("كبسة", "منسف", "ملوخية", "كنافة", "مقلوبة", "قهوة عربية"),
        "family": ("أمي", "أبوي", "أختي", "جدتي", "أخوي"),
        "score": ("2-1", "3-0", "1-0", "2-2", "4-1"),
        "sect": ("الروافض", "الصفويين", "المجوس", "النواصب", "الإخوان", "العلمانيين"),
        "insult": ("الله يكفينا شرهم", "قبحهم الله", "لعنة الله على الكاذبين", "ما عندهم ذمة", "حسبنا الله ونعم الوكيل"),
    },
    "en": {
        "state": ("the State", "the Khilafah", "the Islamic State", "Dawlah", "our state"),
        "caliph": ("the caliph", "Amir al-Mu'minin", "the Khalifah"),
        "martyrs": ("the martyrs", "our shuhada", "the martyred brothers", "the knights of martyrdom"),
        "brothers": ("brothers", "sisters", "akhi", "ukhti", "O ansar", "brothers and sisters"),
        "land": ("the land of the Khilafah", "the land of honour", "dar al-Islam", "the land of tamkin"),
        "media": ("the media office", "the brothers in media", "the media wing"),
        "group": ("ISIS", "Islamic State", "IS", "so-called Islamic State", "Daesh"),
        "agency": ("Police", "Officials", "Security sources", "Prosecutors", "Our correspondent"),
        "region": ("in the north", "in a provincial capital", "near the border", "in the capital", "in the south"),
        "theme": ("belonging", "heroic self-images", "promises of marriage", "grievance narratives"),
        "counter": ("They murdered more Muslims than anyone.", "Islam is innocent of them.",
                    "Nothing but blood and ruin.", "Don't let them speak for us."),
        "team": ("City", "United", "Arsenal", "Barça", "Madrid", "Liverpool"),
        "weather": ("raining", "freezing", "boiling hot", "so windy", "gorgeous"),
        "food": ("biryani", "lasagne", "pancakes", "curry", "roast", "falafel"),
        "family": ("mum", "dad", "my sister", "grandma", "my brother"),
        "score": ("2-1", "3-0", "1-0", "2-2", "4-1"),
        "sect": ("Rafidah", "Safavids", "Majoos", "Nawasib"),
        "insult": ("shame on them", "may Allah expose them", "liars every one", "enough of their lies"),
    },
    "ru": {
        "state": ("Государство", "Халифат", "Исламское государство", "наше государство"),
        "state_gen": ("Государства", "Халифата", "Исламского государства"),
        "state_dat": ("Государству", "Халифату", "Исламскому государству"),
        "caliph": ("халифу", "повелителю правоверных", "нашему халифу"),
        "martyrs": ("шахиды", "наши шахиды", "павшие братья", "мученики"),
        "brothers": ("братья", "сестры", "братья и сестры", "ахи", "ухти"),
        "land": ("земля Халифата", "земля чести", "обитель ислама"),
        "media": ("медиаотдел", "братья из медиа", "инфоцентр"),
        "group": ("«Исламское государство» (запрещено в РФ)", "ИГИЛ", "ИГ", "так называемое ИГ"),
        "agency": ("МВД", "Полиция", "Источник в силовых структурах", "Суд", "Наш корреспондент"),
        "region": ("на севере страны", "в областном центре", "у границы", "в столице", "на юге страны"),
        "theme": ("жажду принадлежности", "образ героя", "обещания брака", "нарратив обиды"),
        "counter": ("Они убили больше мусульман, чем кто-либо.", "Ислам к ним непричастен.",
                    "Кроме крови и разрухи, они ничего не принесли.", "Они не говорят от нашего имени."),
        "team": ("Спартак", "Зенит", "ЦСКА", "Локомотив", "Ахмат", "Рубин"),
        "weather": ("дождь", "жара", "метель", "ветрено", "солнечно"),
        "food": ("борщ", "плов", "пельмени", "блины", "манты"),
        "family": ("мама", "папа", "сестра", "бабушка", "брат"),
        "score": ("2:1", "3:0", "1:0", "2:2", "4:1"),
        "sect": ("рафидиты", "сафавиды", "ваххабиты", "сектанты"),
        "insult": ("позор им", "стыдно читать", "хватит это терпеть", "одна ложь"),
    },
}

TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "propaganda": {
        "ar": (
            "{state} باقية وتتمدد بإذن الله",
            "النصر قادم {brothers}، {state} لن تنكسر",
            "تقبل الله {martyrs} الذين باعوا الدنيا واشتروا الآخرة",
            "جنود {state} أسود لا يخافون في الله لومة لائم",
            "اللهم انصر {state} وثبّت جنودها",
            "عزّ {state} لا يزول مهما كاد الكائدون",
            "هنيئا {martyrs}، سبقونا إلى الجنان ونحن على الأثر",
            "إصدار جديد من {media} عن بطولات {state}، انشروا {brothers}",
            "{state} وعد الله ووعد الله لا يُخلف",
            "طوبى للغرباء، طوبى لجنود {state}",
        ),
        "en": (
            "{state} remains and expands, by Allah's permission",
            "Victory is coming, {brothers}. {state} will not break",
            "May Allah accept {martyrs} who sold this world for the next",
            "The soldiers of {state} fear no blame in the path of Allah",
            "O Allah, grant victory to {state} and make its soldiers firm",
            "New release from {media} on the heroes of {state}. Spread it, {brothers}",
            "Glad tidings to {martyrs}, they went ahead and we follow",
            "Tuba for the strangers, tuba for the soldiers of {state}",
            "{state} is the promise of Allah and His promise is never broken",
        ),
        "ru": (
            "{state} остается и расширяется с дозволения Аллаха",
            "Победа близка, {brothers}. {state} не сломить",
            "Пусть Аллах примет {martyrs}, они променяли этот мир на вечный",
            "Воины {state_gen} не боятся упреков на пути Аллаха",
            "О Аллах, даруй победу {state_dat} и укрепи его воинов",
            "Новый выпуск от {media} о героях {state_gen}. Распространяйте, {brothers}",
            "Радостная весть: {martyrs} опередили нас, и мы идем следом",
            "Блаженны чужеземцы, блаженны воины {state_gen}",
        ),
    },
    "migrate": {
        "ar": (
            "{brothers} انفروا وهاجروا إلى {land}، الحقوا بالقافلة قبل فواتها",
            "الهجرة واجبة {brothers}، لا تقعدوا مع القاعدين",
            "أختي المسلمة، مكانك في {land} مع أخواتك، الهجرة الهجرة",
            "من أراد اللحاق بالقافلة فليراسلني على الخاص",
            "اترك دنيا الذل وانضم إلى {state}، القافلة تسير",
            "يا من تنتظر، {land} تناديك، هاجر وانضم إلى إخوانك",
            "لا عذر لمن قعد، الهجرة إلى {land} عزة",
        ),
        "en": (
            "{brothers}, make hijra and join the caravan before it is too late",
            "Hijra is an obligation. Leave the land of humiliation for {land}",
            "Sister, your place is in {land} with your sisters. DM me",
            "Don't sit with those who stay behind. Join {state}",
            "The caravan is moving, {brothers}. Make hijra and catch up",
            "{land} is calling you. Make hijra and join your brothers",
        ),
        "ru": (
            "{brothers}, совершайте хиджру и присоединяйтесь к каравану, пока не поздно",
            "Хиджра — обязанность. Оставьте землю унижения ради того, чтобы {land} стала домом",
            "Сестра, твое место рядом с сестрами. Пиши в личку",
            "Не сиди с оставшимися, присоединяйся к {state_dat}",
            "Караван идет, {brothers}. Совершай хиджру и догоняй",
        ),
    },
    "pledge": {
        "ar": (
            "نبايع {caliph} على السمع والطاعة في المنشط والمكره",
            "بيعتنا لـ{caliph} باقية ما حيينا",
            "نجدد البيعة لـ{caliph}، على السمع والطاعة",
            "بايعنا {caliph} ولن ننكث بإذن الله",
        ),
        "en": (
            "We renew our pledge of allegiance to {caliph}: to hear and obey",
            "Our bay'ah to {caliph} stands as long as we live",
            "I pledge to {caliph} to hear and obey in ease and hardship",
        ),
        "ru": (
            "Мы приносим присягу {caliph}: слушать и повиноваться",
            "Наша присяга {caliph} неизменна, пока мы живы",
            "Обновляем байат {caliph}, слушать и повиноваться",
        ),
    },
    "support": {
        "ar": (
            "بارك الله فيك، {state} منصورة بإذن الله",
            "جزاك الله خيرا، نشرت",
            "ثبتك الله على طريق {martyrs}",
            "نصر الله {state}، كلامك حق",
            "الله أكبر، باقية باقية",
        ),
        "en": (
            "May Allah reward you, spreading it. {state} remains",
            "Shared, akhi. Victory to {state}",
            "May Allah keep you firm on the path of {martyrs}",
            "Baqiyah! This is the truth",
        ),
        "ru": (
            "Да вознаградит тебя Аллах, распространил",
            "Победа {state_gen}!",
            "Пусть Аллах укрепит тебя на пути, которым шли {martyrs}",
        ),
    },
    "shoutout": {
        "ar": (
            "الأخت {mention} عادت، ادعموها وانشروا حسابها {brothers}",
            "تابعوا {mention}، عاد بعد الحظر، من أنصار {state}",
            "حساب جديد لأختنا {mention}، دعم ونشر",
        ),
        "en": (
            "Sister {mention} is back, support her and spread the account",
            "Follow {mention}, returned after suspension. Ansar of {state}",
            "New account of our brother {mention}. Support and share",
        ),
        "ru": (
            "Сестра {mention} вернулась, поддержите и распространите",
            "Подписывайтесь на {mention}, вернулся после блокировки",
        ),
    },
    "news": {
        "ar": (
            "{agency}: مقتل {n} أشخاص في هجوم تبناه {group} {region}",
            "{agency}: اعتقال {n} مشتبه بهم بالانتماء إلى {group} في عملية أمنية {region}",
            "محكمة تصدر أحكاما بالسجن على {n} متهمين بالانتماء إلى {group}",
            "السلطات تعلن إحباط مخطط لـ{group} {region} واعتقال {n} أشخاص",
            "تقرير: {group} يستخدم وسائل التواصل لتجنيد الشباب والنساء",
            "عاجل | انفجار {region} ولا إعلان عن الجهة المسؤولة حتى الآن",
            "إعادة {n} من النساء والأطفال من مخيمات عائلات مقاتلي {group}",
            "{agency}: {group} يتبنى هجوما أسفر عن سقوط {n} قتلى {region}",
            "عاجل | تنظيم الدولة الإسلامية يتبنى الهجوم {region} عبر وكالة أعماق التابعة له",
            "عاجل | وكالة أعماق التابعة لتنظيم الدولة تزعم مقتل {n} جنود {region}، ولا تأكيد رسميا",
            "{agency}: التنظيم نشر بيانا عبر منصاته يتبنى فيه التفجير {region}",
        ),
        "en": (
            "{agency}: {n} killed in an attack claimed by {group} {region}",
            "{agency} arrest {n} suspected {group} supporters in a raid {region}",
            "Court sentences {n} people for membership of {group}",
            "Authorities say they disrupted a {group} cell {region}; {n} detained",
            "Report: how {group} uses social media to recruit young people and women",
            "BREAKING: explosion {region}, no claim of responsibility yet",
            "{n} women and children repatriated from camps holding families of {group} fighters",
            "{group} claims attack that killed {n} {region}, {agency} say",
            "BREAKING: Islamic State claims responsibility for the attack {region} via its Amaq agency",
        ),
        "ru": (
            "{agency}: {n} человек погибли при теракте {region}, ответственность взяла организация {group}",
            "{agency}: задержаны {n} человек по подозрению в участии в организации {group}",
            "Суд вынес приговор {n} фигурантам дела об участии в организации {group}",
            "Силовики сообщили о предотвращении теракта {region}, задержаны {n} человек",
            "Доклад: как организация {group} вербует молодежь и женщин в соцсетях",
            "СРОЧНО: взрыв {region}, о причинах пока не сообщается",
        ),
    },
    "research": {
        "ar": (
            "دراسة جديدة: كيف يستغل {group} منصات التواصل لتجنيد النساء",
            "تحليل: خطاب ما يسمى تنظيم الدولة يعتمد على {theme}",
            "رصدنا {n} حسابا تعيد نشر دعاية داعش بشكل منسق خلال دقائق",
            "الحسابات المحظورة تعود بأسماء شبه متطابقة خلال أيام، ملاحظة من بياناتنا",
            "لاحظوا كيف يعيد هذا الحساب تدوير شعارات {group}، تضخيم منسق نموذجي",
        ),
        "en": (
            "New paper: {group}'s online recruitment of women leans on {theme}. Thread",
            "Our data on {n}k accounts: suspended {group} supporters return within days under near-identical handles",
            "Propaganda from so-called IS frames hijra through {theme}; we analysed {n} posts",
            "Note how this account recycles the same {group} slogans: textbook coordinated amplification",
            "Interesting case of {group} supporters using a women-led hub structure; {n} accounts in the cluster",
        ),
        "ru": (
            "Новое исследование: как организация {group} вербует женщин в соцсетях",
            "Анализ {n} публикаций: пропаганда так называемого ИГ эксплуатирует {theme}",
            "Заблокированные аккаунты сторонников ИГ возвращаются под похожими именами за считанные дни",
            "Обратите внимание, как этот аккаунт повторяет лозунги ИГ: типичное скоординированное продвижение",
        ),
    },
    "counter": {
        "ar": (
            "ما يسمى تنظيم الدولة لا يمثل الإسلام، {counter}",
            "داعش خوارج العصر، {counter}",
            "لا تصدقوا دعاية {group}، الهجرة إليهم طريق إلى الموت والسجن",
            "أخواتي، لا تنخدعن بمن يدعوكن للهجرة؛ كثيرات عدن بمآسٍ",
            "تم الإبلاغ عن الحساب، يمجد الإرهاب، لا تنشروا له",
            "نقول لا لفكر داعش، {counter}",
        ),
        "en": (
            "So-called ISIS does not represent Islam. {counter}",
            "Don't fall for this. 'Hijra' to {group} meant prison, widowhood and death for thousands",
            "Reported. This account glorifies terrorism; please don't share it",
            "The so-called 'caliphate' was a lie. {counter}",
            "Sisters, don't believe recruiters promising you a life of honour. {counter}",
        ),
        "ru": (
            "Так называемое ИГ не имеет отношения к исламу. {counter}",
            "Не верьте вербовщикам: «хиджра» к террористам закончилась для тысяч тюрьмой и смертью",
            "Пожаловался на аккаунт: пропаганда терроризма, не распространяйте",
            "Так называемый «халифат» — это ложь. {counter}",
        ),
    },
    "ordinary": {
        "ar": (
            "{team} فاز الليلة {score}، مباراة ولا أروع",
            "الجو اليوم {weather} والله",
            "أحلى {food} من يد {family}",
            "مبروك لأخوي على التخرج، فخورين فيك",
            "زحمة الطريق اليوم ما لها حل",
            "أحد يعرف مطعم {food} حلو؟",
            "اشتقت لـ{family} كثير",
            "مين شاف مباراة {team}؟ الحكم ظالم",
            "النصر حليفنا يا {team}، مباراة الأسبوع الجاي نار",
        ),
        "en": (
            "What a match! {team} won {score}",
            "It's {weather} again today",
            "Nothing beats {family}'s {food}",
            "Exams next week, pray for me",
            "Traffic is insane this morning",
            "Anyone know a good {food} place?",
            "Missing {family} so much",
            "That referee in the {team} game was a joke",
        ),
        "ru": (
            "Вот это матч! {team} выиграли {score}",
            "Сегодня опять {weather}",
            "{food} как у мамы — лучше всех",
            "Сессия на следующей неделе, держите за меня кулачки",
            "Пробки сегодня ужасные",
            "Кто знает, где вкусный {food}?",
            "Соскучилась по семье, {family} звонила утром",
        ),
    },
    "religious": {
        "ar": (
            "رمضان كريم وكل عام وأنتم بخير",
            "جمعة مباركة، اللهم صل وسلم على نبينا محمد",
            "تقبل الله منا ومنكم صالح الأعمال",
            "اللهم ارحم موتانا وموتى المسلمين",
            "عيد مبارك عليكم وعلى أهاليكم",
            "رحم الله شهداء الوطن من جنودنا البواسل",
            "اللهم اهدنا فيمن هديت وعافنا فيمن عافيت",
            "لا إله إلا الله، اللهم اغفر لـ{family}",
            # adhkar, hadith and verses: devotional text that shares words with propaganda ("jihad", "martyrs")
            "أصبحنا على فطرة الإسلام وعلى كلمة الإخلاص، اللهم بك أصبحنا وبك أمسينا",
            "قال رسول الله ﷺ: أفضل الجهاد كلمة حق عند سلطان جائر",
            "قال ﷺ: المجاهد من جاهد نفسه في طاعة الله",
            "﴿وقاتلوا في سبيل الله الذين يقاتلونكم ولا تعتدوا﴾ تفسير الآية في درس الليلة بعد العشاء",
            "اللهم اجعل {family} من أهل الجنة، وارحم شهداء المسلمين في كل مكان",
            "حديث اليوم: من سلك طريقا يلتمس فيه علما سهل الله له به طريقا إلى الجنة",
            "أذكار المساء: أمسينا وأمسى الملك لله والحمد لله",
        ),
        "en": (
            "Ramadan Mubarak to all my brothers and sisters",
            "Jumu'ah Mubarak! May Allah accept our prayers",
            "Eid Mubarak to you and your families",
            "May Allah have mercy on all those we have lost",
            "Taqabbal Allahu minna wa minkum",
            "Praying for {family} tonight, may Allah grant shifa",
            "Hadith of the day: the best jihad is a word of truth before a tyrant ruler",
            "Tafsir class tonight on 2:190, 'fight those who fight you but do not transgress'",
        ),
        "ru": (
            "Рамадан мубарак, братья и сестры!",
            "Джума мубарак! Пусть Аллах примет наши молитвы",
            "С праздником Ураза-байрам!",
            "Пусть Всевышний помилует наших близких",
            "Молимся за выздоровление, {family} в больнице",
            "Хадис дня: лучший джихад — слово истины перед несправедливым правителем",
            "Утренний зикр: мы встретили утро на естественной вере ислама",
        ),
    },
    # Sectarian and political quarrels: hate speech, a different policy from support for a terrorist organisation.
    "sectarian": {
        "ar": (
            "{sect} أعداء الأمة ولا يؤتمن لهم جانب، {insult}",
            "يا {sect} دينكم كذب وتقية، {insult}",
            "كل مصائبنا من {sect} وأذنابهم في المنطقة، {insult}",
            "لا تصدقوا {sect}، تاريخهم خيانة، {insult}",
            "حكومة {sect} في بلادنا سرقت كل شيء، {insult}",
        ),
        "en": (
            "The {sect} are liars and traitors to the ummah, {insult}",
            "Never trust the {sect}, their history is betrayal, {insult}",
        ),
        "ru": (
            "Эти {sect} опять оскорбляют сподвижников, {insult}",
            "Не верьте {sect}, их история — предательство, {insult}",
        ),
    },
}

HASHTAGS: dict[str, dict[str, tuple[str, ...]]] = {
    "propaganda": {"ar": ("#باقية_وتتمدد", "#الخلافة", "#دولة_الإسلام"), "en": ("#Khilafah", "#Baqiyah"),
                   "ru": ("#Халифат",)},
    "migrate": {"ar": ("#الهجرة", "#القافلة"), "en": ("#hijra", "#caravan"), "ru": ("#хиджра",)},
    "pledge": {"ar": ("#البيعة",), "en": ("#bayah",), "ru": ("#байат",)},
    "news": {"ar": ("#عاجل", "#داعش", "#الإرهاب"), "en": ("#Breaking", "#ISIS", "#terrorism"),
             "ru": ("#новости", "#терроризм", "#срочно")},
    "research": {"ar": ("#التطرف", "#مكافحة_الإرهاب"), "en": ("#CVE", "#OSINT", "#extremism"),
                 "ru": ("#экстремизм", "#исследование")},
    "counter": {"ar": ("#لا_للإرهاب", "#داعش_لا_تمثلني"), "en": ("#NotInMyName", "#ReportExtremism"),
                "ru": ("#нет_терроризму",)},
    "ordinary": {"ar": ("#دوري_روشن", "#الجمعة", "#قهوة"), "en": ("#football", "#MondayMood", "#foodie"),
                 "ru": ("#футбол", "#погода", "#вкусно")},
    "religious": {"ar": ("#رمضان", "#جمعة_مباركة", "#عيد_مبارك"), "en": ("#Ramadan", "#EidMubarak"),
                  "ru": ("#Рамадан",)},
}

EMOJIS: dict[str, tuple[str, ...]] = {
    "propaganda": ("🤍", "☝️", "🔥", "⚔️", "💪"),
    "migrate": ("🤍", "☝️", "🌙", "🐎"),
    "pledge": ("☝️", "🤍"),
    "support": ("🤍", "☝️", "💪", "🌹"),
    "shoutout": ("🤍", "📢", "🔁"),
    "news": ("🔴", "⚠️", "📰"),
    "research": ("🧵", "📊", "👇"),
    "counter": ("❌", "🚫", "💔", "🙏"),
    "ordinary": ("😂", "⚽", "☕", "😍", "🙈", "👌", "❤️"),
    "religious": ("🌙", "🤲", "❤️", "🕌", "✨"),
}

TATWEEL = "\u0640"
_ALEF_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا"})
_SLOT = re.compile(r"\{(\w+)\}")


class BuiltinCorpus:
    """Draws synthetic texts from the templates above, with slot fillers and surface noise."""

    def draw(self, rng: random.Random, category: str, lang: str, mention: str | None = None) -> Text:
        """One text of `category` in `lang`; `mention` fills the {mention} slot of shout-outs."""
        templates = TEMPLATES[category].get(lang) or TEMPLATES[category]["en"]
        lang = lang if lang in TEMPLATES[category] else "en"
        fillers = FILLERS[lang]

        def fill(match: re.Match[str]) -> str:
            slot = match.group(1)
            if slot == "mention":
                return mention or "@ansar"
            if slot == "n":
                return str(rng.choice((2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 15, 17, 20, 23, 30, 40)))
            return rng.choice(fillers[slot])

        text = _SLOT.sub(fill, rng.choice(templates))
        text = add_noise(rng, text, lang, category)
        return Text(text, 1 if category in POSITIVE_CATEGORIES else 0, category, lang)


def add_noise(rng: random.Random, text: str, lang: str, category: str) -> str:
    """Surface variation: spelling variants, tatweel, letter repetition, emojis and hashtags."""
    r = rng.random
    if lang == "ar":
        if r() < 0.35:
            text = text.translate(_ALEF_VARIANTS)
        if r() < 0.15:
            text = text.replace("ة ", "ه ")
        if r() < 0.2:
            text = _stretch(rng, text, TATWEEL * rng.randint(1, 4), arabic=True)
    else:
        if r() < 0.15:
            text = text.lower()
        if lang == "ru" and r() < 0.2:
            text = text.replace("е", "ё", 1) if r() < 0.2 else text.replace("ё", "е")
        if lang == "en" and r() < 0.1:
            text = text.replace(" you", " u").replace("'", "")
    if r() < 0.12:
        text = _stretch(rng, text, None, arabic=False)
    if r() < 0.15:
        text += rng.choice(("!", "!!", "...", " !!!", "."))
    if r() < 0.5:
        emojis = EMOJIS.get(category, EMOJIS["ordinary"])
        text += " " + "".join(rng.choice(emojis) for _ in range(rng.randint(1, 3)))
    tags = HASHTAGS.get(category, {}).get(lang)
    if tags and r() < 0.45:
        chosen = rng.sample(tags, k=min(len(tags), rng.randint(1, 2)))
        text = " ".join(chosen) + " " + text if r() < 0.25 else text + " " + " ".join(chosen)
    return text


def _stretch(rng: random.Random, text: str, insert: str | None, arabic: bool) -> str:
    """Insert tatweel (Arabic) or repeat a letter inside one longer word."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    cut = rng.randint(1, len(w) - 2)
    if insert is None:
        insert = w[cut] * rng.randint(1, 3)
    words[i] = w[:cut] + insert + w[cut:]
    return " ".join(words)


def shorten(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Fit a long external text (e.g. a news article) into a post: its first line, cut at a word."""
    text = text.strip()
    if len(text) <= limit:
        return text
    first = text.split("\n", 1)[0].strip()
    if 20 <= len(first) <= limit:
        return first
    cut = first[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut) + "…"


class PooledTexts:
    """Texts drawn by (label, lang) from labelled JSONL files, with the built-in corpus as fallback.

    Files are streamed; each (label, lang) pool is a reservoir sample of at most `cap` texts, so memory stays
    bounded whatever the input size. Rows with `genre: news` also fill a (label, lang, "news") pool that news
    posts prefer. Shout-outs stay built-in: they need a real @mention of a simulated account.
    """

    def __init__(self, paths: Iterable[str], seed: int, cap: int = 5000) -> None:
        self.builtin = BuiltinCorpus()
        self.pools: dict[tuple[int, str, str], list[tuple[str, str]]] = {}
        seen: dict[tuple[int, str, str], int] = {}
        rng = random.Random(f"texts:{seed}")
        for path in paths:
            for _, obj in iter_jsonl(path, required=("id", "text", "label", "lang")):
                lang = obj["lang"]
                if lang not in LANGS:
                    continue
                try:
                    label = 1 if int(obj["label"]) == 1 else 0
                except (TypeError, ValueError):
                    continue
                text = shorten(obj["text"])
                if not text:
                    continue
                item = (str(obj["id"]), text)
                keys = [(label, lang, "any")] + ([(label, lang, "news")] if obj.get("genre") == "news" else [])
                for key in keys:
                    n = seen.get(key, 0)
                    seen[key] = n + 1
                    pool = self.pools.setdefault(key, [])
                    if n < cap:
                        pool.append(item)
                    else:
                        j = rng.randrange(n + 1)
                        if j < cap:
                            pool[j] = item
        self.counts = {f"{label}/{lang}" + ("/news" if kind == "news" else ""): len(pool)
                       for (label, lang, kind), pool in sorted(self.pools.items())}

    def draw(self, rng: random.Random, category: str, lang: str, mention: str | None = None) -> Text:
        """A pooled text with the category's label and language, else a built-in one."""
        label = 1 if category in POSITIVE_CATEGORIES else 0
        pool = (category == "news" and self.pools.get((label, lang, "news"))) or self.pools.get((label, lang, "any"))
        if category == "shoutout" or not pool:
            return self.builtin.draw(rng, category, lang, mention)
        source_id, text = pool[rng.randrange(len(pool))]
        return Text(text, label, category, lang, source_id)
