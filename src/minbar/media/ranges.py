"""HTTP range requests for media files, so videos can be sought and resumed (RFC 9110 §14).

One range is served as 206 Partial Content; several ranges, or a header this does
not understand, get the whole file (200), which RFC 9110 allows; a range past the
end is 416 with the file's size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


def parse(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """(first, last) byte to send; None for the whole file; False when unsatisfiable."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if match is None:
        return None  # several ranges or another unit: send it all
    start, end = match.groups()
    if not start and not end:
        return None
    if not start:  # the last N bytes
        length = int(end)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    first = int(start)
    last = min(int(end), size - 1) if end else size - 1
    if first >= size or last < first:
        return False
    return first, last


def chunks(handle: IO[bytes], first: int, last: int) -> Iterator[bytes]:
    try:
        handle.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            data = handle.read(min(CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        handle.close()
