"""Build the task queue from ``MINBAR_QUEUE_URL``.

The database stays the source of truth; the queue only delivers work, so an
embedded SQLite queue is enough for one process and Redis lets any number of
``minbar worker`` processes share it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from huey import MemoryHuey, PriorityRedisHuey, SqliteHuey
from huey.api import Huey


def build_queue(url: str, *, immediate: bool = False, name: str = "minbar") -> Huey:
    """``name`` separates installations (or test runs) that share one Redis database."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryHuey(name, immediate=immediate)
    if scheme == "sqlite":
        filename = url.removeprefix("sqlite:///")
        if not filename.startswith("/"):
            filename = str(Path(filename).resolve())
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=filename, immediate=immediate)
    return PriorityRedisHuey(name, url=url, immediate=immediate)


def describe_queue(url: str) -> str:
    """A form of the queue URL that is safe to print (no password)."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
