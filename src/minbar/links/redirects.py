"""The short-link redirect: look the code up, note the click in memory, redirect at once.

Only the stored destination decides where people go (nothing in the request
does), and it was checked to be http(s) when a workspace member saved it. Codes
are cached in the process for a few seconds so a busy link costs no query;
editing or deleting a link forgets it in this process at once and in others
within ``CACHE_SECONDS``.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.http import require_safe

from minbar.core.actor import client_ip
from minbar.links import urls_util
from minbar.links.models import Link
from minbar.links.recorder import PendingClick, record
from minbar.links.useragents import BOT, classify

CACHE_SECONDS = 10.0
CACHE_SIZE = 10_000


@dataclass(frozen=True)
class Resolved:
    link_id: int
    workspace_id: int
    channel_id: int | None
    post_id: int | None
    contact_id: int | None
    target: str  # destination with its UTM tags
    # The target split where the click id goes: before any #fragment, after the query.
    click_prefix: str = ""
    fragment: str = ""


_cache: dict[str, tuple[float, Resolved | None]] = {}
_cache_lock = threading.Lock()


def forget(code: str) -> None:
    with _cache_lock:
        _cache.pop(code, None)


def resolve(code: str) -> Resolved | None:
    moment = time.monotonic()
    hit = _cache.get(code)
    if hit is not None and hit[0] > moment:
        return hit[1]
    link = (
        Link.objects.filter(code=code, active=True)
        .only(
            "pk",
            "workspace_id",
            "channel_id",
            "post_id",
            "contact_id",
            "destination",
            *urls_util.UTM_FIELDS,
        )
        .first()
    )
    resolved = None
    if link is not None:
        target = urls_util.tagged_url(
            link.destination, {f: getattr(link, f) for f in urls_util.UTM_FIELDS}
        )
        # The destination's own mb_click (if any) is dropped: each click brings its own.
        base, _hash, fragment = urls_util.with_params(target, {}).partition("#")
        base = urls_util.without_param(base, urls_util.CLICK_PARAM)
        resolved = Resolved(
            link_id=link.pk,
            workspace_id=link.workspace_id,
            channel_id=link.channel_id,
            post_id=link.post_id,
            contact_id=link.contact_id,
            target=target,
            click_prefix=base + ("&" if "?" in base else "?") + urls_util.CLICK_PARAM + "=",
            fragment="#" + fragment if _hash else "",
        )
    with _cache_lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        _cache[code] = (moment + CACHE_SECONDS, resolved)
    return resolved


def _referrer_host(request: HttpRequest) -> str:
    raw = request.META.get("HTTP_REFERER", "")
    if not raw:
        return ""
    try:
        return (urlsplit(raw).hostname or "")[:200]
    except ValueError:
        return ""


class ShortRedirect(HttpResponseRedirect):
    # The stored destination was checked when saved; only http(s) is ever stored.
    allowed_schemes = ["http", "https"]


@require_safe
def follow(request: HttpRequest, code: str) -> HttpResponse:
    if len(code) > 16:
        raise Http404
    found = resolve(code)
    if found is None:
        raise Http404
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:500]
    ua_class = classify(user_agent)
    click_id = "" if ua_class == BOT else secrets.token_urlsafe(12)
    if request.method == "GET":
        record(
            PendingClick(
                link_id=found.link_id,
                workspace_id=found.workspace_id,
                channel_id=found.channel_id,
                post_id=found.post_id,
                contact_id=found.contact_id,
                click_id=click_id,
                at=timezone.now(),
                ip=client_ip(request) or "",
                user_agent=user_agent,
                ua_class=ua_class,
                referrer_host=_referrer_host(request),
            )
        )
    # The click id is URL-safe (token_urlsafe): appended as it is.
    target = found.click_prefix + click_id + found.fragment if click_id else found.target
    response = ShortRedirect(target)
    # Every click must reach Minbar, not a browser's or proxy's cache.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def bare_redirect(request: HttpRequest) -> HttpResponse:
    """Only a redirect: the benchmark's baseline (URL exists only with MINBAR_LINKS_BENCH_URL)."""
    response = HttpResponseRedirect("https://example.com/landing")
    response["Cache-Control"] = "private, no-store"
    return response


def bench_enabled() -> bool:
    return bool(getattr(settings, "MINBAR_LINKS_BENCH_URL", False))
