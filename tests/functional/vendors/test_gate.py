"""The engagement gate, proven through the PHI gateway: each condition shuts it, with a
reason that names it, and restoring the condition opens it again (clock injected).

Summit's biller reads a Riverside patient while the engagement is open; then each
condition of issue 9 fails in turn and the read is refused with 403
``engagement_inactive`` naming that condition. A billing company with no engagement
at all is told "not found", as for any other tenant's data.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from claimbridge.access.engagements import EngagementInactive
from claimbridge.api.problems import status_for
from claimbridge.errors import NotFound
from claimbridge.storage.orgs import EngagementStatus
from tests.functional.vendors.conftest import VendorWorld
from tests.functional.vendors.gatekit import (
    add_certificate,
    add_remediation,
    biller,
    decide_assessment,
    engagement,
    engagement_without_baa,
    read_patient,
    resolve_remediation,
    set_reassessment_months,
    sign_baa,
    write_patient,
)


def _refused(w: VendorWorld, patient: str, condition: str, *, mentions: str) -> None:
    with pytest.raises(EngagementInactive) as caught:
        read_patient(w, biller(w, w.summit), patient)
    error = caught.value
    assert status_for(error) == 403
    assert error.code == "engagement_inactive"
    assert error.where == condition
    assert mentions in error.message, error.message


def _reads(w: VendorWorld, patient: str) -> None:
    shown = read_patient(w, biller(w, w.summit), patient)
    assert shown["id"] == patient
    assert shown["family_name"] == "Quill"  # the biller's view carries the name


def test_biller_reads_the_practice_while_the_engagement_is_open(vendor_world: VendorWorld) -> None:
    w = vendor_world
    w.open_engagement(w.riverside, w.summit)
    patient = write_patient(w, w.riverside)
    _reads(w, patient)


def test_no_baa_shuts_the_gate_and_a_signed_baa_opens_it(vendor_world: VendorWorld) -> None:
    w = vendor_world
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    patient = write_patient(w, w.riverside)
    _refused(w, patient, "no_baa", mentions="no signed business associate agreement")

    sign_baa(w, engaged)
    _reads(w, patient)
    assert engagement(w, engaged).status == EngagementStatus.ACTIVE.value


def test_an_expired_baa_shuts_the_gate_at_once_and_a_new_one_restores_it(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    today = w.clock.now().date()
    engaged = w.open_engagement(w.riverside, w.summit, baa_expires=today + timedelta(days=10))
    patient = write_patient(w, w.riverside)
    w.clock.advance(timedelta(days=10))
    _reads(w, patient)  # good through its expiry date

    w.clock.advance(timedelta(days=1))  # nothing has run since: the gate alone stops it
    _refused(w, patient, "baa_expired", mentions=f"expired on {today + timedelta(days=10)}")

    sign_baa(w, engaged, version="2026-renewal")
    _reads(w, patient)


def test_a_rejected_assessment_shuts_the_gate_and_a_new_approval_restores_it(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    engaged = w.open_engagement(w.riverside, w.summit)
    patient = write_patient(w, w.riverside)
    w.clock.advance(timedelta(hours=1))
    decide_assessment(w, engaged, "rejected")
    _refused(w, patient, "assessment_not_approved", mentions="rejected")

    w.clock.advance(timedelta(days=3))
    decide_assessment(w, engaged, "approved")
    _reads(w, patient)


def test_an_assessment_older_than_twelve_months_shuts_the_gate(vendor_world: VendorWorld) -> None:
    w = vendor_world
    approved = w.clock.now() - timedelta(days=360)
    engaged = w.open_engagement(w.riverside, w.summit, approved_at=approved)
    patient = write_patient(w, w.riverside)
    _reads(w, patient)

    w.clock.advance(timedelta(days=6))  # 366 days after approval: past 12 months
    _refused(w, patient, "assessment_expired", mentions="older than 12 months")

    decide_assessment(w, engaged, "approved")
    _reads(w, patient)


def test_a_shorter_reassessment_period_shuts_the_gate_sooner(vendor_world: VendorWorld) -> None:
    w = vendor_world
    approved = w.clock.now() - timedelta(days=150)
    engaged = w.open_engagement(w.riverside, w.summit, approved_at=approved)
    other = w.open_engagement(w.lakeside, w.summit, approved_at=approved)
    patient = write_patient(w, w.riverside)
    elsewhere = write_patient(w, w.lakeside)
    set_reassessment_months(w, engaged, 6)
    _reads(w, patient)

    w.clock.advance(timedelta(days=40))  # 190 days: past 6 months, within 12
    _refused(w, patient, "assessment_expired", mentions="older than 6 months")
    assert read_patient(w, biller(w, w.summit), elsewhere)["id"] == elsewhere
    assert engagement(w, other).reassessment_months == 12


def test_a_critical_remediation_past_due_shuts_the_gate_a_minor_one_does_not(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    today = w.clock.now().date()
    engaged = w.open_engagement(w.riverside, w.summit)
    patient = write_patient(w, w.riverside)
    add_remediation(w, engaged, "ADM-06", due_on=today + timedelta(days=3), critical=False)
    add_remediation(w, engaged, "TECH-02", due_on=today + timedelta(days=10), critical=True)

    w.clock.advance(timedelta(days=5))  # the minor item is past due
    _reads(w, patient)

    w.clock.advance(timedelta(days=6))  # the critical one too
    _refused(w, patient, "remediation_past_due", mentions="TECH-02")

    resolve_remediation(w, engaged, "TECH-02")
    _reads(w, patient)


def test_an_expired_required_certificate_shuts_the_gate_until_renewed(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    today = w.clock.now().date()
    engaged = w.open_engagement(w.riverside, w.summit)
    patient = write_patient(w, w.riverside)
    add_certificate(w, engaged, "CERT-01", expires_on=today + timedelta(days=20))
    _reads(w, patient)

    w.clock.advance(timedelta(days=21))
    _refused(w, patient, "certificate_expired", mentions="CERT-01")

    add_certificate(w, engaged, "CERT-01", expires_on=today + timedelta(days=400))
    _reads(w, patient)


def test_a_billing_company_with_no_engagement_is_told_not_found(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    w.open_engagement(w.riverside, w.summit)
    patient = write_patient(w, w.riverside)
    with pytest.raises(NotFound) as caught:
        read_patient(w, biller(w, w.northwind), patient)
    assert not isinstance(caught.value, EngagementInactive)
    assert status_for(caught.value) == 404
