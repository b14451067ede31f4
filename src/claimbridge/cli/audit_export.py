"""``claimbridge audit export``: audit events for a SIEM, one per line.

The export is itself audited (``audit:log:exported``, by the local
operator) and fails closed: its event is committed before the first line
is written, and if it cannot be, nothing is exported. A patient is named in
the log only by a keyed reference, so ``--patient`` is turned into that
reference with the instance's keyring; no patient id is written anywhere.

The lines come from the log as it stood when the export's own event was
written: events that arrive while it runs wait for the next export.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from claimbridge.audit.export import ExportedEvent, to_json_line, to_syslog_line
from claimbridge.audit.record import LOCAL_OPERATOR, Event, event_fields, record
from claimbridge.cli.common import ask_passphrase, settings_for
from claimbridge.cli.errors import reported
from claimbridge.cli.output import DataDirOption, JsonOption, print_json
from claimbridge.clock import SystemClock
from claimbridge.config import Settings
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.errors import NotFound, ValidationFailed
from claimbridge.instance.keys import open_keyring
from claimbridge.instance.open import open_database, require_initialised
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.audit_search import action_condition, search_events, tenant_of_patient
from claimbridge.storage.db import make_sessionmaker

EXPORTED = "audit:log:exported"
PROGRESS_STEP = 1000
SUMMARY_MAX = 100
"""The length of ``AuditEvent.resource_id``, where the export's filters are recorded."""


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    SYSLOG = "syslog"


@dataclass(frozen=True, slots=True)
class Filters:
    """What to export; ``patient_ref`` is the keyed reference, never the patient id."""

    since: datetime | None = None
    until: datetime | None = None
    actor_user_id: str | None = None
    action: str | None = None
    tenant_id: str | None = None
    patient_ref: str | None = None


FormatOption = Annotated[
    ExportFormat, typer.Option("--format", help="jsonl (JSON Lines) or syslog (RFC 5424).")
]
SinceOption = Annotated[
    str | None,
    typer.Option(help="Events at or after this instant (ISO 8601; UTC unless an offset is given)."),
]
UntilOption = Annotated[
    str | None, typer.Option(help="Events before this instant (ISO 8601; UTC unless given).")
]
ActorOption = Annotated[str | None, typer.Option(help="Only events by this user id.")]
PatientOption = Annotated[str | None, typer.Option(help="Only events about this patient id.")]
ActionOption = Annotated[
    str | None,
    typer.Option(help="An action (phi:patient:read) or a prefix ending in ':' or '*'."),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file (mode 0600) instead of stdout."),
]


def export(
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    *,
    fmt: FormatOption = ExportFormat.JSONL,
    since: SinceOption = None,
    until: UntilOption = None,
    actor: ActorOption = None,
    patient: PatientOption = None,
    action: ActionOption = None,
    output: OutputOption = None,
    json: JsonOption = False,
) -> None:
    """Export audit events for a SIEM as JSON Lines or RFC 5424 syslog, one event a line."""
    with reported(as_json=json):
        filters = Filters(
            since=parse_instant(since, where="--since"),
            until=parse_instant(until, where="--until"),
            actor_user_id=actor,
            action=action,
        )
        _check_filters(filters, output)
        settings = settings_for(data_dir)
        require_initialised(settings)
        engine = open_database(settings, upgrade=False)
        try:
            if patient is not None:
                filters = _with_patient(settings, engine, filters, patient)
            seq = _record_export(engine, filters, fmt)
            count = _write(engine, filters, fmt, output=output, before_seq=seq)
        finally:
            engine.dispose()
        _report(count, output=output, seq=seq, as_json=json)


def parse_instant(text: str | None, *, where: str) -> datetime | None:
    """An ISO 8601 date or instant; without an offset it is taken as UTC."""
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            "Give a time as ISO 8601, e.g. 2026-03-01 or 2026-03-01T14:30:00Z.", where=where
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.utcoffset() is None else parsed.astimezone(UTC)


def summarise(filters: Filters, fmt: ExportFormat) -> str:
    """The filters as the export event's ``resource_id``: ``f=jsonl;s=...;u=...;a=...;x=...``.

    The patient reference and tenant have columns of their own in the event.
    """
    parts = [f"f={fmt.value}"]
    for key, value in (
        ("s", _compact(filters.since)),
        ("u", _compact(filters.until)),
        ("a", filters.actor_user_id),
        ("x", filters.action),
    ):
        if value is not None:
            parts.append(f"{key}={value}")
    return ";".join(parts)


