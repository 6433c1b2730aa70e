"""Signing in with Google for the Business Profile APIs: the one scope they take.

The flow itself (consent page, code exchange, refresh, revoke) is shared with
YouTube in :mod:`minbar.connectors.google_oauth`. The Business Profile APIs take
one scope, ``https://www.googleapis.com/auth/business.manage``, for reading and
writing alike (every method's reference page lists it under "Authorization
scopes", e.g.
https://developers.google.com/my-business/reference/rest/v4/accounts.locations.localPosts/create).
"""

from __future__ import annotations

from minbar.connectors.google_business.failures import (
    LABEL,
    parse_error,
    translate,
    transport_error,
)
from minbar.connectors.google_oauth import GoogleSignIn

SCOPE_MANAGE = "https://www.googleapis.com/auth/business.manage"
SCOPES: tuple[str, ...] = (SCOPE_MANAGE,)

SIGN_IN = GoogleSignIn(
    label=LABEL,
    account="profile",
    scopes=SCOPES,
    parse_error=parse_error,
    translate=translate,
    transport_error=transport_error,
    # The one scope is required: an answer granting nothing must read as nothing.
    empty_scope_is_nothing=True,
)
