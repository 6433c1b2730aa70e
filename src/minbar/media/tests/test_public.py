"""Signed public links to prepared media, for networks that download media (Threads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.test import Client

from minbar.media.public import MAX_AGE, NotInLibrary, public_url


@pytest.fixture
def media_file(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.MINBAR_BASE_URL = "https://minbar.example.org"
    path = tmp_path / "media" / "3" / "renditions" / "9" / "photo.png"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\nfake-png-bytes")
    return path


def test_a_signed_link_serves_the_file_to_anyone(media_file: Path) -> None:
    url = public_url(str(media_file), "image/png")
    assert url.startswith("https://minbar.example.org/media/public/") and url.endswith("/photo.png")
    response = Client().get(url.removeprefix("https://minbar.example.org"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == media_file.read_bytes()  # type: ignore[attr-defined]
    assert "no-store" in response["Cache-Control"]


def test_a_changed_or_expired_link_is_not_found(media_file: Path) -> None:
    path = public_url(str(media_file), "image/png").removeprefix("https://minbar.example.org")
    token = path.split("/")[2]
    client = Client()
    assert client.get(path.replace(token, token[:-2] + "xx")).status_code == 404
    assert client.get(path.replace("photo.png", "other.png")).status_code == 404
    later = __import__("time").time() + MAX_AGE.total_seconds() + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert client.get(path).status_code == 404


def test_only_library_files_get_links(media_file: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("no")
    with pytest.raises(NotInLibrary):
        public_url(str(outside), "text/plain")
    with pytest.raises(NotInLibrary):
        public_url(str(media_file.parent / ".." / ".." / ".." / ".." / "secret.txt"), "text/plain")
