"""Pieces of the connector that need no server: error mapping, rate-limit waits, mapping, OAuth."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from mastodon import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonInternalServerError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServiceUnavailableError,
    MastodonUnauthorizedError,
    MastodonVersionError,
)

from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.mastodon import oauth
from minbar.connectors.mastodon.connector import (
    MastodonConnector,
    _mention_accts,
    _newest_id,
    _with_mentions,
    normalize_server_url,
)
from minbar.connectors.mastodon.failures import retry_after_from_headers, translate
from minbar.connectors.mastodon.mapping import (
    full_handle,
    html_to_text,
    interaction_from_notification,
    narrowest_visibility,
)
from minbar.connectors.mastodon.tests import mockserver
from minbar.connectors.registry import get_connector
from minbar.connectors.types import InteractionKind

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
LABEL = "Mastodon (social.example)"


def api_error(cls: type[MastodonAPIError], status: int, error: str | None) -> MastodonAPIError:
    """What Mastodon.py raises for an HTTP error (``internals.__api_request``)."""
    return cls("Mastodon API returned error", status, "Reason", error)


def network_error(cause: Exception) -> MastodonNetworkError:
    """Mastodon.py wraps requests' exception, which stays as ``__context__``."""
    try:
        try:
            raise cause
        except Exception as exc:
            raise MastodonNetworkError(f"Could not complete request: {exc}")  # noqa: B904
    except MastodonNetworkError as wrapped:
        return wrapped


def mapped(exc: MastodonError, *, creates: bool = False) -> ConnectorError:
    return translate(exc, label=LABEL, creates=creates)


# -- rate-limit waits ----------------------------------------------------------


def test_the_wait_comes_from_x_ratelimit_reset() -> None:
    reset = (NOW + timedelta(seconds=42)).isoformat().replace("+00:00", "Z")
    assert retry_after_from_headers({"X-RateLimit-Reset": reset}, now=NOW) == 42
    # Mastodon's own format carries microseconds.
    assert retry_after_from_headers(
        {"x-ratelimit-reset": "2025-03-01T12:05:00.000000Z"}, now=NOW
    ) == pytest.approx(300)
    # It wins over Retry-After, which Mastodon does not document.
    assert (
        retry_after_from_headers({"X-RateLimit-Reset": reset, "Retry-After": "999"}, now=NOW) == 42
    )
    # Epoch seconds (GoToSocial).
    epoch = str(int((NOW + timedelta(seconds=90)).timestamp()))
    assert retry_after_from_headers({"X-RateLimit-Reset": epoch}, now=NOW) == 90
    # A reset in the past means "go ahead".
    assert retry_after_from_headers({"X-RateLimit-Reset": "2025-03-01T11:00:00Z"}, now=NOW) == 0


def test_a_wrong_local_clock_is_corrected_with_the_date_header() -> None:
    reset = "2025-03-01T12:01:00Z"
    server_date = format_datetime(NOW, usegmt=True)
    # Local clock an hour fast: measure from the server's Date.
    late = NOW + timedelta(hours=1)
    assert (
        retry_after_from_headers({"X-RateLimit-Reset": reset, "Date": server_date}, now=late) == 60
    )
    # A second or two of Date jitter is ignored.
    near = NOW + timedelta(seconds=1.5)
    assert retry_after_from_headers(
        {"X-RateLimit-Reset": reset, "Date": server_date}, now=near
    ) == pytest.approx(58.5)


def test_without_a_reset_header_retry_after_then_the_default() -> None:
    assert retry_after_from_headers({"Retry-After": "17"}, now=NOW) == 17
    assert retry_after_from_headers({}, now=NOW) == 300
    assert retry_after_from_headers({"X-RateLimit-Reset": "soon"}, now=NOW) == 300


# -- error mapping -------------------------------------------------------------


def test_rate_limit_error_is_rate_limited_with_the_default_wait() -> None:
    error = mapped(MastodonRatelimitError("Hit rate limit."))
    assert isinstance(error, RateLimited)
    assert error.retry_after == 300 and error.status == 429


