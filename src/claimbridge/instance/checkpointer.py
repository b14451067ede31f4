"""Signing audit checkpoints on a schedule while the server runs.

Every ``poll`` seconds the checkpointer looks at the log and signs a
checkpoint once ``audit_checkpoint_every_events`` events are unsigned or
the oldest unsigned one is ``audit_checkpoint_every_seconds`` old. It is
one thread beside the server; a database that is busy or down only
delays a checkpoint (logged without detail), it never stops the server.
Several servers on one PostgreSQL may each run one: the append lock
makes them take turns, and a checkpoint for a size already signed is
not signed twice.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.audit.checkpointing import CheckpointSchedule, checkpoint_if_due
from claimbridge.audit.checkpoints import SignedCheckpoint
from claimbridge.clock import Clock
from claimbridge.config import Settings
from claimbridge.crypto.signing import SigningKey

log = logging.getLogger("claimbridge.audit")

MAX_POLL_SECONDS = 5.0


def schedule_of(settings: Settings) -> CheckpointSchedule:
    return CheckpointSchedule(
        every_events=settings.audit_checkpoint_every_events,
        every_seconds=settings.audit_checkpoint_every_seconds,
    )


class Checkpointer:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        key: SigningKey,
        schedule: CheckpointSchedule,
        *,
        clock: Clock,
        poll_seconds: float | None = None,
    ) -> None:
        self.sessions = sessions
        self.key = key
        self.schedule = schedule
        self.clock = clock
        self.poll_seconds = poll_seconds or min(MAX_POLL_SECONDS, float(schedule.every_seconds))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> SignedCheckpoint | None:
        """Sign a checkpoint if one is due; the one signed, or ``None``."""
        with self.sessions.begin() as session:
            return checkpoint_if_due(session, self.key, self.schedule, now=self.clock.now())

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="audit-checkpointer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                signed = self.run_once()
            except SQLAlchemyError as error:
                log.warning("audit checkpoint postponed: %s", type(error).__name__)
                continue
            if signed is not None:
                log.info("audit checkpoint signed at %d events", signed.checkpoint.tree_size)
