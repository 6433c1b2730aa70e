"""Media test helpers: files live in a throwaway MEDIA_ROOT; images are made with Pillow."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from minbar.media import processing


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture(autouse=True)
def no_ffmpeg(monkeypatch):
    """ffprobe and ffmpeg are absent unless a test installs fakes through settings."""
    monkeypatch.setattr(processing.shutil, "which", lambda name: None)


def image_bytes(
    fmt: str = "JPEG",
    size: tuple[int, int] = (64, 48),
    color: tuple[int, ...] = (200, 30, 30),
    mode: str = "RGB",
    **save: object,
) -> bytes:
    im = Image.new(mode, size, color)
    out = io.BytesIO()
    im.save(out, fmt, **save)
    return out.getvalue()


def noise_bytes(fmt: str = "PNG", size: tuple[int, int] = (600, 400), seed: int = 1) -> bytes:
    """A picture that compresses badly, to test byte limits."""
    rng = random.Random(seed)
    data = bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3))
    im = Image.frombytes("RGB", size, data)
    out = io.BytesIO()
    im.save(out, fmt)
    return out.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def fake_mp4(extra: bytes = b"") -> bytes:
    box = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return box + b"\x00\x00\x00\x08free" + extra + b"\x00" * 64


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())
