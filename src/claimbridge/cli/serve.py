"""``claimbridge serve``: the HTTPS server."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from claimbridge.access.mtls import trusted_certificates
from claimbridge.cli.common import ask_passphrase, settings_for
from claimbridge.cli.errors import reported
from claimbridge.cli.logs import configure_server_logging
from claimbridge.cli.output import DataDirOption, JsonOption, console, print_json
from claimbridge.clock import SystemClock
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.tls import certificate_fingerprint
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.instance.auditkey import open_audit_key
from claimbridge.instance.checkpointer import Checkpointer, schedule_of
from claimbridge.instance.keys import open_keyring
from claimbridge.instance.open import open_database, require_initialised
from claimbridge.storage.blobs import BlobStore
from claimbridge.storage.db import make_sessionmaker
from claimbridge.vendors.notify import notifier_from
from claimbridge.vendors.terminations import Offboarding
from claimbridge.vendors.watch import Watcher


def serve(
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (0 picks a free one).")] = None,
    json: JsonOption = False,
) -> None:
    """Run the HTTPS server (TLS only; there is no plain-HTTP listener)."""
    # The web stack (FastAPI, uvicorn) is imported only here: every other
    # command starts a third of a second sooner without it.
    from claimbridge.api.app import create_app  # noqa: PLC0415
    from claimbridge.api.server import build_server, listen, trust_client_certificate  # noqa: PLC0415

    with reported(as_json=json):
        settings = settings_for(data_dir, host=host, port=port)
        require_initialised(settings)
        configure_server_logging(settings)
        clock = SystemClock()
        # The root key first: no key, no server (never a plaintext fallback).
        keyring = open_keyring(settings, clock=clock, prompt=ask_passphrase)
        audit_key = open_audit_key(settings, keyring.providers)
        engine = open_database(settings, upgrade=True)
        checkpointer = Checkpointer(
            make_sessionmaker(engine), audit_key, schedule_of(settings), clock=clock
        )
        # Lapses are recorded, reminders left and notices sent while nobody asks.
        watcher = Watcher(
            make_sessionmaker(engine),
            settings,
            clock=clock,
            notifier=notifier_from(settings, clock=clock),
            offboarding=Offboarding(
                keyring, SealedFiles(BlobStore(settings.paths.blobs), keyring), audit_key
            ),
        )
        with make_sessionmaker(engine)() as session:
            registered = tuple(trusted_certificates(session))
        app = create_app(
            settings,
            engine=engine,
            keyring=keyring,
            clock=clock,
            trust_client_certificate=lambda pem: trust_client_certificate(server.config.ssl, pem),
            audit_key=audit_key,
            ingest_worker=True,
        )
        worker = app.state.context.worker
        server = build_server(
            app,
            certfile=str(settings.tls_cert),
            keyfile=str(settings.tls_key),
            log_level=settings.log_level,
            client_certificates=registered,
        )
        sock = listen(settings.host, settings.port)
        bound_host, bound_port = sock.getsockname()[:2]
        shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        url = f"https://{shown_host}:{bound_port}"
        fingerprint = certificate_fingerprint(settings.tls_cert.read_bytes())
        if json:
            print_json({"url": url, "tls_fingerprint": fingerprint}, one_line=True)
        else:
            console.print(f"[bold green]claimbridge[/bold green] serving on {escape(url)}")
            console.print(f"  certificate SHA-256 fingerprint: {fingerprint}", soft_wrap=True)
            console.print("  press Ctrl+C to stop")
        checkpointer.start()
        watcher.start()
        if worker is not None:
            worker.start()
        try:
            server.run(sockets=[sock])
        finally:
            if worker is not None:
                worker.stop()
            watcher.stop()
            checkpointer.stop()
            engine.dispose()
            keyring.close()
