"""A writer or a reader of sealed patients, run as its own process beside a key rotation.

    python rotation_load.py write DATA_DIR ORG_ID STOP_FILE OUT_FILE
    python rotation_load.py read  DATA_DIR ORG_ID STOP_FILE OUT_FILE

The rotation test forks ``main`` from ``tests.functional.prefork`` with the
same arguments, which spares each process the seconds of imports.

Each runs until STOP_FILE exists (or for ``LONGEST_SECONDS``, should the
test never make it), so the load lasts exactly as long as the rotations it
is beside. The writer commits patients and appends each committed id to
OUT_FILE; every 20 rows it starts a fresh keyring, as a restarted process
would, so new data keys keep being made under whichever KEK is newest. The
reader decrypts random patients and writes "reads=N failures=M" to
OUT_FILE after each read.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from claimbridge.clock import SystemClock
from claimbridge.config import load_settings
from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.instance.keys import open_keyring
from claimbridge.phi.records import PatientRecord, patient_row, read_patient
from claimbridge.storage.clinical import Patient
from claimbridge.storage.db import make_engine, make_sessionmaker

LONGEST_SECONDS = 600.0


def main(mode: str, data_dir: str, org_id: str, stop_file: str, out_file: str) -> None:
    settings = load_settings(Path(data_dir))
    engine = make_engine(settings.effective_database_url)
    sessions = make_sessionmaker(engine)
    clock = SystemClock()
    keyring = open_keyring(settings, clock=clock)
    deadline = time.monotonic() + LONGEST_SECONDS
    stop, out = Path(stop_file), Path(out_file)
    written = reads = failures = 0
    rng = random.Random()
    while time.monotonic() < deadline and not stop.exists():
        if mode == "write":
            if written % 20 == 0:
                keyring = open_keyring(settings, clock=clock)
            with sessions.begin() as session:
                record = PatientRecord(
                    mrn=f"W{written:07d}",
                    given_name="Rotation",
                    family_name=f"Writer{written}",
                    birth_date=date(1970, 1, 1),
                )
                row = patient_row(FieldSealer(keyring, session, org_id), record, now=clock.now())
                session.add(row)
            with out.open("a") as log:
                log.write(row.id + "\n")
            written += 1
        else:
            with sessions() as session:
                count = (
                    session.scalar(
                        select(func.count())
                        .select_from(Patient)
                        .where(Patient.practice_id == org_id)
                    )
                    or 0
                )
                row = session.scalars(
                    select(Patient)
                    .where(Patient.practice_id == org_id)
                    .offset(rng.randrange(max(count, 1)))
                    .limit(1)
                ).first()
                if row is not None:
                    try:
                        read_patient(FieldSealer(keyring, session, org_id), row)
                        reads += 1
                    except DecryptionFailed:
                        failures += 1
            out.write_text(f"reads={reads} failures={failures}\n")
    engine.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:])
