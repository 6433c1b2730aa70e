"""Captions as TikTok counts them: in UTF-16 code units ("runes").

* a video's ``title`` is its caption: at most 2,200 UTF-16 runes; ``#hashtags``
  and ``@mentions`` in it are recognised by TikTok
  (https://developers.tiktok.com/doc/content-posting-api-reference-direct-post);
* a photo post has a ``title`` of at most 90 runes and a ``description`` of at most
  4,000 (https://developers.tiktok.com/doc/content-posting-api-reference-photo-post).

An emoji outside the Basic Multilingual Plane counts two, an Arabic letter one.
TikTok captions do not make links clickable; a post's link is added on its own
line so that it is at least shown.
"""

from __future__ import annotations

from dataclasses import dataclass

VIDEO_CAPTION_MAX = 2200
PHOTO_TITLE_MAX = 90
PHOTO_DESCRIPTION_MAX = 4000


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def with_link(text: str, link: str) -> str:
    text = text.strip()
    if link and link not in text:
        return f"{text}\n{link}" if text else link
    return text


def video_caption(text: str, link: str = "") -> str:
    """The caption of a video; Rejected-worthy problems are reported by :func:`problems`."""
    return with_link(text, link)


@dataclass(frozen=True)
class PhotoText:
    title: str
    description: str


def photo_text(text: str, link: str = "") -> PhotoText:
    """A photo post's title and description.

    A first line that fits the 90-rune title (and is followed by more) becomes the
    title, like a headline; otherwise everything is the description, which TikTok
    shows under the photos.
    """
    full = with_link(text, link)
    first, _, rest = full.partition("\n")
    if rest.strip() and utf16_length(first.strip()) <= PHOTO_TITLE_MAX:
        return PhotoText(first.strip(), rest.strip())
    return PhotoText("", full)


def problems(caption: str | None = None, photo: PhotoText | None = None) -> list[str]:
    found: list[str] = []
    if caption is not None and utf16_length(caption) > VIDEO_CAPTION_MAX:
        found.append(
            f"A TikTok video caption has at most {VIDEO_CAPTION_MAX:,} characters "
            f"(this one has {utf16_length(caption):,}, counting some emoji as two)."
        )
    if photo is not None:
        if utf16_length(photo.title) > PHOTO_TITLE_MAX:
            found.append(f"A TikTok photo title has at most {PHOTO_TITLE_MAX} characters.")
        if utf16_length(photo.description) > PHOTO_DESCRIPTION_MAX:
            found.append(
                f"A TikTok photo description has at most {PHOTO_DESCRIPTION_MAX:,} characters "
                f"(this one has {utf16_length(photo.description):,})."
            )
    return found
