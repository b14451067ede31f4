"""``claimbridge send``, ``ingest`` and ``receipt verify``: batches in, receipts checked.

``send`` signs a manifest for a file with the practice's batch-signing key,
streams the file to the server over HTTPS (a progress bar for large files)
and prints the signed receipt. ``ingest`` does the same on this machine for
whoever holds the data directory, acting for the practice named by
``--org`` (audited as such). ``receipt verify`` checks a saved receipt
offline against the server's public key (``claimbridge audit public-key``).

Exit codes: 0 accepted (or already received), 65 rejected or bad input,
77 refused (no engagement, not allowed), 78 configuration.
"""

from __future__ import annotations

import base64
import contextlib
import json as jsonlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from claimbridge.cli.audit_proofs import public_key_argument
from claimbridge.cli.common import ask_passphrase, settings_for
from claimbridge.cli.errors import EX_DATAERR, reported
from claimbridge.cli.output import DataDirOption, JsonOption, console, print_json
from claimbridge.cli.remote import (
    CaOption,
    CertKeyOption,
    CertOption,
    OptionalTokenOption,
    Remote,
    ServerOption,
)
from claimbridge.clock import SystemClock
from claimbridge.crypto.signing import SigningKey
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.errors import (
    ConfigError,
    NotFound,
    StorageError,
    Unauthenticated,
    ValidationFailed,
)
from claimbridge.exchange.clientkeys import client_key_path, read_client_key
from claimbridge.exchange.manifest import FORMATS, make_manifest
from claimbridge.exchange.orgkeys import held_key
from claimbridge.exchange.parsing import SNIFF_BYTES, guess_format
from claimbridge.exchange.receipts import read_receipt
from claimbridge.exchange.service import (
    batch_service,
    choose_recipient,
    data_dir_principal,
    resolve_recipient,
)
from claimbridge.exchange.worker import BatchWorker
from claimbridge.instance.auditkey import open_audit_key
from claimbridge.instance.keys import open_keyring
from claimbridge.instance.open import open_database, require_initialised
from claimbridge.storage.db import make_sessionmaker

receipt_app = typer.Typer(help="Check batch receipts.", no_args_is_help=True)

FileArgument = Annotated[
    Path, typer.Argument(metavar="FILE", help="The batch: an 837P/837I, a CSV or a FHIR Bundle.")
]
FormatOption = Annotated[
    str | None,
    typer.Option("--format", help=f"One of {', '.join(FORMATS)} (default: from the content)."),
]
ToOption = Annotated[
    str | None,
    typer.Option(
        "--to",
        help="The billing company (name or id); default: the one the practice is engaged by.",
    ),
]
SigningKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--signing-key",
        help="The practice's batch-signing key file (default: in --data-dir's clients/).",
    ),
]
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait",
        help="For a large batch answered 'processing': wait for its final receipt.",
    ),
]
WaitSecondsOption = Annotated[
    int, typer.Option("--wait-seconds", min=1, help="How long --wait waits at most.")
]
ReceiptOutOption = Annotated[
    Path | None, typer.Option("--receipt-out", help="Save the signed receipt (JSON) here.")
]
_PROGRESS_FROM = 1 << 20
_CHUNK = 1 << 20


@receipt_app.command("verify")
def verify_receipt(
    receipt: Annotated[Path, typer.Argument(metavar="RECEIPT", help="A saved receipt (JSON).")],
    public_key: Annotated[
        str,
        typer.Option(
            "--public-key",
            help="The server's key: 64 hex digits or a file of them (`claimbridge audit "
            "public-key`).",
        ),
    ],
    json: JsonOption = False,
) -> None:
    """Check a receipt's signature offline; prints what it acknowledges."""
    with reported(as_json=json):
        key = public_key_argument(public_key)
        try:
            raw = receipt.read_bytes()
        except OSError:
            raise NotFound(f"No receipt file at {receipt}.", where=str(receipt)) from None
        signed = read_receipt(_unwrap(raw))
        signed.verify_with(key)
        document = signed.document
        if json:
            print_json({"valid": True, "receipt": document})
        else:
            console.print("[green]valid[/green]: signed by the server's key")
            _summary(document)


