"""Sending a video to TikTok in chunks (FILE_UPLOAD), and reading a video's duration.

The Media Transfer Guide
(https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide):

* the init call declares ``video_size``, ``chunk_size`` and ``total_chunk_count``,
  which must equal ``video_size // chunk_size`` (rounded down);
* each chunk is 5 MB to 64 MB, except the last, which takes the trailing bytes
  (up to 128 MB); a video under 5 MB goes whole (``chunk_size`` = its size); a
  video over 64 MB must be chunked; 1 to 1,000 chunks, sent in order;
* each chunk is ``PUT {upload_url}`` with ``Content-Type``, ``Content-Length`` and
  ``Content-Range: bytes FIRST-LAST/TOTAL``; TikTok answers ``206 Partial Content``
  until the last chunk, then ``201 Created``.

The upload URL is signed by TikTok: Minbar sends it no access token.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

MB = 1024 * 1024
MIN_CHUNK = 5 * MB
MAX_CHUNK = 64 * MB
MAX_CHUNKS = 1000
DEFAULT_CHUNK = 10 * MB


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int

    def ranges(self) -> Iterator[tuple[int, int]]:
        """(first byte, last byte) of each chunk; the last one takes the trailing bytes."""
        for index in range(self.total_chunk_count):
            first = index * self.chunk_size
            last = (
                self.video_size - 1
                if index == self.total_chunk_count - 1
                else first + self.chunk_size - 1
            )
            yield first, last

    def source_info(self) -> dict[str, object]:
        return {
            "source": "FILE_UPLOAD",
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunk_count": self.total_chunk_count,
        }


def plan_chunks(
    video_size: int,
    preferred: int = DEFAULT_CHUNK,
    *,
    min_chunk: int = MIN_CHUNK,
    max_chunk: int = MAX_CHUNK,
) -> ChunkPlan:
    """Chunks that follow TikTok's rules for a video of ``video_size`` bytes."""
    if video_size <= 0:
        raise ValueError("the video is empty")
    if video_size < min_chunk:
        return ChunkPlan(video_size, video_size, 1)
    chunk = max(min_chunk, min(preferred, max_chunk))
    if video_size // chunk > MAX_CHUNKS:
        chunk = min(max_chunk, -(-video_size // MAX_CHUNKS))
    if video_size <= chunk:
        return ChunkPlan(video_size, video_size, 1)
    return ChunkPlan(video_size, chunk, video_size // chunk)


class Interrupted(Exception):
    """A chunk got no answer; ``final`` when it was the last one (the upload may be complete)."""

    def __init__(self, message: str, *, final: bool, first_byte: int) -> None:
        super().__init__(message)
        self.final = final
        self.first_byte = first_byte


class ChunkRefused(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code} {response.text[:200]}")
        self.response = response


def upload_url_is_expected(upload_url: str, api_base: str) -> bool:
    """The upload URL TikTok gives is on one of its hosts (or on the fake it was pointed at)."""
    parts, api = urlsplit(upload_url), urlsplit(api_base)
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http"):
        return False
    if host == (api.hostname or "").lower() and parts.scheme == api.scheme:
        return True
    return parts.scheme == "https" and (
        host == "tiktokapis.com" or host.endswith(".tiktokapis.com")
    )


def send(
    client: httpx.Client,
    upload_url: str,
    *,
    path: str,
    mime_type: str,
    plan: ChunkPlan,
    from_byte: int = 0,
) -> None:
    """Send every chunk that starts at or after ``from_byte``, in order."""
    ranges = list(plan.ranges())
    with open(path, "rb") as file:
        for index, (first, last) in enumerate(ranges):
            if first < from_byte:
                continue
            final = index == len(ranges) - 1
            file.seek(first)
            data = file.read(last - first + 1)
            headers = {
                "Content-Type": mime_type,
                "Content-Length": str(len(data)),
                "Content-Range": f"bytes {first}-{last}/{plan.video_size}",
            }
            try:
                response = client.put(upload_url, content=data, headers=headers)
            except httpx.TransportError as exc:
                raise Interrupted(
                    str(exc) or type(exc).__name__, final=final, first_byte=first
                ) from exc
            if response.status_code not in (200, 201, 206):
                raise ChunkRefused(response)


def file_size(path: str) -> int:
    return os.path.getsize(path)


# -- the duration of an MP4 / QuickTime file ------------------------------------------------


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the ISO BMFF boxes in ``data[start:end]``."""
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:
            if offset + 16 > end:
                return
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            return
        yield kind, offset + header, offset + size
        offset += size


def _find_moov(path: Path) -> bytes | None:
    """The ``moov`` box's payload, read without loading the whole (possibly huge) file."""
    with open(path, "rb") as file:
        total = os.fstat(file.fileno()).st_size
        offset = 0
        while offset + 8 <= total:
            file.seek(offset)
            head = file.read(16)
            if len(head) < 8:
                return None
            size, kind = struct.unpack(">I4s", head[:8])
            header = 8
            if size == 1 and len(head) >= 16:
                size, header = struct.unpack(">Q", head[8:16])[0], 16
            elif size == 0:
                size = total - offset
            if size < header:
                return None
            if kind == b"moov":
                if size > 64 * MB:  # a sane moov is small; refuse to read a bogus one
                    return None
                file.seek(offset + header)
                return file.read(size - header)
            offset += size
    return None


def video_duration_seconds(path: str) -> float | None:
    """The duration in an MP4/MOV ``mvhd`` box, or None when it cannot be read."""
    try:
        moov = _find_moov(Path(path))
    except OSError:
        return None
    if not moov:
        return None
    for kind, start, end in _boxes(moov, 0, len(moov)):
        if kind != b"mvhd" or end - start < 20:
            continue
        version = moov[start]
        if version == 1 and end - start >= 32:
            timescale, duration = struct.unpack(">IQ", moov[start + 20 : start + 32])
        else:
            timescale, duration = struct.unpack(">II", moov[start + 12 : start + 20])
        if timescale <= 0:
            return None
        return duration / timescale
    return None
