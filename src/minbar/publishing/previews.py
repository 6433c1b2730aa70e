"""Network-faithful previews: each channel's post roughly as its network shows it.

Pure server-side: the composer's live check renders ``publishing/_check.html``
with one :class:`Preview` per chosen channel. Nothing here calls a network; link
cards show the address only (Minbar does not fetch pages while someone types).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import regex
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from minbar.media.models import Kind, MediaAsset

if TYPE_CHECKING:
    from minbar.channels.models import Channel
    from minbar.connectors.types import Capabilities


class Family:
    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    BLUESKY = "bluesky"
    MASTODON = "mastodon"
    GENERIC = "generic"


# Where the network cuts a long text in the feed and offers "… more" (characters).
TRUNCATE_AT = {Family.FACEBOOK: 480, Family.INSTAGRAM: 125}
# How many pictures the feed shows in one post's grid.
GRID_MAX = {
    Family.X: 4,
    Family.BLUESKY: 4,
    Family.MASTODON: 4,
    Family.FACEBOOK: 5,
    Family.GENERIC: 4,
}

_TOKENS = regex.compile(
    r"(?P<url>https?://[^\s<>\"]+[^\s<>\".,;:!?)\]}'\u2019\u201d])"
    r"|(?P<mention>(?<![\w@])@\w+(?:\.\w+)*(?:@\w+(?:[.-]\w+)*)?)"
    r"|(?P<tag>(?<![\w#&])#\w+)",
    regex.UNICODE,
)


def family_of(channel: Channel, caps: Capabilities, flavour: str = "") -> str:
    if caps.network in (Family.BLUESKY, Family.MASTODON):
        return caps.network
    if caps.network == "sandbox" and flavour in (Family.X, Family.FACEBOOK, Family.INSTAGRAM):
        return flavour
    return Family.GENERIC


def rich_text(text: str) -> SafeString:
    """Escaped text with links, mentions and hashtags marked up as the feed highlights them."""
    out: list[str] = []
    last = 0
    for match in _TOKENS.finditer(text):
        out.append(escape(text[last : match.start()]))
        token = match.group(0)
        kind = match.lastgroup or "tag"
        if kind == "url":
            shown = token.split("://", 1)[1]
            if len(shown) > 30:
                shown = shown[:29] + "…"
            out.append(f'<span class="pv-link" dir="ltr">{escape(shown)}</span>')
        else:
            out.append(f'<span class="pv-{kind}">{escape(token)}</span>')
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out).replace("\n", "<br>"))  # noqa: S308 - every piece is escaped


def _cut(text: str, limit: int) -> str:
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > limit * 2 // 3:
        cut = cut[:space]
    return cut.rstrip()


@dataclass(frozen=True)
class PreviewMedia:
    url: str
    alt_text: str
    kind: str
    name: str


@dataclass(frozen=True)
class PreviewPart:
    """One post of a thread-like preview; ``label`` says what it is beyond the first."""

    html: SafeString
    label: str = ""


@dataclass
class Preview:
    family: str
    text_html: SafeString
    truncated: bool
    full_html: SafeString
    media: list[PreviewMedia]
    more_media: int  # pictures the grid does not show ("+2")
    media_shape: str  # the first picture's frame: tall, portrait, square, classic, wide
    link: str
    link_domain: str
    thread: list[SafeString] = field(default_factory=list)
    first_comment: SafeString | None = None

    @property
    def parts(self) -> list[PreviewPart]:
        """The post, its thread and its first comment as the chain of posts X-like feeds show."""
        parts = [PreviewPart(self.text_html)]
        count = len(self.thread) + 1
        for number, html in enumerate(self.thread, start=2):
            parts.append(
                PreviewPart(html, _("Thread, %(n)s/%(total)s") % {"n": number, "total": count})
            )
        if self.first_comment is not None:
            parts.append(PreviewPart(self.first_comment, _("First comment, as a reply")))
        return parts


def _media(
    slug: str, items: list[dict[str, Any]], assets: dict[int, MediaAsset]
) -> list[PreviewMedia]:
    out = []
    for item in items:
        asset = assets.get(int(item.get("asset") or 0))
        if asset is None:
            continue
        url = reverse("media:thumbnail", args=[slug, asset.pk]) if asset.thumbnail else ""
        out.append(
            PreviewMedia(url, str(item.get("alt_text") or ""), asset.kind, asset.original_filename)
        )
    return out


def _frame_shape(
    items: list[dict[str, Any]], assets: dict[int, MediaAsset], caps: Capabilities
) -> str:
    """The first picture's frame after the network's aspect-ratio rules, as a CSS class.

    Classes rather than an inline ``aspect-ratio`` because the content security
    policy refuses inline styles; the nearest of the shapes feeds show is close enough.
    """
    asset = assets.get(int(items[0].get("asset") or 0)) if items else None
    ratio = asset.aspect_ratio if asset is not None and asset.kind != Kind.VIDEO else None
    ratio = ratio or 1.0
    low, high = caps.media.min_aspect_ratio, caps.media.max_aspect_ratio
    if low is not None:
        ratio = max(ratio, low)
    if high is not None:
        ratio = min(ratio, high)
    shapes = {"tall": 9 / 16, "portrait": 4 / 5, "square": 1.0, "classic": 4 / 3, "wide": 1.91}
    return min(shapes, key=lambda name: abs(math.log(ratio / shapes[name])))


def build(
    *,
    slug: str,
    family: str,
    caps: Capabilities,
    text: str,
    link: str,
    thread: list[str],
    first_comment: str,
    media: list[dict[str, Any]],
    assets: dict[int, MediaAsset],
) -> Preview:
    limit = TRUNCATE_AT.get(family)
    truncated = bool(limit and len(text) > limit)
    shown = _cut(text, limit) if truncated and limit else text
    pictures = _media(slug, media, assets)
    grid_max = GRID_MAX.get(family)
    more = 0
    if grid_max is not None and len(pictures) > grid_max:
        more = len(pictures) - grid_max
        pictures = pictures[:grid_max]  # the last tile shows "+N"
    domain = urlsplit(link).hostname or "" if link else ""
    return Preview(
        family=family,
        text_html=rich_text(shown),
        truncated=truncated,
        full_html=rich_text(text),
        media=pictures,
        more_media=more,
        media_shape=_frame_shape(media, assets, caps),
        link=link if link and not media else "",
        link_domain=domain.removeprefix("www."),
        thread=[rich_text(part) for part in thread] if caps.threads else [],
        first_comment=rich_text(first_comment) if first_comment else None,
    )
