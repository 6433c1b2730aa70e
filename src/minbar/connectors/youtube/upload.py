"""The resumable upload protocol, as YouTube documents it for videos.insert.

https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol:

1. ``POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`` with
   the video resource as JSON and ``X-Upload-Content-Length``/``X-Upload-Content-Type``;
   the answer's ``Location`` header is the *session URI*;
2. ``PUT`` the bytes to the session URI in chunks, each with
   ``Content-Range: bytes FIRST-LAST/TOTAL``; every chunk size but the last is a
   multiple of 256 KiB. A chunk that is not the last is answered
   ``308 Resume Incomplete`` with ``Range: bytes=0-N`` (what Google has so far);
   the last one with ``200``/``201`` and the video resource;
3. after an interruption, an empty ``PUT`` with ``Content-Range: bytes */TOTAL``
   asks how far the upload got: ``308`` (+ ``Range``, absent when nothing arrived)
   to resume from there, or ``200``/``201`` with the video when it had completed —
   which is also how Minbar learns the outcome of a final chunk whose answer was lost.

A session that no longer exists answers 404 (or 410): the upload must start again.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from minbar.connectors.errors import Rejected
from minbar.connectors.youtube.failures import LABEL, translate

GRANULARITY = 256 * 1024  # chunk sizes are multiples of this (the last excepted)
DEFAULT_CHUNK = 32 * GRANULARITY  # 8 MiB
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
_RANGE = re.compile(r"bytes=0-(\d+)")


class Interrupted(Exception):
    """A chunk got no answer (or a 5xx); ``final`` when it was the last bytes of the file."""

    def __init__(self, detail: str, *, final: bool) -> None:
        super().__init__(detail)
        self.final = final


class SessionGone(Exception):
    """The session URI is unknown to Google (expired, or never completed): start again."""


@dataclass(frozen=True)
class Progress:
    """Where an upload session stands: done (with the video) or how many bytes Google has."""

    video: dict[str, Any] | None
    received: int


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or not data.get("id"):
        raise Rejected(
            f"{LABEL} finished the upload but sent no video back.", detail=response.text[:500]
        )
    return data


def check_session_uri(session_uri: str, upload_base: str) -> str:
    """The session URI must be on the upload host: never send the file (or a token) elsewhere."""
    theirs, ours = urlsplit(session_uri), urlsplit(upload_base)
    if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
        raise Rejected(
            f"{LABEL} answered the upload with an unexpected address; "
            "Minbar did not send the file.",
            detail=session_uri[:300],
        )
    return session_uri


def start(
    client: httpx.Client,
    url: str,
    *,
    headers: Mapping[str, str],
    metadata: dict[str, Any],
    size: int,
    mime_type: str,
) -> httpx.Response:
    """Step 1; the caller checks the answer (Location, or an error)."""
    body = json.dumps(metadata).encode("utf-8")
    return client.post(
        url,
        content=body,
        headers={
            **headers,
            "Content-Type": "application/json; charset=UTF-8",
            "X-Upload-Content-Length": str(size),
            "X-Upload-Content-Type": mime_type,
        },
    )


def _received(response: httpx.Response) -> int:
    match = _RANGE.fullmatch(response.headers.get("range", "").strip())
    return int(match.group(1)) + 1 if match else 0


def status(
    client: httpx.Client, session_uri: str, *, headers: Mapping[str, str], size: int
) -> Progress:
    """Step 3's question. Transport errors are the caller's to handle."""
    response = client.put(
        session_uri,
        content=b"",
        headers={**headers, "Content-Length": "0", "Content-Range": f"bytes */{size}"},
    )
    if response.status_code in (200, 201):
        return Progress(_json(response), size)
    if response.status_code == 308:
        return Progress(None, _received(response))
    if response.status_code in (404, 410):
        raise SessionGone(response.text[:300])
    if response.status_code in RETRYABLE_STATUSES:
        raise Interrupted(f"status query answered {response.status_code}", final=False)
    raise translate(response, writes=True)


def send(
    client: httpx.Client,
    session_uri: str,
    *,
    headers: Mapping[str, str],
    path: str,
    mime_type: str,
    size: int,
    offset: int,
    chunk_size: int = DEFAULT_CHUNK,
) -> dict[str, Any]:
    """Step 2 from ``offset`` to the end; returns the video resource."""
    chunk_size = max(GRANULARITY, chunk_size - chunk_size % GRANULARITY)
    with open(path, "rb") as file:
        while True:
            file.seek(offset)
            data = file.read(chunk_size)
            last = offset + len(data) - 1
            final = last + 1 >= size
            try:
                response = client.put(
                    session_uri,
                    content=data,
                    headers={
                        **headers,
                        "Content-Type": mime_type,
                        "Content-Length": str(len(data)),
                        "Content-Range": f"bytes {offset}-{last}/{size}",
                    },
                )
            except httpx.TransportError as exc:
                raise Interrupted(f"{type(exc).__name__}: {exc}", final=final) from exc
            if response.status_code in (200, 201):
                return _json(response)
            if response.status_code == 308:
                received = _received(response)
                if received <= offset and not data:
                    raise Interrupted("the upload makes no progress", final=final)
                offset = received
                continue
            if response.status_code in (404, 410):
                raise SessionGone(response.text[:300])
            if response.status_code in RETRYABLE_STATUSES:
                raise Interrupted(f"chunk answered {response.status_code}", final=final)
            raise translate(response, writes=True)


def file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError as exc:
        raise Rejected(f"Minbar cannot read the video file: {exc}") from exc
