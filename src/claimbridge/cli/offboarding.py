"""``claimbridge engagements terminate|export|package|confirm-receipt|shred|certificate …``.

Ending an engagement from the server's console (``vendors/offboarding.py``):

* ``terminate ENGAGEMENT --org PRACTICE --reason TEXT --passphrase-file F``:
  the billing company's access ends at once; the practice's return
  package is made (a progress bar shows it) and stored for it.
* ``export ENGAGEMENT --passphrase-file F``: make the package again if
  ``terminate`` was interrupted before it was stored.
* ``package ENGAGEMENT --out FILE``: download the sealed package.
* ``confirm-receipt ENGAGEMENT``: the practice has it; the data is
  shredded at once unless another engagement holds it.
* ``shred ENGAGEMENT``: shred now, when it is due (receipt confirmed, or
  the period over) and nothing holds it.
* ``certificate ENGAGEMENT [--out FILE]``: the signed certificate of
  destruction, byte for byte.

And two that need no data directory, for the practice on its own machine:

* ``verify-certificate CERT --public-key KEY``: check a certificate
  offline against the server's public key (``claimbridge audit public-key``).
* ``unpack PACKAGE --passphrase-file F --out DIR``: decrypt a package,
  check every file against its manifest, print the counts.

Commands on an engagement act as its practice's admin, audited as the
data directory's holder (people use ``/api/v1/engagements/{id}/termination``
with their own sign-in). ``cli/engagements.py`` adds them to its app with
``register``.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from claimbridge.access.principal import Principal
from claimbridge.audit.record import unit_of_work
from claimbridge.cli.audit_proofs import public_key_argument
from claimbridge.cli.common import Instance, opened
from claimbridge.cli.errors import reported
from claimbridge.cli.output import DataDirOption, JsonOption, console, print_json
from claimbridge.clock import SystemClock
from claimbridge.crypto.passphrase import check_passphrase
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.errors import NotFound, ValidationFailed
from claimbridge.instance.auditkey import open_audit_key
from claimbridge.vendors.destruction import verify_certificate
from claimbridge.vendors.offboarding import (
    Offboarding,
    TerminationState,
    TerminationView,
    certificate_of,
    confirm_and_shred,
    export_return_package,
    open_return_package,
    shred,
    terminate,
)
from claimbridge.vendors.parties import local_admin, local_practice_admin
from claimbridge.vendors.returns import unpack

__all__ = ["register"]

EngagementArgument = Annotated[str, typer.Argument(metavar="ENGAGEMENT", help="Engagement id.")]
PassphraseFileOption = Annotated[
    Path,
    typer.Option(
        "--passphrase-file",
        help="A file holding the package's passphrase (its first line; 12 characters or more).",
    ),
]
_CHUNK = 1 << 20


def register(app: typer.Typer) -> None:
    """Add the offboarding commands to ``claimbridge engagements``."""
    app.command("terminate")(terminate_command)
    app.command("export")(export_command)
    app.command("package")(package_command)
    app.command("confirm-receipt")(confirm_command)
    app.command("shred")(shred_command)
    app.command("certificate")(certificate_command)
    app.command("verify-certificate")(verify_command)
    app.command("unpack")(unpack_command)


def terminate_command(
    engagement: EngagementArgument,
    org: Annotated[str, typer.Option("--org", help="The practice ending it (name or id).")],
    reason: Annotated[str, typer.Option("--reason", help="Why the engagement ends.")],
    passphrase_file: PassphraseFileOption,
    shred_after_days: Annotated[
        int | None,
        typer.Option(
            "--shred-after-days",
            min=1,
            max=3650,
            help="Destroy the data this long after, if receipt is never confirmed "
            "(default: the offboarding_shred_after_days setting, 30 unless configured).",
        ),
    ] = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """End an engagement now; make the practice's return package."""
    with reported(as_json=json):
        passphrase = _passphrase(passphrase_file)
        with opened(data_dir) as inst:
            now = SystemClock().now()
            principal = unit_of_work(inst.sessions, lambda session: local_admin(session, org))
            view = unit_of_work(
                inst.sessions,
                lambda session: terminate(
                    session,
                    principal,
                    engagement,
                    reason=reason,
                    now=now,
                    shred_after=timedelta(
                        days=shred_after_days or inst.settings.offboarding_shred_after_days
                    ),
                ),
            )
            if not json:
                console.print(
                    f"[bold]terminated[/bold] {escape(engagement)}: the billing company's "
                    "access ended now"
                )
            if view.state is TerminationState.PACKAGE_PENDING:
                view = _export(inst, principal, engagement, passphrase, quiet=json)
    _print_view(view, as_json=json)


