"""Google's errors mapped onto Minbar's taxonomy, against the fake and on recorded answers.

Error envelope: https://cloud.google.com/apis/design/errors; reasons:
https://github.com/googleapis/googleapis/blob/master/google/api/error_reason.proto;
quotas: https://developers.google.com/my-business/content/limits.
"""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from minbar.connectors.errors import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.google_business import GoogleBusinessConnector
from minbar.connectors.google_business.failures import parse_error, translate
from minbar.connectors.google_business.tests.conftest import Connected
from minbar.connectors.google_business.tests.fake import FakeBusinessProfile
from minbar.connectors.types import Credentials, PostRequest


def test_the_per_minute_quota_is_rate_limited_for_the_seconds_google_says(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    fake.quota_per_minute, fake.minute = 1, 1
    shop.connector.publish(PostRequest(text="first"))  # v4's one request this minute
    with pytest.raises(RateLimited) as caught:
        shop.connector.publish(PostRequest(text="second"))
    assert caught.value.retry_after == 17.0
    assert "RATE_LIMIT_EXCEEDED" in caught.value.detail


def test_a_429_without_retry_after_waits_the_minute_the_quota_lasts(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    fake.fail("GET", "/v1/locations/", status=429, message="Resource has been exhausted")
    with pytest.raises(RateLimited) as caught:
        shop.connector.verify()
    assert caught.value.retry_after == 60.0


def test_a_project_google_has_not_approved_yet_is_told_what_to_do(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    fake.quota_per_minute = 0
    with pytest.raises(Rejected) as caught:
        shop.connector.publish(PostRequest(text="hello"))
    assert "0 requests a minute" in caught.value.message
    assert "docs/networks/google_business.md" in caught.value.message


def test_an_api_not_enabled_in_the_cloud_project_is_named(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    fake.fail(
        "GET",
        "/v1/locations/",
        status=403,
        message="My Business Business Information API has not been used in project 1234.",
        reason="SERVICE_DISABLED",
        metadata={"service": "mybusinessbusinessinformation.googleapis.com"},
    )
    with pytest.raises(
        Rejected, match=r"mybusinessbusinessinformation\.googleapis\.com is not enabled"
    ):
        shop.connector.verify()


def test_losing_access_to_the_location_is_a_refusal_with_google_words(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    shop.business.user.accounts.clear()
    with pytest.raises(Rejected) as caught:
        shop.connector.publish(PostRequest(text="hello"))
    assert caught.value.status == 403
    assert "owner or manager" in caught.value.message
    assert "The caller does not have permission" in caught.value.message


def test_a_token_without_the_scope_asks_to_reconnect_and_allow(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    token = fake.issue_token(shop.business.user, scopes=("openid",))
    shop.connector.credentials.secrets["access_token"] = token
    with pytest.raises(Rejected, match="allow Minbar to manage"):
        shop.connector.verify()


def test_a_401_that_survives_a_refresh_means_reconnect(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    fake.fail("GET", "/v1/locations/", status=401, message="Invalid Credentials", count=2)
    with pytest.raises(AuthExpired, match="Reconnect"):
        shop.connector.verify()


def test_a_5xx_on_a_write_is_an_unknown_outcome_and_on_a_read_a_temporary_error(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    fake.fail("POST", f"/v4/{shop.parent}/localPosts", status=500)
    with pytest.raises(OutcomeUnknown):
        shop.connector.publish(PostRequest(text="maybe"))
    fake.fail(
        "POST", f"/v4/{shop.parent}/localPosts", status=503, message="The service is unavailable."
    )
    with pytest.raises(TemporaryError):
        shop.connector.publish(PostRequest(text="not made"))
    fake.fail("GET", "/v1/locations/", status=500)
    with pytest.raises(TemporaryError):
        shop.connector.verify()


def test_a_deleted_location_is_not_found(shop: Connected, fake: FakeBusinessProfile) -> None:
    fake.location_accounts.pop(shop.result.account.remote_id)
    with pytest.raises(Rejected, match="cannot find it") as caught:
        shop.connector.verify()
    assert caught.value.status == 404


def test_nothing_listening_is_temporary_and_nothing_was_sent(
    app: dict[str, str], settings: Any
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connector = GoogleBusinessConnector(
        server_url=f"http://127.0.0.1:{port}",
        credentials=Credentials(
            secrets={"access_token": "ya29.x", "refresh_token": "1//x"},
            data={"account": "accounts/1", "location": "locations/2"},
        ),
        timeout=2.0,
    )
    with pytest.raises(TemporaryError, match="cannot reach"):
        connector.publish(PostRequest(text="hello"))


def _answer(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers or {})


def test_v4_validation_details_are_read_into_the_message() -> None:
    response = _answer(
        400,
        {
            "error": {
                "code": 400,
                "message": "Request contains an invalid argument.",
                "status": "INVALID_ARGUMENT",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.mybusiness.v4.ValidationError",
                        "errorDetails": [
                            {
                                "code": 3,
                                "field": "summary",
                                "message": "Phone numbers are not allowed",
                            }
                        ],
                    }
                ],
            }
        },
    )
    error = translate(response, writes=True)
    assert isinstance(error, Rejected)
    assert "summary: Phone numbers are not allowed" in error.message
    assert "INVALID_ARGUMENT" in error.detail


def test_field_violations_and_error_info_metadata_are_read() -> None:
    parsed = parse_error(
        _answer(
            429,
            {
                "error": {
                    "code": 429,
                    "message": "Quota exceeded",
                    "status": "RESOURCE_EXHAUSTED",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "RATE_LIMIT_EXCEEDED",
                            "metadata": {"quota_limit_value": "300"},
                        },
                        {
                            "@type": "type.googleapis.com/google.rpc.BadRequest",
                            "fieldViolations": [{"field": "pageSize", "description": "too big"}],
                        },
                    ],
                }
            },
        )
    )
    assert parsed.reason == "RATE_LIMIT_EXCEEDED"
    assert parsed.metadata == {"quota_limit_value": "300"}
    assert parsed.problems == ("pageSize: too big",)


def test_an_answer_that_is_not_json_is_still_an_error_with_its_status() -> None:
    error = translate(httpx.Response(502, text="<html>Bad Gateway</html>"), writes=True)
    assert isinstance(error, OutcomeUnknown)
    error = translate(httpx.Response(502, text="<html>Bad Gateway</html>"))
    assert isinstance(error, TemporaryError)