@pytest.mark.parametrize(
    ("exc", "creates", "expected", "message"),
    [
        (
            api_error(MastodonUnauthorizedError, 401, "The access token is invalid"),
            False,
            AuthExpired,
            f"{LABEL} no longer accepts Minbar's access to this account: "
            "The access token is invalid. Reconnect the account.",
        ),
        (
            api_error(MastodonAPIError, 403, "This action is outside the authorized scopes"),
            False,
            AuthExpired,
            f"{LABEL} refuses this account's access: This action is outside the authorized "
            "scopes. Reconnect the account, or ask the instance's staff if the account is "
            "limited.",
        ),
        (
            api_error(MastodonAPIError, 403, "Your login is currently disabled"),
            True,
            AuthExpired,
            None,
        ),
        (
            api_error(MastodonAPIError, 403, "This action is not allowed"),
            False,
            Rejected,
            f"{LABEL} does not allow this: This action is not allowed.",
        ),
        (
            api_error(MastodonNotFoundError, 404, "Record not found"),
            False,
            Rejected,
            f"{LABEL} cannot find it; it may have been deleted: Record not found.",
        ),
        (
            api_error(
                MastodonAPIError, 422, "Validation failed: Text character limit of 500 exceeded"
            ),
            True,
            Rejected,
            f"{LABEL} refused it: Validation failed: Text character limit of 500 exceeded.",
        ),
        (api_error(MastodonInternalServerError, 500, None), True, OutcomeUnknown, None),
        (api_error(MastodonInternalServerError, 500, None), False, TemporaryError, None),
        (api_error(MastodonServiceUnavailableError, 503, None), True, TemporaryError, None),
        (
            MastodonAPIError("Could not parse response as JSON, response code was 200", "x"),
            True,
            OutcomeUnknown,
            None,
        ),
        (
            MastodonAPIError("Could not parse response as JSON, response code was 200", "x"),
            False,
            TemporaryError,
            None,
        ),
        (MastodonVersionError("too old"), False, NotSupported, None),
        (MastodonIllegalArgumentError("bad mime"), True, Rejected, None),
    ],
)
def test_api_errors_map_to_the_taxonomy(
    exc: MastodonError, creates: bool, expected: type[ConnectorError], message: str | None
) -> None:
    error = mapped(exc, creates=creates)
    assert type(error) is expected
    if message is not None:
        assert error.message == message
    if len(exc.args) > 1 and isinstance(exc.args[1], int):
        assert error.status == exc.args[1]


def test_network_errors_depend_on_whether_the_post_may_have_been_sent() -> None:
    read_timeout = network_error(requests.exceptions.ReadTimeout("Read timed out."))
    assert isinstance(mapped(read_timeout, creates=True), OutcomeUnknown)
    assert isinstance(mapped(read_timeout), TemporaryError)
    connect_timeout = network_error(requests.exceptions.ConnectTimeout("timed out"))
    assert isinstance(mapped(connect_timeout, creates=True), TemporaryError)
    refused = network_error(
        requests.exceptions.ConnectionError("NewConnectionError: [Errno 111] Connection refused")
    )
    assert isinstance(mapped(refused, creates=True), TemporaryError)
    reset = network_error(requests.exceptions.ConnectionError("Connection aborted."))
    assert isinstance(mapped(reset, creates=True), OutcomeUnknown)


# -- mapping -------------------------------------------------------------------

FAN = {
    "id": "7",
    "username": "fan",
    "acct": "fan@elsewhere.example",
    "display_name": "A Fan",
    "avatar": "https://elsewhere.example/a.png",
    "url": "https://elsewhere.example/@fan",
    "followers_count": 12,
}


def test_quote_notifications_point_at_the_quoted_post() -> None:
    item = interaction_from_notification(
        {
            "id": "100",
            "type": "quote",
            "created_at": "2025-03-01T10:00:00.000Z",
            "account": FAN,
            "status": {
                "id": "55",
                "content": "<p>So true</p>",
                "url": "https://elsewhere.example/@fan/55",
                "visibility": "public",
                "account": FAN,
                "quote": {"state": "accepted", "quoted_status": {"id": "9", "url": "u9"}},
            },
        },
        own_account_id="1",
        domain="social.example",
    )
    assert item is not None
    assert item.kind == InteractionKind.QUOTE
    assert (item.remote_id, item.text) == ("55", "So true")
    assert item.post is not None and item.post.remote_id == "9"
    assert item.author.handle == "fan@elsewhere.example"
    assert item.author.followers == 12
    assert item.created_at == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("kind", ["status", "update", "poll", "admin.sign_up"])
def test_other_notification_types_are_not_shown(kind: str) -> None:
    notification = {
        "id": "1",
        "type": kind,
        "created_at": "2025-03-01T10:00:00Z",
        "account": FAN,
        "status": {"id": "2", "content": "", "account": FAN},
    }
    assert interaction_from_notification(notification, own_account_id="1", domain="x") is None


def test_status_html_becomes_plain_text() -> None:
    html = (
        '<p>Hi <span class="h-card"><a href="https://s.example/@me" class="u-url mention">'
        "@<span>me</span></a></span> &amp; all</p><p>line one<br />line two "
        '<a href="https://example.org/a/long/path"><span class="invisible">https://</span>'
        '<span class="ellipsis">example.org/a/lo</span><span class="invisible">ng/path'
        "</span></a></p>"
    )
    assert html_to_text(html) == (
        "Hi @me & all\n\nline one\nline two https://example.org/a/long/path"
    )
    assert html_to_text("") == ""


