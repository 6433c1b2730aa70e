"""Bluesky (AT Protocol) connector: app-password sign-in against a PDS, posts, metrics, inbox.

Everything goes through XRPC on the account's PDS (``/xrpc/<NSID>``); the PDS
answers repository calls itself and proxies ``app.bsky.*`` reads to the
AppView. Endpoints, in the order this module uses them (Bluesky HTTP
reference, https://docs.bsky.app/docs/category/http-reference):

- com.atproto.server.createSession / refreshSession / getSession
  https://docs.bsky.app/docs/api/com-atproto-server-create-session
  https://docs.bsky.app/docs/api/com-atproto-server-refresh-session
- com.atproto.identity.resolveHandle
  https://docs.bsky.app/docs/api/com-atproto-identity-resolve-handle
- com.atproto.repo.uploadBlob / createRecord / getRecord / deleteRecord
  https://docs.bsky.app/docs/api/com-atproto-repo-upload-blob
  https://docs.bsky.app/docs/api/com-atproto-repo-create-record
  https://docs.bsky.app/docs/api/com-atproto-repo-get-record
  https://docs.bsky.app/docs/api/com-atproto-repo-delete-record
- app.bsky.feed.getPosts / searchPosts, app.bsky.actor.getProfile,
  app.bsky.notification.listNotifications
  https://docs.bsky.app/docs/api/app-bsky-feed-get-posts
  https://docs.bsky.app/docs/api/app-bsky-feed-search-posts
  https://docs.bsky.app/docs/api/app-bsky-actor-get-profile
  https://docs.bsky.app/docs/api/app-bsky-notification-list-notifications

Post records (text, facets, reply, embeds, langs) follow
https://docs.bsky.app/docs/advanced-guides/posts; errors are XRPC error bodies
``{"error": "Name", "message": "…"}`` (https://atproto.com/specs/xrpc) and the
rate-limit headers ``ratelimit-limit/-remaining/-reset/-policy``
(https://docs.bsky.app/docs/advanced-guides/rate-limits).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
import regex
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minbar.connectors.base import AuthField, Connector
from minbar.connectors.bluesky.richtext import facet_records, validate_text
from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.http import (
    check_outbound_url,
    error_for_response,
    error_for_transport,
    make_client,
    retry_after_seconds,
)
from minbar.connectors.types import (
    AccountInfo,
    AuthKind,
    Author,
    Capabilities,
    ConnectResult,
    Credentials,
    Interaction,
    InteractionKind,
    MediaItem,
    MediaRules,
    Metrics,
    Page,
    PostRequest,
    PostType,
    PublishResult,
    RateLimitRule,
    RemotePost,
    RemoteRef,
    TextCounting,
    TextRules,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LABEL = "Bluesky"
POST = "app.bsky.feed.post"
APP_URL = "https://bsky.app"
DEFAULT_SERVER = "https://bsky.social"
RATE_LIMITS_DOC = "https://docs.bsky.app/docs/advanced-guides/rate-limits"
# Refresh the access token when it has less than this left, so a publish never starts with a
# token that dies mid-way (access tokens live about two hours on bsky.social).
REFRESH_MARGIN = timedelta(minutes=10)
MAX_IMAGE_BYTES = 1_000_000  # app.bsky.embed.images#image: blob maxSize 1000000
MAX_ALT_TEXT = 2000  # the Bluesky app's limit for image descriptions
GET_POSTS_BATCH = 25  # app.bsky.feed.getPosts takes at most 25 uris
NOTIFICATION_PAGE = 100  # listNotifications limit maximum
FIRST_SYNC_PAGES = 5  # a new channel's inbox starts with the latest 500 notifications at most
MAX_NOTIFICATION_PAGES = 50  # later syncs: up to 5,000 new notifications per call
# How far before the newest notification seen a later sync looks again (see _notifications).
NOTIFICATION_OVERLAP = timedelta(minutes=10)
SEARCH_PAGE = 25

# Scope of an access token made from the account's main password; app passwords give
# "com.atproto.appPass" or "com.atproto.appPassPrivileged".
MAIN_PASSWORD_SCOPE = "com.atproto.access"

# XRPC error names (https://atproto.com/specs/xrpc, PDS lexicons) grouped by what Minbar does.
TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
SIGN_IN_ERRORS = frozenset({"AuthenticationRequired", "AuthMissing", *TOKEN_ERRORS})
NOT_FOUND_ERRORS = frozenset({"RecordNotFound", "NotFound", "PostNotFound"})

_TID_ALPHABET = (
    "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable (https://atproto.com/specs/tid)
)
_AT_URI = regex.compile(r"^at://(?P<repo>[^/]+)/(?P<collection>[^/]+)/(?P<rkey>[^/?#]+)$")
_APP_POST_URL = regex.compile(r"^https://bsky\.app/profile/(?P<actor>[^/]+)/post/(?P<rkey>[^/?#]+)")

_REASONS = {
    "reply": InteractionKind.REPLY,
    "mention": InteractionKind.MENTION,
    "quote": InteractionKind.QUOTE,
    "like": InteractionKind.LIKE,
    "repost": InteractionKind.REPOST,
    "follow": InteractionKind.FOLLOW,
}


def tid_for(idempotency_key: str, index: int = 0) -> str:
    """A record key derived from Minbar's idempotency key: the same attempt, the same rkey.

    ``app.bsky.feed.post`` records are keyed by TIDs (lexicon ``"key": "tid"``), so the
    key is a syntactically valid TID (13 base32-sortable characters of a 63-bit number)
    built from a hash. The PDS refuses a second record with the same rkey, so a retried
    publish can never duplicate the post. ``index`` keys the chained posts of a thread.
    """
    digest = hashlib.sha256(f"minbar:{idempotency_key}:{index}".encode()).digest()
    number = int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)
    chars = []
    for _position in range(13):
        chars.append(_TID_ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: only ``exp`` and ``scope`` are read, for scheduling."""
    try:
        payload = token.split(".")[1]
        decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(decoded)
    except (IndexError, ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _now_iso() -> str:
    # Millisecond precision with "Z", as the docs' examples and the official clients write it.
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _normalise_server(url: str) -> str:
    url = (url or DEFAULT_SERVER).strip().rstrip("/")
    if "://" not in url:
        url = "https://" + url
    return url


def parse_at_uri(uri: str) -> tuple[str, str, str]:
    match = _AT_URI.match(uri)
    if match is None:
        raise Rejected(f"“{uri}” is not a Bluesky post address (at://…).")
    return match["repo"], match["collection"], match["rkey"]


def post_url(uri: str, handle: str = "") -> str:
    """The post's page on bsky.app (by handle when known, which is what people share)."""
    repo, _, rkey = parse_at_uri(uri)
    return f"{APP_URL}/profile/{handle or repo}/post/{rkey}"


@dataclasses.dataclass(frozen=True)
class _Failure:
    """A failed XRPC response, read once."""

    status: int
    error: str
    message: str
    response: httpx.Response

    @classmethod
    def read(cls, response: httpx.Response) -> _Failure:
        error = message = ""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            error = str(body.get("error") or "")
            message = str(body.get("message") or "")
        return cls(response.status_code, error, message, response)

    @property
    def detail(self) -> str:
        return f"{self.status} {self.error}: {self.message}".strip()


class BlueskyConnector(Connector):
    network = "bluesky"
    capabilities = Capabilities(
        network="bluesky",
        label=LABEL,
        auth=AuthKind.APP_PASSWORD,
        # Lexicon app.bsky.feed.post: text maxGraphemes 300, maxLength 3000 (bytes).
        text=TextRules(max_length=300, counting=TextCounting.GRAPHEMES, max_bytes=3000),
        media=MediaRules(
            # app.bsky.embed.images: up to 4 images, each blob image/*, at most 1,000,000 bytes.
            image_types=("image/jpeg", "image/png", "image/webp"),
            max_images=4,
            max_image_bytes=MAX_IMAGE_BYTES,
            alt_text=True,
            alt_text_max_length=MAX_ALT_TEXT,
            # Video needs Bluesky's separate video service (app.bsky.video.*), which a
            # self-hosted PDS and the local test network do not run: not offered.
        ),
        needs_server_url=True,
        default_server_url=DEFAULT_SERVER,
        post_types=frozenset(
            {
                PostType.TEXT,
                PostType.LINK,
                PostType.IMAGE,
                PostType.GALLERY,
                PostType.THREAD,
                PostType.REPLY,
            }
        ),
        threads=True,
        post_metrics=frozenset({"likes", "shares", "comments", "quotes"}),
        account_metrics=frozenset({"followers", "following", "posts"}),
        interactions=frozenset(
            {
                InteractionKind.REPLY,
                InteractionKind.MENTION,
                InteractionKind.QUOTE,
                InteractionKind.LIKE,
                InteractionKind.REPOST,
                InteractionKind.FOLLOW,
            }
        ),
        can_reply_to=frozenset(
            {InteractionKind.REPLY, InteractionKind.MENTION, InteractionKind.QUOTE}
        ),
        search=True,
        rate_limits=(
            # Bluesky's PDS, per account (DID): 5,000 points an hour and 35,000 a day, a
            # created record costing 3 points, so 1,666 posts an hour and 11,666 a day.
            RateLimitRule("publish", 1666, 3600),
            RateLimitRule("publish", 11666, 86400),
            # createSession, per account: 30 per 5 minutes, 300 per day.
            RateLimitRule("sign_in", 30, 300),
            RateLimitRule("sign_in", 300, 86400),
            # Every API call, per IP address: 3,000 per 5 minutes.
            RateLimitRule("request", 3000, 300, scope="ip"),
        ),
        docs_url=RATE_LIMITS_DOC,
        setup_doc="docs/networks/bluesky.md",
    )
    auth_fields = (
        AuthField(
            name="server_url",
            label=_("Server (PDS)"),
            help=_("Leave https://bsky.social unless your account lives on a self-hosted PDS."),
            placeholder=DEFAULT_SERVER,
        ),
        AuthField(
            name="identifier",
            label=_("Handle or email"),
            help=_("Your Bluesky handle, such as yourname.bsky.social, or the account's email."),
            placeholder="yourname.bsky.social",
        ),
        AuthField(
            name="app_password",
            label=_("App password"),
            help=_(
                "Create one in Bluesky: Settings → Privacy and security → App passwords. "
                "Not your account password."
            ),
            secret=True,
            placeholder="xxxx-xxxx-xxxx-xxxx",
        ),
    )
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = (
        _("In Bluesky, open Settings → Privacy and security → App passwords."),
        _("Add an app password named “Minbar” and copy it."),
        _(
            "Enter your handle and the app password here. Keep the server as it is unless you "
            "run your own PDS."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.server_url = _normalise_server(self.server_url)
        self._clients: dict[str, httpx.Client] = {}
        self._handles: dict[str, str | None] = {}

    # -- HTTP ------------------------------------------------------------------

    def _service(self) -> str:
        """The account's own PDS (from its DID document), else the server the user entered."""
        return str(self.credentials.data.get("pds") or self.server_url).rstrip("/")

    def _client(self, base: str) -> httpx.Client:
        client = self._clients.get(base)
        if client is None:
            client = self._clients[base] = make_client(base, timeout=self.timeout)
        return client

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def _call(
        self,
        method: str,
        nsid: str,
        *,
        params: httpx.QueryParams | dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        content: bytes | None = None,
        content_type: str = "",
        auth: str = "access",
        writes: bool = False,
        base: str = "",
    ) -> dict[str, Any]:
        """One XRPC call; an expired or invalid access token is renewed once and retried."""
        for attempt in (1, 2):
            headers: dict[str, str] = {}
            if auth == "access":
                headers["Authorization"] = f"Bearer {self._secret('access_jwt')}"
            elif auth == "refresh":
                headers["Authorization"] = f"Bearer {self._secret('refresh_jwt')}"
            if content_type:
                headers["Content-Type"] = content_type
            try:
                response = self._client(base or self._service()).request(
                    method,
                    f"/xrpc/{nsid}",
                    params=params,
                    json=body,
                    content=content,
                    headers=headers,
                )
            except httpx.TransportError as exc:
                raise error_for_transport(exc, network=LABEL, writes=writes) from None
            if response.is_success:
                try:
                    data = response.json() if response.content else {}
                except ValueError:
                    raise TemporaryError(
                        f"{LABEL} answered {nsid} with something that is not JSON.",
                        detail=response.text[:500],
                        status=response.status_code,
                    ) from None
                return data if isinstance(data, dict) else {}
            failure = _Failure.read(response)
            # A 400 ExpiredToken means nothing was done (the PDS checks auth first), so
            # renewing the session and sending the same request again is safe, writes too.
            if auth == "access" and attempt == 1 and failure.error in TOKEN_ERRORS:
                self._renew_session(notify=True)
                continue
            raise self._error(failure, nsid, writes=writes)
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, failure: _Failure, nsid: str, *, writes: bool) -> ConnectorError:
        """Bluesky's error names mapped onto Minbar's taxonomy, the message in plain words."""
        status, name, message = failure.status, failure.error, failure.message
        detail = failure.detail
        if status == 429 or name == "RateLimitExceeded":
            return RateLimited(
                f"{LABEL} asks Minbar to slow down (rate limit); Minbar will wait and retry.",
                retry_after=retry_after_seconds(failure.response.headers),
                detail=detail,
                status=status,
            )
        if name == "AccountTakedown":
            return AuthExpired(
                f"{LABEL} has taken this account down; it cannot be used until the "
                "moderation decision is lifted.",
                detail=detail,
                status=status,
            )
        if name in ("AccountDeactivated", "AccountSuspended"):
            return AuthExpired(
                f"This {LABEL} account is deactivated or suspended; reactivate it, then "
                "reconnect the channel.",
                detail=detail,
                status=status,
            )
        if name in SIGN_IN_ERRORS or status == 401:
            return AuthExpired(
                f"{LABEL} no longer accepts this account's sign-in. Reconnect the channel "
                "with a new app password.",
                detail=detail,
                status=status,
            )
        if status >= 500:
            return error_for_response(failure.response, network=LABEL, reason=detail, writes=writes)
        if name in NOT_FOUND_ERRORS or (
            name == "InvalidRequest" and "not found" in message.lower()
        ):
            return Rejected(
                f"{LABEL} could not find it: {message or 'the post or account no longer exists'}.",
                detail=detail,
                status=status,
            )
        if name == "BlobTooLarge" or status == 413:
            return Rejected(
                f"The file is larger than {LABEL} accepts (images up to 1 MB).",
                detail=detail,
                status=status,
            )
        if name == "InvalidSwap":
            return Rejected(
                f"{LABEL} refused the change because the account changed meanwhile; try again.",
                detail=detail,
                status=status,
            )
        reason = message or name or f"HTTP {status}"
        return Rejected(
            f"{LABEL} refused the request ({nsid}): {reason}", detail=detail, status=status
        )

    # -- sessions --------------------------------------------------------------

    def _secret(self, name: str) -> str:
        value = self.credentials.secrets.get(name, "")
        if not value:
            raise AuthExpired(f"This {LABEL} channel has no sign-in stored; connect it again.")
        return value

    def _did(self) -> str:
        did = str(self.credentials.data.get("did") or "")
        if not did:
            raise AuthExpired(f"This {LABEL} channel has no account stored; connect it again.")
        return did

    def _session_credentials(self, session: dict[str, Any], password: str = "") -> Credentials:
        access = str(session.get("accessJwt") or "")
        refresh = str(session.get("refreshJwt") or "")
        if not access or not refresh:
            raise TemporaryError(f"{LABEL} returned a session without tokens.")
        claims = jwt_claims(access)
        expires_at = (
            datetime.fromtimestamp(int(claims["exp"]), UTC)
            if isinstance(claims.get("exp"), (int, float))
            else None
        )
        data: dict[str, Any] = {"did": session.get("did", ""), "handle": session.get("handle", "")}
        pds = self._pds_from_did_doc(session.get("didDoc"))
        if pds:
            data["pds"] = pds
        secrets = {"access_jwt": access, "refresh_jwt": refresh}
        if password:
            # Kept so that a dead refresh token (it lives 90 days, or revoked with
            # a session) can be replaced by a new sign-in without asking the user.
            secrets["app_password"] = password
        return Credentials(secrets=secrets, data=data, expires_at=expires_at)

    def _pds_from_did_doc(self, did_doc: object) -> str:
        """The ``#atproto_pds`` service endpoint, when the server sent the DID document."""
        if not isinstance(did_doc, dict):
            return ""
        for service in did_doc.get("service") or []:
            if not isinstance(service, dict):
                continue
            if str(service.get("id", "")).endswith("#atproto_pds"):
                endpoint = str(service.get("serviceEndpoint") or "").rstrip("/")
                if endpoint:
                    try:
                        return check_outbound_url(endpoint)
                    except Rejected:
                        return ""  # an unsafe endpoint: keep talking to the entered server
        return ""

    def _create_session(self, identifier: str, password: str, *, reconnect: bool) -> Credentials:
        try:
            session = self._call(
                "POST",
                "com.atproto.server.createSession",
                body={"identifier": identifier, "password": password},
                auth="none",
                base=self.server_url,
            )
        except (AuthExpired, Rejected) as exc:
            if "AuthFactorTokenRequired" in exc.detail:
                # The account's own password with email 2FA on: app passwords need no code.
                raise Rejected(
                    f"{LABEL} asks for an email sign-in code: use an app password instead "
                    "of the account password (app passwords need no code).",
                    detail=exc.detail,
                    status=exc.status,
                ) from None
            if isinstance(exc, Rejected) or "AccountTakedown" in exc.detail:
                raise
            if "AccountDeactivated" in exc.detail:
                raise
            if reconnect:
                raise AuthExpired(
                    f"{LABEL} no longer accepts the stored app password: it was probably "
                    "revoked or the account password changed. Create a new app password "
                    "(Settings → Privacy and security → App passwords) and reconnect.",
                    detail=exc.detail,
                    status=exc.status,
                ) from None
            raise AuthExpired(
                f"{LABEL} did not accept this handle and app password. Check the handle "
                "(or email), the app password and the server.",
                detail=exc.detail,
                status=exc.status,
            ) from None
        return self._session_credentials(session, password)

    def _renew_session(self, *, notify: bool) -> Credentials:
        """refreshSession; when the refresh token is dead, a new session from the app password."""
        try:
            session = self._call("POST", "com.atproto.server.refreshSession", auth="refresh")
            newer = self._session_credentials(session)
        except AuthExpired as exc:
            password = self.credentials.secrets.get("app_password", "")
            if not password or any(
                name in exc.detail for name in ("AccountTakedown", "AccountDeactivated")
            ):
                raise
            identifier = str(
                self.credentials.data.get("did") or self.credentials.data.get("handle")
            )
            newer = self._create_session(identifier, password, reconnect=True)
        if notify:
            self._credentials_changed(newer)  # saved at once: the old refresh token is spent
        else:
            self.credentials = self.credentials.merged(newer)
        return newer

    def connect_with_fields(self, fields: dict[str, str]) -> ConnectResult:
        self.server_url = _normalise_server(fields.get("server_url") or self.server_url)
        check_outbound_url(self.server_url)
        identifier = (fields.get("identifier") or "").strip().lstrip("@")
        password = (fields.get("app_password") or "").strip()
        if not identifier or not password:
            raise Rejected("Enter the account's handle (or email) and an app password.")
        credentials = self._create_session(identifier, password, reconnect=False)
        if jwt_claims(credentials.secrets["access_jwt"]).get("scope") == MAIN_PASSWORD_SCOPE:
            # Minbar must never hold the account password: it could change the password,
            # the email or delete the account. End the session it just opened.
            self.credentials = credentials
            # A failure here matters less than the refusal below: the session expires anyway.
            with contextlib.suppress(ConnectorError):
                self._call("POST", "com.atproto.server.deleteSession", auth="refresh")
            self.credentials = Credentials()
            raise Rejected(
                "That is the account's own password. Minbar connects with an app password "
                "only: create one in Bluesky under Settings → Privacy and security → App "
                "passwords."
            )
        self.credentials = credentials
        return ConnectResult(account=self._account_info(), credentials=credentials)

    def refresh(self) -> Credentials | None:
        expires_at = self.credentials.expires_at
        if expires_at is not None and expires_at - timezone.now() > REFRESH_MARGIN:
            return None
        return self._renew_session(notify=False)

    def verify(self) -> AccountInfo:
        session = self._call("GET", "com.atproto.server.getSession")
        handle = str(session.get("handle") or "")
        if handle and handle != self.credentials.data.get("handle"):
            self._credentials_changed(Credentials(data={"handle": handle}))  # handle changed
        return self._account_info()

    def _account_info(self) -> AccountInfo:
        did = self._did()
        handle = str(self.credentials.data.get("handle") or did)
        try:
            profile = self._call("GET", "app.bsky.actor.getProfile", params={"actor": did})
        except (Rejected, TemporaryError):
            # The AppView indexes a new account a moment after it is created; the
            # session alone proves the sign-in works.
            return AccountInfo(remote_id=did, handle=handle, url=f"{APP_URL}/profile/{handle}")
        handle = str(profile.get("handle") or handle)
        return AccountInfo(
            remote_id=did,
            handle=handle,
            display_name=str(profile.get("displayName") or ""),
            avatar_url=str(profile.get("avatar") or ""),
            url=f"{APP_URL}/profile/{handle}",
            followers=_int(profile.get("followersCount")),
        )

    # -- publishing ------------------------------------------------------------

    def link_card(self, url: str) -> tuple[str, str]:
        """Title and description of a link card; Minbar fetches nothing, so both are empty.

        The Bluesky app then shows the card with the link's address. Override (or let the
        composer pass a preview) to fill them.
        """
        return "", ""

    def _check_request(self, request: PostRequest) -> None:
        problems = validate_text(request.text)
        for number, text in enumerate(request.thread, start=2):
            problems += [f"post {number}: {p}" for p in validate_text(text)]
        if problems:
            raise Rejected("; ".join(problems))
        if not request.text.strip() and not (request.media or request.quote or request.link):
            raise Rejected(f"A {LABEL} post needs text, an image, a link or a quoted post.")
        if any(not text.strip() for text in request.thread):
            raise Rejected("Every post of a thread needs text.")
        images = [m for m in request.media if m.mime_type.startswith("image/")]
        if len(images) != len(request.media):
            raise NotSupported(f"Minbar posts images to {LABEL}, not video or other files.")
        if len(images) > 4:
            raise Rejected(f"{LABEL} takes at most 4 images per post ({len(images)} given).")
        for item in images:
            if item.mime_type not in self.capabilities.media.image_types:
                raise Rejected(f"{LABEL} takes JPEG, PNG or WebP images, not {item.mime_type}.")
            if len(item.alt_text) > MAX_ALT_TEXT:
                raise Rejected(
                    f"{LABEL}: image description {len(item.alt_text):,}/{MAX_ALT_TEXT:,} "
                    "characters."
                )

    def _resolve_handle(self, handle: str) -> str | None:
        if handle not in self._handles:
            try:
                answer = self._call(
                    "GET", "com.atproto.identity.resolveHandle", params={"handle": handle}
                )
                self._handles[handle] = str(answer.get("did") or "") or None
            except Rejected:
                self._handles[handle] = None  # no such handle: the text stays plain
        return self._handles[handle]

    def _upload_image(self, item: MediaItem) -> dict[str, Any]:
        data = Path(item.path).read_bytes()
        if len(data) > MAX_IMAGE_BYTES:
            raise Rejected(
                f"{LABEL} takes images up to 1,000,000 bytes; "
                f"{Path(item.path).name} has {len(data):,}."
            )
        # Blobs are content-addressed: uploading the same bytes twice is harmless, so an
        # upload that failed is simply retried (not a write with an unknown outcome).
        answer = self._call(
            "POST", "com.atproto.repo.uploadBlob", content=data, content_type=item.mime_type
        )
        blob = answer.get("blob")
        if not isinstance(blob, dict):
            raise TemporaryError(f"{LABEL} accepted the image but returned no blob.")
        image: dict[str, Any] = {"image": blob, "alt": item.alt_text}
        if item.width and item.height:
            image["aspectRatio"] = {"width": item.width, "height": item.height}
        return image

    def _embed(self, request: PostRequest) -> dict[str, Any] | None:
        media: dict[str, Any] | None = None
        if request.media:
            media = {
                "$type": "app.bsky.embed.images",
                "images": [self._upload_image(item) for item in request.media],
            }
        elif request.link:
            title, description = self.link_card(request.link)
            media = {
                "$type": "app.bsky.embed.external",
                "external": {"uri": request.link, "title": title, "description": description},
            }
        if request.quote is None:
            return media
        record = {"$type": "app.bsky.embed.record", "record": self._strong_ref(request.quote)}
        if media is None:
            return record
        return {"$type": "app.bsky.embed.recordWithMedia", "record": record, "media": media}

    def _at_uri(self, remote_id: str) -> str:
        """An at:// URI from a post's at-uri or its bsky.app address."""
        if remote_id.startswith("at://"):
            return remote_id
        match = _APP_POST_URL.match(remote_id)
        if match is None:
            raise Rejected(f"“{remote_id}” is not a Bluesky post (at://… or https://bsky.app/…).")
        actor = match["actor"]
        did = actor if actor.startswith("did:") else self._resolve_handle(actor)
        if not did:
            raise Rejected(f"{LABEL} has no account @{actor}.")
        return f"at://{did}/{POST}/{match['rkey']}"

    def _fetch_post(self, uri: str) -> tuple[str, dict[str, Any]]:
        """A post's cid and record: from the AppView, else from the PDS holding it."""
        answer = self._call(
            "GET", "app.bsky.feed.getPosts", params=httpx.QueryParams([("uris", uri)])
        )
        for post in answer.get("posts") or []:
            if post.get("uri") == uri and post.get("cid"):
                return str(post["cid"]), dict(post.get("record") or {})
        repo, collection, rkey = parse_at_uri(uri)
        try:
            found = self._call(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": repo, "collection": collection, "rkey": rkey},
            )
        except Rejected:
            raise Rejected(f"{LABEL} could not find the post {uri}; it may be deleted.") from None
        return str(found.get("cid") or ""), dict(found.get("value") or {})

    def _strong_ref(self, ref: RemoteRef) -> dict[str, str]:
        uri = self._at_uri(ref.remote_id)
        cid = ref.extra.get("cid", "") if ref.remote_id == uri else ""
        if not cid:
            cid, _record = self._fetch_post(uri)
        return {"uri": uri, "cid": cid}

    def _reply_ref(self, to: RemoteRef) -> dict[str, dict[str, str]]:
        parent = self._strong_ref(to)
        root_uri, root_cid = to.extra.get("root_uri", ""), to.extra.get("root_cid", "")
        if not (root_uri and root_cid):
            # The root is the parent's own root when the parent is itself a reply.
            _, record = self._fetch_post(parent["uri"])
            root = (record.get("reply") or {}).get("root") or {}
            root_uri, root_cid = root.get("uri") or parent["uri"], root.get("cid") or parent["cid"]
        return {"root": {"uri": root_uri, "cid": root_cid}, "parent": parent}

    def _record(
        self,
        text: str,
        request: PostRequest,
        *,
        embed: dict[str, Any] | None = None,
        reply: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": _now_iso()}
        facets = facet_records(text, self._resolve_handle)
        if facets:
            record["facets"] = facets
        if reply:
            record["reply"] = reply
        if embed:
            record["embed"] = embed
        if request.language:
            record["langs"] = [request.language]
        return record

    def _create_post(self, record: dict[str, Any], rkey: str) -> tuple[str, str, dict[str, Any]]:
        """createRecord with Minbar's rkey; a clash means the post already went out.

        The PDS answers a second create at the same rkey with a 500 ("There is already a
        value at key"), which alone would read as an unknown outcome. With a deterministic
        rkey one getRecord settles it: the record is there, so it is returned (whether it
        was made by this call or by an earlier attempt); when it is not, the original error
        stands (OutcomeUnknown for a failure after sending; the engine then calls lookup).
        """
        did = self._did()
        body: dict[str, Any] = {"repo": did, "collection": POST, "record": record}
        if rkey:
            body["rkey"] = rkey
        try:
            answer = self._call("POST", "com.atproto.repo.createRecord", body=body, writes=True)
        except (Rejected, OutcomeUnknown) as exc:
            if not rkey:
                raise
            try:
                existing = self._get_own_post(rkey)
            except ConnectorError:
                existing = None
            if existing is None:
                raise exc from None
            return existing
        return str(answer["uri"]), str(answer["cid"]), record

    def _get_own_post(self, rkey: str) -> tuple[str, str, dict[str, Any]] | None:
        try:
            found = self._call(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": self._did(), "collection": POST, "rkey": rkey},
            )
        except Rejected:
            return None
        return str(found["uri"]), str(found.get("cid") or ""), dict(found.get("value") or {})

    def _ref(self, uri: str, cid: str, root: dict[str, str]) -> RemoteRef:
        return RemoteRef(
            remote_id=uri,
            url=post_url(uri, str(self.credentials.data.get("handle") or "")),
            extra={"cid": cid, "root_uri": root["uri"], "root_cid": root["cid"]},
        )

    def publish(self, request: PostRequest) -> PublishResult:
        if request.link and request.media and request.link not in request.text:
            # A post shows images or a link card, not both: the link then goes in the
            # text (where it gets a link facet) rather than being lost.
            text = (
                f"{request.text.rstrip()}\n{request.link}" if request.text.strip() else request.link
            )
            request = dataclasses.replace(request, text=text)
        self._check_request(request)
        reply = self._reply_ref(request.reply_to) if request.reply_to else None
        key = request.idempotency_key
        record = self._record(request.text, request, embed=self._embed(request), reply=reply)
        uri, cid, stored = self._create_post(record, tid_for(key) if key else "")
        first = {"uri": uri, "cid": cid}
        root = reply["root"] if reply else first
        parent = first
        thread_ids: list[str] = []
        for index, text in enumerate(request.thread, start=1):
            chained = self._record(text, request, reply={"root": root, "parent": parent})
            child_uri, child_cid, _unused = self._create_post(
                chained, tid_for(key, index) if key else ""
            )
            thread_ids.append(child_uri)
            parent = {"uri": child_uri, "cid": child_cid}
        return PublishResult(
            remote_id=uri,
            url=post_url(uri, str(self.credentials.data.get("handle") or "")),
            published_at=_parse_time(stored.get("createdAt")) or timezone.now(),
            thread_ids=tuple(thread_ids),
            ref=self._ref(uri, cid, root),
        )

    def reply(self, to: RemoteRef, request: PostRequest) -> PublishResult:
        return self.publish(dataclasses.replace(request, reply_to=to))

    def delete(self, remote_id: str) -> None:
        repo, collection, rkey = parse_at_uri(self._at_uri(remote_id))
        if repo != self._did():
            raise Rejected(f"Minbar can delete only this account's own {LABEL} posts.")
        # Deleting a record that is already gone succeeds, so a retried delete is safe.
        self._call(
            "POST",
            "com.atproto.repo.deleteRecord",
            body={"repo": repo, "collection": collection, "rkey": rkey},
        )

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        if remote_id:
            repo, _, rkey = parse_at_uri(self._at_uri(remote_id))
            if repo != self._did():
                raise Rejected(f"Minbar can look up only this account's own {LABEL} posts.")
        elif idempotency_key:
            rkey = tid_for(idempotency_key)
        else:
            return None
        found = self._get_own_post(rkey)
        if found is None:
            return None
        uri, _, record = found
        return RemotePost(
            remote_id=uri,
            url=post_url(uri, str(self.credentials.data.get("handle") or "")),
            text=str(record.get("text") or ""),
            created_at=_parse_time(record.get("createdAt")),
        )

    # -- measuring -------------------------------------------------------------

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        """Counts from the AppView; a deleted post is left out of the answer."""
        uris = {self._at_uri(remote_id): remote_id for remote_id in remote_ids}
        found: dict[str, Metrics] = {}
        batch = list(uris)
        for start in range(0, len(batch), GET_POSTS_BATCH):
            chunk = batch[start : start + GET_POSTS_BATCH]
            answer = self._call(
                "GET",
                "app.bsky.feed.getPosts",
                params=httpx.QueryParams([("uris", uri) for uri in chunk]),
            )
            now = timezone.now()
            for post in answer.get("posts") or []:
                uri = post.get("uri")
                if uri not in uris:
                    continue
                found[uris[uri]] = Metrics(
                    values={
                        "likes": _int(post.get("likeCount")) or 0,
                        "shares": _int(post.get("repostCount")) or 0,  # reposts
                        "comments": _int(post.get("replyCount")) or 0,  # replies
                        "quotes": _int(post.get("quoteCount")) or 0,
                    },
                    fetched_at=now,
                )
        return found

    def account_metrics(self) -> Metrics:
        profile = self._call("GET", "app.bsky.actor.getProfile", params={"actor": self._did()})
        values = {
            name: value
            for name, key in (
                ("followers", "followersCount"),
                ("following", "followsCount"),
                ("posts", "postsCount"),
            )
            if (value := _int(profile.get(key))) is not None
        }
        return Metrics(values=values, fetched_at=timezone.now())

    # -- engaging and listening -----------------------------------------------

    def _notifications(
        self, mark: datetime | None, complete: list[bool]
    ) -> Iterator[dict[str, Any]]:
        """Notifications from the newest back to the cursor's mark less the overlap window.

        listNotifications pages from the newest backwards by ``indexedAt``, which the
        AppView sets to the *earlier* of the record's createdAt and its indexing time.
        A reply indexed late can therefore sort just below one that was already read,
        so the scan goes ``NOTIFICATION_OVERLAP`` further back than the mark and the
        cursor remembers what it returned inside that window. ``complete`` is set when
        the scan reached that window (or the end of the list) rather than its page limit.
        """
        floor = mark - NOTIFICATION_OVERLAP if mark else None
        api_cursor = ""
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": NOTIFICATION_PAGE}
            if api_cursor:
                params["cursor"] = api_cursor
            answer = self._call("GET", "app.bsky.notification.listNotifications", params=params)
            pages += 1
            for item in answer.get("notifications") or []:
                indexed = _parse_time(item.get("indexedAt"))
                if floor and indexed and indexed < floor:
                    complete.append(True)
                    return
                yield item
            api_cursor = str(answer.get("cursor") or "")
            if not api_cursor:
                complete.append(True)
                return
            if pages >= (MAX_NOTIFICATION_PAGES if mark else FIRST_SYNC_PAGES):
                return

    def interactions(self, cursor: str = "") -> Page[Interaction]:
        """Replies, mentions, quotes, likes, reposts and follows since ``cursor``.

        The cursor is Minbar's own: the newest ``indexedAt`` seen and short digests of
        the notifications returned within the overlap window before it, so nothing is
        returned twice and a late-indexed notification is not lost. Pass back the cursor
        of the last call ("" the first time); it is returned unchanged when nothing new
        arrived.
        """
        mark, returned = _read_cursor(cursor)
        items: list[Interaction] = []
        scanned: list[tuple[datetime, str]] = []
        complete: list[bool] = []
        for notification in self._notifications(mark, complete):
            uri = str(notification.get("uri") or "")
            indexed = _parse_time(notification.get("indexedAt")) or timezone.now()
            scanned.append((indexed, uri))
            if _digest(uri) in returned:
                continue
            interaction = self._interaction(notification)
            if interaction is not None:
                items.append(interaction)
        items.reverse()  # oldest first, the order they happened in
        newest = max([mark, *(when for when, _ in scanned)], key=lambda t: t or _EPOCH)
        if newest is None:
            return Page(items=items, cursor="")
        floor = newest - NOTIFICATION_OVERLAP
        keep = {_digest(uri) for when, uri in scanned if when >= floor}
        if mark and not complete:
            # A flood stopped the scan early: what was returned before stays remembered.
            keep |= returned
        return Page(items=items, cursor=_write_cursor(newest, keep))

    def _author(self, actor: dict[str, Any]) -> Author:
        handle = str(actor.get("handle") or actor.get("did") or "")
        return Author(
            remote_id=str(actor.get("did") or ""),
            handle=handle,
            display_name=str(actor.get("displayName") or ""),
            avatar_url=str(actor.get("avatar") or ""),
            url=f"{APP_URL}/profile/{handle}",
        )

    def _post_ref(self, uri: str, cid: str, record: dict[str, Any], handle: str) -> RemoteRef:
        """How to reply to a post: its strong ref and its thread's root."""
        root = (record.get("reply") or {}).get("root") or {}
        return RemoteRef(
            remote_id=uri,
            url=post_url(uri, handle),
            extra={
                "cid": cid,
                "root_uri": str(root.get("uri") or uri),
                "root_cid": str(root.get("cid") or cid),
            },
        )

    def _interaction(self, notification: dict[str, Any]) -> Interaction | None:
        kind = _REASONS.get(str(notification.get("reason") or ""))
        if kind is None:
            return None  # starter-pack joins, likes of reposts, verification notices…
        uri = str(notification.get("uri") or "")
        cid = str(notification.get("cid") or "")
        author = self._author(notification.get("author") or {})
        record = notification.get("record") or {}
        created = (
            _parse_time(record.get("createdAt"))
            or _parse_time(notification.get("indexedAt"))
            or timezone.now()
        )
        subject = str(notification.get("reasonSubject") or "")
        own_handle = str(self.credentials.data.get("handle") or "")
        post = RemoteRef(remote_id=subject, url=post_url(subject, own_handle)) if subject else None
        if kind in (InteractionKind.LIKE, InteractionKind.REPOST, InteractionKind.FOLLOW):
            # The like/repost/follow record itself: there is nothing to reply to.
            return Interaction(
                remote_id=uri, kind=kind, author=author, created_at=created, post=post
            )
        parent_ref = (record.get("reply") or {}).get("parent") or {}
        parent = None
        if parent_ref.get("uri"):
            parent = RemoteRef(
                remote_id=str(parent_ref["uri"]),
                url=post_url(str(parent_ref["uri"])),
                extra={"cid": str(parent_ref.get("cid") or "")},
            )
        if kind == InteractionKind.REPLY and post is None and parent is not None:
            post = parent
        ref = self._post_ref(uri, cid, record, author.handle)
        langs = record.get("langs") or []
        return Interaction(
            remote_id=uri,
            kind=kind,
            author=author,
            created_at=created,
            text=str(record.get("text") or ""),
            url=ref.url,
            post=post,
            parent=parent,
            ref=ref,
            language=str(langs[0]) if langs else "",
        )

    def search(self, query: str, cursor: str = "") -> Page[Interaction]:
        """Posts matching ``query`` (app.bsky.feed.searchPosts), newest first."""
        params: dict[str, Any] = {"q": query, "limit": SEARCH_PAGE, "sort": "latest"}
        if cursor:
            params["cursor"] = cursor
        answer = self._call("GET", "app.bsky.feed.searchPosts", params=params)
        items: list[Interaction] = []
        for post in answer.get("posts") or []:
            uri = str(post.get("uri") or "")
            record = post.get("record") or {}
            author = self._author(post.get("author") or {})
            ref = self._post_ref(uri, str(post.get("cid") or ""), record, author.handle)
            parent_ref = (record.get("reply") or {}).get("parent") or {}
            langs = record.get("langs") or []
            items.append(
                Interaction(
                    remote_id=uri,
                    kind=InteractionKind.MENTION,
                    author=author,
                    created_at=_parse_time(record.get("createdAt"))
                    or _parse_time(post.get("indexedAt"))
                    or timezone.now(),
                    text=str(record.get("text") or ""),
                    url=ref.url,
                    parent=RemoteRef(remote_id=str(parent_ref["uri"]))
                    if parent_ref.get("uri")
                    else None,
                    ref=ref,
                    language=str(langs[0]) if langs else "",
                )
            )
        return Page(items=items, cursor=str(answer.get("cursor") or ""))


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _digest(uri: str) -> str:
    """Six bytes of SHA-256: unique enough among one account's notifications of minutes."""
    return base64.urlsafe_b64encode(hashlib.sha256(uri.encode()).digest()[:6]).decode()


def _read_cursor(cursor: str) -> tuple[datetime | None, set[str]]:
    if not cursor:
        return None, set()
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        mark = _parse_time(data["t"])
        returned = {str(digest) for digest in data.get("s", [])}
    except (ValueError, KeyError, TypeError, binascii.Error):
        mark = None
    if mark is None:
        raise Rejected(f"The {LABEL} inbox position “{cursor[:40]}” is not one Minbar wrote.")
    return mark, returned


def _write_cursor(mark: datetime, returned: set[str]) -> str:
    stamp = mark.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    raw = json.dumps({"t": stamp, "s": sorted(returned)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
