"""Signing in with Google for YouTube: the scopes Minbar asks for, and why.

The flow itself (consent page, code exchange, refresh, revoke) is shared with
Google Business Profile in :mod:`minbar.connectors.google_oauth`.
"""

from __future__ import annotations

from minbar.connectors.google_oauth import GoogleSignIn
from minbar.connectors.youtube.failures import LABEL, parse_error, translate, transport_error

SCOPE_UPLOAD = "https://www.googleapis.com/auth/youtube.upload"
SCOPE_READONLY = "https://www.googleapis.com/auth/youtube.readonly"
SCOPE_FORCE_SSL = "https://www.googleapis.com/auth/youtube.force-ssl"
SCOPE_ANALYTICS = "https://www.googleapis.com/auth/yt-analytics.readonly"

# What Minbar asks for (https://developers.google.com/youtube/v3/guides/auth/server-side-web-apps
# lists the YouTube scopes), and why:
SCOPES: tuple[str, ...] = (
    SCOPE_UPLOAD,  # videos.insert, thumbnails.set
    SCOPE_READONLY,  # channels.list mine=true, videos.list, the uploads playlist
    SCOPE_FORCE_SSL,  # comments: read, reply, moderate, delete; playlistItems.insert
    SCOPE_ANALYTICS,  # YouTube Analytics reports (shares)
)
# Without these the channel cannot publish at all; the others only switch features off.
REQUIRED_SCOPES = (SCOPE_UPLOAD,)
READ_SCOPES = (SCOPE_READONLY, SCOPE_FORCE_SSL)

SIGN_IN = GoogleSignIn(
    label=LABEL,
    account="channel",
    scopes=SCOPES,
    parse_error=parse_error,
    translate=translate,
    transport_error=transport_error,
)
