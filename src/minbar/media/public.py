"""Short-lived public links to prepared media files, for networks that fetch media by URL.

Instagram (and Threads) do not take uploads for feed posts: Meta's servers fetch
``image_url``/``video_url`` themselves ("We cURL media used in publishing
attempts, so the media must be hosted on a publicly accessible server at the time
of the attempt", https://developers.facebook.com/docs/instagram-platform/content-publishing/).
A connector asks :func:`public_media_url` for a link to a file Minbar prepared
under ``MEDIA_ROOT``; the link is signed with ``SECRET_KEY``, names one file and
expires after :data:`LINK_MAX_AGE`. It works only when ``MINBAR_BASE_URL`` is
reachable from the internet; :func:`public_media_url` refuses clearly otherwise.
"""

from __future__ import annotations

import ipaddress
import mimetypes
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.views.decorators.http import require_GET

from minbar.connectors.errors import Rejected

SALT = "minbar.media.public-link"
# Long enough for Meta to fetch a video it is still processing; short enough not to
# leave the file public for long.
LINK_MAX_AGE = 6 * 60 * 60


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT).resolve()


def base_url_is_public(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    if not host or host == "localhost" or host.endswith((".local", ".internal", ".localhost")):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return "." in host  # a domain name; whether it resolves publicly is the operator's part


def public_media_url(path: str, *, network: str = "Instagram") -> str:
    """A signed, expiring URL for ``path`` (a file under MEDIA_ROOT) on MINBAR_BASE_URL."""
    base = str(getattr(settings, "MINBAR_BASE_URL", "")).rstrip("/")
    if not base_url_is_public(base):
        raise Rejected(
            f"{network} fetches media from Minbar's public address, but MINBAR_BASE_URL "
            f"is {base or 'not set'}, which {network} cannot reach. Serve Minbar on a public "
            "https address (see docs/networks) to publish media there."
        )
    resolved = Path(path).resolve()
    root = _media_root()
    if not resolved.is_relative_to(root) or not resolved.is_file():
        raise Rejected(f"Minbar cannot share {Path(path).name} publicly: it is not a media file.")
    token = signing.dumps(str(resolved.relative_to(root)), salt=SALT, compress=True)
    return base + reverse("media:public", args=[token, resolved.name])


@require_GET
def serve_public(request: HttpRequest, token: str, name: str) -> FileResponse:
    """The file a valid, unexpired link names; 404 for anything else."""
    try:
        relative = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        raise Http404 from None
    root = _media_root()
    path = (root / str(relative)).resolve()
    if not path.is_relative_to(root) or not path.is_file() or path.name != name:
        raise Http404
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = FileResponse(path.open("rb"), content_type=mime)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
