"""Pure pieces: the quota day and ledger, titles and descriptions, Google's error bodies."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from minbar.connectors.errors import OutcomeUnknown, RateLimited, Rejected, TemporaryError
from minbar.connectors.registry import get_connector
from minbar.connectors.types import POST_METRIC_KEYS, PostType
from minbar.connectors.youtube import CONNECTOR, YouTubeConnector
from minbar.connectors.youtube.failures import parse_error, translate
from minbar.connectors.youtube.quota import (
    QuotaLedger,
    daily_limits,
    next_reset,
    pacific_day,
    seconds_until_reset,
)
from minbar.connectors.youtube.text import (
    description_bytes,
    problems,
    shorten,
    tags_length,
    title_and_description,
)


def test_the_connector_is_registered_with_honest_capabilities() -> None:
    assert CONNECTOR is YouTubeConnector
    assert get_connector("youtube") is YouTubeConnector
    caps = YouTubeConnector.capabilities
    assert caps.post_types == frozenset({PostType.VIDEO, PostType.REEL})
    assert caps.media.media_required and caps.media.max_videos == 1
    assert caps.pkce and not caps.search
    assert caps.post_metrics <= set(POST_METRIC_KEYS)
    assert caps.setup_doc == "docs/networks/youtube.md"


def test_the_quota_day_is_pacific_and_resets_at_its_midnight() -> None:
    # 07:30 UTC on 10 March 2025 is 00:30 PDT (daylight saving began on 9 March).
    moment = datetime(2025, 3, 10, 7, 30, tzinfo=UTC)
    assert pacific_day(moment).isoformat() == "2025-03-10"
    assert next_reset(moment) == datetime(2025, 3, 11, 7, 0, tzinfo=UTC)
    # In winter Pacific Time is UTC-8: 07:30 UTC is still the day before.
    winter = datetime(2025, 1, 10, 7, 30, tzinfo=UTC)
    assert pacific_day(winter).isoformat() == "2025-01-09"
    assert next_reset(winter) == datetime(2025, 1, 10, 8, 0, tzinfo=UTC)
    assert seconds_until_reset(winter) == 30 * 60


def test_the_ledger_counts_each_methods_cost_and_starts_again_each_day() -> None:
    day_one = datetime(2025, 1, 10, 20, 0, tzinfo=UTC)
    ledger = QuotaLedger()
    for method in ("channels.list", "comments.insert", "thumbnails.set", "videos.insert"):
        ledger.spend(method, moment=day_one)
    status = ledger.status(day_one)
    assert (status.units_used, status.uploads_used) == (101, 1)
    assert status.units_remaining == 10_000 - 101
    assert status.uploads_remaining == 99
    ledger.mark_exhausted("units", moment=day_one)
    assert ledger.status(day_one).units_remaining == 0
    stored = QuotaLedger(ledger.to_data())
    assert stored.status(day_one).units_used == 101
    next_day = datetime(2025, 1, 11, 9, 0, tzinfo=UTC)
    fresh = stored.status(next_day)
    assert (fresh.units_used, fresh.uploads_used, fresh.exhausted) == (0, 0, ())


def test_an_operator_with_more_quota_sets_it_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MINBAR_YOUTUBE_DAILY_UNITS", "1000000")
    monkeypatch.setenv("MINBAR_YOUTUBE_DAILY_UPLOADS", "nonsense")
    assert daily_limits() == {"units": 1_000_000, "uploads": 100}


def test_titles_come_from_the_first_line() -> None:
    assert title_and_description("Hello\n\nWorld") == ("Hello", "World")
    assert title_and_description("Only a title") == ("Only a title", "")
    assert title_and_description("T\nBody", link="https://x.example") == (
        "T",
        "Body\n\nhttps://x.example",
    )
    assert title_and_description("Line\nBody", title="Given") == ("Given", "Line\nBody")
    long = "word " * 40
    title, description = title_and_description(long)
    assert len(title) <= 100 and title.endswith("…") and not title.endswith(" …")
    assert description == long.strip()
    assert shorten("x" * 150).endswith("…") and len(shorten("x" * 150)) == 100


def test_arabic_and_emoji_count_as_youtube_counts_them() -> None:
    arabic = "مرحبا"  # five letters, ten bytes
    assert description_bytes(arabic) == 10
    assert description_bytes("👍🏽") == 8  # two code points, four bytes each
    title = "🎉" * 100
    assert problems(title, "") == []
    assert problems(title + "!", "")  # 101 characters
    assert problems("T", "ب" * 2501)  # 5,002 bytes
    assert problems("T", "ب" * 2500) == []


def test_tag_length_counts_commas_and_quotes() -> None:
    assert tags_length(["a", "b c"]) == 1 + 5 + 1
    assert problems("T", "", ["x" * 501])
    assert problems("T", "", ["x" * 500]) == []


def _response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers or {})


def _google(status: int, reason: str, message: str = "m") -> httpx.Response:
    return _response(
        status,
        {"error": {"code": status, "message": message, "errors": [{"reason": reason}]}},
    )


def test_googles_error_bodies_are_read() -> None:
    error = parse_error(_google(403, "quotaExceeded", 'exceeded your <a href="/q">quota</a>.'))
    assert (error.reason, error.message) == ("quotaExceeded", "exceeded your quota.")
    oauth = parse_error(_response(400, {"error": "invalid_grant", "error_description": "Bad"}))
    assert (oauth.reason, oauth.message) == ("invalid_grant", "Bad")
    text = parse_error(httpx.Response(502, text="<html>Bad Gateway</html>"))
    assert text.status == 502


def test_each_reason_lands_in_the_taxonomy() -> None:
    assert isinstance(translate(_google(403, "quotaExceeded")), RateLimited)
    assert isinstance(translate(_google(400, "uploadLimitExceeded")), RateLimited)
    assert isinstance(translate(_google(500, "backendError"), writes=True), OutcomeUnknown)
    assert isinstance(translate(_google(500, "backendError")), TemporaryError)
    assert isinstance(translate(_google(503, "backendError"), writes=True), TemporaryError)
    refused = translate(_google(400, "invalidTitle", "The title is invalid."))
    assert isinstance(refused, Rejected)
    assert "The title is invalid" in refused.message
