"""``minbar sandbox serve``: the sandbox network alone, on its own port."""

from __future__ import annotations

import signal
import sys
from types import FrameType

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponseBase

SANDBOX_URLCONF = "minbar.sandbox.server_urls"


class SandboxWSGIHandler(WSGIHandler):
    """Django's WSGI handler answering only the sandbox URLs."""

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = SANDBOX_URLCONF
        return super().get_response(request)


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(host: str, port: int, *, threads: int = 4) -> None:
    from waitress import serve as waitress_serve

    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    print(
        f"Minbar sandbox network on http://{host}:{port}/sandbox/api/v1/ . Press Ctrl-C to stop.",
        flush=True,
    )
    try:
        waitress_serve(
            SandboxWSGIHandler(),
            host=host,
            port=port,
            threads=threads,
            ident="minbar-sandbox",
            _quiet=True,
            clear_untrusted_proxy_headers=True,
        )
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"minbar: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        print("Minbar sandbox stopped.", flush=True)
