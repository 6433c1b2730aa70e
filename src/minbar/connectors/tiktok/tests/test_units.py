"""Pure pieces: caption counting, chunk plans, MP4 durations, choices and error mapping."""

from __future__ import annotations

import itertools
import struct
from pathlib import Path

import httpx
import pytest

from minbar.connectors.errors import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.tiktok import upload
from minbar.connectors.tiktok.choices import (
    CreatorInfo,
    PostSettings,
    choice_problems,
    minbar_privacy,
)
from minbar.connectors.tiktok.failures import TikTokError, failed_post, translate
from minbar.connectors.tiktok.oauth import code_challenge
from minbar.connectors.tiktok.tests.conftest import mp4_bytes
from minbar.connectors.tiktok.text import photo_text, problems, utf16_length, video_caption
from minbar.publishing.validation import text_length

MB = 1024 * 1024


def test_captions_count_utf16_units_arabic_once_and_astral_emoji_twice() -> None:
    from minbar.connectors.tiktok import TikTokConnector

    caps = TikTokConnector.capabilities
    assert utf16_length("قهوة عربية") == 10
    assert utf16_length("☕") == 1  # in the Basic Multilingual Plane
    assert utf16_length("😀") == 2
    assert utf16_length("👨‍👩‍👧") == 8  # three people and two joiners
    assert text_length("قهوة 😀", caps) == utf16_length("قهوة 😀") == 7
    assert problems(caption="😀" * 1100) == []
    assert problems(caption="😀" * 1100 + "x")


def test_a_link_is_added_to_the_caption_once() -> None:
    assert (
        video_caption("New blend", "https://acme.example/b") == "New blend\nhttps://acme.example/b"
    )
    assert video_caption("See https://acme.example/b", "https://acme.example/b") == (
        "See https://acme.example/b"
    )


def test_a_photo_posts_first_short_line_is_its_title() -> None:
    text = photo_text("Menu\nAll day 🍩")
    assert (text.title, text.description) == ("Menu", "All day 🍩")
    one_line = photo_text("Just one line")
    assert (one_line.title, one_line.description) == ("", "Just one line")
    long_first = photo_text("ق" * 91 + "\nrest")
    assert long_first.title == "" and long_first.description.startswith("ق")
    assert problems(photo=photo_text("x" * 4001))


@pytest.mark.parametrize(
    ("size", "preferred", "expected"),
    [
        (4 * MB, 10 * MB, (4 * MB, 1)),  # under 5 MB: whole
        (5 * MB, 10 * MB, (5 * MB, 1)),
        (30 * MB + 7, 10 * MB, (10 * MB, 3)),  # the last chunk takes the 7 trailing bytes
        (25 * MB, 10 * MB, (10 * MB, 2)),  # floor: the last chunk is 15 MB
        (200 * MB, 1 * MB, (5 * MB, 40)),  # at least 5 MB a chunk
        (200 * MB, 100 * MB, (64 * MB, 3)),  # at most 64 MB a chunk
        (30 * 1024 * MB, 10 * MB, (32_212_255, 999)),  # at most 1,000 chunks
    ],
)
def test_chunk_plans_follow_the_media_transfer_guide(
    size: int, preferred: int, expected: tuple[int, int]
) -> None:
    plan = upload.plan_chunks(size, preferred)
    assert (plan.chunk_size, plan.total_chunk_count) == expected
    ranges = list(plan.ranges())
    assert ranges[0][0] == 0 and ranges[-1][1] == size - 1
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))
    last = ranges[-1][1] - ranges[-1][0] + 1
    assert last < 2 * max(plan.chunk_size, 1) + 1 and last <= 128 * MB