def send(
    file: FileArgument,
    server: ServerOption,
    token: OptionalTokenOption = None,
    cert: CertOption = None,
    key: CertKeyOption = None,
    ca: CaOption = None,
    to: ToOption = None,
    format: FormatOption = None,  # noqa: A002 - the option's name
    signing_key: SigningKeyOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    receipt_out: ReceiptOutOption = None,
    wait: WaitOption = True,
    wait_seconds: WaitSecondsOption = 900,
    json: JsonOption = False,
) -> None:
    """Sign and send a batch to the server; print its signed receipt."""
    with reported(as_json=json):
        remote = Remote(server, token, ca, cert, key)
        declared = format or _format_of(file)
        who = remote.get("/exchange/recipients")
        practice = str(who["organisation_id"])
        recipient = choose_recipient(who["items"], to)
        signer = _signing_key(signing_key, data_dir, practice)
        with _open(file) as stream:
            manifest, signed = make_manifest(
                stream,
                format=declared,
                sender=practice,
                recipient=recipient,
                key=signer,
                now=SystemClock().now(),
            )
            stream.seek(0)
            header = base64.urlsafe_b64encode(signed.dumps().encode()).decode().rstrip("=")
            with _progress(manifest.size, quiet=json) as advance:
                status, answer = remote.upload(
                    "/batches",
                    _chunks(stream, advance),
                    size=manifest.size,
                    headers={
                        "Claimbridge-Manifest": header,
                        "Content-Type": "application/octet-stream",
                    },
                )
        if wait and answer.get("receipt", {}).get("document", {}).get("status") == "processing":
            answer = _wait_for(remote, answer, seconds=wait_seconds, quiet=json)
        _finish(answer, receipt_out=receipt_out, json=json, duplicate=status == 200)


def ingest(
    file: FileArgument,
    org: Annotated[str, typer.Option("--org", help="The practice (name or id) it comes from.")],
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    to: ToOption = None,
    format: FormatOption = None,  # noqa: A002 - the option's name
    signing_key: SigningKeyOption = None,
    receipt_out: ReceiptOutOption = None,
    json: JsonOption = False,
) -> None:
    """Bring a batch in on this machine, for a practice (audited as the data directory's holder)."""
    with reported(as_json=json):
        settings = settings_for(data_dir)
        require_initialised(settings)
        clock = SystemClock()
        declared = format or _format_of(file)
        with open_keyring(settings, clock=clock, prompt=ask_passphrase) as keyring:
            server_key = open_audit_key(settings, keyring.providers)
            engine = open_database(settings, upgrade=False)
            try:
                sessions = make_sessionmaker(engine)
                with sessions() as session:
                    principal = data_dir_principal(session, org)
                    recipient = resolve_recipient(
                        session, principal.organisation_id, to, now=clock.now()
                    )
                    practice = principal.organisation_id
                    held = None
                    if signing_key is None and not client_key_path(data_dir, practice).exists():
                        held = held_key(session, keyring, practice)
                signer = held or _signing_key(signing_key, data_dir, practice)
                service = batch_service(
                    settings, sessions=sessions, keyring=keyring, server_key=server_key, clock=clock
                )
                with _open(file) as stream:
                    _, signed = make_manifest(
                        stream,
                        format=declared,
                        sender=principal.organisation_id,
                        recipient=recipient,
                        key=signer,
                        now=clock.now(),
                    )
                    stream.seek(0)
                    delivery = service.receive(principal, signed.dumps(), stream)
            finally:
                engine.dispose()
        _finish(
            delivery.to_json(), receipt_out=receipt_out, json=json, duplicate=delivery.duplicate
        )


