"""Signed public links to prepared media: what Instagram fetches."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core import signing
from django.test import Client

from minbar.connectors.errors import Rejected
from minbar.media import public


def media_file(settings: object, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    (root / "7" / "renditions").mkdir(parents=True)
    settings.MEDIA_ROOT = root  # type: ignore[attr-defined]
    path = root / "7" / "renditions" / "photo.jpg"
    path.write_bytes(b"\xff\xd8jpeg")
    return path


def test_a_local_base_url_is_refused_with_an_explanation(settings: object, tmp_path: Path) -> None:
    path = media_file(settings, tmp_path)
    settings.MINBAR_BASE_URL = "http://localhost:8000"  # type: ignore[attr-defined]
    with pytest.raises(Rejected, match="cannot reach"):
        public.public_media_url(str(path))


def test_files_outside_the_media_folder_are_never_shared(settings: object, tmp_path: Path) -> None:
    media_file(settings, tmp_path)
    settings.MINBAR_BASE_URL = "https://minbar.example.org"  # type: ignore[attr-defined]
    outside = tmp_path / "secret.txt"
    outside.write_text("x")
    with pytest.raises(Rejected):
        public.public_media_url(str(outside))


@pytest.mark.django_db
def test_a_signed_link_serves_the_file_and_a_forged_one_does_not(
    settings: object, tmp_path: Path
) -> None:
    path = media_file(settings, tmp_path)
    settings.MINBAR_BASE_URL = "https://minbar.example.org"  # type: ignore[attr-defined]
    url = public.public_media_url(str(path))
    assert url.startswith("https://minbar.example.org/media/public/")
    client = Client()
    local = url.removeprefix("https://minbar.example.org")
    response = client.get(local)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\xff\xd8jpeg"  # type: ignore[attr-defined]
    forged = signing.dumps("../../etc/passwd", salt="other")
    assert client.get(f"/media/public/{forged}/passwd").status_code == 404
    token = local.split("/")[3]
    assert client.get(f"/media/public/{token}/other.jpg").status_code == 404


@pytest.mark.django_db
def test_links_expire(settings: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = media_file(settings, tmp_path)
    settings.MINBAR_BASE_URL = "https://minbar.example.org"  # type: ignore[attr-defined]
    url = public.public_media_url(str(path)).removeprefix("https://minbar.example.org")
    later = time.time() + public.LINK_MAX_AGE + 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert Client().get(url).status_code == 404
