"""The ``claimbridge`` console command."""

from __future__ import annotations

import logging
import os

import typer

from claimbridge.cli import access as access_command
from claimbridge.cli import audit as audit_command
from claimbridge.cli import billing as billing_command
from claimbridge.cli import database as database_command
from claimbridge.cli import demo as demo_command
from claimbridge.cli import engagements as engagements_command
from claimbridge.cli import exchange as exchange_command
from claimbridge.cli import init as init_command
from claimbridge.cli import integrity as integrity_command
from claimbridge.cli import keys as keys_command
from claimbridge.cli import scrub as scrub_command
from claimbridge.cli import serve as serve_command
from claimbridge.cli import signing_keys as signing_keys_command
from claimbridge.cli import vendors as vendors_command
from claimbridge.cli import x12 as x12_command
from claimbridge.cli.common import private_umask

app = typer.Typer(
    name="claimbridge",
    help="A secure billing exchange between medical practices and billing companies.",
    no_args_is_help=True,
    add_completion=False,
    # Typer's pretty tracebacks print local variables, which may hold PHI.
    pretty_exceptions_enable=False,
)


@app.callback()
def _main() -> None:
    private_umask()
    # CLAIMBRIDGE_LOG_LEVEL=debug shows the traceback of an unexpected error
    # on stderr (it may then show PHI: for a developer's own machine only).
    level = os.environ.get("CLAIMBRIDGE_LOG_LEVEL", "warning").upper()
    logging.basicConfig(level=getattr(logging, level, logging.WARNING), format="%(message)s")


app.command("init")(init_command.init)
app.command("demo")(demo_command.demo)
app.command("serve")(serve_command.serve)
app.command("send")(exchange_command.send)
app.command("ingest")(exchange_command.ingest)
app.command("worker")(exchange_command.worker)
app.command("scrub")(scrub_command.scrub_command)
app.add_typer(exchange_command.receipt_app, name="receipt")
app.add_typer(signing_keys_command.app, name="signing-key")
app.add_typer(keys_command.app, name="keys")
app.add_typer(access_command.app, name="access")
app.add_typer(audit_command.app, name="audit")
app.add_typer(database_command.app, name="db")
app.add_typer(x12_command.app, name="x12")
app.add_typer(integrity_command.app, name="integrity")
app.add_typer(billing_command.app, name="claims")
app.add_typer(engagements_command.app, name="engagements")
app.add_typer(vendors_command.app, name="vendors")


def main() -> None:
    app()
