"""How X counts and parses a post: twitter-text's weighted length, links, mentions, hashtags.

X checks a post's length with the rules of its twitter-text library (config v3,
https://docs.x.com/fundamentals/counting-characters and
https://github.com/twitter/twitter-text/tree/master/config):

* the text is NFC-normalised first;
* each code point weighs ``defaultWeight`` (200) except those in the light
  ranges 0-4351 (Latin, Arabic, Hebrew, Cyrillic, Greek, Devanagari, Thai…),
  8192-8205, 8208-8223 and 8242-8247 (spaces and punctuation), which weigh 100;
* every link, as twitter-text finds it (with or without ``https://``), weighs
  ``transformedURLLength`` (23) whatever its length, because X wraps it in t.co;
* with ``emojiParsingEnabled`` (v3) an emoji *sequence* — a family joined by
  zero-width joiners, a flag, a skin-toned hand, a keycap — weighs 200 once;
* the weighted length is the sum divided by ``scale`` (100); the limit is 280.

So Arabic and Latin letters count 1, CJK and emoji 2. This module is Minbar's
own Python implementation of those rules; it passes X's conformance suite
(``tests/conformance``: every weighted-length case of ``validate.yml`` and the
URL, mention, list, reply and hashtag cases of ``extract.yml``, indices
included). Indices here are code-point offsets into the text (Python's own);
:func:`parse_tweet` reports its ranges in UTF-16 code units, as twitter-text does.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex

from minbar.connectors.x.tlds import COUNTRY_TLDS, GENERIC_TLDS

# -- configuration -------------------------------------------------------------


@dataclass(frozen=True)
class WeightRange:
    start: int
    end: int  # inclusive
    weight: int


@dataclass(frozen=True)
class CountingConfig:
    """A twitter-text configuration (``config/v3.json``)."""

    version: int
    max_weighted_length: int
    scale: int
    default_weight: int
    transformed_url_length: int
    ranges: tuple[WeightRange, ...]
    emoji_parsing: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> CountingConfig:
        """Read twitter-text's JSON format; a missing required field is a clear ValueError."""
        values: Mapping[str, Any] = json.loads(data) if isinstance(data, str) else data
        try:
            return cls(
                version=int(values["version"]),
                max_weighted_length=int(values["maxWeightedTweetLength"]),
                scale=int(values["scale"]),
                default_weight=int(values["defaultWeight"]),
                transformed_url_length=int(values.get("transformedURLLength", 23)),
                ranges=tuple(
                    WeightRange(int(r["start"]), int(r["end"]), int(r["weight"]))
                    for r in values.get("ranges", ())
                ),
                emoji_parsing=bool(values.get("emojiParsingEnabled", False)),
            )
        except KeyError as exc:
            raise ValueError(f"twitter-text config is missing {exc.args[0]!r}") from None

    def weight(self, code_point: int) -> int:
        for weight_range in self.ranges:
            if weight_range.start <= code_point <= weight_range.end:
                return weight_range.weight
        return self.default_weight


_LIGHT_RANGES = (
    WeightRange(0, 4351, 100),
    WeightRange(8192, 8205, 100),
    WeightRange(8208, 8223, 100),
    WeightRange(8242, 8247, 100),
)
# What X uses today (twitter-text config v3).
V3 = CountingConfig(
    version=3,
    max_weighted_length=280,
    scale=100,
    default_weight=200,
    transformed_url_length=23,
    ranges=_LIGHT_RANGES,
    emoji_parsing=True,
)
# The 2017 configuration: the same weights, but an emoji counts per code point.
V2 = CountingConfig(
    version=2,
    max_weighted_length=280,
    scale=100,
    default_weight=200,
    transformed_url_length=23,
    ranges=_LIGHT_RANGES,
    emoji_parsing=False,
)

MAX_WEIGHTED_LENGTH = V3.max_weighted_length
URL_LENGTH = V3.transformed_url_length

# -- character classes (twitter-text's regexp/*.js, written out) -----------------

