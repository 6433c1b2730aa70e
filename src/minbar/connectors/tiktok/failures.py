"""TikTok's error answers turned into Minbar's error taxonomy.

Every v2 answer carries ``{"data": {...}, "error": {"code": "ok", "message": "",
"log_id": "..."}}``; ``code`` is a readable string and anything but ``ok`` is a
failure (https://developers.tiktok.com/doc/tiktok-api-v2-error-handling). The
Content Posting API adds its own codes
(https://developers.tiktok.com/doc/content-posting-api-reference-direct-post), and a
post that fails after it was accepted reports a ``fail_reason`` in the status
(https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status).

How they are handled:

* ``rate_limit_exceeded`` (429): too many requests in TikTok's one-minute sliding
  window (https://developers.tiktok.com/doc/tiktok-api-v2-rate-limit) → RateLimited
  after ``Retry-After`` when TikTok sends one (it documents none), else a minute;
* ``spam_risk_too_many_posts``: the creator's daily cap of posts through the API
  is reached → RateLimited (the caller works out when the 24 hours roll on);
  ``reached_active_user_cap``: an unaudited app's cap of posting users a day →
  RateLimited for an hour;
* ``access_token_invalid`` (401) → refreshed once by the caller, then AuthExpired;
  ``scope_not_authorized`` / ``scope_permission_missed`` → Rejected asking to
  reconnect and allow the permission;
* ``unaudited_client_can_only_post_to_private_accounts``,
  ``privacy_level_option_mismatch``, ``url_ownership_unverified``,
  ``spam_risk_user_banned_from_posting``, ``invalid_param(s)``,
  ``invalid_file_upload`` → Rejected with what to do;
* ``internal_error`` and other 5xx: OutcomeUnknown for a write TikTok may have
  carried out, else TemporaryError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.http import retry_after_seconds

LABEL = "TikTok"
DEFAULT_RATE_WAIT = 60.0  # TikTok's windows are one minute long
ACTIVE_USER_CAP_WAIT = 3600.0
DAILY_CAP_WAIT = 3600.0  # when Minbar cannot tell when the creator's 24 hours roll on

SCOPE_CODES = frozenset({"scope_not_authorized", "scope_permission_missed"})
# A refused post the person can fix, with what to tell them.
POSTING_REFUSALS = {
    "unaudited_client_can_only_post_to_private_accounts": (
        "TikTok lets this Minbar's app post only to private accounts with the privacy "
        "“Only me” until TikTok has audited the app. Choose “Only me” (and make the "
        "account private), or have the app audited (see docs/networks/tiktok.md)."
    ),
    "privacy_level_option_mismatch": (
        "The privacy chosen for this post is not one TikTok offers this account now. "
        "Choose who can see TikTok posts again."
    ),
    "url_ownership_unverified": (
        "TikTok fetches photos only from web addresses whose domain the TikTok app has "
        "verified. Verify Minbar's domain (MINBAR_BASE_URL) in the TikTok developer portal "
        "(see docs/networks/tiktok.md)."
    ),
    "spam_risk_user_banned_from_posting": (
        "TikTok does not let this account post at the moment. Check the account in the TikTok app."
    ),
    "invalid_file_upload": "TikTok did not accept the file.",
}
# fail_reason of a post TikTok accepted and then could not publish.
FAIL_REASONS = {
    "file_format_check_failed": "TikTok does not accept this file format.",
    "duration_check_failed": "The video is longer (or shorter) than TikTok allows this account.",
    "frame_rate_check_failed": "TikTok accepts videos of 23 to 60 frames a second.",
    "picture_size_check_failed": "The picture size is outside what TikTok accepts.",
    "video_pull_failed": "TikTok could not download the video from Minbar.",
    "photo_pull_failed": (
        "TikTok could not download the photos from Minbar: MINBAR_BASE_URL must be "
        "reachable from the internet and its domain verified in the TikTok app."
    ),
    "publish_cancelled": "The post was cancelled on TikTok.",
    "spam_risk_text": "TikTok flagged the caption as spam.",
    "spam_risk": "TikTok flagged the post as spam.",
    "spam_risk_user_banned_from_posting": "TikTok does not let this account post at the moment.",
}
# Failures that may pass: trying again with the same content can work.
PASSING_FAIL_REASONS = frozenset({"internal", "video_pull_failed", "photo_pull_failed"})


@dataclass(frozen=True)
class TikTokError:
    status: int
    code: str
    message: str
    log_id: str = ""

    @property
    def detail(self) -> str:
        log = f" (log_id {self.log_id})" if self.log_id else ""
        return f"{self.status} {self.code}: {self.message}{log}".strip()


def error_of(body: Any, status: int = 200) -> TikTokError | None:
    """The error of an answer's envelope, or None when ``code`` is ``ok``."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        if status >= 400:
            return TikTokError(status, "", "")
        return None
    code = str(error.get("code") or "")
    if code == "ok" and status < 400:
        return None
    return TikTokError(
        status, code, str(error.get("message") or ""), str(error.get("log_id") or "")
    )


