"""Run the web server and, in the same process, the queue's worker and scheduler."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

from huey.consumer import Consumer

logger = logging.getLogger("minbar.server")


class EmbeddedConsumer(Consumer):
    """A Huey consumer that leaves signal handling to the web server's process."""

    def _set_signal_handlers(self) -> None:
        return None


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(
    host: str, port: int, *, with_worker: bool = True, threads: int = 8, workers: int = 2
) -> None:
    from django.conf import settings
    from huey.contrib.djhuey import HUEY
    from waitress import serve as waitress_serve

    from minbar.wsgi import application

    consumer: EmbeddedConsumer | None = None
    if with_worker:
        consumer = EmbeddedConsumer(
            HUEY, workers=workers, worker_type="thread", periodic=True, check_worker_health=False
        )
        consumer.start()
    # SIGTERM (from a service manager or `kill`) shuts down as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    print(
        f"Minbar is serving on http://{host}:{port}/ "
        f"(database: {str(settings.DATABASES['default']['ENGINE']).rsplit('.', 1)[-1]}, "
        f"worker: {'embedded' if with_worker else 'separate'}). Press Ctrl-C to stop.",
        flush=True,
    )
    try:
        waitress_serve(
            application,
            host=host,
            port=port,
            threads=threads,
            ident="minbar",
            _quiet=True,
            clear_untrusted_proxy_headers=True,
        )
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"minbar: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)
        print("Minbar stopped.", flush=True)
