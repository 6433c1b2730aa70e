"""What the sandbox reads in a post and what its synthetic people write.

Post analysis (language, topics, hashtags, links, climate words, length) feeds
the engagement model; the template sentences give comments, mentions, direct
messages, reviews and public chatter in English or Arabic with a known
sentiment. Generated texts are content, like a real network's, so they are not
translatable user interface strings.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, replace
from functools import cache

import regex

from minbar.connectors.x.text import V3, parse_tweet

# -- interests -----------------------------------------------------------------


def words_of(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@dataclass(frozen=True)
class Interest:
    key: str
    en: str  # as a noun in a sentence ("coffee")
    ar: str  # indefinite Arabic noun ("قهوة")
    ar_def: str  # with the article ("القهوة")
    keywords: tuple[str, ...]  # English and Arabic words and hashtags that signal it


INTERESTS: tuple[Interest, ...] = (
    Interest(
        "coffee",
        "coffee",
        "قهوة",
        "القهوة",
        words_of(
            "coffee espresso latte cappuccino flatwhite barista cafe café roast roastery brew "
            "coldbrew mocha arabica beans pourover v60 قهوة قهوه اسبريسو لاتيه كابتشينو "
            "باريستا مقهى كافيه محمصة تحميص كوفي"
        ),
    ),
    Interest("tea", "tea", "شاي", "الشاي", words_of("tea matcha chai شاي ماتشا كرك")),
    Interest(
        "food",
        "food",
        "أكل",
        "الأكل",
        words_of(
            "food foodie breakfast lunch dinner brunch dessert cake pastry croissant recipe "
            "cookies طعام أكل فطور غداء عشاء حلويات كيك وصفة مطعم معجنات"
        ),
    ),
    Interest(
        "travel",
        "travel",
        "سفر",
        "السفر",
        words_of("travel trip vacation holiday flight hotel journey سفر رحلة سياحة فندق عطلة"),
    ),
    Interest(
        "fitness",
        "fitness",
        "رياضة",
        "الرياضة",
        words_of(
            "fitness gym workout running yoga training marathon رياضة لياقة جيم تمارين جري يوغا"
        ),
    ),
    Interest(
        "football",
        "football",
        "كرة قدم",
        "كرة القدم",
        words_of("football soccer league worldcup كرة مباراة الدوري"),
    ),
    Interest(
        "technology",
        "tech",
        "تقنية",
        "التقنية",
        words_of(
            "tech technology ai app software gadget gadgets phone "
            "تقنية تكنولوجيا ذكاء تطبيق برمجة جوال"
        ),
    ),
    Interest(
        "fashion",
        "fashion",
        "موضة",
        "الموضة",
        words_of("fashion style outfit dress shoes ootd موضة أزياء ستايل فستان"),
    ),
    Interest(
        "music",
        "music",
        "موسيقى",
        "الموسيقى",
        words_of("music concert song playlist موسيقى أغنية حفل"),
    ),
    Interest(
        "movies",
        "movies",
        "أفلام",
        "الأفلام",
        words_of("movie movies film cinema series فيلم سينما مسلسل"),
    ),
    Interest(
        "gaming",
        "gaming",
        "ألعاب",
        "الألعاب",
        words_of("gaming game gamer playstation xbox ألعاب لعبة قيمر"),
    ),
    Interest(
        "business",
        "business",
        "أعمال",
        "الأعمال",
        words_of(
            "business entrepreneur startup startups leadership sme أعمال ريادة شركة مشروع ناشئة"
        ),
    ),
    Interest(
        "marketing",
        "marketing",
        "تسويق",
        "التسويق",
        words_of("marketing brand branding socialmedia content seo تسويق علامة محتوى"),
    ),
    Interest(
        "parenting",
        "family time",
        "عائلة",
        "العائلة",
        words_of("parenting kids family baby mom dad أطفال عائلة أمومة طفل أسرة"),
    ),
    Interest(
        "books",
        "books",
        "كتب",
        "الكتب",
        words_of("books book reading novel library كتب كتاب قراءة رواية"),
    ),
    Interest(
        "photography",
        "photography",
        "تصوير",
        "التصوير",
        words_of("photography photo camera تصوير صورة كاميرا"),
    ),
    Interest("cars", "cars", "سيارات", "السيارات", words_of("cars car auto ev سيارات سيارة")),
    Interest(
        "health",
        "health",
        "صحة",
        "الصحة",
        words_of("health wellness sleep nutrition healthy صحة صحي تغذية نوم"),
    ),
    Interest(
        "finance",
        "money",
        "مال",
        "المال",
        words_of("finance money investing savings stocks crypto مال استثمار ادخار أسهم تمويل"),
    ),
    Interest(
        "sustainability",
        "sustainability",
        "استدامة",
        "الاستدامة",
        words_of(
            "sustainability sustainable eco recycling green climate استدامة بيئة تدوير مستدام"
        ),
    ),
    Interest(
        "art",
        "art",
        "فن",
        "الفن",
        words_of("art design painting gallery museum فن تصميم رسم معرض متحف"),
    ),
    Interest(
        "beauty", "beauty", "جمال", "الجمال", words_of("beauty skincare makeup جمال عناية مكياج")
    ),
    Interest(
        "pets",
        "pets",
        "حيوانات",
        "الحيوانات",
        words_of("pets pet cats cat dogs dog حيوانات قطط قطة كلب"),
    ),
    Interest(
        "education",
        "learning",
        "تعليم",
        "التعليم",
        words_of("education learning course study university تعليم تعلم دورة دراسة جامعة"),
    ),
)
INTEREST_INDEX = {interest.key: i for i, interest in enumerate(INTERESTS)}

# Words that suit one climate: iced drinks sell in Riyadh, warm ones in Toronto.
CLIMATE_WORDS = {
    "hot": words_of(
        "iced cold cool chilled summer refreshing frappe frappuccino ice مثلج بارد صيف منعش آيس ايس"
    ),
    "cold": words_of("warm hot cozy cosy winter snow soup fireplace دافئ ساخن شتاء ثلج"),
}

# -- text analysis -----------------------------------------------------------------

_ARABIC = regex.compile(r"\p{Script=Arabic}")
_LATIN = regex.compile(r"\p{Script=Latin}")
_WORD = regex.compile(r"[\p{L}\p{N}]+")
_HASHTAG = regex.compile(r"(?<![\p{L}\p{N}_])#([\p{L}\p{N}_]+)")
_MENTION = regex.compile(r"(?<![\p{L}\p{N}_])@([A-Za-z0-9_]{1,30})")
_URL = regex.compile(r"https?://[^\s<>\"']+", regex.IGNORECASE)
_DIACRITICS = regex.compile(r"[\u064B-\u0652\u0670\u0640]")
_AR_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف", "ك")


# Alef with hamza or madda → bare alef; ta marbuta → heh; alef maksura → yeh.
_LETTER_VARIANTS = str.maketrans(
    {
        "\u0623": "\u0627",
        "\u0625": "\u0627",
        "\u0622": "\u0627",
        "\u0629": "\u0647",
        "\u0649": "\u064a",
    }
)


def normalize_word(word: str) -> str:
    """Lower case; Arabic without diacritics, tatweel or letter variants."""
    word = unicodedata.normalize("NFC", word).casefold()
    return _DIACRITICS.sub("", word).translate(_LETTER_VARIANTS)


def _word_forms(word: str) -> list[str]:
    """The word and the stems a keyword may match: plural -s, Arabic prefixes."""
    forms = [word]
    if word.isascii():
        if word.endswith("es") and len(word) > 4:
            forms.append(word[:-2])
        if word.endswith("s") and len(word) > 3:
            forms.append(word[:-1])
    else:
        for prefix in _AR_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 2:
                forms.append(word[len(prefix) :])
    return forms


@cache
def _keyword_masks() -> dict[str, int]:
    masks: dict[str, int] = {}
    for i, interest in enumerate(INTERESTS):
        for keyword in interest.keywords:
            base = normalize_word(keyword)
            forms = {base, base[2:]} if base.startswith("ال") and len(base) > 4 else {base}
            for form in forms:
                masks[form] = masks.get(form, 0) | (1 << i)
    return masks


@cache
def _climatewords_of() -> dict[str, str]:
    return {normalize_word(w): climate for climate, words in CLIMATE_WORDS.items() for w in words}


def words(text: str) -> list[str]:
    """Normalized words, hashtags split on underscores (#cold_brew → cold, brew, coldbrew)."""
    found = [normalize_word(w) for w in _WORD.findall(text.replace("_", " "))]
    found += [normalize_word(tag.replace("_", "")) for tag in _HASHTAG.findall(text) if "_" in tag]
    return found


def topic_mask(text: str) -> int:
    masks = _keyword_masks()
    mask = 0
    for word in words(text):
        for form in _word_forms(word):
            mask |= masks.get(form, 0)
    return mask


def topics_of(mask: int) -> list[str]:
    return [interest.key for i, interest in enumerate(INTERESTS) if mask >> i & 1]


def mask_of(topics: list[str] | tuple[str, ...]) -> int:
    mask = 0
    for key in topics:
        mask |= 1 << INTEREST_INDEX[key]
    return mask


def climate_of(text: str) -> str:
    """ "hot" or "cold" when the post is about iced or warm things, else ""."""
    table = _climatewords_of()
    counts = {"hot": 0, "cold": 0}
    for word in words(text):
        climate = table.get(word)
        if climate:
            counts[climate] += 1
    if counts["hot"] == counts["cold"]:
        return ""
    return "hot" if counts["hot"] > counts["cold"] else "cold"


def detect_language(text: str) -> str:
    """ "ar" when Arabic letters outnumber Latin ones, else "en"."""
    arabic = len(_ARABIC.findall(text))
    latin = len(_LATIN.findall(_URL.sub("", text)))
    return "ar" if arabic and arabic >= latin else "en"


def hashtags(text: str) -> list[str]:
    return _HASHTAG.findall(text)


def mentions(text: str) -> list[str]:
    return _MENTION.findall(text)


def urls(text: str) -> list[str]:
    return [url.rstrip(".,;:!?)]}»،") for url in _URL.findall(text)]


def weighted_length(text: str, url_length: int = 23) -> int:
    """X's weighted length, by X's own rules (twitter-text v3, see minbar.connectors.x.text).

    The X-like flavour and the composer use the same function, so the sandbox
    accepts exactly what the composer (and X) would.
    """
    config = (
        V3
        if url_length == V3.transformed_url_length
        else replace(V3, transformed_url_length=url_length)
    )
    return parse_tweet(text, config).weighted_length


def character_length(text: str) -> int:
    return len(unicodedata.normalize("NFC", text))


# -- what people write -----------------------------------------------------------

EMOJI = {
    "positive": ("", "", "😍", "🙌", "🔥", "❤️", "👏", "✨"),
    "neutral": ("", "", "", "🤔", "👀"),
    "negative": ("", "", "😕", "👎", "🙄"),
}

# Comments under the account's posts, by language and sentiment. {topic} is the
# interest the person and the post share; {city} is where the person lives.
COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "positive": (
            "Love this {e}",
            "This looks amazing!",
            "Best {topic} in {city}, hands down.",
            "Can't wait to try it {e}",
            "You always get this right.",
            "Saving this for the weekend.",
            "Great post, thanks for sharing!",
            "My favourite {topic} spot {e}",
            "So good. Just so good.",
            "Yes please! {e}",
        ),
        "neutral": (
            "What time do you open on weekends?",
            "Is this available in {city}?",
            "How much is it?",
            "Do you deliver?",
            "Interesting.",
            "Tagging a friend who needs to see this.",
            "Is there a vegan option?",
            "Where exactly is this?",
            "Never tried {topic} like this.",
        ),
        "negative": (
            "Too expensive for what it is.",
            "Last time I waited 30 minutes. Not great.",
            "Meh, not for me.",
            "Please fix your delivery first.",
            "The quality has gone down lately.",
            "Customer service never answered my message.",
            "Overrated, honestly.",
            "Another ad… unfollowing soon.",
        ),
    },
    "ar": {
        "positive": (
            "رائع جدًا {e}",
            "أفضل {topic} في {city} بلا منافس",
            "متحمس أجربه {e}",
            "دائمًا مبدعين 👏",
            "يعطيكم العافية على هالمحتوى",
            "ما شاء الله، شكله لذيذ",
            "مكاني المفضل لـ{topic_def} {e}",
            "أحلى شي شفته اليوم",
            "شكرًا على المشاركة!",
        ),
        "neutral": (
            "متى تفتحون في نهاية الأسبوع؟",
            "هل متوفر في {city}؟",
            "كم السعر؟",
            "هل عندكم توصيل؟",
            "وين الموقع بالضبط؟",
            "ممكن تفاصيل أكثر؟",
            "منشن لصديقي اللي يحب {topic_def}",
            "هل يوجد خيار نباتي؟",
        ),
        "negative": (
            "الأسعار مرتفعة جدًا",
            "انتظرت نص ساعة آخر مرة، تجربة سيئة",
            "للأسف الجودة نزلت مؤخرًا",
            "خدمة العملاء ما ردوا على رسالتي",
            "مبالغ فيه صراحة",
            "ما عجبني",
            "إعلانات كثيرة… بألغي المتابعة",
        ),
    },
}

MENTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "positive": (
            "Just tried {handle} — loved it {e}",
            "Shout-out to {handle} for the best {topic} in {city}",
            "{handle} never disappoints {e}",
        ),
        "neutral": (
            "Has anyone tried {handle}? Thinking of going this weekend.",
            "{handle} are you open on Fridays?",
            "Looking at {handle}'s new menu.",
        ),
        "negative": (
            "{handle} my order was wrong again.",
            "Disappointed with {handle} today.",
            "{handle} why is everything so expensive now?",
        ),
    },
    "ar": {
        "positive": (
            "جربت {handle} اليوم وكانت تجربة رائعة {e}",
            "شكرًا {handle} على أفضل {topic} في {city}",
            "{handle} دائمًا في المستوى {e}",
        ),
        "neutral": (
            "أحد جرب {handle}؟ أفكر أروح نهاية الأسبوع",
            "{handle} هل تفتحون يوم الجمعة؟",
            "أشوف القائمة الجديدة من {handle}",
        ),
        "negative": (
            "{handle} طلبي وصل غلط مرة ثانية",
            "خيبة أمل من {handle} اليوم",
            "{handle} ليش الأسعار صارت غالية؟",
        ),
    },
}

MESSAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "positive": (
            "Just wanted to say thank you, the team was lovely today!",
            "Your new {topic} menu is great, keep it up!",
        ),
        "neutral": (
            "Hi! Do you sell gift cards?",
            "Hello, are you hiring?",
            "Can I book a table for six on Friday?",
            "Do you ship to {city}?",
            "Hi, what are your opening hours during holidays?",
        ),
        "negative": (
            "Hi, I was charged twice for my order.",
            "My delivery never arrived, can you help?",
        ),
    },
    "ar": {
        "positive": (
            "حبيت أشكركم، الفريق كان رائع اليوم!",
            "قائمة {topic_def} الجديدة ممتازة، استمروا!",
        ),
        "neutral": (
            "مرحبا، هل عندكم بطاقات هدايا؟",
            "السلام عليكم، هل عندكم وظائف؟",
            "أبغى أحجز طاولة لستة أشخاص يوم الجمعة",
            "هل توصلون إلى {city}؟",
            "ما هي أوقات العمل في الإجازات؟",
        ),
        "negative": (
            "مرحبا، انخصم المبلغ مرتين على طلبي",
            "طلبي ما وصل، ممكن تساعدوني؟",
        ),
    },
}

