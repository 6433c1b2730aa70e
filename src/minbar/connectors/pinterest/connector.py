"""The Pinterest connector: one Pinterest account, pinning to one board (or section).

It follows the Pinterest API v5 (https://developers.pinterest.com/docs/api/v5/); the
user guide is ``docs/networks/pinterest.md``. Module by module:

* :mod:`.oauth` — sign-in, code exchange and continuous refresh tokens;
* :mod:`.boards` — the boards and sections a channel can pin to (the choice after sign-in);
* :mod:`.media` — images as base64, videos through ``/v5/media`` uploads;
* :mod:`.text` — a post's text as the Pin's title and description;
* :mod:`.failures` — Pinterest's ``{"code", "message"}`` errors as Minbar's taxonomy;
* :mod:`.mapping` — accounts, Pins and analytics in Minbar's words.

What the connector keeps in ``Credentials``:

* ``secrets``: ``access_token`` (30 days) and ``refresh_token`` (60 days, renewed by
  every refresh);
* ``data``: ``user_id``, ``username``, ``account_type`` (BUSINESS or PINNER),
  ``scopes`` (as granted), ``refresh_expires_at``, the destination (``board_id``,
  ``board_name``, ``section_id``, ``section_name``) and ``attempts`` — what each
  recent idempotency key sent, for :meth:`PinterestConnector.lookup`.

Pinterest has no comments, mentions or messages in API v5 and no search of other
people's Pins, so the connector declares no interactions and no search.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext_lazy as _

from minbar.connectors.apps import require_app
from minbar.connectors.base import Connector, OAuthStart
from minbar.connectors.errors import (
    AuthExpired,
    OutcomeUnknown,
    Rejected,
    TemporaryError,
)
from minbar.connectors.http import check_outbound_url
from minbar.connectors.pinterest import boards, media, oauth
from minbar.connectors.pinterest.api import PinterestAPI
from minbar.connectors.pinterest.failures import LABEL
from minbar.connectors.pinterest.mapping import (
    ACCOUNT_ANALYTICS,
    PIN_METRICS,
    account_count_values,
    account_info,
    analytics_values,
    pin_url,
    remote_post,
    when,
)
from minbar.connectors.pinterest.text import (
    ALT_TEXT_MAX,
    DESCRIPTION_MAX,
    text_problems,
    title_and_description,
)
from minbar.connectors.types import (
    AccountInfo,
    AuthKind,
    Capabilities,
    ConnectResult,
    Credentials,
    MediaItem,
    MediaRules,
    Metrics,
    PostRequest,
    PostType,
    PublishResult,
    RateLimitRule,
    RemotePost,
    TextCounting,
    TextRules,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DEFAULT_API = "https://api.pinterest.com"
# Refresh the access token when it expires within this (the channels task runs often).
REFRESH_AHEAD = timedelta(minutes=30)
TOKEN_SLACK = timedelta(seconds=60)
# Analytics: "Cannot be more than 90 days back from today" (pins/analytics).
PIN_ANALYTICS_DAYS = 89
ACCOUNT_ANALYTICS_DAYS = 29  # account impressions are the last 30 days, as Pinterest shows them
# What lookup reads of the board, and how far before the attempt a Pin may be dated.
LOOKUP_PAGE = 50
LOOKUP_SLACK = timedelta(minutes=5)
# Attempts remembered by idempotency key, and for how long.
ATTEMPT_MEMORY = 50
ATTEMPT_DAYS = 7


class PinterestConnector(Connector):
    network: ClassVar[str] = "pinterest"
    capabilities: ClassVar[Capabilities] = Capabilities(
        network="pinterest",
        label="Pinterest",
        auth=AuthKind.OAUTH2,
        # The whole text (title line and description) within 500 characters, see .text.
        text=TextRules(max_length=DESCRIPTION_MAX, counting=TextCounting.CHARACTERS),
        media=MediaRules(
            image_types=media.IMAGE_TYPES,
            video_types=media.VIDEO_TYPES,
            max_images=media.MAX_CAROUSEL,
            max_videos=1,
            max_image_bytes=media.MAX_IMAGE_BYTES,
            max_video_bytes=media.MAX_VIDEO_BYTES,
            # With a video, one image is its cover (see .media).
            mix_images_and_video=True,
            alt_text=True,
            alt_text_max_length=ALT_TEXT_MAX,
            media_required=True,
        ),
        pkce=False,
        default_server_url=DEFAULT_API,
        # LINK: the Pin's destination link (a Pin still needs an image or a video).
        post_types=frozenset({PostType.IMAGE, PostType.GALLERY, PostType.VIDEO, PostType.LINK}),
        post_metrics=frozenset(PIN_METRICS.values()),
        account_metrics=frozenset({"followers", "following", "posts", "impressions"}),
        # https://developers.pinterest.com/docs/reference/rate-limits/ — Standard access;
        # each category (org_read, org_write, org_analytics) has its own per-minute limit.
        rate_limits=(RateLimitRule("request", 100, 1, "account"),),
        docs_url="https://developers.pinterest.com/docs/api/v5/",
        setup_doc="docs/networks/pinterest.md",
    )
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = (
        _("Minbar opens Pinterest: sign in with the business account to connect."),
        _("Allow the access Minbar asks for; Pinterest sends you back here."),
        _("Choose the board (or board section) this channel's Pins go to."),
    )

    # Pinterest cannot find a Pin by Minbar's key: lookup matches the board's latest
    # Pins by text and time, so a "not found" never proves a Pin was not created.
    lookup_authoritative_seconds: ClassVar[float] = 0.0
    # Video processing checks (media/get): the quick-start polls with a backoff.
    media_poll_interval: float = 5.0
    media_timeout: float = 600.0

    def __init__(
        self,
        server_url: str = "",
        credentials: Credentials | None = None,
        *,
        timeout: float = 20.0,
        on_credentials_change: Callable[[Credentials], None] | None = None,
    ) -> None:
        super().__init__(
            server_url, credentials, timeout=timeout, on_credentials_change=on_credentials_change
        )
        self._api_client: PinterestAPI | None = None

    # -- plumbing -------------------------------------------------------------

    def _app(self) -> dict[str, str]:
        return require_app(self.network, LABEL)

    def _authorize_base(self) -> str:
        """www.pinterest.com's consent page, or the fake's when the API URL is overridden."""
        if self.server_url.rstrip("/") == DEFAULT_API:
            return oauth.AUTHORIZE_URL
        return f"{self.server_url}/oauth/"

    def _api(self) -> PinterestAPI:
        if self._api_client is None:
            self._api_client = PinterestAPI(
                self.server_url, self._fresh_token, timeout=self.timeout
            )
        return self._api_client

    def close(self) -> None:
        if self._api_client is not None:
            self._api_client.close()
            self._api_client = None

    def _fresh_token(self, force: bool = False) -> str:
        token = self.credentials.secrets.get("access_token", "")
        if not token and not self.credentials.secrets.get("refresh_token"):
            raise AuthExpired(f"{LABEL}: this account is not connected. Reconnect it.")
        expires = self.credentials.expires_at
        if force or not token or (expires is not None and expires - TOKEN_SLACK <= _now()):
            self._credentials_changed(self._refreshed())
            token = self.credentials.secrets["access_token"]
        return token

    def _refreshed(self) -> Credentials:
        return oauth.refresh(
            check_outbound_url(self.server_url),
            app=self._app(),
            refresh_token=self.credentials.secrets.get("refresh_token", ""),
            timeout=self.timeout,
        )

    def _persist(self, **data: Any) -> None:
        """Save data with the credentials at once (another worker may need it)."""
        self._credentials_changed(Credentials(data=data))

    # -- connecting -----------------------------------------------------------

    def start_oauth(
        self, redirect_uri: str, state: str, app: dict[str, str] | None = None
    ) -> OAuthStart:
        app = app if app and app.get("client_id") else self._app()
        url = oauth.authorize_url(
            self._authorize_base(),
            client_id=app["client_id"],
            redirect_uri=redirect_uri,
            state=state,
        )
        # No app in the OAuthStart: the install-wide app is read from the environment.
        return OAuthStart(url=url, state=state)

    def finish_oauth(self, redirect_uri: str, code: str, start: OAuthStart) -> ConnectResult:
        """Code → tokens → the account, its boards and sections (the choices)."""
        app = self._app()
        self.credentials = oauth.exchange_code(
            check_outbound_url(self.server_url),
            app=app,
            redirect_uri=redirect_uri,
            code=code,
            timeout=self.timeout,
        )
        self._api_client = None
        missing = [s for s in oauth.REQUIRED_SCOPES if s not in self._scopes()]
        if missing:
            raise Rejected(
                f"{LABEL}: Minbar needs {', '.join(missing)} to publish Pins, and the sign-in "
                "did not grant it. Connect again and allow everything Minbar asks for."
            )
        account = self._account()
        found = boards.destinations(self._api())
        chosen = found[0] if found else None
        self.credentials = self.credentials.merged(
            Credentials(data=self._identity(account) | _destination_data(chosen))
        )
        info = account_info(account)
        choices = [d.as_choice(info.handle) for d in found[1:]]
        choices.append(boards.new_board_choice())
        return ConnectResult(
            account=_with_destination(info, chosen),
            credentials=self.credentials,
            choices=tuple(choices),
        )

    def connect_choice(self, remote_id: str) -> ConnectResult:
        """Pin to another board or section of the same account (or a new "Minbar" board)."""
        destination = boards.resolve(self._api(), remote_id)
        account = self._account()
        self.credentials = self.credentials.merged(
            Credentials(data=self._identity(account) | destination.as_data())
        )
        return ConnectResult(
            account=_with_destination(account_info(account), destination),
            credentials=self.credentials,
        )

    def _identity(self, account: Mapping[str, Any]) -> dict[str, Any]:
        info = account_info(account)
        return {
            "user_id": info.remote_id,
            "username": info.handle,
            "account_type": str(account.get("account_type") or ""),
        }

    def _account(self) -> dict[str, Any]:
        """``GET /v5/user_account`` (user_accounts:read)."""
        return self._api().get("user_account")

    def _scopes(self) -> set[str]:
        return set(self.credentials.data.get("scopes") or oauth.SCOPES)

    def refresh(self) -> Credentials | None:
        """A new access token (and refresh token) once the access token expires soon.

        The refresh token is renewed too (continuous refresh), so a channel that
        refreshes in time never needs signing in again; a refused refresh is
        :class:`AuthExpired`.
        """
        if not self.credentials.secrets.get("refresh_token"):
            return None
        now = _now()
        expires = self.credentials.expires_at
        refresh_until = when(self.credentials.data.get("refresh_expires_at"))
        due = expires is not None and expires - now <= REFRESH_AHEAD
        if refresh_until is not None and refresh_until - now <= REFRESH_AHEAD:
            due = True
        if not due:
            return None
        return self._refreshed()

    def verify(self) -> AccountInfo:
        info = account_info(self._account())
        return _with_destination(info, _stored_destination(self.credentials.data))

    # -- publishing -----------------------------------------------------------

    def publish(self, request: PostRequest) -> PublishResult:
        """``POST /v5/pins`` on the channel's board; a video is uploaded first."""
        data = self.credentials.data
        destination = _stored_destination(data)
        if destination is None:
            raise Rejected(
                f"{LABEL}: this channel has no board to pin to. Create a board on Pinterest, "
                "then connect the account again and choose it."
            )
        problems = self._problems(request)
        if problems:
            raise Rejected(" ".join(problems))
        key = request.idempotency_key
        attempt = self._attempts().get(key) if key else None
        if attempt and attempt.get("pin_id"):
            return self._result(str(attempt["pin_id"]), attempt.get("created_at"))
        title, description = title_and_description(request.text)
        videos = [m for m in request.media if media.is_video(m)]
        images = [m for m in request.media if not media.is_video(m)]
        if videos:
            media_id = self._uploaded_video(videos[0], key)
            source = media.video_source(media_id, images[0] if images else None)
        else:
            source = media.image_source(images)
        body: dict[str, Any] = {
            "board_id": destination.board_id,
            "media_source": source,
        }
        if destination.section_id:
            body["board_section_id"] = destination.section_id
        if title:
            body["title"] = title
        if description:
            body["description"] = description
        if request.link:
            body["link"] = request.link
        if alt := media.alt_text(request.media):
            body["alt_text"] = alt
        if key:
            self._remember(
                key,
                board_id=destination.board_id,
                section_id=destination.section_id,
                title=title,
                description=description,
                link=request.link,
                started=time.time(),
            )
        pin = self._api().call("POST", "pins", json_body=body, writes=True)
        pin_id = str(pin.get("id") or "") if isinstance(pin, dict) else ""
        if not pin_id:
            raise OutcomeUnknown(f"{LABEL} did not say which Pin it created.", detail=str(pin))
        if key:
            self._remember(key, pin_id=pin_id, created_at=str(pin.get("created_at") or ""))
        return self._result(pin_id, pin.get("created_at"))

    def _result(self, pin_id: str, created_at: Any) -> PublishResult:
        return PublishResult(
            remote_id=pin_id, url=pin_url(pin_id), published_at=when(created_at) or _now()
        )

    def _problems(self, request: PostRequest) -> list[str]:
        problems = text_problems(request.text, request.link)
        problems += media.media_problems(request.media)
        for item in request.media:
            if len(item.alt_text) > ALT_TEXT_MAX:
                problems.append(
                    f"{LABEL}: alt text is {len(item.alt_text)} characters; at most {ALT_TEXT_MAX}."
                )
            if media.is_video(item):
                size = Path(item.path).stat().st_size if Path(item.path).is_file() else 0
                if size > media.MAX_VIDEO_BYTES:
                    problems.append(f"{LABEL}: the video is larger than 2 GB.")
        unsupported = [
            (request.thread, "threads"),
            (request.first_comment, "first comments"),
            (request.reply_to, "replies"),
            (request.quote, "quotes"),
            (request.content_warning, "content warnings"),
        ]
        problems += [f"{LABEL} has no {what}." for value, what in unsupported if value]
        if request.visibility:
            problems.append(
                f"{LABEL}: a Pin is as visible as its board; choose a secret board instead."
            )
        return problems

    def _uploaded_video(self, video: MediaItem, key: str) -> str:
        """A processed video's media id: reused when this attempt already uploaded it."""
        attempt = self._attempts().get(key) if key else None
        media_id = str((attempt or {}).get("media_id") or "")
        if not media_id:
            upload = self._api().call("POST", "media", json_body={"media_type": "video"})
            if not isinstance(upload, dict) or not upload.get("media_id"):
                raise TemporaryError(
                    f"{LABEL} did not register the video upload.", detail=str(upload)[:300]
                )
            media_id = str(upload["media_id"])
            fields = upload.get("upload_parameters") or {}
            self._api().upload_file(
                str(upload.get("upload_url") or ""),
                {str(k): str(v) for k, v in dict(fields).items()},
                Path(video.path),
                video.mime_type,
            )
            if key:
                self._remember(key, media_id=media_id, started=time.time())
        self._wait_processed(media_id, key)
        return media_id

    def _wait_processed(self, media_id: str, key: str) -> None:
        """``GET /v5/media/{media_id}`` until ``succeeded`` — bounded by :attr:`media_timeout`."""
        deadline = time.monotonic() + self.media_timeout
        while True:
            status = str(self._api().get(f"media/{media_id}").get("status") or "")
            if status == "succeeded":
                return
            if status == "failed":
                if key:
                    self._remember(key, media_id="")  # a new upload next time
                raise Rejected(
                    f"{LABEL} could not process the video. Check its format (MP4, MOV or M4V, "
                    "H.264 or H.265) and length, then try again.",
                    detail=f"media {media_id}: failed",
                )
            if time.monotonic() >= deadline:
                raise TemporaryError(
                    f"{LABEL} is still processing the video; Minbar will check again.",
                    detail=f"media {media_id}: {status or 'no status'} after "
                    f"{self.media_timeout:.0f} s",
                )
            time.sleep(self.media_poll_interval)

    def delete(self, remote_id: str) -> None:
        """``DELETE /v5/pins/{pin_id}``; a Pin already gone counts as deleted."""
        try:
            self._api().call("DELETE", f"pins/{remote_id}")
        except Rejected as exc:
            if exc.status != 404:
                raise

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        """Did the Pin go out? By its id, or by what the key's attempt sent.

        Pinterest cannot find a Pin by Minbar's key and Minbar embeds nothing in
        Pins, so the attempt (saved with the credentials before sending) names the
        board, the title, description and link, and the time: the board's latest
        Pins (``GET /v5/boards/{board_id}/pins``, or the section's) are matched on
        those, created no earlier than a few minutes before the attempt.
        """
        if remote_id:
            try:
                pin = self._api().get(f"pins/{remote_id}")
            except Rejected as exc:
                if exc.status == 404:
                    return None
                raise
            return remote_post(pin)
        attempt = self._attempts().get(idempotency_key) if idempotency_key else None
        if not attempt:
            return None
        if attempt.get("pin_id"):
            return self.lookup(remote_id=str(attempt["pin_id"]))
        board_id = str(attempt.get("board_id") or "")
        if not board_id:
            return None
        section_id = str(attempt.get("section_id") or "")
        path = (
            f"boards/{board_id}/sections/{section_id}/pins"
            if section_id
            else f"boards/{board_id}/pins"
        )
        since = datetime.fromtimestamp(float(attempt.get("started") or 0), UTC) - LOOKUP_SLACK
        body = self._api().get(path, page_size=LOOKUP_PAGE)
        for pin in body.get("items") or []:
            if not isinstance(pin, dict) or not _same_pin(pin, attempt):
                continue
            created = when(pin.get("created_at"))
            if created is not None and created < since:
                continue
            found = remote_post(pin)
            self._remember(idempotency_key, pin_id=found.remote_id)
            return found
        return None

    def _attempts(self) -> dict[str, dict[str, Any]]:
        raw = self.credentials.data.get("attempts")
        return {str(k): dict(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}

    def _remember(self, key: str, **values: Any) -> None:
        attempts = self._attempts()
        attempts[key] = {**attempts.get(key, {}), **values}
        cutoff = time.time() - ATTEMPT_DAYS * 86400
        kept = {
            k: v for k, v in attempts.items() if float(v.get("started") or time.time()) >= cutoff
        }
        self._persist(attempts=dict(list(kept.items())[-ATTEMPT_MEMORY:]))

    # -- measuring ------------------------------------------------------------

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        """``GET /v5/pins/{pin_id}/analytics`` per Pin: lifetime figures where Pinterest has them.

        A Pin deleted since is left out; when Pinterest refuses analytics for the
        account (403), the Pins have no figures rather than zeros.
        """
        today = _today()
        params: dict[str, str | int] = {
            "start_date": (today - timedelta(days=PIN_ANALYTICS_DAYS)).isoformat(),
            "end_date": today.isoformat(),
            "metric_types": ",".join(PIN_METRICS),
            "app_types": "ALL",
        }
        found: dict[str, Metrics] = {}
        for remote_id in dict.fromkeys(i for i in remote_ids if i):
            try:
                body = self._api().get(f"pins/{remote_id}/analytics", **params)
            except Rejected as exc:
                if exc.status in (403, 404):
                    continue
                raise
            found[remote_id] = Metrics(
                values=analytics_values(body, PIN_METRICS), fetched_at=_now()
            )
        return found

    def account_metrics(self) -> Metrics:
        """Followers, following and Pins from the account; impressions over the last 30 days."""
        values = account_count_values(self._account())
        today = _today()
        try:
            body = self._api().get(
                "user_account/analytics",
                start_date=(today - timedelta(days=ACCOUNT_ANALYTICS_DAYS)).isoformat(),
                end_date=today.isoformat(),
                metric_types=",".join(ACCOUNT_ANALYTICS),
            )
        except Rejected as exc:
            if exc.status != 403:
                raise
            body = {}
        values.update(analytics_values(body, ACCOUNT_ANALYTICS))
        return Metrics(values=values, fetched_at=_now())


# -- helpers ------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _today() -> date:
    return _now().date()


def _stored_destination(data: Mapping[str, Any]) -> boards.Destination | None:
    board_id = str(data.get("board_id") or "")
    if not board_id:
        return None
    return boards.Destination(
        board_id=board_id,
        board_name=str(data.get("board_name") or ""),
        section_id=str(data.get("section_id") or ""),
        section_name=str(data.get("section_name") or ""),
    )


def _destination_data(destination: boards.Destination | None) -> dict[str, str]:
    if destination is None:
        return {"board_id": "", "board_name": "", "section_id": "", "section_name": ""}
    return destination.as_data()


def _with_destination(info: AccountInfo, destination: boards.Destination | None) -> AccountInfo:
    """The account as one channel per board: named and identified by the board its Pins go to.

    Each board (or section) is a channel of its own, as in Buffer and Hootsuite:
    its id is the board's choice id, so the channels app's picker knows which
    boards are already connected; the Pinterest user id stays in the credentials.
    """
    if destination is None or not destination.label:
        return info
    name = info.display_name or info.handle
    return AccountInfo(
        remote_id=destination.choice_id,
        handle=info.handle,
        display_name=f"{name} · {destination.label}",
        avatar_url=info.avatar_url,
        url=info.url,
        followers=info.followers,
    )


def _same_pin(pin: Mapping[str, Any], attempt: Mapping[str, Any]) -> bool:
    def norm(value: Any) -> str:
        return str(value or "").strip().rstrip("/")

    return (
        norm(pin.get("title")) == norm(attempt.get("title"))
        and norm(pin.get("description")) == norm(attempt.get("description"))
        and norm(pin.get("link")) == norm(attempt.get("link"))
    )
