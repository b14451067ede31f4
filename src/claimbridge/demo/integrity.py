"""What the demo shows of claim integrity: small tables, and two claims the scrub holds.

CPT content is licensed and NCCI's tables are large, so the demo loads two
tiny tables of its own in CMS's layouts, labelled SYNTHETIC: one PTP pair
(the comprehensive metabolic panel 80053 with the glucose test 82947 it
includes, the pair the issue cites) and a few MUE values generous enough
for the demo's ordinary claims. Riverside's encounter log counts as
attested, so its batch is also checked against the visits it documented.

Two claims are added to Riverside's batch, each something a billing
company should never send: the glucose test billed beside the panel that
contains it (unbundling), and an office visit on a day the practice
recorded no visit (a service not provided). The scrub holds both.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from claimbridge.audit.record import LOCAL_OPERATOR
from claimbridge.demo.generate import DemoClaim, DemoPractice, DemoServiceLine
from claimbridge.formats.cms import MueEdit, PtpEdit, write_mue, write_ptp
from claimbridge.integrity.references import load_reference
from claimbridge.storage.integrity import TableKind

__all__ = ["DEMO_MUE", "DEMO_PTP", "held_by_the_scrub", "load_demo_tables"]

_ORIGIN = date(1996, 1, 1)
DEMO_PTP = (PtpEdit("80053", "82947", True, _ORIGIN, None, 0, "SYNTHETIC demo edit"),)
DEMO_MUE = (
    MueEdit("36415", 2, 2, "SYNTHETIC demo value"),
    MueEdit("80053", 1, 2, "SYNTHETIC demo value"),
    MueEdit("82947", 2, 3, "SYNTHETIC demo value"),
)
_GLUCOSE_CENTS = 2_000
_VISIT = "99214"
_VISIT_CENTS = 19_500


def load_demo_tables(sessions: sessionmaker[Session], folder: Path, *, now: datetime) -> None:
    """The demo's PTP and MUE tables, written in CMS's layouts and loaded as versions."""
    folder.mkdir(parents=True, exist_ok=True)
    ptp = folder / "SYNTHETIC-demo-ccipra.TXT"
    mue = folder / "SYNTHETIC-demo-MCR_MUE_PractitionerServices.csv"
    with ptp.open("wb") as out:
        write_ptp(DEMO_PTP, out)
    with mue.open("wb") as out:
        write_mue(DEMO_MUE, out)
    since = date(now.year - 1, 1, 1)
    for kind, path in ((TableKind.PTP, ptp), (TableKind.MUE, mue)):
        load_reference(sessions, kind, path, effective_from=since, now=now, actor=LOCAL_OPERATOR)


def held_by_the_scrub(practice: DemoPractice, held: tuple[DemoClaim, ...]) -> tuple[DemoClaim, ...]:
    """Two claims for patients of ``held`` the scrub must hold (none when too few are held)."""
    panel_free = [c for c in held if not {"80053", "82947"} & {ln.procedure_code for ln in c.lines}]
    others = [c for c in held if c not in panel_free[:1]]
    if not panel_free or not others:
        return ()
    return (_unbundled(panel_free[0]), _not_provided(practice, others[0]))


def _unbundled(claim: DemoClaim) -> DemoClaim:
    """The panel and the glucose test it includes, billed apart on the same visit."""
    served = claim.lines[0].date_of_service
    lines = (
        DemoServiceLine(1, "80053", (), 1, 4_500, served, (1,)),
        DemoServiceLine(2, "82947", (), 1, _GLUCOSE_CENTS, served, (1,)),
    )
    return replace(
        claim,
        key=f"{claim.key}-unbundled",
        lines=lines,
        total_charge_cents=sum(line.charge_cents for line in lines),
        patient_account=f"{claim.patient_account}U",
    )


def _not_provided(practice: DemoPractice, claim: DemoClaim) -> DemoClaim:
    """An office visit billed on a day the practice recorded none for the patient."""
    visited = {e.date_of_service for e in practice.encounters if e.patient_key == claim.patient_key}
    served = claim.lines[0].date_of_service - timedelta(days=1)
    while served in visited:
        served -= timedelta(days=1)
    line = DemoServiceLine(1, _VISIT, (), 1, _VISIT_CENTS, served, (1,))
    return replace(
        claim,
        key=f"{claim.key}-not-provided",
        lines=(line,),
        total_charge_cents=_VISIT_CENTS,
        patient_account=f"{claim.patient_account}N",
    )