REVIEWS: dict[str, dict[int, tuple[str, ...]]] = {
    "en": {
        5: ("Excellent service and great {topic}.", "Five stars, will be back!"),
        4: ("Very good, a bit crowded at times.", "Lovely place, friendly staff."),
        3: ("Okay. Nothing special.", "Decent, but a little pricey."),
        2: ("Slow service and average {topic}.", "Not as good as it used to be."),
        1: ("Very disappointing visit.", "Rude staff, never again."),
    },
    "ar": {
        5: ("خدمة ممتازة و{topic_def} رائعة", "خمس نجوم، أكيد برجع!"),
        4: ("جيد جدًا، لكن مزدحم أحيانًا", "مكان جميل وموظفين لطيفين"),
        3: ("عادي، لا شيء مميز", "جيد لكن الأسعار مرتفعة قليلًا"),
        2: ("الخدمة بطيئة و{topic_def} متوسطة", "ليس كما كان سابقًا"),
        1: ("زيارة مخيبة جدًا", "تعامل سيئ، لن أعود"),
    },
}

REPLIES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "positive": (
            "Thanks for the quick answer!",
            "Great, thank you 🙏",
            "Perfect, see you soon!",
        ),
        "neutral": ("Ok, got it.", "Noted.", "I'll check, thanks."),
    },
    "ar": {
        "positive": ("شكرًا على الرد السريع!", "تمام، شكرًا 🙏", "ممتاز، نشوفكم قريب!"),
        "neutral": ("تمام، وصلت الفكرة", "طيب", "بشوف، شكرًا"),
    },
}