# Characters that make a post invalid (byte-order marks and a non-character).
_INVALID = "\ufffe\ufeff\uffff"
# Bidirectional controls: allowed right before a link, never inside a domain.
_DIRECTIONAL = "\u202a-\u202e\u061c\u200e\u200f\u2066-\u2069"
_SPACES = "\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# twitter-text's "punct" (note: no double quote and no backquote).
_PUNCT = r"!'#%&()*+,\\\-./:;<=>?@\[\]^_{|}~$"
_LATIN_ACCENTS = (
    "\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b"
    "\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_CYRILLIC = "\u0400-\u04ff"
_AT_SIGNS = "@\uff20"
_HASH_SIGNS = "#\uff03"

# -- links -----------------------------------------------------------------------


def _tld_pattern(names: tuple[str, ...]) -> str:
    """The names as one pattern, longest first, ending where a host name cannot go on.

    The names are laid out as a trie ("c(?:o(?:m|op)?|…)") rather than 1,500
    alternatives: the same matches, in the same order (a longer name before a
    name it starts with, as in twitter-text's list), some 25 times faster.
    """
    root: dict[str, Any] = {}
    for name in names:
        node = root
        for char in name:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [regex.escape(char) + emit(child) for char, child in node.items() if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return "(?:" + emit(root) + "(?=[^0-9a-zA-Z@+-]|$))"


_GTLD = _tld_pattern(GENERIC_TLDS)
_CCTLD = _tld_pattern(COUNTRY_TLDS)
_PUNYCODE = r"(?:xn--[\-0-9a-z]+)"
_DOMAIN_CHAR = f"[^{_PUNCT}{_SPACES}{_INVALID}{_DIRECTIONAL}]"
# A label is a whole run of label characters that starts and ends with a domain
# character (a sub-domain may also hold "_"). The run is taken possessively and
# its end checked after: the same labels as twitter-text's pattern, without its
# backtracking (which made a long "a.a.a.…" take minutes).
_SUBDOMAIN = f"(?:{_DOMAIN_CHAR}(?:[_-]|{_DOMAIN_CHAR})*+(?<={_DOMAIN_CHAR})\\.)"
_DOMAIN_NAME = f"(?:{_DOMAIN_CHAR}(?:-|{_DOMAIN_CHAR})*+(?<={_DOMAIN_CHAR})\\.)"
# DNS allows 127 labels at most; the bound keeps the work per position small.
_DOMAIN = f"(?:{_SUBDOMAIN}{{0,125}}{_DOMAIN_NAME}(?:{_GTLD}|{_CCTLD}|{_PUNYCODE}))"
_PRECEDING = f"(?:[^A-Za-z0-9{_AT_SIGNS}$#\uff03{_INVALID}]|[{_DIRECTIONAL}]|^)"
_PATH_CHAR = f"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\\[\\]\\-\u2013_~@|&{_LATIN_ACCENTS}]"
# Up to two levels of balanced brackets: /wiki/Primer_(film), /S(dfd346)/.
_BALANCED_PARENS = f"\\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\\({_PATH_CHAR}+\\){_PATH_CHAR}*))\\)"
# A path does not end in punctuation, so "see example.com/a." leaves the full stop out.
_PATH_END = f"(?:[+\\-a-z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}]|(?:{_BALANCED_PARENS}))"
_PATH = f"(?:(?:{_PATH_CHAR}*(?:{_BALANCED_PARENS}{_PATH_CHAR}*)*{_PATH_END})|(?:@{_PATH_CHAR}+/))"
_QUERY_CHAR = r"[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]"
_QUERY_END = r"[a-z0-9\-_&=#/]"

# A run of host-name characters not followed by "." or ":" cannot hold the start
# of a link (a label runs to the end of its run and needs a "." after it; a
# protocol needs its ":"), so the search skips the whole run at once instead of
# failing at each of its characters in turn.
_DEAD_RUN = f"(?:{_DOMAIN_CHAR}|[_-])++(?![.:])(*SKIP)(*FAIL)"
_URL = regex.compile(
    f"{_DEAD_RUN}|"
    f"(?P<before>{_PRECEDING})"
    "(?P<url>"
    "(?P<protocol>https?://)?"
    f"(?P<domain>{_DOMAIN})"
    "(?::(?P<port>[0-9]+))?"
    # Possessive, as in twitter-text's Java pattern: a path never gives back
    # characters, so a long path cannot make the pattern backtrack for ever.
    f"(?P<path>/{_PATH}*+)?"
    f"(?P<query>\\?{_QUERY_CHAR}*{_QUERY_END})?"
    ")",
    regex.IGNORECASE | regex.VERSION0,
)
_ASCII_DOMAIN = regex.compile(
    f"(?:[\\-a-z0-9{_LATIN_ACCENTS}]++\\.){{1,126}}(?:{_GTLD}|{_CCTLD}|{_PUNYCODE})",
    regex.IGNORECASE,
)
_TCO_URL = regex.compile(
    f"^https?://t\\.co/(?P<slug>[a-z0-9]+)(?:\\?{_QUERY_CHAR}*{_QUERY_END})?", regex.IGNORECASE
)
_NO_PROTOCOL_BAD_BEFORE = regex.compile(r"[-_./]$")

MAX_URL_LENGTH = 4096
MAX_TCO_SLUG_LENGTH = 40
MAX_DOMAIN_LABEL_LENGTH = 63

# -- mentions and hashtags --------------------------------------------------------

_MENTION = regex.compile(
    f"(?P<before>^|[^a-zA-Z0-9_!#$%&*{_AT_SIGNS}]|(?:^|[^a-zA-Z0-9_+~.-])(?:rt|RT|rT|Rt):?)"
    f"[{_AT_SIGNS}]"
    "(?P<name>[a-zA-Z0-9_]{1,20})"
    r"(?P<list>/[a-zA-Z][a-zA-Z0-9_\-]{0,24})?"
)
_MENTION_BAD_END = regex.compile(f"^(?:[{_AT_SIGNS}{_LATIN_ACCENTS}]|://)")
_REPLY = regex.compile(f"^[{_SPACES}]*[{_AT_SIGNS}](?P<name>[a-zA-Z0-9_]{{1,20}})")

_HASHTAG_SPECIAL = (
    "_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003"
    "\u0f0b\u0f0c\xb7"
)
_HASHTAG_ALPHA = r"[\p{L}\p{M}]"
_HASHTAG_ALNUM = f"[\\p{{L}}\\p{{M}}\\p{{Nd}}{_HASHTAG_SPECIAL}]"
_HASHTAG = regex.compile(
    f"(?P<before>^|\ufe0e|\ufe0f|(?!{_HASHTAG_ALNUM}|&).)"
    f"[{_HASH_SIGNS}](?!\ufe0f|\u20e3)"
    f"(?P<tag>{_HASHTAG_ALNUM}*{_HASHTAG_ALPHA}{_HASHTAG_ALNUM}*)",
    regex.IGNORECASE | regex.DOTALL,
)
_HASHTAG_BAD_END = regex.compile(f"^(?:[{_HASH_SIGNS}]|://)")

# -- emoji ------------------------------------------------------------------------

# One emoji as people see it (Unicode TR51 sequences), counted once in v3:
# a keycap, a flag (two regional indicators), a subdivision flag (tag
# sequence), or emoji joined by zero-width joiners, each with an optional
# skin tone or emoji presentation selector. Digits, #, * need their keycap;
# ©, ®, ™ and ♟ count as emoji only with U+FE0F (they default to text); a
# character followed by the text selector U+FE0E is text, not an emoji.
_TEXT_DEFAULT = "#*0-9\u00a9\u00ae\u2122\u265f"
_EMOJI_ELEMENT = (
    r"(?:\p{Emoji_Modifier_Base}\p{Emoji_Modifier}"
    r"|\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"
    f"|[\u00a9\u00ae\u2122\u265f]\ufe0f"
    f"|[\\p{{Emoji}}--[{_TEXT_DEFAULT}]]\ufe0f?(?!\ufe0e))"
)
_EMOJI = regex.compile(
    r"[#*0-9]\ufe0f?\u20e3"
    r"|\p{Regional_Indicator}{2}"
    f"|{_EMOJI_ELEMENT}(?:\u200d{_EMOJI_ELEMENT})*",
    regex.VERSION1,
)


# -- extraction -----------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """Something twitter-text finds in a post; ``start``/``end`` are code-point offsets."""

    kind: str  # "url", "mention", "hashtag", "emoji"
    value: str  # the link, the screen name (no @), the tag (no #), the emoji
    start: int
    end: int
    list_slug: str = ""  # "/list-name" for @user/list-name


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _host_is_valid(domain: str) -> bool:
    """RFC 3490 label lengths, the way twitter-text's ``idna.toAscii`` checks them."""
    if domain.lower().startswith("xn--") and not _ASCII_DOMAIN.search(domain):
        return False  # a punycode host cannot also hold non-ASCII characters
    for label in domain.split("."):
        try:
            encoded = label if label.isascii() else "xn--" + label.encode("punycode").decode()
        except UnicodeError:
            return False
        if not 1 <= len(encoded) <= MAX_DOMAIN_LABEL_LENGTH:
            return False
    return True


def _url_is_valid(url: str, protocol: str) -> bool:
    return _utf16_length(protocol or "https://") + _utf16_length(url) <= MAX_URL_LENGTH


def extract_urls_with_indices(text: str) -> list[Entity]:
    """Links as X finds them, also without ``https://`` (``example.com/shop``)."""
    if not text or "." not in text:
        return []
    urls: list[Entity] = []
    for match in _URL.finditer(text):
        url, protocol, domain = match["url"], match["protocol"] or "", match["domain"]
        path = match["path"] or ""
        start, end = match.start("url"), match.end("url")
        if not _host_is_valid(domain) or not _url_is_valid(url, protocol):
            continue
        if protocol:
            tco = _TCO_URL.match(url)
            if tco is not None:
                # t.co links end where their slug (and query) ends: "t.co/abc's" is t.co/abc.
                if len(tco["slug"]) > MAX_TCO_SLUG_LENGTH:
                    continue
                url = tco.group(0)
                end = start + len(url)
            urls.append(Entity("url", url, start, end))
            continue
        if _NO_PROTOCOL_BAD_BEFORE.search(match["before"]):
            continue
        # Without a protocol only ASCII domains count ("twitter.comこれは" is twitter.com),
        # and a run of them is several links ("a.com中b.com").
        last: Entity | None = None
        search_from = 0
        for ascii_domain in _ASCII_DOMAIN.finditer(domain):
            found_at = domain.index(ascii_domain.group(0), search_from)
            search_from = found_at + len(ascii_domain.group(0))
            last = Entity("url", ascii_domain.group(0), start + found_at, start + search_from)
            urls.append(last)
        if last is not None and path:
            # The path belongs to the last domain of the run.
            urls[-1] = Entity("url", last.value + url[len(domain) :], last.start, end)
    return urls


def extract_urls(text: str) -> list[str]:
    return [entity.value for entity in extract_urls_with_indices(text)]


def extract_mentions_or_lists_with_indices(text: str) -> list[Entity]:
    """``@name`` and ``@name/list`` (not in e-mail addresses, not followed by ``://``)."""
    if not text or not any(sign in text for sign in _AT_SIGNS):
        return []
    found: list[Entity] = []
    for match in _MENTION.finditer(text):
        if _MENTION_BAD_END.search(text[match.end() :]):
            continue
        start = match.start("name") - 1
        slug = match["list"] or ""
        end = match.end("list") if slug else match.end("name")
        found.append(Entity("mention", match["name"], start, end, list_slug=slug))
    return found


def extract_mentions_with_indices(text: str) -> list[Entity]:
    return [e for e in extract_mentions_or_lists_with_indices(text) if not e.list_slug]


def extract_mentions(text: str) -> list[str]:
    return [entity.value for entity in extract_mentions_with_indices(text)]


def extract_reply_screen_name(text: str) -> str | None:
    """The account a post starting with ``@name`` answers, or None."""
    match = _REPLY.match(text or "")
    if match is None or _MENTION_BAD_END.search(text[match.end() :]):
        return None
    return match["name"]


def _without_overlaps(entities: list[Entity]) -> list[Entity]:
    """Sorted by start; an entity starting inside the one before is dropped (links win)."""
    kept: list[Entity] = []
    for entity in sorted(entities, key=lambda e: e.start):
        if kept and kept[-1].end > entity.start:
            continue
        kept.append(entity)
    return kept


def extract_hashtags_with_indices(text: str) -> list[Entity]:
    """``#tag`` in any script (``#مرحبا``, ``#日本``), never inside a link."""
    if not text or not any(sign in text for sign in _HASH_SIGNS):
        return []
    tags: list[Entity] = []
    for match in _HASHTAG.finditer(text):
        if _HASHTAG_BAD_END.search(text[match.end() :]):
            continue
        tags.append(Entity("hashtag", match["tag"], match.start("tag") - 1, match.end("tag")))
    urls = extract_urls_with_indices(text)
    if urls:
        tags = [e for e in _without_overlaps(tags + urls) if e.kind == "hashtag"]
    return tags


def extract_hashtags(text: str) -> list[str]:
    return [entity.value for entity in extract_hashtags_with_indices(text)]


def extract_emoji_with_indices(text: str) -> list[Entity]:
    return [Entity("emoji", m.group(0), m.start(), m.end()) for m in _EMOJI.finditer(text)]


# -- counting ---------------------------------------------------------------------


@dataclass(frozen=True)
class ParseResult:
    """twitter-text's ``parseTweet`` answer; ranges are UTF-16 offsets, ends inclusive."""

    weighted_length: int
    valid: bool
    permillage: int
    valid_range_start: int
    valid_range_end: int
    display_range_start: int
    display_range_end: int


def parse_tweet(text: str, config: CountingConfig = V3) -> ParseResult:
    """Weigh ``text`` the way X does and say whether it fits (and up to where)."""
    normalized = unicodedata.normalize("NFC", text)
    spans: dict[int, int] = {}  # start -> (end, weight) of what counts as one unit
    weights: dict[int, int] = {}
    for entity in extract_urls_with_indices(normalized):
        spans[entity.start] = entity.end
        weights[entity.start] = config.transformed_url_length * config.scale
    if config.emoji_parsing:
        for entity in extract_emoji_with_indices(normalized):
            if entity.start not in spans:
                spans[entity.start] = entity.end
                weights[entity.start] = config.default_weight
    limit = config.max_weighted_length * config.scale
    weighted = 0
    valid = True
    valid_end_utf16 = 0
    utf16 = 0  # UTF-16 offset of the next unit
    index = 0
    while index < len(normalized):
        end = spans.get(index)
        if end is not None and end > index:
            weighted += weights[index]
        else:
            end = index + 1
            weighted += config.weight(ord(normalized[index]))
        unit = normalized[index:end]
        utf16 += _utf16_length(unit)
        # twitter-text checks the last UTF-16 unit of each counted unit only.
        last_char = unit[-1]
        if valid and ord(last_char) <= 0xFFFF:
            valid = last_char not in _INVALID
        if valid and weighted <= limit:
            valid_end_utf16 = utf16 - 1
        index = end
    length = weighted // config.scale
    valid = valid and 0 < length <= config.max_weighted_length
    original_utf16 = _utf16_length(text)
    normalization_offset = original_utf16 - _utf16_length(normalized)
    return ParseResult(
        weighted_length=length,
        valid=valid,
        permillage=(length * 1000) // config.max_weighted_length,
        valid_range_start=0,
        valid_range_end=valid_end_utf16 + normalization_offset,
        display_range_start=0,
        display_range_end=max(original_utf16 - 1, 0),
    )


@lru_cache(maxsize=2048)  # the composer asks again on every keystroke
def _cached_length(text: str) -> int:
    return parse_tweet(text).weighted_length


def weighted_length(text: str) -> int:
    """X's length of ``text`` (config v3): the number the composer compares with 280."""
    if len(text) > 2000:  # don't keep long texts in the cache
        return parse_tweet(text).weighted_length
    return _cached_length(text)


def validate_text(text: str, *, label: str = "X") -> list[str]:
    """Problems with the text as sentences for the composer; [] when X would take it."""
    result = parse_tweet(text)
    problems: list[str] = []
    if result.weighted_length > V3.max_weighted_length:
        problems.append(
            f"{label}: {result.weighted_length}/{V3.max_weighted_length} characters "
            f"(links count as {V3.transformed_url_length}, emoji and CJK as 2)"
        )
    if any(char in _INVALID for char in unicodedata.normalize("NFC", text)):
        problems.append(
            f"{label}: the text holds an invisible character X refuses (U+FEFF/FFFE/FFFF)."
        )
    return problems
