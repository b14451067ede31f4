"""Where the server's log lines go: stderr and ``logs/claimbridge.log`` in the data dir.

Log lines name routes, error codes and ids, never PHI: request bodies,
query strings and decrypted values are not logged anywhere.
"""

from __future__ import annotations

import logging
import logging.handlers

from claimbridge.config import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_server_logging(settings: Settings) -> None:
    log_file = settings.paths.logs / "claimbridge.log"
    settings.paths.logs.mkdir(mode=0o700, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).addHandler(handler)
