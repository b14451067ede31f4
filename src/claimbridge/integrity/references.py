"""Reference table versions on the server: CMS's and the OIG's files loaded once, used in effect.

``load_reference`` reads a file (NCCI PTP, NCCI MUE or the LEIE) with the
``formats.cms`` readers and writes its rows under a new version, committing
every ``CHUNK`` rows so a two-million-row PTP table never holds the
database's write lock for long. The version is ``loading`` until its last
row is in, then ``ready``; scrubs use the latest ready version whose
``effective_from`` has come (``in_effect``), so the next quarter's table
can be loaded ahead and takes over on its date, with no restart. A file
already loaded (same kind and SHA-256) is found, not stored twice; an
interrupted load of it is cleared and done again.

For one batch, ``tables_for`` reads from the version in effect only the
rows its codes and providers can meet (PTP pairs among the batch's codes,
their MUE values, LEIE rows for its NPIs and rendering names) and builds
the in-memory indexes the rules read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.audit.record import Actor, Event, record
from claimbridge.errors import ValidationFailed
from claimbridge.formats.cms import (
    CmsError,
    Exclusion,
    MueEdit,
    PtpEdit,
    read_leie,
    read_mue,
    read_ptp,
)
from claimbridge.integrity.model import ScrubClaim
from claimbridge.integrity.tables.leie import ExclusionIndex
from claimbridge.integrity.tables.ncci import MueIndex, PtpIndex
from claimbridge.storage.integrity import (
    ExclusionRow,
    MueEditRow,
    PtpEditRow,
    ReferenceTable,
    TableKind,
    TableStatus,
)
from claimbridge.types import new_id

__all__ = [
    "CHUNK",
    "BatchTables",
    "in_effect",
    "list_references",
    "load_reference",
    "name_key",
    "quarter_of",
    "tables_for",
]

CHUNK = 20_000
"""Rows written per transaction while a table loads."""
_IN_LIMIT = 900
"""Values per ``IN`` list: well under SQLite's bound-parameter limit."""


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def name_key(family: str) -> str | None:
    """The family name reduced to its letters, upper case: the LEIE look-up's first cut."""
    letters = "".join(c for c in family.upper() if c.isalpha())
    return letters[:200] or None


