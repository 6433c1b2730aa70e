"""Signed, expiring public links to prepared media files, for networks that fetch media.

Instagram and Threads do not take uploads for feed posts: a post names an
``image_url`` or ``video_url`` and Meta's servers download the file when the post
is made ("We cURL media used in publishing attempts, so the media must be hosted
on a publicly accessible server at the time of the attempt",
https://developers.facebook.com/docs/instagram-platform/content-publishing/ ;
the same words in https://developers.facebook.com/docs/threads/get-started).
Minbar's library is private (every file view checks membership), so a connector
asks this module for a link that:

* names one file under ``MEDIA_ROOT`` — the rendition Minbar prepared for the
  network — and its type, signed with ``SECRET_KEY`` (Django's signing, its own
  salt), so nobody can make a link to another file;
* stops working after :data:`MAX_AGE` (a container must be published within 24
  hours anyway);
* lives under ``MINBAR_BASE_URL``: the Minbar address must be reachable from the
  internet over https for such networks (docs/networks/instagram.md, threads.md).

Nothing else about the workspace or the file is revealed; the link is as secret
as the post is unpublished, and the file becomes public with the post anyway.
"""

from __future__ import annotations

import ipaddress
import mimetypes
from datetime import timedelta
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponseBase
from django.urls import reverse
from django.views.decorators.http import require_GET

from minbar.connectors.errors import Rejected

SALT = "minbar.media.public"
MAX_AGE = timedelta(hours=24)
LINK_MAX_AGE = int(MAX_AGE.total_seconds())  # seconds, for callers that count in seconds


class NotInLibrary(ValueError):
    """The path is not a file under MEDIA_ROOT, so Minbar will not publish a link to it."""


def base_url_is_public(base_url: str) -> bool:
    """Whether a network's servers could reach ``base_url`` (no loopback, LAN or .local)."""
    host = urlsplit(base_url).hostname or ""
    if not host or host == "localhost" or host.endswith((".local", ".internal", ".localhost")):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return "." in host  # a domain name; whether it resolves publicly is the operator's part


def public_url(path: str, mime_type: str) -> str:
    """An absolute, signed link to ``path`` (a file under ``MEDIA_ROOT``)."""
    root = Path(settings.MEDIA_ROOT).resolve()
    file = Path(path).resolve()
    if root not in file.parents or not file.is_file():
        raise NotInLibrary(f"{path} is not a file of Minbar's media library.")
    name = file.relative_to(root).as_posix()
    token = signing.dumps({"n": name, "m": mime_type}, salt=SALT, compress=True)
    location = reverse("media:public", kwargs={"token": token, "filename": file.name})
    return f"{settings.MINBAR_BASE_URL.rstrip('/')}{location}"


def public_media_url(path: str, *, network: str = "Instagram", mime_type: str = "") -> str:
    """:func:`public_url`, refused with a clear Rejected when the network could not fetch it."""
    base = str(getattr(settings, "MINBAR_BASE_URL", "")).rstrip("/")
    if not base_url_is_public(base):
        raise Rejected(
            f"{network} fetches media from Minbar's public address, but MINBAR_BASE_URL "
            f"is {base or 'not set'}, which {network} cannot reach. Serve Minbar on a public "
            "https address (see docs/networks) to publish media there."
        )
    mime = mime_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
    try:
        return public_url(path, mime)
    except NotInLibrary:
        raise Rejected(
            f"Minbar cannot share {Path(path).name} publicly: it is not a media file."
        ) from None


@require_GET
def serve_public(request: HttpRequest, token: str, filename: str) -> HttpResponseBase:
    """The file a signed link names, to anyone holding the link until it expires."""
    from minbar.media.views import _serve

    try:
        signed = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        raise Http404 from None
    name = str(signed.get("n") or "") if isinstance(signed, dict) else ""
    if not name or PurePosixPath(name).name != filename:
        raise Http404
    response = _serve(
        name,
        str(signed.get("m") or "application/octet-stream"),
        filename,
        download=False,
        range_header=request.headers.get("Range"),
    )
    # Fetched by the network's servers once or twice; no shared cache should keep it.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
