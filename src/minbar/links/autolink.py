"""Links in a post become the channel's short links with UTM tags as the post goes out.

Called by ``publishing.dispatcher.build_request`` for each target, every time the
request is built (first attempt, retries, reconciliation). Links are made at
publish time, not when the post is scheduled: the post can be edited until it
goes out, and a link is only made for text that is really sent. Making them is
idempotent: one link per post x channel x destination (a unique key), so
retries and concurrent workers get the same short link and send the same text.

UTM tags: source = the channel's network, medium = social, campaign = the post's
first tag, content = the post's id; tags already in the address are kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from minbar.core.errors import InvalidInput
from minbar.core.writes import write_transaction
from minbar.links import urls_util
from minbar.links.models import Link

if TYPE_CHECKING:
    from minbar.connectors.types import PostRequest
    from minbar.publishing.models import Post, Target

logger = logging.getLogger("minbar.links")

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}\u00bb\u201d\u2019'\""


def post_utm(post: Post, network: str, destination: str) -> dict[str, str]:
    utm = {
        "utm_source": network,
        "utm_medium": "social",
        "utm_campaign": str(post.tags[0]) if post.tags else "",
        "utm_content": str(post.pk),
        "utm_term": "",
    }
    present = {k for k, _v in parse_qsl(urlsplit(destination).query, keep_blank_values=True)}
    return {k: ("" if k in present else v) for k, v in utm.items()}


def link_for(post: Post, channel_id: int, network: str, destination: str) -> Link:
    """The one link for this post, channel and destination, made if missing."""
    from minbar.links.actions import _create

    key = hashlib.sha256(f"{post.pk}:{channel_id}:{destination}".encode()).hexdigest()
    found = Link.objects.filter(dedupe_key=key).first()
    if found is not None:
        return found
    with write_transaction():
        return _create(
            post.workspace,
            destination=destination,
            title=(post.text[:80] or destination)[:200],
            post=post,
            channel_id=channel_id,
            auto=True,
            dedupe_key=key,
            created_by_id=post.author_id,
            **post_utm(post, network, destination),
        )


def _split_trailing(url: str) -> tuple[str, str]:
    end = len(url)
    while end and url[end - 1] in _TRAILING:
        # Keep a closing bracket that belongs to the address: …/Foo_(bar)
        if url[end - 1] == ")" and url[: end - 1].count("(") > url[: end - 1].count(")"):
            break
        end -= 1
    return url[:end], url[end:]


def _shorten(text: str, make: Callable[[str], str]) -> str:
    def replace(match: re.Match[str]) -> str:
        url, tail = _split_trailing(match.group(0))
        return make(url) + tail

    return _URL.sub(replace, text)


def tracked_request(target: Target, request: PostRequest) -> PostRequest:
    """``request`` with its links shortened and tagged; unchanged when tracking is off.

    Never stops a post from going out: a failure is logged and the post is sent
    with its links as written.
    """
    try:
        return _tracked(target, request)
    except Exception:
        logger.exception("could not track the links of target %s; sent as written", target.pk)
        return request


def _tracked(target: Target, request: PostRequest) -> PostRequest:
    from minbar.links.actions import post_tracked, settings_for
    from minbar.publishing import limits
    from minbar.publishing.validation import text_length

    if not request.link and not any(
        _URL.search(piece) for piece in (request.text, request.first_comment, *request.thread)
    ):
        return request  # nothing to track: no query on the dispatcher's busiest path
    post = target.post
    cfg = settings_for(post.workspace)
    if not cfg.auto_apply or not post_tracked(post.pk):
        return request
    channel = target.channel
    own = urls_util.short_base(cfg.short_domain)
    default = urls_util.short_base()
    made: dict[str, str] = {}

    def make(url: str) -> str:
        if url.startswith((own, default)):
            return url
        if url not in made:
            try:
                destination = urls_util.clean_destination(url)
            except InvalidInput:
                made[url] = url
            else:
                link = link_for(post, channel.pk, channel.network, destination)
                made[url] = urls_util.short_url(link.code, cfg.short_domain)
        return made[url]

    caps = limits.capabilities_of(channel)

    def fit(original: str) -> str:
        tracked = _shorten(original, make)
        # A short link longer than the address it replaces must not break the limit.
        if text_length(tracked, caps) > caps.text.max_length >= text_length(original, caps):
            return original
        return tracked

    return dataclasses.replace(
        request,
        text=fit(request.text),
        link=make(request.link) if request.link else "",
        thread=tuple(fit(part) for part in request.thread),
        first_comment=fit(request.first_comment) if request.first_comment else "",
    )


def preview(text: str) -> list[str]:
    """The addresses in ``text`` that would be tracked (for the composer's hint)."""
    return [_split_trailing(m.group(0))[0] for m in _URL.finditer(text or "")]