def worker(
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    once: Annotated[
        bool, typer.Option("--once", help="Ingest what is queued now, then stop.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """Ingest queued batches; run several, on several machines, against one PostgreSQL."""
    with reported(as_json=json):
        settings = settings_for(data_dir)
        require_initialised(settings)
        clock = SystemClock()
        with open_keyring(settings, clock=clock, prompt=ask_passphrase) as keyring:
            engine = open_database(settings, upgrade=False)
            try:
                service = batch_service(
                    settings,
                    sessions=make_sessionmaker(engine),
                    keyring=keyring,
                    server_key=open_audit_key(settings, keyring.providers),
                    clock=clock,
                )
                runner = BatchWorker(service)
                if once:
                    done = runner.run_until_idle()
                    if json:
                        print_json({"ingested": done})
                    else:
                        console.print(f"{len(done)} queued batches read")
                    return
                if not json:
                    console.print("ingest worker running; press Ctrl+C to stop")
                with contextlib.suppress(KeyboardInterrupt):
                    runner.run_forever()
            finally:
                engine.dispose()


# -- helpers -------------------------------------------------------------------------------


def _open(file: Path) -> Any:
    try:
        return file.open("rb")
    except FileNotFoundError:
        raise NotFound(f"No file at {file}.", where=str(file)) from None
    except IsADirectoryError:
        raise ValidationFailed(f"{file} is a folder, not a file.", where=str(file)) from None


def _format_of(file: Path) -> str:
    with _open(file) as stream:
        return guess_format(stream.read(SNIFF_BYTES))


def _signing_key(given: Path | None, data_dir: Path, practice: str) -> SigningKey:
    path = given or client_key_path(data_dir, practice)
    if given is None and not path.exists():
        raise ConfigError(
            f"No batch-signing key for this practice at {path}: name one with --signing-key, "
            "create one with `claimbridge signing-key create` and register it, or have the "
            "server hold one (`claimbridge signing-key create-held`).",
            where="--signing-key",
        )
    found = read_client_key(path)
    if found.organisation_id not in (None, practice):
        raise ConfigError(
            "The signing key file belongs to another organisation.", where="--signing-key"
        )
    return found.key


def _chunks(stream: BinaryIO, advance: Any) -> Iterator[bytes]:
    while chunk := stream.read(_CHUNK):
        advance(len(chunk))
        yield chunk


class _progress:  # noqa: N801 - used as a context manager, like a function
    def __init__(self, total: int, *, quiet: bool) -> None:
        self.total = total
        self.bar: Progress | None = None
        if not quiet and total >= _PROGRESS_FROM:
            self.bar = Progress(
                TextColumn("sending"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self) -> Any:
        if self.bar is None:
            return lambda _n: None
        self.bar.start()
        task = self.bar.add_task("send", total=self.total)
        bar = self.bar
        return lambda n: bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _wait_for(remote: Remote, answer: dict[str, Any], *, seconds: int, quiet: bool) -> Any:
    """Poll the batch's receipt until the worker has read it (status not ``processing``).

    The batch is durable already (the processing receipt says so), so a
    server that restarts meanwhile, or answers an error, is waited out until
    the deadline; then the processing receipt is what ``send`` prints.
    """
    batch_id = answer["receipt"]["document"]["batch_id"]
    deadline = time.monotonic() + seconds
    delay = 0.5
    status = Console(stderr=True).status("the server is reading the batch…") if not quiet else None
    if status is not None:
        status.start()
    try:
        while time.monotonic() < deadline:
            try:
                receipt = remote.get(f"/batches/{batch_id}/receipt")
            except (StorageError, Unauthenticated):
                receipt = {}
            if receipt.get("document", {}).get("status") not in (None, "processing"):
                return {**answer, "receipt": receipt}
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)
    finally:
        if status is not None:
            status.stop()
    return answer  # still processing: the receipt says so, and the batch is durable


def _unwrap(raw: bytes) -> Any:
    """A receipt file may hold the receipt itself or the server's whole answer."""
    try:
        data = jsonlib.loads(raw)
    except ValueError:
        return raw
    if isinstance(data, dict) and "receipt" in data and "kind" not in data:
        return data["receipt"]
    return data


def _finish(
    answer: dict[str, Any], *, receipt_out: Path | None, json: bool, duplicate: bool
) -> None:
    receipt = answer.get("receipt", {})
    if receipt_out is not None:
        receipt_out.write_text(jsonlib.dumps(receipt, indent=2, sort_keys=True) + "\n")
    document = receipt.get("document", {})
    if json:
        print_json(answer)
    else:
        if duplicate:
            console.print("[yellow]already received[/yellow]: this is the original receipt")
        _summary(document)
    if document.get("status") == "rejected":
        sys.exit(EX_DATAERR)


def _summary(document: dict[str, Any]) -> None:
    claims = document.get("claims", {})
    status = str(document.get("status"))
    colour = {"accepted": "green", "rejected": "red"}.get(status, "yellow")
    console.print(
        f"batch {escape(str(document.get('batch_id')))}: [{colour}]{escape(status)}[/{colour}]; "
        f"{claims.get('found', 0)} claims found, {claims.get('stored', 0)} stored, "
        f"{claims.get('rejected', 0)} rejected",
        soft_wrap=True,
    )
    console.print(
        f"  content SHA-256 {escape(str(document.get('content_sha256')))}", soft_wrap=True
    )
    for error in document.get("errors", [])[:20]:
        console.print(
            f"  [red]error[/red] at {escape(error['where'])}: {escape(error['message'])}",
            soft_wrap=True,
        )
    left = len(document.get("errors", [])) - 20 + int(document.get("errors_left_out", 0))
    if left > 0:
        console.print(f"  … and {left} more errors (see --json)")
    scrub = document.get("integrity")
    if isinstance(scrub, dict):
        _scrub_summary(scrub)


def _scrub_summary(scrub: dict[str, Any]) -> None:
    """The integrity scrub's findings on the batch, as the receipt lists them."""
    console.print(
        f"  scrub: {scrub.get('claims_flagged', 0)} claims held, "
        f"{scrub.get('claims_ready', 0)} ready; {scrub.get('findings_block', 0)} blocking and "
        f"{scrub.get('findings_warn', 0)} warning findings",
        soft_wrap=True,
    )
    for finding in scrub.get("findings", [])[:20]:
        colour = "red" if finding.get("severity") == "block" else "yellow"
        place = f"claim {finding.get('claim_index') or finding.get('provider')}"
        if finding.get("line") is not None:
            place += f" line {finding['line']}"
        console.print(
            f"  [{colour}]{escape(str(finding.get('severity')))}[/{colour}] {escape(place)} "
            f"{escape(str(finding.get('rule')))}: {escape(str(finding.get('message')))}",
            soft_wrap=True,
        )
    if scrub.get("rules_not_run"):
        console.print(
            "  not run (no table loaded): " + escape(", ".join(scrub["rules_not_run"])),
            soft_wrap=True,
        )