def test_the_duration_is_read_from_the_mp4_header(tmp_path: Path) -> None:
    path = tmp_path / "a.mp4"
    path.write_bytes(mp4_bytes(42.5, 4096))
    assert upload.video_duration_seconds(str(path)) == pytest.approx(42.5)
    # Version 1 boxes carry 64-bit times.
    payload = struct.pack(">B3sQQIQ", 1, b"\0\0\0", 0, 0, 600, 600 * 90) + b"\0" * 80
    mvhd = struct.pack(">I4s", 8 + len(payload), b"mvhd") + payload
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    v1 = tmp_path / "b.mov"
    v1.write_bytes(struct.pack(">I4s", 8, b"free") + moov)
    assert upload.video_duration_seconds(str(v1)) == pytest.approx(90.0)
    junk = tmp_path / "c.webm"
    junk.write_bytes(b"\x1aE\xdf\xa3" + b"\0" * 100)
    assert upload.video_duration_seconds(str(junk)) is None


def test_upload_urls_must_be_tiktoks_own() -> None:
    api = "https://open.tiktokapis.com"
    assert upload.upload_url_is_expected("https://open-upload.tiktokapis.com/video/?x=1", api)
    assert not upload.upload_url_is_expected("https://evil.example/upload", api)
    assert not upload.upload_url_is_expected("http://open-upload.tiktokapis.com/v", api)
    assert upload.upload_url_is_expected("http://127.0.0.1:5/upload/", "http://127.0.0.1:5")


def test_tiktoks_pkce_challenge_is_hex() -> None:
    # RFC 7636's example verifier; TikTok wants the hex digest, not E9Melhoa2Ow…
    challenge = code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    assert challenge == "13d31e961a1ad8ec2f16b10c4c982e0876a878ad6df144566ee1894acb70f9c3"


def test_privacy_names_either_way() -> None:
    assert minbar_privacy("SELF_ONLY") == "only_me"
    assert minbar_privacy("public") == "public"
    assert minbar_privacy("draft") == "draft"
    assert minbar_privacy("unlisted") == ""
    info = CreatorInfo(privacy_level_options=("SELF_ONLY",))
    assert choice_problems(PostSettings(privacy="only_me"), info) == []
    assert choice_problems(PostSettings(privacy="public"), info)
    assert choice_problems(PostSettings(), info)  # nothing chosen: never a default
    assert choice_problems(PostSettings(privacy="draft"), info) == []


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (429, "rate_limit_exceeded", RateLimited),
        (403, "spam_risk_too_many_posts", RateLimited),
        (403, "reached_active_user_cap", RateLimited),
        (401, "access_token_invalid", AuthExpired),
        (401, "scope_not_authorized", Rejected),
        (401, "scope_permission_missed", Rejected),
        (403, "unaudited_client_can_only_post_to_private_accounts", Rejected),
        (403, "privacy_level_option_mismatch", Rejected),
        (403, "url_ownership_unverified", Rejected),
        (403, "spam_risk_user_banned_from_posting", Rejected),
        (400, "invalid_params", Rejected),
        (400, "invalid_file_upload", Rejected),
        (500, "internal_error", TemporaryError),
    ],
)
def test_every_documented_error_code_has_its_place(
    status: int, code: str, kind: type[Exception]
) -> None:
    error = translate(TikTokError(status, code, "said", "202401010000"))
    assert isinstance(error, kind)
    assert code in error.detail and "202401010000" in error.detail


def test_a_server_error_on_a_write_is_unknown() -> None:
    error = translate(TikTokError(500, "internal_error", ""), httpx.Headers(), writes=True)
    assert isinstance(error, OutcomeUnknown)


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("file_format_check_failed", Rejected),
        ("duration_check_failed", Rejected),
        ("picture_size_check_failed", Rejected),
        ("publish_cancelled", Rejected),
        ("spam_risk_text", Rejected),
        ("internal", TemporaryError),
        ("video_pull_failed", TemporaryError),
        ("photo_pull_failed", TemporaryError),
        ("auth_removed", AuthExpired),
        ("spam_risk_too_many_posts", RateLimited),
    ],
)
def test_every_fail_reason_has_its_place(reason: str, kind: type[Exception]) -> None:
    error = failed_post(reason)
    assert isinstance(error, kind) and reason in error.detail