# Public posts by the audience about their interests: what search finds.
CHATTER: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "positive": (
            "Nothing beats {topic} on a {weather} morning in {city} {e}",
            "Weekend plans: {topic}, friends and zero emails.",
            "Found a new favourite place for {topic} in {city}!",
        ),
        "neutral": (
            "Looking for {topic} recommendations in {city}, any ideas?",
            "Reading about {topic} trends this year.",
        ),
        "negative": ("Hot take: {topic} is overrated.", "Why is {topic} so expensive in {city}?"),
    },
    "ar": {
        "positive": (
            "لا شيء يضاهي {topic_def} في صباح {weather} في {city} {e}",
            "خطة نهاية الأسبوع: {topic_def} والأصدقاء وبدون إيميلات",
            "لقيت مكان جديد مفضل لـ{topic_def} في {city}!",
        ),
        "neutral": (
            "أبحث عن اقتراحات لـ{topic_def} في {city}، أي أفكار؟",
            "أقرأ عن توجهات {topic_def} هذه السنة",
        ),
        "negative": ("رأي صريح: {topic_def} مبالغ فيها", "ليش {topic_def} غالية كذا في {city}؟"),
    },
}

WEATHER = {
    "en": {"hot": "sunny", "temperate": "mild", "cold": "snowy"},
    "ar": {"hot": "مشمس", "temperate": "معتدل", "cold": "بارد"},
}