def export_command(
    engagement: EngagementArgument,
    passphrase_file: PassphraseFileOption,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Make the return package of a terminated engagement that has none yet."""
    with reported(as_json=json):
        passphrase = _passphrase(passphrase_file)
        with opened(data_dir) as inst:
            principal = _practice_admin(inst, engagement)
            view = _export(inst, principal, engagement, passphrase, quiet=json)
    _print_view(view, as_json=json)


def package_command(
    engagement: EngagementArgument,
    out: Annotated[Path, typer.Option("--out", help="Where to write the sealed package.")],
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Download the sealed return package (the practice opens it with `unpack`)."""
    with reported(as_json=json), opened(data_dir) as inst:
        principal = _practice_admin(inst, engagement)
        parts = offboarding_parts(inst)
        download = unit_of_work(
            inst.sessions,
            lambda session: open_return_package(
                session, parts, principal, engagement, now=SystemClock().now()
            ),
        )
        with parts.files.reader(download.practice_id, download.blob_key, download.key) as src:
            digest = _write_private(out, iter(lambda: src.read(_CHUNK), b""))
        if digest != download.sha256:  # pragma: no cover - the stream is authenticated
            out.unlink()
            raise ValidationFailed("The package read back does not match its hash.", where="--out")
    shown = {"path": str(out), "size": download.size, "sha256": download.sha256}
    if json:
        print_json(shown)
    else:
        console.print(
            f"wrote {escape(str(out))} ({download.size:,} bytes, sha256 {download.sha256})"
        )


def confirm_command(
    engagement: EngagementArgument,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """The practice has its package: shred its data now, unless another engagement holds it."""
    with reported(as_json=json), opened(data_dir) as inst:
        principal = _practice_admin(inst, engagement)
        view = confirm_and_shred(
            inst.sessions,
            offboarding_parts(inst, signing=True),
            principal,
            engagement,
            now=SystemClock().now(),
        )
    _print_view(view, as_json=json)


def shred_command(
    engagement: EngagementArgument,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Shred the practice's data now: only once it is due and nothing holds it."""
    with reported(as_json=json), opened(data_dir) as inst:
        principal = _practice_admin(inst, engagement)
        view = shred(
            inst.sessions,
            offboarding_parts(inst, signing=True),
            engagement,
            now=SystemClock().now(),
            principal=principal,
        )
    _print_view(view, as_json=json)


def certificate_command(
    engagement: EngagementArgument,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write it here instead of to stdout.")
    ] = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """The signed certificate of destruction, exactly as issued (canonical JSON)."""
    with reported(as_json=json), opened(data_dir) as inst:
        principal = _practice_admin(inst, engagement)
        raw = unit_of_work(
            inst.sessions,
            lambda session: certificate_of(session, principal, engagement, now=SystemClock().now()),
        )
        if out is not None:
            _write_private(out, [raw])
    if out is None:
        # Byte for byte: any other byte, even a newline, would not verify.
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()
    elif json:
        print_json({"path": str(out), "size": len(raw)})
    else:
        console.print(f"wrote {escape(str(out))} ({len(raw):,} bytes)")


def verify_command(
    certificate: Annotated[
        Path, typer.Argument(metavar="CERT", help="A certificate of destruction.")
    ],
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
    """Check a certificate of destruction offline: any changed byte fails."""
    with reported(as_json=json):
        key = public_key_argument(public_key)
        try:
            raw = certificate.read_bytes()
        except OSError:
            raise NotFound(f"No file at {certificate}.", where=str(certificate)) from None
        document = verify_certificate(raw, key)
    if json:
        print_json({"valid": True, "certificate": document})
        return
    console.print("[green]valid[/green]: signed by the server's key, not a byte changed")
    _print_certificate(document)


def unpack_command(
    package: Annotated[Path, typer.Argument(metavar="PACKAGE", help="A sealed return package.")],
    passphrase_file: PassphraseFileOption,
    out: Annotated[Path, typer.Option("--out", help="An empty folder to unpack into.")],
    json: JsonOption = False,
) -> None:
    """Decrypt a return package offline and check every file against its manifest."""
    with reported(as_json=json):
        passphrase = _passphrase(passphrase_file)
        try:
            src = package.open("rb")
        except OSError:
            raise NotFound(f"No file at {package}.", where=str(package)) from None
        with src:
            unpacked = unpack(src, passphrase, out)
    manifest = unpacked.manifest
    if json:
        print_json(
            {
                "out": str(unpacked.out),
                "files": unpacked.files,
                "bytes": unpacked.bytes,
                "records": unpacked.records,
                "missing": manifest.get("missing", []),
                "engagement": manifest.get("engagement"),
                "practice": manifest.get("practice"),
                "billing_company": manifest.get("billing_company"),
            }
        )
        return
    console.print(
        f"[green]verified[/green]: {unpacked.files} files ({unpacked.bytes:,} bytes) match the "
        f"manifest; unpacked into {escape(str(unpacked.out))}"
    )
    table = Table("records", "count")
    for name, count in unpacked.records.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    for gone in manifest.get("missing", []):
        console.print(f"[yellow]missing[/yellow] {escape(str(gone))}")


# -- helpers --------------------------------------------------------------------------------


def _passphrase(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise ValidationFailed(
            "The passphrase file cannot be read as UTF-8 text.", where="--passphrase-file"
        ) from None
    lines = text.splitlines()
    passphrase = lines[0] if lines else ""
    check_passphrase(passphrase)
    return passphrase


def _practice_admin(inst: Instance, engagement: str) -> Principal:
    return unit_of_work(inst.sessions, lambda session: local_practice_admin(session, engagement))


def offboarding_parts(inst: Instance, *, signing: bool = False) -> Offboarding:
    """What offboarding needs of this instance; ``signing`` opens the server's key too."""
    keyring = inst.keyring
    return Offboarding(
        keyring=keyring,
        files=inst.files,
        server_key=open_audit_key(inst.settings, keyring.providers) if signing else None,
    )


def _export(
    inst: Instance, principal: Principal, engagement: str, passphrase: str, *, quiet: bool
) -> TerminationView:
    with _progress(quiet=quiet) as progress:
        return export_return_package(
            inst.sessions,
            offboarding_parts(inst),
            principal,
            engagement,
            passphrase=passphrase,
            now=SystemClock().now(),
            progress=progress,
        )


@contextmanager
def _progress(*, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    bar = Progress(
        TextColumn("return package"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("records and files"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
        transient=True,
    )
    with bar:
        task = bar.add_task("package", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _write_private(path: Path, chunks: Iterable[bytes]) -> str:
    """Write ``chunks`` to ``path`` (mode 0600, in place only once whole); their SHA-256."""
    partial = path.with_name(f".{path.name}.partial")
    digest = hashlib.sha256()
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as written:
            for chunk in chunks:
                written.write(chunk)
                digest.update(chunk)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def _print_view(view: TerminationView, *, as_json: bool) -> None:
    if as_json:
        print_json(view.to_json())
        return
    shown = view.to_json()
    console.print(f"state: [bold]{view.state.value}[/bold]: {escape(view.explanation)}")
    if shown["package"]:
        console.print(
            f"return package: {view.package_size:,} bytes, sha256 {view.package_sha256}; "
            f"download it with `claimbridge engagements package {view.engagement_id} "
            "--out FILE`"
        )
    if view.state is TerminationState.AWAITING_RECEIPT:
        console.print(
            f"the data is destroyed once receipt is confirmed (`claimbridge engagements "
            f"confirm-receipt {view.engagement_id}`), or after {shown['shred_after']}"
        )
    if view.certificate:
        console.print(
            f"certificate of destruction: `claimbridge engagements certificate "
            f"{view.engagement_id} --out FILE`"
        )


def _print_certificate(document: dict[str, Any]) -> None:
    destroyed = document.get("destroyed", {})
    evidence = document.get("evidence", {})
    probes = evidence.get("probes", [])
    failed = sum(1 for p in probes if p.get("outcome") == "decryption_failed")
    console.print(
        f"practice {escape(str(document.get('practice', {}).get('name')))}, billing company "
        f"{escape(str(document.get('billing_company', {}).get('name')))}, engagement "
        f"{escape(str(document.get('engagement', {}).get('id')))}"
    )
    console.print(f"issued {document.get('issued_at')} ({document.get('trigger')})")
    keks = ", ".join(f"v{k.get('version')} {k.get('state')}" for k in destroyed.get("keks", []))
    console.print(
        f"keys destroyed: {escape(keks)}; {len(destroyed.get('data_keys', []))} data keys"
    )
    table = Table("records destroyed", "count")
    for name, count in destroyed.get("records", {}).items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(f"evidence: {failed} of {len(probes)} decryption attempts failed")
