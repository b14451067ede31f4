"""The ingest worker: reads and ingests queued batches, beside the server or on its own.

Large batches are only stored while their upload is answered (the receipt
says ``processing``); this worker takes them from the queue in the
database one at a time and ingests them (``BatchService.process_next``).
The embedded default runs one thread of it inside ``claimbridge serve``;
with PostgreSQL, ``claimbridge worker`` processes on one or several
machines share the queue through ``FOR UPDATE SKIP LOCKED`` leases. A
batch whose worker dies is taken again when its lease runs out.

Errors are logged by kind only: a message could carry PHI.
"""

from __future__ import annotations

import logging
import threading

from claimbridge.errors import ClaimbridgeError
from claimbridge.exchange.batches import BatchService

__all__ = ["BatchWorker"]

log = logging.getLogger("claimbridge.exchange")

POLL_SECONDS = 1.0


class BatchWorker:
    def __init__(self, service: BatchService, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.service = service
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def run_until_idle(self) -> list[str]:
        """Process queued batches until none is left; their ids (for tests and one-shot runs)."""
        done = []
        while (batch_id := self.service.process_next()) is not None:
            done.append(batch_id)
        return done

    def wake(self) -> None:
        """A batch was just queued: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="ingest-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.service.process_next() is not None
            except ClaimbridgeError as error:
                log.warning("queued batch not ingested yet: %s", error.code)
                busy = False
            except Exception as error:  # noqa: BLE001 - the worker outlives one bad batch
                log.warning("queued batch not ingested yet: %s", type(error).__name__)
                busy = False
            if not busy:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
