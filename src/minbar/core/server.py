"""Run the web server and, in the same process, the queue's worker and scheduler."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from huey.consumer import Consumer

logger = logging.getLogger("minbar.server")

# Run after the web server has stopped taking requests (e.g. writing buffered clicks).
_shutdown_hooks: list[Callable[[], object]] = []


def on_shutdown(hook: Callable[[], object]) -> None:
    """Register ``hook`` to run when ``minbar serve`` stops cleanly (Ctrl-C, SIGTERM)."""
    if hook not in _shutdown_hooks:
        _shutdown_hooks.append(hook)


def run_shutdown_hooks() -> None:
    for hook in list(_shutdown_hooks):
        try:
            hook()
        except Exception:
            logger.exception("shutdown hook %r failed", hook)


class EmbeddedConsumer(Consumer):
    """A Huey consumer that leaves signal handling to the web server's process."""

    def _set_signal_handlers(self) -> None:
        return None


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_wsgi(
    application: Callable[..., Any],
    host: str,
    port: int,
    *,
    threads: int,
    ident: str,
    banner: str,
    stopped: str,
    on_stop: Callable[[], None] | None = None,
) -> None:
    """Serve ``application`` until Ctrl-C or SIGTERM; one clear line if the port is taken."""
    from waitress import serve as waitress_serve

    # SIGTERM (from a service manager or `kill`) shuts down as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    print(banner, flush=True)
    try:
        waitress_serve(
            application,
            host=host,
            port=port,
            threads=threads,
            ident=ident,
            _quiet=True,
            clear_untrusted_proxy_headers=True,
        )
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"minbar: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        if on_stop is not None:
            on_stop()
        run_shutdown_hooks()
        print(stopped, flush=True)


def serve(
    host: str, port: int, *, with_worker: bool = True, threads: int = 8, workers: int = 2
) -> None:
    from django.conf import settings
    from huey.contrib.djhuey import HUEY

    from minbar.wsgi import application

    consumer: EmbeddedConsumer | None = None
    if with_worker:
        consumer = EmbeddedConsumer(
            HUEY, workers=workers, worker_type="thread", periodic=True, check_worker_health=False
        )
        consumer.start()
    engine = str(settings.DATABASES["default"]["ENGINE"]).rsplit(".", 1)[-1]
    run_wsgi(
        application,
        host,
        port,
        threads=threads,
        ident="minbar",
        banner=f"Minbar is serving on http://{host}:{port}/ (database: {engine}, "
        f"worker: {'embedded' if with_worker else 'separate'}). Press Ctrl-C to stop.",
        stopped="Minbar stopped.",
        on_stop=(lambda: consumer.stop(graceful=True)) if consumer is not None else None,
    )
