"""The assessment workflow as its users live it: invite, answer, evidence, submit, review, decide.

Riverside and Lakeside are practices, Summit and Northwind billing
companies, on SQLite and PostgreSQL, with a fixed clock. The gate's
answer is read the way every request reads it (``engaged_practices``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from claimbridge.access.engagements import refresh
from claimbridge.errors import AccessDenied, Conflict, NotFound, PayloadTooLarge, ValidationFailed
from claimbridge.storage.orgs import (
    Engagement,
    EngagementStatus,
    Organisation,
    Role,
    engaged_practices,
)
from claimbridge.storage.vendors import Assessment, AssessmentStatus
from claimbridge.vendors import assessments, reviews
from claimbridge.vendors.evidence import MAX_EVIDENCE_BYTES, evidence_content
from claimbridge.vendors.questionnaires import latest
from claimbridge.vendors.views import assessment_view, list_assessments
from tests.functional.vendors.conftest import VendorWorld
from tests.functional.vendors.flows import (
    act,
    answer,
    decide,
    engagement_of,
    events,
    good_answers,
    invite,
    sign_baa,
    submit,
    submitted,
    upload,
    upload_required,
)


def engaged(w: VendorWorld, vendor: str) -> set[str]:
    with w.sessions() as session:
        return engaged_practices(session, vendor, now=w.clock.now())


def review(w: VendorWorld, practice: str, assessment_id: str, question: str, **kw: Any) -> Any:
    admin = w.principal(practice, Role.PRACTICE_ADMIN)
    return act(
        w,
        lambda s: reviews.review(s, admin, assessment_id, question, now=w.clock.now(), **kw),
    )


def view(w: VendorWorld, org: str, role: Role, assessment_id: str) -> dict[str, Any]:
    who = w.principal(org, role)
    return act(w, lambda s: assessment_view(s, who, assessment_id, now=w.clock.now()))


# -- invite ------------------------------------------------------------------------------


def test_an_invitation_opens_an_invited_engagement_with_a_draft_on_the_latest_version(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world

    invited = invite(w, w.riverside, w.summit)

    engagement = engagement_of(w, invited["assessment_id"])
    assert engagement.status == EngagementStatus.INVITED.value
    assert engagement.invited_by == w.users[(w.riverside, Role.PRACTICE_ADMIN)]
    assert invited["questionnaire_version"] == latest().version
    shown = view(w, w.summit, Role.VENDOR_ADMIN, invited["assessment_id"])
    assert shown["status"] == "draft"
    assert shown["engagement"]["practice"]["id"] == w.riverside
    assert [e.action for e in events(w)] == ["vendors:engagement:invited"]


def test_a_company_is_invited_by_its_exact_name_too(vendor_world: VendorWorld) -> None:
    w = vendor_world
    with w.sessions() as session:
        name = session.get(Organisation, w.northwind).name  # type: ignore[union-attr]

    invited = invite(w, w.lakeside, name)

    assert invited["billing_company"] == {"id": w.northwind, "name": name}


def test_inviting_a_company_already_being_assessed_is_a_conflict(vendor_world: VendorWorld) -> None:
    w = vendor_world
    invite(w, w.riverside, w.summit)

    with pytest.raises(Conflict, match="reassessment"):
        invite(w, w.riverside, w.summit)
    invite(w, w.lakeside, w.summit)  # another practice may


def test_inviting_a_practice_is_refused_plainly(vendor_world: VendorWorld) -> None:
    w = vendor_world

    with pytest.raises(ValidationFailed, match="not a billing company") as refused:
        invite(w, w.riverside, w.lakeside)

    assert refused.value.where == "billing_company"
    with pytest.raises(NotFound):
        invite(w, w.riverside, "No Such Billing LLC")


def test_a_vendor_admin_cannot_invite_and_the_refusal_is_audited(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    vendor_admin = w.principal(w.summit, Role.VENDOR_ADMIN)

    with pytest.raises(AccessDenied):
        act(w, lambda s: assessments.invite(s, vendor_admin, w.northwind, now=w.clock.now()))

    [refusal] = events(w)
    assert (refusal.action, refusal.outcome) == ("vendors:engagement:invited", "denied")


# -- answer ------------------------------------------------------------------------------


def test_answers_save_in_parts_and_the_first_moves_the_engagement_to_assessing(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    assessment_id = invite(w, w.riverside, w.summit)["assessment_id"]

    first = answer(w, w.summit, assessment_id, {"TECH-01": True, "ENC-01": "tls1.3"})
    second = answer(w, w.summit, assessment_id, {"ENC-05": "12", "TECH-01": None})

    assert (first["saved"], first["answered"]) == (2, 2)
    assert (second["saved"], second["cleared"], second["answered"]) == (1, 1, 2)
    assert engagement_of(w, assessment_id).status == EngagementStatus.ASSESSING.value
    shown = view(w, w.riverside, Role.PRACTICE_ADMIN, assessment_id)
    by_id = {q["id"]: q for s in shown["sections"] for q in s["questions"]}
    assert by_id["ENC-01"]["answer"]["value"] == "tls1.3"
    assert by_id["ENC-05"]["answer"]["value"] == "12"
    assert by_id["TECH-01"]["answer"] is None
    assert shown["score_provisional"] is True


@pytest.mark.parametrize(
    ("answers", "where", "says"),
    [
        ({"TECH-01": "yes"}, "answers.TECH-01", "true or false"),
        ({"ENC-01": "tls9"}, "answers.ENC-01", "'tls1.3'"),
        ({"ENC-05": -3}, "answers.ENC-05", "a number"),
        ({"ENC-05": "twelve"}, "answers.ENC-05", "a number"),
        ({"ADM-01": "2999-01-01"}, "answers.ADM-01", "no later than today"),
        ({"ADM-01": "last spring"}, "answers.ADM-01", "YYYY-MM-DD"),
        ({"CERT-01": True}, "answers.CERT-01", "uploading its evidence"),
        ({"NOPE-99": True}, "answers.NOPE-99", "not a question"),
    ],
)
def test_an_invalid_answer_names_its_question_and_nothing_of_the_save_is_kept(
    vendor_world: VendorWorld, answers: dict[str, Any], where: str, says: str
) -> None:
    w = vendor_world
    assessment_id = invite(w, w.riverside, w.summit)["assessment_id"]

    with pytest.raises(ValidationFailed, match=says) as refused:
        answer(w, w.summit, assessment_id, {"TECH-02": True, **answers})

    assert refused.value.where == where
    shown = view(w, w.summit, Role.VENDOR_ADMIN, assessment_id)
    assert all(q["answer"] is None for s in shown["sections"] for q in s["questions"])


@pytest.mark.parametrize("role", [Role.BILLER, Role.CODER])
def test_a_biller_or_coder_cannot_answer(vendor_world: VendorWorld, role: Role) -> None:
    w = vendor_world
    assessment_id = invite(w, w.riverside, w.summit)["assessment_id"]
    staff = w.principal(w.summit, role)

    with pytest.raises(AccessDenied):
        act(
            w,
            lambda s: assessments.answer(
                s, staff, assessment_id, {"TECH-01": True}, now=w.clock.now()
            ),
        )

    assert events(w)[-1].outcome == "denied"


def test_the_practice_cannot_answer_for_the_vendor(vendor_world: VendorWorld) -> None:
    w = vendor_world
    assessment_id = invite(w, w.riverside, w.summit)["assessment_id"]
    practice_admin = w.principal(w.riverside, Role.PRACTICE_ADMIN)

    with pytest.raises(AccessDenied):
        act(
            w,
            lambda s: assessments.answer(
                s, practice_admin, assessment_id, {"TECH-01": True}, now=w.clock.now()
            ),
        )


def test_northwind_cannot_see_or_answer_summits_assessment(vendor_world: VendorWorld) -> None:
    w = vendor_world
    assessment_id = invite(w, w.riverside, w.summit)["assessment_id"]

    with pytest.raises(NotFound):
        answer(w, w.northwind, assessment_id, {"TECH-01": True})
    with pytest.raises(NotFound):
        view(w, w.northwind, Role.VENDOR_ADMIN, assessment_id)
    with pytest.raises(NotFound):
        view(w, w.lakeside, Role.PRACTICE_ADMIN, assessment_id)
    northwind = w.principal(w.northwind, Role.VENDOR_ADMIN)
    listed = act(w, lambda s: list_assessments(s, northwind, now=w.clock.now()))
    assert listed["items"] == []
    # Each refusal is audited, naming no tenant: the log tells Northwind nothing either.
    denied = [(e.action, e.tenant_id) for e in events(w) if e.outcome == "denied"]
    assert denied == [
        ("vendors:assessment:answered", None),
        ("vendors:assessment:read", None),
        ("vendors:assessment:read", None),
    ]


def test_answering_after_submission_is_a_conflict(vendor_world: VendorWorld) -> None:
    w = vendor_world
    assessment_id = submitted(w, w.riverside, w.summit)

    with pytest.raises(Conflict, match="frozen"):
        answer(w, w.summit, assessment_id, {"TECH-01": False})
    with pytest.raises(Conflict):
        submit(w, w.summit, assessment_id)


# -- submit and score ---------------------------------------------------------------------


def test_submission_stores_the_score_and_the_same_answers_always_score_the_same(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    answers = good_answers(w.clock.now().date(), TECH_03=False, ENC_01="tls1.2")
    one = submitted(w, w.riverside, w.summit, answers=answers)
    two = submitted(w, w.lakeside, w.northwind, answers=answers)

    with w.sessions() as session:
        first, second = session.get(Assessment, one), session.get(Assessment, two)
        assert first is not None and second is not None
        assert first.score is not None and first.score == second.score
        assert first.rating == second.rating == "high"  # TECH-03 "no" is a critical finding
    score = json.loads(first.score)
    assert {s["section"] for s in score["sections"]} == {s.id for s in latest().sections}
    assert score["reasons"][0]["question"] == "TECH-03" and score["reasons"][0]["critical"]
    assert view(w, w.riverside, Role.PRACTICE_ADMIN, one)["score"] == score


def test_missing_required_evidence_counts_against_the_score(vendor_world: VendorWorld) -> None:
    w = vendor_world
    assessment_id = invite(w, w.riverside, w.summit)["assessment_id"]
    answer(w, w.summit, assessment_id, good_answers(w.clock.now().date()))

    submit(w, w.summit, assessment_id)

    score = view(w, w.riverside, Role.PRACTICE_ADMIN, assessment_id)["score"]
    assert "CERT-01" in score["missing_evidence"] and "ADM-01" in score["missing_evidence"]
    assert score["residual"] > 0


# -- evidence -----------------------------------------------------------------------------


def test_evidence_expiring_before_it_was_issued_is_refused(vendor_world: VendorWorld) -> None:
    w = vendor_world
    assessment_id = invite(w, w.riverside, w.summit)["assessment_id"]
    today = w.clock.now().date()

    with pytest.raises(ValidationFailed, match="expires before") as refused:
        upload(
            w,
            w.summit,
            assessment_id,
            "CERT-01",
            issued=today - timedelta(days=5),
            expires=today - timedelta(days=10),
        )

    assert refused.value.where == "expires_on"
    with pytest.raises(ValidationFailed, match="expires") as no_expiry:
        upload(w, w.summit, assessment_id, "CERT-01")
    assert no_expiry.value.where == "expires_on"
    assert list(w.blobs.rglob("*-*")) == []  # nothing was written


def test_evidence_is_sealed_at_rest_and_read_back_by_both_sides_audited(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    assessment_id = invite(w, w.riverside, w.summit)["assessment_id"]
    secret = b"%PDF-1.7 SOC 2 Type II report of Summit: no exceptions noted, unique-marker-4711"
    today = w.clock.now().date()

    report = upload(
        w, w.summit, assessment_id, "CERT-01", content=secret, expires=today + timedelta(days=200)
    )
    policy = upload(w, w.summit, assessment_id, "DOC-01", content=b"policy set")

    assert report["certificate"] is True and policy["certificate"] is False
    stored = b"".join(p.read_bytes() for p in w.blobs.rglob("*") if p.is_file())
    assert stored and b"unique-marker-4711" not in stored
    for org, role in (
        (w.summit, Role.VENDOR_ADMIN),
        (w.riverside, Role.PRACTICE_ADMIN),
        (w.riverside, Role.PRIVACY_OFFICER),
    ):
        who = w.principal(org, role)
        got = act(
            w,
            lambda s, who=who: evidence_content(  # type: ignore[misc]
                s, who, w.files, assessment_id, report["id"], now=w.clock.now()
            ),
        )
        assert got.content == secret
    downloads = [e for e in events(w) if e.action == "vendors:evidence:downloaded"]
    assert len(downloads) == 3 and {e.resource_id for e in downloads} == {report["id"]}
    assert all(e.tenant_id == w.riverside for e in downloads)


@pytest.mark.parametrize(
    ("org", "role", "error"),
    [
        ("lakeside", Role.PRACTICE_ADMIN, NotFound),
        ("northwind", Role.VENDOR_ADMIN, NotFound),
        ("summit", Role.BILLER, AccessDenied),
        ("riverside", Role.PRACTICE_STAFF, AccessDenied),
    ],
)
def test_evidence_is_not_read_by_anyone_else(
    vendor_world: VendorWorld, org: str, role: Role, error: type[Exception]
) -> None:
    w = vendor_world
    assessment_id = invite(w, w.riverside, w.summit)["assessment_id"]
    doc = upload(w, w.summit, assessment_id, "DOC-01")
    who = w.principal(getattr(w, org), role)

    with pytest.raises(error):
        act(
            w,
            lambda s: evidence_content(
                s, who, w.files, assessment_id, doc["id"], now=w.clock.now()
            ),
        )

    assert events(w)[-1].action == "vendors:evidence:downloaded"
    assert events(w)[-1].outcome == "denied"


def test_a_document_over_the_size_limit_is_refused_and_leaves_no_blob(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    assessment_id = invite(w, w.riverside, w.summit)["assessment_id"]

    with pytest.raises(PayloadTooLarge):
        upload(w, w.summit, assessment_id, "DOC-01", content=b"x" * (MAX_EVIDENCE_BYTES + 1))

    assert [p for p in w.blobs.rglob("*") if p.is_file()] == []


# -- review and remediation ---------------------------------------------------------------


def test_remediation_needs_a_due_date_that_is_not_past(vendor_world: VendorWorld) -> None:
    w = vendor_world
    assessment_id = submitted(w, w.riverside, w.summit)
    today = w.clock.now().date()

    with pytest.raises(ValidationFailed) as no_date:
        review(w, w.riverside, assessment_id, "TECH-01", verdict="remediation")
    with pytest.raises(ValidationFailed) as past:
        review(
            w,
            w.riverside,
            assessment_id,
            "TECH-01",
            verdict="remediation",
            due_on=today - timedelta(days=1),
        )
    item = review(
        w, w.riverside, assessment_id, "TECH-01", verdict="remediation", due_on=today, note="MFA"
    )

    assert no_date.value.where == past.value.where == "due_on"
    assert (item["critical"], item["open"], item["due_on"]) == (True, True, today.isoformat())
    optional = review(w, w.riverside, assessment_id, "ADM-02", verdict="remediation", due_on=today)
    assert optional["critical"] is False  # ADM-02 is not a critical question


def test_lakeside_cannot_review_riversides_assessment(vendor_world: VendorWorld) -> None:
    w = vendor_world
    assessment_id = submitted(w, w.riverside, w.summit)

    with pytest.raises(NotFound):
        review(w, w.lakeside, assessment_id, "TECH-01", verdict="accepted")
    with pytest.raises(NotFound):
        decide(w, w.lakeside, assessment_id, approve=True)


def test_a_draft_is_not_reviewed(vendor_world: VendorWorld) -> None:
    w = vendor_world
    assessment_id = invite(w, w.riverside, w.summit)["assessment_id"]

    with pytest.raises(Conflict):
        review(w, w.riverside, assessment_id, "TECH-01", verdict="accepted")


def test_a_vendor_admin_cannot_approve(vendor_world: VendorWorld) -> None:
    w = vendor_world
    assessment_id = submitted(w, w.riverside, w.summit)
    vendor_admin = w.principal(w.summit, Role.VENDOR_ADMIN)

    with pytest.raises(AccessDenied):
        act(
            w,
            lambda s: assessments.decide(
                s, vendor_admin, assessment_id, approve=True, note="ok", now=w.clock.now()
            ),
        )

    last = events(w)[-1]
    assert (last.action, last.outcome) == ("vendors:assessment:approved", "denied")


# -- decisions and the gate ---------------------------------------------------------------


def test_approval_with_a_baa_opens_the_gate(vendor_world: VendorWorld) -> None:
    w = vendor_world
    assessment_id = submitted(w, w.riverside, w.summit)
    sign_baa(w, engagement_of(w, assessment_id).id)
    assert engaged(w, w.summit) == set()

    decided = decide(w, w.riverside, assessment_id, approve=True)

    assert decided["status"] == "approved" and decided["engagement"]["status"] == "active"
    assert engaged(w, w.summit) == {w.riverside}
    assert "vendors:engagement:activated" in [e.action for e in events(w)]


def test_approval_without_a_baa_keeps_the_gate_shut_saying_why(vendor_world: VendorWorld) -> None:
    w = vendor_world
    assessment_id = submitted(w, w.riverside, w.summit)

    decided = decide(w, w.riverside, assessment_id, approve=True)

    assert decided["engagement"]["lapse_condition"] == "no_baa"
    assert engaged(w, w.summit) == set()


def test_rejecting_a_reassessment_shuts_an_open_gate_with_its_reason(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    first = submitted(w, w.riverside, w.summit)
    sign_baa(w, engagement_of(w, first).id)
    decide(w, w.riverside, first, approve=True)
    admin = w.principal(w.riverside, Role.PRACTICE_ADMIN)
    w.clock.advance(timedelta(days=1))

    second = act(w, lambda s: assessments.reassess(s, admin, w.summit, now=w.clock.now()))
    assert engaged(w, w.summit) == {w.riverside}  # the approved one still holds
    answer(w, w.summit, second["assessment_id"], good_answers(w.clock.now().date()))
    submit(w, w.summit, second["assessment_id"])
    decided = decide(w, w.riverside, second["assessment_id"], approve=False)

    engagement = engagement_of(w, first)
    assert engaged(w, w.summit) == set()
    assert decided["engagement"]["lapse_condition"] == "assessment_not_approved"
    assert engagement.status == EngagementStatus.SUSPENDED.value
    assert engagement.lapse_condition == "assessment_not_approved"
    assert "rejected" in (engagement.lapse_reason or "")
    assert [e.action for e in events(w)][-2:] == [
        "vendors:assessment:rejected",
        "vendors:engagement:lapsed",
    ]


def test_only_one_open_reassessment_at_a_time(vendor_world: VendorWorld) -> None:
    w = vendor_world
    invite(w, w.riverside, w.summit)
    admin = w.principal(w.riverside, Role.PRACTICE_ADMIN)

    with pytest.raises(Conflict):
        act(w, lambda s: assessments.reassess(s, admin, w.summit, now=w.clock.now()))
    with pytest.raises(NotFound):
        act(w, lambda s: assessments.reassess(s, admin, w.northwind, now=w.clock.now()))


def test_a_critical_remediation_past_due_lapses_and_closing_it_restores(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    assessment_id = submitted(w, w.riverside, w.summit)
    sign_baa(w, engagement_of(w, assessment_id).id)
    due = w.clock.now().date() + timedelta(days=5)
    review(w, w.riverside, assessment_id, "TECH-01", verdict="remediation", due_on=due)
    decide(w, w.riverside, assessment_id, approve=True)
    assert engaged(w, w.summit) == {w.riverside}

    w.clock.advance(timedelta(days=7))
    assert engaged(w, w.summit) == set()  # no one had to notice
    with w.sessions.begin() as session:  # the watcher notices
        found = session.get(Engagement, engagement_of(w, assessment_id).id)
        assert found is not None
        refresh(session, found, now=w.clock.now())
    vendor_admin = w.principal(w.summit, Role.VENDOR_ADMIN)
    practice_admin = w.principal(w.riverside, Role.PRACTICE_ADMIN)
    with pytest.raises(Conflict, match="not reported"):
        act(
            w,
            lambda s: reviews.close_remediation(
                s, practice_admin, assessment_id, "TECH-01", now=w.clock.now()
            ),
        )
    act(
        w,
        lambda s: reviews.report_remediation(
            s,
            vendor_admin,
            assessment_id,
            "TECH-01",
            resolution="Shared accounts removed.",
            now=w.clock.now(),
        ),
    )
    closed = act(
        w,
        lambda s: reviews.close_remediation(
            s, practice_admin, assessment_id, "TECH-01", now=w.clock.now()
        ),
    )

    assert closed["open"] is False and closed["resolved_at"] is not None
    assert engaged(w, w.summit) == {w.riverside}
    actions = [e.action for e in events(w)]
    assert actions[-4:] == [
        "vendors:engagement:lapsed",
        "vendors:remediation:reported",
        "vendors:remediation:resolved",
        "vendors:engagement:restored",
    ]


def test_a_renewed_certificate_restores_a_lapsed_engagement(vendor_world: VendorWorld) -> None:
    w = vendor_world
    today = w.clock.now().date()
    assessment_id = submitted(w, w.riverside, w.summit, certificates_expire=today + timedelta(10))
    sign_baa(w, engagement_of(w, assessment_id).id)
    decide(w, w.riverside, assessment_id, approve=True)
    w.clock.advance(timedelta(days=12))
    with w.sessions.begin() as session:
        found = session.get(Engagement, engagement_of(w, assessment_id).id)
        assert found is not None
        refresh(session, found, now=w.clock.now())
    lapsed = engagement_of(w, assessment_id)
    assert (lapsed.status, lapsed.lapse_condition) == ("suspended", "certificate_expired")

    for question in ("CERT-01", "CERT-07", "CERT-08"):
        upload(w, w.summit, assessment_id, question, expires=today + timedelta(days=400))
    assert engaged(w, w.summit) == set()  # the insurance certificate is still expired
    upload(w, w.summit, assessment_id, "INS-01", expires=today + timedelta(days=400))

    assert engaged(w, w.summit) == {w.riverside}
    assert engagement_of(w, assessment_id).status == "active"
    assert events(w)[-1].action == "vendors:engagement:restored"


# -- views and the audit trail ------------------------------------------------------------


def test_the_view_shows_answers_evidence_reviews_and_the_score_by_section(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    assessment_id = submitted(w, w.riverside, w.summit, answers=None)
    review(w, w.riverside, assessment_id, "ENC-01", verdict="accepted", note="TLS 1.3 only")

    shown = view(w, w.riverside, Role.PRIVACY_OFFICER, assessment_id)

    by_id = {q["id"]: q for s in shown["sections"] for q in s["questions"]}
    assert by_id["ENC-01"]["answer"]["value"] == "tls1.3"
    assert by_id["ENC-01"]["review"]["decision"] == "accepted"
    assert by_id["CERT-01"]["evidence"][0]["certificate"] is True
    assert "content" not in by_id["CERT-01"]["evidence"][0]
    assert shown["score"]["rating"] == "low" and shown["score_provisional"] is False
    assert all("residual" in s and "reasons" in s for s in shown["score"]["sections"])
    listed = act(
        w,
        lambda s: list_assessments(
            s, w.principal(w.riverside, Role.PRACTICE_ADMIN), now=w.clock.now()
        ),
    )
    assert [item["id"] for item in listed["items"]] == [assessment_id]


def test_every_step_leaves_its_event_and_none_carries_what_was_said(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    assessment_id = invite(w, w.riverside, w.summit)["assessment_id"]
    answer(w, w.summit, assessment_id, good_answers(w.clock.now().date()))
    upload_required(w, w.summit, assessment_id)
    submit(w, w.summit, assessment_id)
    due = w.clock.now().date() + timedelta(days=30)
    review(w, w.riverside, assessment_id, "ADM-02", verdict="remediation", due_on=due, note="n1")
    review(w, w.riverside, assessment_id, "ENC-01", verdict="accepted", note="secret-note-77")
    decide(w, w.riverside, assessment_id, approve=True)

    actions = [e.action for e in events(w)]
    assert actions[0] == "vendors:engagement:invited"
    assert actions[1] == "vendors:assessment:answered"
    assert actions.count("vendors:evidence:uploaded") == 8
    assert actions[-3:] == [
        "vendors:assessment:reviewed",
        "vendors:assessment:reviewed",
        "vendors:assessment:approved",
    ]
    assert "vendors:assessment:submitted" in actions
    for event in events(w):
        fields = f"{event.resource_type} {event.resource_id} {event.purpose}"
        assert "secret-note" not in fields and "tls1.3" not in fields
        assert event.tenant_id == w.riverside


def test_a_terminated_engagement_takes_no_more_answers(vendor_world: VendorWorld) -> None:
    w = vendor_world
    assessment_id = invite(w, w.riverside, w.summit)["assessment_id"]
    with w.sessions.begin() as session:
        engagement = session.get(Engagement, engagement_of(w, assessment_id).id)
        assert engagement is not None
        engagement.status = EngagementStatus.TERMINATED.value

    with pytest.raises(Conflict, match="terminated"):
        answer(w, w.summit, assessment_id, {"TECH-01": True})
    w.clock.advance(timedelta(days=1))
    invite(w, w.riverside, w.summit)  # a new engagement may begin


def test_assessment_status_reads_back(vendor_world: VendorWorld) -> None:
    w = vendor_world
    assessment_id = submitted(w, w.riverside, w.summit)
    with w.sessions() as session:
        row = session.get(Assessment, assessment_id)
        assert row is not None
        assert row.status == AssessmentStatus.SUBMITTED.value
        assert row.submitted_by == w.users[(w.summit, Role.VENDOR_ADMIN)]