def load_reference(
    sessions: sessionmaker[Session],
    kind: TableKind,
    path: Path,
    *,
    effective_from: date,
    now: datetime,
    actor: Actor,
    label: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[ReferenceTable, bool]:
    """The version holding ``path``'s rows, and whether this call loaded it (False: found)."""
    digest = _sha256(path)
    with sessions.begin() as session:
        found = session.scalars(
            select(ReferenceTable).where(
                ReferenceTable.kind == kind.value, ReferenceTable.sha256 == digest
            )
        ).first()
        if found is not None and found.status == TableStatus.READY.value:
            session.expunge(found)
            return found, False
        if found is not None:  # an interrupted load: start it again
            _discard_rows(session, found.id)
        version = ReferenceTable(
            id=new_id(),
            kind=kind.value,
            label=(label or path.name)[:200],
            quarter=quarter_of(effective_from),
            effective_from=effective_from,
            sha256=digest,
            status=TableStatus.LOADING.value,
            loaded_by=actor.user_id,
            loaded_at=now,
        )
        session.add(version)
    count = 0
    try:
        with path.open("rb") as stream:
            for chunk in _chunks(_rows(kind, stream, version.id), CHUNK):
                with sessions.begin() as session:
                    session.execute(insert(_model(kind).__table__), chunk)
                count += len(chunk)
                if progress is not None:
                    progress(len(chunk))
    except CmsError as error:
        _discard(sessions, version.id)
        raise ValidationFailed(str(error), where=f"{path.name} {error.where}") from error
    except BaseException:
        _discard(sessions, version.id)
        raise
    with sessions.begin() as session:
        loaded = session.get_one(ReferenceTable, version.id)
        loaded.row_count = count
        loaded.status = TableStatus.READY.value
        record(
            session,
            Event(
                action="integrity:table:load",
                outcome="success",
                resource_type="reference-table",
                resource_id=version.id,
                tenant_id=None,
                purpose="operations",
                actor=actor,
            ),
            now=now,
        )
    with sessions() as session:
        result = session.get_one(ReferenceTable, version.id)
        session.expunge(result)
    return result, True


def in_effect(session: Session, kind: TableKind, on: date) -> ReferenceTable | None:
    """The ready version of ``kind`` that applies on ``on``: the latest to have taken effect."""
    return session.scalars(
        select(ReferenceTable)
        .where(
            ReferenceTable.kind == kind.value,
            ReferenceTable.status == TableStatus.READY.value,
            ReferenceTable.effective_from <= on,
        )
        .order_by(ReferenceTable.effective_from.desc(), ReferenceTable.loaded_at.desc())
    ).first()


def list_references(session: Session) -> list[ReferenceTable]:
    return list(
        session.scalars(
            select(ReferenceTable).order_by(
                ReferenceTable.kind, ReferenceTable.effective_from.desc()
            )
        )
    )


@dataclass(frozen=True, slots=True)
class BatchTables:
    ptp: PtpIndex | None
    mue: MueIndex | None
    exclusions: ExclusionIndex | None


def tables_for(session: Session, claims: Iterable[ScrubClaim], *, on: date) -> BatchTables:
    """The rows of the versions in effect on ``on`` that ``claims`` can meet, indexed."""
    codes: set[str] = set()
    npis: set[str] = set()
    names: set[str] = set()
    for claim in claims:
        codes.update(line.code for line in claim.lines)
        npis.update(npi for _, npi in claim.npis())
        if claim.rendering_name is not None and (key := name_key(claim.rendering_name.family)):
            names.add(key)
    ptp = in_effect(session, TableKind.PTP, on)
    mue = in_effect(session, TableKind.MUE, on)
    leie = in_effect(session, TableKind.LEIE, on)
    return BatchTables(
        ptp=PtpIndex.from_edits(_ptp_rows(session, ptp.id, codes), label=ptp.label)
        if ptp
        else None,
        mue=MueIndex.from_edits(_mue_rows(session, mue.id, codes), label=mue.label)
        if mue
        else None,
        exclusions=(
            ExclusionIndex.from_exclusions(
                _leie_rows(session, leie.id, npis, names), label=leie.label
            )
            if leie
            else None
        ),
    )


# -- reading a version's rows --------------------------------------------------------


def _ptp_rows(session: Session, table_id: str, codes: set[str]) -> Iterator[PtpEdit]:
    ordered = sorted(codes)
    for first in _slices(ordered):
        query = select(PtpEditRow).where(
            PtpEditRow.table_id == table_id, PtpEditRow.column1.in_(first)
        )
        if len(ordered) <= _IN_LIMIT:
            query = query.where(PtpEditRow.column2.in_(ordered))
        rows = session.scalars(query)
        for row in rows:
            if row.column2 in codes:
                yield PtpEdit(
                    column1=row.column1,
                    column2=row.column2,
                    exists_before_1996=row.exists_before_1996,
                    effective=row.effective,
                    deleted=row.deleted,
                    modifier_indicator=row.modifier_indicator,
                    rationale=row.rationale,
                )


def _mue_rows(session: Session, table_id: str, codes: set[str]) -> Iterator[MueEdit]:
    for part in _slices(sorted(codes)):
        rows = session.scalars(
            select(MueEditRow).where(MueEditRow.table_id == table_id, MueEditRow.code.in_(part))
        )
        for row in rows:
            yield MueEdit(row.code, row.max_units, row.indicator, row.rationale)


def _leie_rows(
    session: Session, table_id: str, npis: set[str], names: set[str]
) -> Iterator[Exclusion]:
    seen: set[int] = set()
    for column, values in ((ExclusionRow.npi, npis), (ExclusionRow.name_key, names)):
        for part in _slices(sorted(values)):
            rows = session.scalars(
                select(ExclusionRow).where(ExclusionRow.table_id == table_id, column.in_(part))
            )
            for row in rows:
                if row.row not in seen:
                    seen.add(row.row)
                    yield _exclusion(row.entry)


# -- writing a version's rows --------------------------------------------------------

_DATE_FIELDS = frozenset({"birth_date", "exclusion_date", "reinstatement_date", "waiver_date"})


def _rows(kind: TableKind, stream: Any, table_id: str) -> Iterator[dict[str, Any]]:
    if kind is TableKind.PTP:
        for number, edit in enumerate(read_ptp(stream), start=1):
            yield {
                "table_id": table_id,
                "row": number,
                "column1": edit.column1,
                "column2": edit.column2,
                "effective": edit.effective,
                "exists_before_1996": edit.exists_before_1996,
                "deleted": edit.deleted,
                "modifier_indicator": edit.modifier_indicator,
                "rationale": edit.rationale,
            }
    elif kind is TableKind.MUE:
        for number, mue in enumerate(read_mue(stream), start=1):
            yield {
                "table_id": table_id,
                "row": number,
                "code": mue.code,
                "max_units": mue.max_units,
                "indicator": mue.adjudication_indicator,
                "rationale": mue.rationale,
            }
    else:
        for number, exclusion in enumerate(read_leie(stream), start=1):
            yield {
                "table_id": table_id,
                "row": number,
                "npi": exclusion.npi,
                "name_key": name_key(exclusion.last_name),
                "entry": _entry(exclusion),
            }


def _entry(exclusion: Exclusion) -> dict[str, object]:
    entry: dict[str, object] = {}
    for spec in fields(exclusion):
        value = getattr(exclusion, spec.name)
        entry[spec.name] = value.isoformat() if isinstance(value, date) else value
    return entry


def _exclusion(entry: dict[str, Any]) -> Exclusion:
    values: dict[str, Any] = {
        name: date.fromisoformat(value) if name in _DATE_FIELDS and value else value
        for name, value in entry.items()
    }
    return Exclusion(**values)


def _model(kind: TableKind) -> type[Any]:
    return {TableKind.PTP: PtpEditRow, TableKind.MUE: MueEditRow, TableKind.LEIE: ExclusionRow}[
        kind
    ]


def _discard(sessions: sessionmaker[Session], table_id: str) -> None:
    with sessions.begin() as session:
        _discard_rows(session, table_id)


def _discard_rows(session: Session, table_id: str) -> None:
    """A version and its rows (SQLite may run without foreign-key cascades)."""
    for model in (PtpEditRow, MueEditRow, ExclusionRow):
        session.execute(delete(model).where(model.table_id == table_id))
    session.execute(delete(ReferenceTable).where(ReferenceTable.id == table_id))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _slices(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _IN_LIMIT):
        yield values[start : start + _IN_LIMIT]