OPENERS = {
    "en": {
        "positive": ("", "", "Wow, ", "Honestly, "),
        "neutral": ("", "", "Hi! ", "Quick question: "),
    },
    "ar": {"positive": ("", "", "واو، ", "بصراحة، "), "neutral": ("", "", "مرحبا! ", "سؤال: ")},
}


def fill(
    rng: random.Random,
    template: str,
    *,
    language: str,
    sentiment: str,
    interest: Interest,
    city: str,
    climate: str = "temperate",
    handle: str = "",
) -> str:
    text = template.format(
        e=rng.choice(EMOJI.get(sentiment, ("",))),
        topic=interest.ar if language == "ar" else interest.en,
        topic_def=interest.ar_def if language == "ar" else interest.en,
        city=city,
        weather=WEATHER[language].get(climate, WEATHER[language]["temperate"]),
        handle=handle,
    )
    opener = rng.choice(OPENERS[language].get(sentiment, ("",)))
    if opener and not text.startswith(("@", "{")):
        text = opener + (text[0].lower() + text[1:] if language == "en" else text)
    return " ".join(text.split())


def write(
    rng: random.Random,
    table: dict[str, dict[str, tuple[str, ...]]],
    *,
    language: str,
    sentiment: str,
    interest: Interest,
    city: str,
    climate: str = "temperate",
    handle: str = "",
) -> str:
    by_sentiment = table[language]
    options = by_sentiment.get(sentiment) or by_sentiment["neutral"]
    return fill(
        rng,
        rng.choice(options),
        language=language,
        sentiment=sentiment,
        interest=interest,
        city=city,
        climate=climate,
        handle=handle,
    )