def test_handles_and_visibility() -> None:
    assert full_handle("alice", "social.example") == "alice@social.example"
    assert full_handle("bob@else.example", "social.example") == "bob@else.example"
    assert narrowest_visibility("public", "direct") == "direct"
    assert narrowest_visibility("private", "unlisted") == "private"
    assert narrowest_visibility("", "unlisted") == "unlisted"
    assert narrowest_visibility("", "") == ""


def test_reply_mentions_everyone_but_ourselves_once() -> None:
    status = {
        "account": {"id": "7", "acct": "fan@elsewhere.example"},
        "mentions": [
            {"id": "1", "acct": "brand"},  # us
            {"id": "8", "acct": "friend"},
            {"id": "7", "acct": "fan@elsewhere.example"},
        ],
    }
    accts = _mention_accts(status, "1")
    assert accts == ["fan@elsewhere.example", "friend"]
    assert _with_mentions("Thanks!", accts) == "@fan@elsewhere.example @friend Thanks!"
    assert _with_mentions("@Friend thanks", accts) == "@fan@elsewhere.example @Friend thanks"
    assert _with_mentions("@friendly hi", ["friend"]) == "@friend @friendly hi"
    assert _mention_accts({"account": {"id": "1", "acct": "brand"}}, "1") == []


def test_newest_id_compares_numbers_as_numbers() -> None:
    assert _newest_id([{"id": "99"}, {"id": "100"}]) == "100"
    assert _newest_id([{"id": "01HZZ"}, {"id": "01HZA"}]) == "01HZZ"  # first = newest
    assert _newest_id([]) == ""


@pytest.mark.parametrize(
    ("typed", "url"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("  https://Mastodon.Social/@me  ", "https://mastodon.social"),
        ("@me@fosstodon.org", "https://fosstodon.org"),
        ("http://127.0.0.1:3000/", "http://127.0.0.1:3000"),
        ("https://[::1]:8443/x", "https://[::1]:8443"),
        ("", ""),
    ],
)
def test_normalize_server_url(typed: str, url: str) -> None:
    assert normalize_server_url(typed) == url


def test_no_server_no_token() -> None:
    with pytest.raises(Rejected, match="Enter your Mastodon instance"):
        MastodonConnector("").start_oauth("https://minbar.example/cb", "s")
    with pytest.raises(AuthExpired):
        MastodonConnector("https://social.example").verify()


def test_registry_finds_the_connector() -> None:
    assert get_connector("mastodon") is MastodonConnector


# -- OAuth ---------------------------------------------------------------------


def test_pkce_pair_is_rfc_7636_s256() -> None:
    verifier, challenge = oauth.pkce_pair()
    assert 43 <= len(verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge == expected.decode()
    assert oauth.pkce_pair()[0] != verifier


def test_authorize_url_carries_state_scopes_and_challenge() -> None:
    info = oauth.ServerInfo(
        "https://s.example/oauth/authorize", "https://s.example/oauth/token", True
    )
    url = oauth.authorize_url(
        info, client_id="cid", redirect_uri="https://m.example/cb", state="st", code_challenge="ch"
    )
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == info.authorize_endpoint
    assert query == {
        "client_id": "cid",
        "response_type": "code",
        "redirect_uri": "https://m.example/cb",
        "scope": " ".join(oauth.SCOPES),
        "state": "st",
        "force_login": "true",
        "code_challenge": "ch",
        "code_challenge_method": "S256",
    }
    plain = oauth.authorize_url(info, client_id="c", redirect_uri="r", state="s")
    assert "code_challenge" not in plain


def test_unreadable_rate_limit_header_on_a_success_is_not_a_rate_limit() -> None:
    # Mastodon.py raises MastodonRatelimitError("Rate limit time calculations
    # failed") even for a 200 when it cannot read X-RateLimit-Reset.
    ok = requests.Response()
    ok.status_code = 200
    exc = MastodonRatelimitError("Rate limit time calculations failed: bad date")
    assert isinstance(translate(exc, label=LABEL, creates=True, response=ok), OutcomeUnknown)
    assert isinstance(translate(exc, label=LABEL, response=ok), TemporaryError)
    limited = requests.Response()
    limited.status_code = 429
    limited.headers["X-RateLimit-Reset"] = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    error = translate(MastodonRatelimitError("Hit rate limit."), label=LABEL, response=limited)
    assert isinstance(error, RateLimited)
    assert 28 <= error.retry_after <= 30


def test_a_mock_server_that_cannot_start_reports_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "mastodon_mock"
    broken.write_text("#!/bin/sh\necho 'address already in use' >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setattr(mockserver, "mock_executable", lambda: broken)
    with pytest.raises(mockserver.MockServerError) as caught:
        mockserver.MockServer.start(tmp_path / "server.log")
    assert "exited with code 3" in str(caught.value)
    assert "address already in use" in str(caught.value)
