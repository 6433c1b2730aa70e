"""The synthetic audience of a sandbox account, generated from a seed.

People are not stored: an audience is a pure function of its parameters
(seed, size, Arabic-speaking share, follower share, the account's topics) and is
rebuilt in a few milliseconds and cached per process. That keeps the database
small (a few thousand rows per account would buy nothing: people never change,
and the simulation needs all of them in memory anyway), makes every audience
reproducible in tests and benchmarks, and lets an account be re-created
identically from its seed. What does change — people who start following the
account later — is recorded as follow events in the database.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import accumulate
from typing import Any

from minbar.sandbox.content import INTEREST_INDEX, INTERESTS, words_of

DEFAULT_SIZE = 3000
DEFAULT_ARABIC_SHARE = 0.4
DEFAULT_FOLLOWER_SHARE = 0.35
MAX_SIZE = 20_000
INFLUENCER_SHARE = 0.005  # of the population, at least 3
INFLUENCER_WEIGHT = 40.0  # how much more likely an influencer is to be followed
MEAN_FOLLOWING = 15  # median people each person follows (log-normal)
SAME_LANGUAGE_FOLLOWS = 0.85


@dataclass(frozen=True)
class City:
    name: str
    name_ar: str
    country: str
    climate: str  # hot, temperate or cold
    time_zone: str
    weight: float
    arabic: float  # share of its people who speak Arabic first
    wealth: str  # "high" or "middle": shifts income bands


ARAB_CITIES: tuple[City, ...] = (
    City("Riyadh", "الرياض", "SA", "hot", "Asia/Riyadh", 0.22, 0.92, "high"),
    City("Jeddah", "جدة", "SA", "hot", "Asia/Riyadh", 0.14, 0.92, "high"),
    City("Dubai", "دبي", "AE", "hot", "Asia/Dubai", 0.14, 0.6, "high"),
    City("Doha", "الدوحة", "QA", "hot", "Asia/Qatar", 0.05, 0.8, "high"),
    City("Kuwait City", "مدينة الكويت", "KW", "hot", "Asia/Kuwait", 0.06, 0.9, "high"),
    City("Cairo", "القاهرة", "EG", "hot", "Africa/Cairo", 0.18, 0.96, "middle"),
    City("Amman", "عمّان", "JO", "temperate", "Asia/Amman", 0.08, 0.95, "middle"),
    City("Beirut", "بيروت", "LB", "temperate", "Asia/Beirut", 0.06, 0.85, "middle"),
    City(
        "Casablanca", "الدار البيضاء", "MA", "temperate", "Africa/Casablanca", 0.07, 0.85, "middle"
    ),
)
WORLD_CITIES: tuple[City, ...] = (
    City("New York", "نيويورك", "US", "temperate", "America/New_York", 0.2, 0.03, "high"),
    City("Chicago", "شيكاغو", "US", "cold", "America/Chicago", 0.1, 0.02, "high"),
    City("Houston", "هيوستن", "US", "hot", "America/Chicago", 0.08, 0.03, "high"),
    City("Phoenix", "فينيكس", "US", "hot", "America/Phoenix", 0.05, 0.01, "high"),
    City("Los Angeles", "لوس أنجلوس", "US", "temperate", "America/Los_Angeles", 0.1, 0.02, "high"),
    City("Toronto", "تورونتو", "CA", "cold", "America/Toronto", 0.1, 0.04, "high"),
    City("London", "لندن", "GB", "temperate", "Europe/London", 0.16, 0.05, "high"),
    City("Dublin", "دبلن", "IE", "temperate", "Europe/Dublin", 0.04, 0.01, "high"),
    City("Sydney", "سيدني", "AU", "temperate", "Australia/Sydney", 0.06, 0.02, "high"),
    City("Mumbai", "مومباي", "IN", "hot", "Asia/Kolkata", 0.07, 0.01, "middle"),
    City("Singapore", "سنغافورة", "SG", "hot", "Asia/Singapore", 0.04, 0.01, "high"),
)
CITIES = ARAB_CITIES + WORLD_CITIES
TIME_ZONES: tuple[str, ...] = tuple(sorted({city.time_zone for city in CITIES}))

AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (18, 24, 0.24),
    (25, 34, 0.30),
    (35, 44, 0.20),
    (45, 54, 0.13),
    (55, 64, 0.08),
    (65, 80, 0.05),
)
INCOME_BANDS = ("low", "lower_middle", "middle", "upper_middle", "high")
_INCOME_WEIGHTS = {
    "high": (0.10, 0.20, 0.35, 0.25, 0.10),
    "middle": (0.25, 0.35, 0.27, 0.10, 0.03),
    "student": (0.60, 0.30, 0.10, 0.0, 0.0),
    "retired": (0.20, 0.30, 0.35, 0.10, 0.05),
}

INDUSTRIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "technology": (0.12, ("Software engineer", "Product manager", "Data analyst", "IT support")),
    "healthcare": (0.10, ("Nurse", "Doctor", "Pharmacist", "Lab technician")),
    "education": (0.09, ("Teacher", "Lecturer", "School administrator")),
    "retail": (0.10, ("Store manager", "Sales associate", "Buyer")),
    "finance": (0.08, ("Accountant", "Financial analyst", "Bank teller")),
    "hospitality": (0.08, ("Barista", "Chef", "Hotel manager", "Waiter")),
    "marketing": (0.07, ("Marketing manager", "Content creator", "Designer")),
    "construction": (0.07, ("Civil engineer", "Architect", "Site supervisor")),
    "government": (0.08, ("Civil servant", "Policy advisor")),
    "energy": (0.05, ("Petroleum engineer", "Electrician")),
    "transport": (0.06, ("Driver", "Logistics coordinator", "Pilot")),
    "media": (0.04, ("Journalist", "Photographer", "Video editor")),
    "self-employed": (0.06, ("Shop owner", "Freelancer", "Consultant")),
}

# Interest affinities: a base weight, then boosts by age, industry and region.
_INTEREST_BASE = {
    "coffee": 1.6,
    "tea": 0.6,
    "food": 1.5,
    "travel": 1.3,
    "fitness": 1.0,
    "football": 1.0,
    "technology": 1.0,
    "fashion": 0.9,
    "music": 1.1,
    "movies": 1.0,
    "gaming": 0.7,
    "business": 0.7,
    "marketing": 0.4,
    "parenting": 0.6,
    "books": 0.7,
    "photography": 0.6,
    "cars": 0.7,
    "health": 0.8,
    "finance": 0.6,
    "sustainability": 0.5,
    "art": 0.6,
    "beauty": 0.7,
    "pets": 0.6,
    "education": 0.5,
}
_INDUSTRY_INTERESTS = {
    "technology": ("technology", "gaming", "business"),
    "healthcare": ("health", "fitness"),
    "education": ("books", "education"),
    "retail": ("fashion", "beauty"),
    "finance": ("finance", "business"),
    "hospitality": ("food", "coffee", "travel"),
    "marketing": ("marketing", "photography", "art"),
    "construction": ("cars", "art"),
    "media": ("photography", "movies", "art"),
    "self-employed": ("business", "marketing"),
    "energy": ("cars", "sustainability"),
    "transport": ("cars", "travel"),
}

# When people are on the network, in their own time zone (local hours).
CHRONOTYPES: dict[str, tuple[int, ...]] = {
    "early_bird": (6, 7, 8, 12, 13, 18, 19, 20),
    "nine_to_five": (7, 8, 12, 13, 17, 18, 19, 20, 21, 22),
    "evening": (19, 20, 21, 22, 23),
    "night_owl": (11, 12, 13, 20, 21, 22, 23, 0, 1),
    "all_day": (9, 10, 11, 13, 14, 15, 16, 19, 20, 21, 22),
}

FIRST_EN = words_of(
    "emma liam olivia noah ava ethan mia lucas sophia mason isabella james amelia logan "
    "harper elijah evelyn aiden abigail jack emily daniel ella henry grace owen chloe ryan "
    "zoe leo nora sam priya arjun wei mei diego sofia kwame amara"
)
LAST_EN = words_of(
    "smith johnson brown taylor miller davis wilson moore clark lewis walker hall young king "
    "wright green baker adams nelson carter patel nguyen garcia kim singh chen murphy obrien "
    "evans hughes"
)
FIRST_AR = (
    ("layla", "ليلى"),
    ("omar", "عمر"),
    ("noura", "نورة"),
    ("khalid", "خالد"),
    ("sara", "سارة"),
    ("ahmed", "أحمد"),
    ("fatima", "فاطمة"),
    ("yousef", "يوسف"),
    ("mariam", "مريم"),
    ("ali", "علي"),
    ("huda", "هدى"),
    ("faisal", "فيصل"),
    ("reem", "ريم"),
    ("hassan", "حسن"),
    ("lina", "لينا"),
    ("tariq", "طارق"),
    ("aisha", "عائشة"),
    ("salem", "سالم"),
    ("dana", "دانة"),
    ("majed", "ماجد"),
    ("rana", "رنا"),
    ("nasser", "ناصر"),
    ("hind", "هند"),
    ("zaid", "زيد"),
    ("amal", "أمل"),
    ("karim", "كريم"),
    ("yasmin", "ياسمين"),
    ("fahad", "فهد"),
    ("nada", "ندى"),
    ("sultan", "سلطان"),
    ("jana", "جنى"),
    ("bader", "بدر"),
    ("ghada", "غادة"),
    ("hamza", "حمزة"),
    ("lama", "لمى"),
    ("mansour", "منصور"),
    ("dima", "ديمة"),
    ("rashid", "راشد"),
    ("salma", "سلمى"),
    ("waleed", "وليد"),
)
LAST_AR = (
    ("alharbi", "الحربي"),
    ("alqahtani", "القحطاني"),
    ("alotaibi", "العتيبي"),
    ("haddad", "حداد"),
    ("khoury", "خوري"),
    ("aldosari", "الدوسري"),
    ("alshehri", "الشهري"),
    ("alzahrani", "الزهراني"),
    ("ibrahim", "إبراهيم"),
    ("farouk", "فاروق"),
    ("saleh", "صالح"),
    ("abdullah", "عبدالله"),
    ("almutairi", "المطيري"),
    ("alghamdi", "الغامدي"),
    ("darwish", "درويش"),
    ("issa", "عيسى"),
    ("jaber", "جابر"),
    ("kamal", "كمال"),
    ("mahmoud", "محمود"),
    ("naji", "ناجي"),
    ("qasim", "قاسم"),
    ("shami", "الشامي"),
    ("tamimi", "التميمي"),
)


@dataclass(frozen=True)
class AudienceParams:
    seed: int
    size: int = DEFAULT_SIZE
    arabic_share: float = DEFAULT_ARABIC_SHARE
    follower_share: float = DEFAULT_FOLLOWER_SHARE
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Person:
    index: int
    handle: str
    name: str
    age: int
    country: str
    city: str
    city_ar: str
    climate: str
    time_zone: str
    income: str
    job_title: str
    industry: str
    interests: tuple[str, ...]
    language: str  # "en" or "ar"
    active_hours: tuple[int, ...]  # local hours of the day when they use the network
    propensity: float  # how readily they engage (mean about 1)
    influencer: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "id": f"u{self.index}",
            "handle": self.handle,
            "name": self.name,
            "age": self.age,
            "country": self.country,
            "city": self.city,
            "climate": self.climate,
            "time_zone": self.time_zone,
            "income": self.income,
            "job_title": self.job_title,
            "industry": self.industry,
            "interests": list(self.interests),
            "language": self.language,
            "active_hours": list(self.active_hours),
            "influencer": self.influencer,
        }


@dataclass
class Audience:
    params: AudienceParams
    people: list[Person]
    followers_of: list[tuple[int, ...]]  # who follows each person (the follower graph)
    account_followers: frozenset[int]  # who follows the account at the start
    # Columns for the simulation's inner loops.
    interest_mask: list[int] = field(default_factory=list)
    active_mask: list[int] = field(default_factory=list)
    tz_index: list[int] = field(default_factory=list)
    arabic: list[bool] = field(default_factory=list)
    age_band: list[int] = field(default_factory=list)
    income_index: list[int] = field(default_factory=list)
    climate_code: list[int] = field(default_factory=list)  # 0 hot, 1 temperate, 2 cold

    def __len__(self) -> int:
        return len(self.people)

    def follower_count(self, index: int) -> int:
        return len(self.followers_of[index])


def _age_band(age: int) -> int:
    for i, (low, high, _weight) in enumerate(AGE_BANDS):
        if low <= age <= high:
            return i
    return len(AGE_BANDS) - 1


def _weighted_sample(rng: random.Random, weights: dict[str, float], k: int) -> list[str]:
    """k distinct keys drawn proportionally to weight, without replacement (Efraimidis-Spirakis)."""
    keyed = sorted(weights, key=lambda key: rng.random() ** (1.0 / weights[key]), reverse=True)
    return keyed[:k]


def _cumulative(weights: list[float]) -> list[float]:
    return list(accumulate(weights))


_ARAB_CUM = _cumulative([c.weight for c in ARAB_CITIES])
_WORLD_CUM = _cumulative([c.weight for c in WORLD_CITIES])
_AGE_CUM = _cumulative([b[2] for b in AGE_BANDS])
_INDUSTRY_NAMES = list(INDUSTRIES)
_INDUSTRY_CUM = _cumulative([INDUSTRIES[n][0] for n in _INDUSTRY_NAMES])
_INCOME_CUM = {key: _cumulative(list(w)) for key, w in _INCOME_WEIGHTS.items()}


_WORKER_CHRONOTYPES = ("nine_to_five", "evening", "early_bird", "night_owl")
_WORKER_CHRONOTYPE_CUM = _cumulative([0.5, 0.2, 0.15, 0.15])


def _pick[T](rng: random.Random, items: Sequence[T], cumulative: list[float]) -> T:
    return items[bisect_right(cumulative, rng.random() * cumulative[-1])]


def _make_person(rng: random.Random, index: int, arabic_share: float) -> Person:
    if rng.random() < arabic_share:
        city = _pick(rng, ARAB_CITIES, _ARAB_CUM)
    else:
        city = _pick(rng, WORLD_CITIES, _WORLD_CUM)
    language = "ar" if rng.random() < city.arabic else "en"
    low, high, _w = _pick(rng, AGE_BANDS, _AGE_CUM)
    age = rng.randint(low, high)

    if age <= 22 and rng.random() < 0.6:
        industry, job, income_key = "education", "Student", "student"
    elif age >= 65 and rng.random() < 0.75:
        industry, job, income_key = "retired", "Retired", "retired"
    else:
        industry = _pick(rng, _INDUSTRY_NAMES, _INDUSTRY_CUM)
        job = rng.choice(INDUSTRIES[industry][1])
        income_key = city.wealth
    income_i = _pick(rng, range(len(INCOME_BANDS)), _INCOME_CUM[income_key])
    if 40 <= age <= 64 and income_key in {"high", "middle"} and rng.random() < 0.3:
        income_i = min(income_i + 1, len(INCOME_BANDS) - 1)

    weights = dict(_INTEREST_BASE)
    if age < 30:
        for key in ("gaming", "fitness", "fashion", "music", "movies"):
            weights[key] *= 1.8
    if 28 <= age <= 45:
        weights["parenting"] *= 2.5
    if age >= 45:
        for key in ("books", "health", "travel", "finance"):
            weights[key] *= 1.8
        weights["gaming"] *= 0.3
    for key in _INDUSTRY_INTERESTS.get(industry, ()):
        weights[key] *= 2.5
    if language == "ar":
        weights["football"] *= 1.6
        weights["coffee"] *= 1.3
    if city.climate == "hot":
        weights["travel"] *= 1.2
    interests = tuple(_weighted_sample(rng, weights, rng.choice((2, 3, 3, 4, 4, 5, 6))))

    if job == "Student":
        chronotype = rng.choice(("night_owl", "all_day", "evening"))
    elif job == "Retired":
        chronotype = rng.choice(("early_bird", "all_day"))
    else:
        chronotype = _pick(rng, _WORKER_CHRONOTYPES, _WORKER_CHRONOTYPE_CUM)
    hours = set(CHRONOTYPES[chronotype])
    if city.country in {"SA", "AE", "QA", "KW"} and rng.random() < 0.5:
        hours = {(h + 1) % 24 for h in hours}  # Gulf evenings run late
    if rng.random() < 0.5:
        hours.add(rng.randrange(24))
    if rng.random() < 0.5 and len(hours) > 4:
        hours.discard(rng.choice(sorted(hours)))

    if language == "ar" or (city.arabic > 0.5 and rng.random() < 0.5):
        first, first_ar = rng.choice(FIRST_AR)
        last, last_ar = rng.choice(LAST_AR)
        name = f"{first_ar} {last_ar}" if language == "ar" else f"{first.title()} {last.title()}"
    else:
        first, last = rng.choice(FIRST_EN), rng.choice(LAST_EN)
        name = f"{first.title()} {last.title()}"
    handle = f"{first}_{last[:4]}{index}"

    return Person(
        index=index,
        handle=handle,
        name=name,
        age=age,
        country=city.country,
        city=city.name,
        city_ar=city.name_ar,
        climate=city.climate,
        time_zone=city.time_zone,
        income=INCOME_BANDS[income_i],
        job_title=job,
        industry=industry,
        interests=interests,
        language=language,
        active_hours=tuple(sorted(hours)),
        propensity=rng.lognormvariate(-0.18, 0.6),
        influencer=False,
    )


def _follower_graph(
    rng: random.Random, people: list[Person], influencers: set[int]
) -> list[tuple[int, ...]]:
    """Who follows whom: log-normal out-degrees, language homophily, heavy influencers."""
    pools: dict[bool, tuple[list[int], list[float]]] = {}
    for arabic in (True, False):
        members = [p.index for p in people if (p.language == "ar") == arabic]
        cumulative: list[float] = []
        total = 0.0
        for index in members:
            total += INFLUENCER_WEIGHT if index in influencers else 1.0
            cumulative.append(total)
        pools[arabic] = (members, cumulative)
    followers: list[list[int]] = [[] for _ in people]
    log_mean = math.log(MEAN_FOLLOWING)
    for person in people:
        wanted = max(1, min(300, int(rng.lognormvariate(log_mean, 0.8))))
        arabic = person.language == "ar"
        same = rng.binomialvariate(wanted, SAME_LANGUAGE_FOLLOWS)
        targets: set[int] = set()
        for pool_key, n in ((arabic, same), (not arabic, wanted - same)):
            members, cumulative = pools[pool_key]
            if n and members:
                targets.update(rng.choices(members, cum_weights=cumulative, k=n))
        targets.discard(person.index)
        for target in sorted(targets):
            followers[target].append(person.index)
    return [tuple(f) for f in followers]


def _account_followers(
    rng: random.Random, people: list[Person], share: float, topics: tuple[str, ...]
) -> frozenset[int]:
    """People who follow the account: more likely when they share its topics."""
    wanted = set(topics)
    factors = [(2.5 if wanted & set(p.interests) else 0.6) if wanted else 1.0 for p in people]
    scale = share * len(people) / sum(factors) if people else 0.0
    return frozenset(
        p.index for p, f in zip(people, factors, strict=True) if rng.random() < min(1.0, f * scale)
    )


@lru_cache(maxsize=16)
def generate_audience(params: AudienceParams) -> Audience:
    if not 1 <= params.size <= MAX_SIZE:
        raise ValueError(f"audience size must be between 1 and {MAX_SIZE}")
    unknown = [t for t in params.topics if t not in INTEREST_INDEX]
    if unknown:
        raise ValueError(f"unknown topics: {', '.join(unknown)}")
    people_rng = random.Random(f"minbar-sandbox-people:{params.seed}:{params.arabic_share:.6f}")
    people = [_make_person(people_rng, i, params.arabic_share) for i in range(params.size)]

    graph_rng = random.Random(f"minbar-sandbox-graph:{params.seed}:{params.size}")
    count = max(3, round(params.size * INFLUENCER_SHARE)) if params.size >= 50 else 0
    candidates = [p.index for p in people if 20 <= p.age <= 45] or [p.index for p in people]
    influencers = set(graph_rng.sample(candidates, min(count, len(candidates))))
    for index in influencers:
        people[index] = replace(people[index], influencer=True)
    followers_of = _follower_graph(graph_rng, people, influencers)

    follow_rng = random.Random(
        f"minbar-sandbox-follows:{params.seed}:{params.follower_share:.6f}:{','.join(sorted(params.topics))}"
    )
    audience = Audience(
        params=params,
        people=people,
        followers_of=followers_of,
        account_followers=_account_followers(
            follow_rng, people, params.follower_share, params.topics
        ),
    )
    tz_positions = {tz: i for i, tz in enumerate(TIME_ZONES)}
    climates = {"hot": 0, "temperate": 1, "cold": 2}
    for p in people:
        mask = 0
        for key in p.interests:
            mask |= 1 << INTEREST_INDEX[key]
        audience.interest_mask.append(mask)
        audience.active_mask.append(sum(1 << h for h in p.active_hours))
        audience.tz_index.append(tz_positions[p.time_zone])
        audience.arabic.append(p.language == "ar")
        audience.age_band.append(_age_band(p.age))
        audience.income_index.append(INCOME_BANDS.index(p.income))
        audience.climate_code.append(climates[p.climate])
    return audience


def summary(audience: Audience) -> dict[str, Any]:
    """The audience's distributions, as the API and the docs describe them."""
    people = audience.people
    n = len(people) or 1

    def shares(values: list[str]) -> dict[str, float]:
        return {k: round(v / n, 4) for k, v in Counter(values).most_common()}

    interest_counts = Counter(i for p in people for i in p.interests)
    in_degrees = sorted((len(f) for f in audience.followers_of), reverse=True)
    return {
        "size": len(people),
        "account_followers": len(audience.account_followers),
        "languages": shares([p.language for p in people]),
        "countries": shares([p.country for p in people]),
        "cities": shares([p.city for p in people]),
        "climates": shares([p.climate for p in people]),
        "age_bands": shares(
            [f"{AGE_BANDS[_age_band(p.age)][0]}-{AGE_BANDS[_age_band(p.age)][1]}" for p in people]
        ),
        "income": shares([p.income for p in people]),
        "industries": shares([p.industry for p in people]),
        "interests": {k: round(v / n, 4) for k, v in interest_counts.most_common()},
        "influencers": sum(1 for p in people if p.influencer),
        "followers_per_person": {
            "median": in_degrees[len(in_degrees) // 2] if in_degrees else 0,
            "max": in_degrees[0] if in_degrees else 0,
        },
    }


def interests_known() -> list[str]:
    return [interest.key for interest in INTERESTS]