def parse_error(response: httpx.Response) -> TikTokError:
    try:
        body: Any = response.json()
    except ValueError:
        return TikTokError(response.status_code, "", response.text[:300].strip())
    found = error_of(body, response.status_code)
    return found or TikTokError(response.status_code, "", "")


def translate(
    error: TikTokError, headers: httpx.Headers | None = None, *, writes: bool = False
) -> ConnectorError:
    """The taxonomy error for one of TikTok's error answers."""
    status, code = error.status, error.code
    said = f": {error.message.rstrip('. ')}." if error.message else "."
    detail = error.detail
    if code == "rate_limit_exceeded" or status == 429:
        return RateLimited(
            f"{LABEL} asks Minbar to slow down (too many requests).",
            retry_after=retry_after_seconds(headers or httpx.Headers(), default=DEFAULT_RATE_WAIT),
            detail=detail,
            status=status,
        )
    if code == "spam_risk_too_many_posts":
        return RateLimited(
            f"{LABEL}: this account has posted as many times today as TikTok allows through apps.",
            retry_after=DAILY_CAP_WAIT,
            detail=detail,
            status=status,
        )
    if code == "reached_active_user_cap":
        return RateLimited(
            f"{LABEL}: today's number of accounts this Minbar's app may post for is reached "
            "(an app TikTok has not audited may post for five accounts a day).",
            retry_after=ACTIVE_USER_CAP_WAIT,
            detail=detail,
            status=status,
        )
    if code in SCOPE_CODES:
        return Rejected(
            f"{LABEL} did not give Minbar the permission this needs. Reconnect the channel "
            "and allow every permission on TikTok's page.",
            detail=detail,
            status=status,
        )
    if code == "access_token_invalid" or status == 401:
        return AuthExpired(
            f"{LABEL} no longer accepts Minbar's access to this account. Reconnect the channel.",
            detail=detail,
            status=status,
        )
    if code in POSTING_REFUSALS:
        return Rejected(f"{LABEL}: {POSTING_REFUSALS[code]}", detail=detail, status=status)
    if code == "internal_error" or status >= 500:
        if writes:
            return OutcomeUnknown(
                f"{LABEL} failed while handling the request; it may have gone through.",
                detail=detail,
                status=status,
            )
        return TemporaryError(
            f"{LABEL} is having trouble; Minbar will try again.", detail=detail, status=status
        )
    return Rejected(f"{LABEL} refused the request{said}", detail=detail, status=status)


def failed_post(reason: str) -> ConnectorError:
    """The error for a post whose status ended FAILED with ``fail_reason``."""
    detail = f"FAILED: {reason or 'no reason given'}"
    if reason == "auth_removed":
        return AuthExpired(
            f"{LABEL}: the account removed Minbar's access while the post was processed. "
            "Reconnect the channel.",
            detail=detail,
        )
    if reason == "spam_risk_too_many_posts":
        return RateLimited(
            f"{LABEL}: this account has posted as many times today as TikTok allows through apps.",
            retry_after=DAILY_CAP_WAIT,
            detail=detail,
        )
    if reason in PASSING_FAIL_REASONS:
        said = FAIL_REASONS.get(reason, "TikTok could not process the post.")
        return TemporaryError(f"{LABEL}: {said} Minbar will try again.", detail=detail)
    said = FAIL_REASONS.get(reason, "TikTok could not publish the post.")
    return Rejected(f"{LABEL}: {said}", detail=detail)


def transport_error(exc: httpx.TransportError, *, writes: bool = False) -> ConnectorError:
    """Nothing sent (connect failures) is temporary; no answer after sending a write is unknown."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return TemporaryError(f"Minbar cannot reach {LABEL} right now.", detail=str(exc))
    if writes:
        return OutcomeUnknown(
            f"{LABEL} did not answer in time; it may have gone through.", detail=str(exc)
        )
    return TemporaryError(f"{LABEL} did not answer in time.", detail=str(exc))
