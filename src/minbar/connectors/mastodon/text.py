"""How Mastodon measures a post, and the instance limits Minbar keeps for it.

Mastodon's server is the judge of length, so this follows its validator
(``app/validators/status_length_validator.rb`` in mastodon/mastodon) rather than
the web composer:

* the content warning and the text are counted **together**;
* the count is of *grapheme clusters* (``mb_chars.grapheme_length``), so an
  Arabic letter with its harakat, or an emoji with a skin tone, is one
  character — not one per code point;
* every ``http(s)://`` link counts as ``characters_reserved_per_url`` (23 by
  default), whatever its real length;
* a mention of a remote account, ``@name@example.social``, counts as ``@name``.

The limits themselves are per instance: ``GET /api/v2/instance`` reports
``configuration.statuses.max_characters`` (500 by default, raised by many
instances), ``characters_reserved_per_url`` and the media limits
(https://docs.joinmastodon.org/methods/instance/#v2,
https://docs.joinmastodon.org/entities/Instance/#configuration). The connector
stores them in ``credentials.data["limits"]`` when an account connects, and the
helpers here read that dict, falling back to Mastodon's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import regex

from minbar.connectors.types import MediaRules, TextCounting, TextRules

# Mastodon's defaults (the same values a stock instance reports).
DEFAULT_MAX_CHARACTERS = 500
DEFAULT_URL_LENGTH = 23
DEFAULT_MAX_MEDIA = 4
# MediaAttachment's description limit; reported as
# configuration.media_attachments.description_limit from Mastodon 4.4 on.
DEFAULT_DESCRIPTION_LIMIT = 1500
DEFAULT_IMAGE_TYPES = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heic",
    "image/heif",
    "image/avif",
)
DEFAULT_VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
DEFAULT_IMAGE_BYTES = 16 * 1024 * 1024  # Mastodon 4.x: 16 MB
DEFAULT_VIDEO_BYTES = 99 * 1024 * 1024  # Mastodon 4.x: 99 MB

DEFAULT_LIMITS: dict[str, Any] = {
    "max_characters": DEFAULT_MAX_CHARACTERS,
    "characters_reserved_per_url": DEFAULT_URL_LENGTH,
    "max_media_attachments": DEFAULT_MAX_MEDIA,
    "description_limit": DEFAULT_DESCRIPTION_LIMIT,
    "supported_mime_types": [*DEFAULT_IMAGE_TYPES, *DEFAULT_VIDEO_TYPES],
    "image_size_limit": DEFAULT_IMAGE_BYTES,
    "video_size_limit": DEFAULT_VIDEO_BYTES,
}

# A link as Mastodon's extractor finds it (``extract_url_without_protocol:
# false``): only links written with their scheme get the 23-character deal.
# Trailing punctuation is not part of the link ("see https://x.org/a.").
_URL = regex.compile(r"https?://[^\s<>\"]+", regex.IGNORECASE)
_URL_TRAILING = ".,:;!?'\"\u00bb\u201d\u2019\u2026"  # also », ” and the ellipsis
# Account::MENTION_RE: "@name" or "@name@domain", not inside a word or a URL.
_MENTION = regex.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w.-]+\w)?",
    regex.IGNORECASE,
)
_GRAPHEME = regex.compile(r"\X")


def _int(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def limits_from_instance(instance: Mapping[str, Any]) -> dict[str, Any]:
    """The limits Minbar keeps, from an ``/api/v2/instance`` (or v1) document.

    Anything the instance leaves out keeps Mastodon's default, so an older or
    non-Mastodon server still gets sensible values.
    """
    config = instance.get("configuration") or {}
    statuses = config.get("statuses") or {}
    media = config.get("media_attachments") or {}
    limits = dict(DEFAULT_LIMITS)
    limits["max_characters"] = _int(statuses.get("max_characters"), DEFAULT_MAX_CHARACTERS)
    limits["characters_reserved_per_url"] = _int(
        statuses.get("characters_reserved_per_url"), DEFAULT_URL_LENGTH
    )
    limits["max_media_attachments"] = _int(statuses.get("max_media_attachments"), DEFAULT_MAX_MEDIA)
    limits["description_limit"] = _int(media.get("description_limit"), DEFAULT_DESCRIPTION_LIMIT)
    types = media.get("supported_mime_types")
    if isinstance(types, list) and types:
        limits["supported_mime_types"] = [str(t) for t in types]
    for key, default in (
        ("image_size_limit", DEFAULT_IMAGE_BYTES),
        ("video_size_limit", DEFAULT_VIDEO_BYTES),
    ):
        limits[key] = _int(media.get(key), default)
    for key in ("image_matrix_limit", "video_matrix_limit", "video_frame_rate_limit"):
        if media.get(key) is not None:
            limits[key] = _int(media.get(key), 0)
    return limits


def _limit(limits: Mapping[str, Any] | None, key: str) -> int:
    return _int((limits or {}).get(key), int(DEFAULT_LIMITS[key]))


def _strip_url(url: str) -> str:
    """Drop trailing punctuation, and a closing bracket that opens nowhere in the link."""
    while url:
        last = url[-1]
        if last in _URL_TRAILING or (last == ")" and url.count("(") < url.count(")")):
            url = url[:-1]
        else:
            break
    return url


def countable_text(text: str, url_length: int = DEFAULT_URL_LENGTH) -> str:
    """The text as Mastodon's validator measures it: links → 23 x's, @name@domain → @name."""

    def shorten(match: regex.Match[str]) -> str:
        url = _strip_url(match.group(0))
        return "x" * url_length + match.group(0)[len(url) :]

    # Links first, so a profile link like https://example.social/@name is
    # never also read as a mention.
    text = _URL.sub(shorten, text)
    return _MENTION.sub(lambda m: "@" + m.group(1), text)


def count_characters(
    text: str, limits: Mapping[str, Any] | None = None, *, content_warning: str = ""
) -> int:
    """Characters Mastodon counts for this text plus its content warning."""
    url_length = _limit(limits, "characters_reserved_per_url")
    return len(_GRAPHEME.findall(content_warning + countable_text(text, url_length)))


def validate_text(
    text: str, limits: Mapping[str, Any] | None = None, *, content_warning: str = ""
) -> list[str]:
    """Problems with this text on this instance, as sentences for the composer; [] when fine.

    ``limits`` is ``credentials.data["limits"]`` (see :func:`limits_from_instance`);
    without it Mastodon's defaults apply.
    """
    maximum = _limit(limits, "max_characters")
    url_length = _limit(limits, "characters_reserved_per_url")
    used = count_characters(text, limits, content_warning=content_warning)
    if used <= maximum:
        return []
    counted = " with the content warning" if content_warning else ""
    return [f"Mastodon: {used}/{maximum} characters{counted} (links count as {url_length})"]


def text_rules(limits: Mapping[str, Any] | None = None) -> TextRules:
    """Minbar's text rules for one instance."""
    return TextRules(
        max_length=_limit(limits, "max_characters"),
        counting=TextCounting.GRAPHEMES,
        url_length=_limit(limits, "characters_reserved_per_url"),
    )


def media_rules(limits: Mapping[str, Any] | None = None) -> MediaRules:
    """Minbar's media rules for one instance: up to 4 images or 1 video, with alt text."""
    types = (limits or {}).get("supported_mime_types") or DEFAULT_LIMITS["supported_mime_types"]
    return MediaRules(
        image_types=tuple(t for t in types if t.startswith("image/")),
        video_types=tuple(t for t in types if t.startswith("video/")),
        max_images=_limit(limits, "max_media_attachments"),
        max_videos=1,
        max_image_bytes=_limit(limits, "image_size_limit"),
        max_video_bytes=_limit(limits, "video_size_limit"),
        mix_images_and_video=False,
        alt_text=True,
        alt_text_max_length=_limit(limits, "description_limit"),
    )