def _compact(instant: datetime | None) -> str | None:
    if instant is None:
        return None
    text = instant.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{text}.{instant.microsecond:06d}Z" if instant.microsecond else f"{text}Z"


def _check_filters(filters: Filters, output: Path | None) -> None:
    if filters.since and filters.until and filters.until <= filters.since:
        raise ValidationFailed("--until must be later than --since.", where="--until")
    if filters.action is not None:
        _check_action(filters.action)
    if len(summarise(filters, ExportFormat.SYSLOG)) > SUMMARY_MAX:
        # Fail closed: an export whose filters cannot be recorded in full is not run.
        raise ValidationFailed(
            f"The filters are too long to record in the audit log ({SUMMARY_MAX} characters).",
            where="--action",
        )
    if output is not None and not output.parent.is_dir():
        raise ValidationFailed("The output file's directory does not exist.", where="--output")


def _check_action(action: str) -> None:
    try:
        action_condition(action)
    except ValidationFailed as refused:
        raise ValidationFailed(refused.message, where="--action") from None


def _with_patient(settings: Settings, engine: Engine, filters: Filters, patient: str) -> Filters:
    with (
        open_keyring(settings, clock=SystemClock(), prompt=ask_passphrase) as keyring,
        make_sessionmaker(engine)() as session,
    ):
        tenant = tenant_of_patient(session, patient)
        if tenant is None:
            raise NotFound("No such patient.", where="--patient")
        ref = FieldSealer(keyring, session, tenant).index("audit.patient", patient)
    return replace(filters, tenant_id=tenant, patient_ref=ref)


def _record_export(engine: Engine, filters: Filters, fmt: ExportFormat) -> int:
    """Commit the export's own event; its sequence number bounds what is exported."""
    event = Event(
        action=EXPORTED,
        resource_type="audit_log",
        resource_id=summarise(filters, fmt),
        tenant_id=filters.tenant_id,
        patient_ref=filters.patient_ref,
        purpose="operations",
        actor=LOCAL_OPERATOR,
    )
    with make_sessionmaker(engine).begin() as session:
        return record(session, event, now=SystemClock().now()).seq


def _write(
    engine: Engine, filters: Filters, fmt: ExportFormat, *, output: Path | None, before_seq: int
) -> int:
    render = _renderer(fmt)
    with make_sessionmaker(engine)() as session:
        events = _matching(session, filters, before_seq=before_seq)
        if output is None:
            return _write_lines(sys.stdout, events, render)
        with _private_file(output) as sink, _progress() as progress:
            return _write_lines(sink, events, render, progress=progress)


def _matching(session: Session, filters: Filters, *, before_seq: int) -> Iterator[AuditEvent]:
    return search_events(
        session,
        since=filters.since,
        until=filters.until,
        actor_user_id=filters.actor_user_id,
        patient_ref=filters.patient_ref,
        action=filters.action,
        tenant_id=filters.tenant_id,
        before_seq=before_seq,
    )


def _renderer(fmt: ExportFormat) -> Callable[[ExportedEvent], str]:
    if fmt is ExportFormat.JSONL:
        return to_json_line
    return partial(to_syslog_line, hostname=socket.gethostname(), procid=str(os.getpid()))


def _write_lines(
    sink: TextIO,
    events: Iterator[AuditEvent],
    render: Callable[[ExportedEvent], str],
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    count = 0
    for row in events:
        exported = ExportedEvent(
            fields=event_fields(row),
            event_hash=row.event_hash or b"",
            prev_hash=row.prev_hash or b"",
        )
        sink.write(render(exported) + "\n")
        count += 1
        if progress is not None and count % PROGRESS_STEP == 0:
            progress(count)
    sink.flush()
    if progress is not None:
        progress(count)
    return count


@contextmanager
def _private_file(path: Path) -> Iterator[TextIO]:
    """A new 0600 file that appears at ``path`` only once complete (temp file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as sink:
            yield sink
            sink.flush()
            os.fsync(sink.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def _progress() -> Iterator[Callable[[int], None]]:
    """A count on stderr; the callable takes the number of events written so far."""
    columns = (SpinnerColumn(), TextColumn("exported {task.completed} events"))
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("export", total=None)
        yield lambda count: progress.update(task, completed=count)


def _report(count: int, *, output: Path | None, seq: int, as_json: bool) -> None:
    if output is None:
        return  # stdout holds the lines themselves
    if as_json:
        print_json({"events": count, "output": str(output), "export_event": seq})
        return
    Console(stderr=True, highlight=False).print(
        f"[bold green]ok[/bold green]: {count} events written to {escape(str(output))} "
        f"(export recorded as audit event {seq})",
        soft_wrap=True,
    )
