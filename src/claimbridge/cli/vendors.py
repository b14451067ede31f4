"""``claimbridge vendors``: choose, invite and assess billing companies, on this machine.

* ``list --org PRACTICE``: billing companies, with the practice's engagement with each.
* ``questionnaire [--version V]``: the questions, their kinds, weights and evidence.
* ``invite COMPANY --org PRACTICE``; ``reassess COMPANY --org PRACTICE``.
* ``answer ASSESSMENT --file answers.json``: save answers (``{"answers": {...},
  "comments": {...}}``, or the answers alone as one object).
* ``evidence add ASSESSMENT QUESTION FILE --issued DATE [--expires DATE]``;
  ``evidence get ASSESSMENT EVIDENCE --out FILE``.
* ``submit ASSESSMENT``.
* ``review ASSESSMENT QUESTION --accept|--reject|--remediate --due DATE``.
* ``resolve ASSESSMENT QUESTION --resolution TEXT`` (the billing company
  reports it done); ``close ASSESSMENT QUESTION`` (the practice accepts that).
* ``approve|reject ASSESSMENT --note TEXT``.
* ``show ASSESSMENT``; ``assessments --org ORG``.
* ``compare --org PRACTICE [COMPANY...]``: candidates side by side.

Each command acts as the admin of one side, audited as the data
directory's holder (people use ``/api/v1/assessments`` with their own
sign-in): the side whose step it is, found from the assessment, or
``--org``.
"""

from __future__ import annotations

import json as jsonlib
import mimetypes
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from claimbridge.access.principal import Principal
from claimbridge.audit.record import unit_of_work
from claimbridge.cli.common import opened
from claimbridge.cli.errors import reported
from claimbridge.cli.output import DataDirOption, JsonOption, console, print_json
from claimbridge.cli.vendors_report import comparison_table, print_assessment, print_questionnaire
from claimbridge.clock import SystemClock
from claimbridge.crypto.files import SealedFiles
from claimbridge.datadir import DEFAULT_DATA_DIR, write_private_file
from claimbridge.errors import NotFound, PayloadTooLarge, ValidationFailed
from claimbridge.vendors import assessments, reviews
from claimbridge.vendors.evidence import (
    MAX_EVIDENCE_BYTES,
    EvidenceUpload,
    add_evidence,
    evidence_content,
)
from claimbridge.vendors.parties import local_admin
from claimbridge.vendors.selection import DEFAULT_EXPIRING_DAYS, compare, load_candidates
from claimbridge.vendors.steps import Side, local_party
from claimbridge.vendors.views import (
    assessment_view,
    list_assessments,
    list_vendors,
    questionnaire_json,
)

T = TypeVar("T")

app = typer.Typer(
    help="Vendor risk: choose, invite and assess billing companies.", no_args_is_help=True
)
evidence_app = typer.Typer(help="Documents behind the answers, sealed.", no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")

AssessmentArg = Annotated[str, typer.Argument(metavar="ASSESSMENT", help="Assessment id.")]
QuestionArg = Annotated[str, typer.Argument(metavar="QUESTION", help="Question id (ADM-01).")]
PracticeOption = Annotated[str, typer.Option("--org", help="The practice (name or id).")]
SideOption = Annotated[
    str | None,
    typer.Option("--org", help="Act as this organisation's admin (default: the step's side)."),
]


def _act(
    data_dir: Path,
    work: Callable[[Session, datetime, SealedFiles], T],
) -> T:
    """Open the instance and run ``work`` in one transaction (a refusal's event is kept)."""
    with opened(data_dir) as inst:
        files = inst.files
        now = SystemClock().now()
        return unit_of_work(inst.sessions, lambda session: work(session, now, files))


def _party(session: Session, assessment_id: str, side: Side, org: str | None) -> Principal:
    return local_party(session, assessment_id, side=side, organisation=org)


# -- choose and invite ----------------------------------------------------------------------


@app.command("list")
def list_command(
    org: PracticeOption, data_dir: DataDirOption = DEFAULT_DATA_DIR, json: JsonOption = False
) -> None:
    """Billing companies, with the practice's engagement with each."""
    with reported(as_json=json):
        shown = _act(data_dir, lambda s, now, _f: list_vendors(s, local_admin(s, org), now=now))
    if json:
        print_json(shown)
        return
    table = Table("id", "billing company", "engagement", "lapse")
    for item in shown["items"]:
        engagement = item["engagement"] or {}
        table.add_row(
            item["id"],
            escape(item["name"]),
            engagement.get("status", "not invited"),
            escape(engagement.get("lapse_reason") or ""),
        )
    console.print(table)


@app.command("questionnaire")
def questionnaire_command(
    version: Annotated[
        str | None, typer.Option("--version", help="A version id (default: the latest).")
    ] = None,
    json: JsonOption = False,
) -> None:
    """The questions of a questionnaire version."""
    with reported(as_json=json):
        shown = questionnaire_json(version)
    if json:
        print_json(shown)
    else:
        print_questionnaire(shown)


def _opening(verb: Callable[..., dict[str, Any]], doc: str) -> Callable[..., None]:
    def command(
        company: Annotated[str, typer.Argument(metavar="COMPANY", help="Name or id.")],
        org: PracticeOption,
        version: Annotated[
            str | None, typer.Option("--version", help="Questionnaire version (default: latest).")
        ] = None,
        data_dir: DataDirOption = DEFAULT_DATA_DIR,
        json: JsonOption = False,
    ) -> None:
        with reported(as_json=json):
            opened_ = _act(
                data_dir,
                lambda s, now, _f: verb(s, local_admin(s, org), company, now=now, version=version),
            )
        if json:
            print_json(opened_)
        else:
            console.print(
                f"assessment {opened_['assessment_id']} opened for "
                f"{escape(opened_['billing_company']['name'])} "
                f"(engagement {opened_['engagement_id']}, {opened_['engagement_status']})"
            )

    command.__doc__ = doc
    return command


app.command("invite")(
    _opening(assessments.invite, "Invite a billing company: an engagement and a draft assessment.")
)
app.command("reassess")(
    _opening(assessments.reassess, "Open a new assessment of an engaged billing company.")
)


# -- the billing company answers --------------------------------------------------------------


@app.command("answer")
def answer_command(
    assessment: AssessmentArg,
    file: Annotated[Path, typer.Option("--file", help="The answers, as JSON.")],
    org: SideOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Save answers to a draft; every answer is checked before any is kept."""
    with reported(as_json=json):
        answers, comments = _answers_file(file)
        saved = _act(
            data_dir,
            lambda s, now, _f: assessments.answer(
                s,
                _party(s, assessment, Side.VENDOR, org),
                assessment,
                answers,
                comments=comments,
                now=now,
            ),
        )
    if json:
        print_json(saved)
    else:
        console.print(
            f"{saved['saved']} saved, {saved['cleared']} cleared: "
            f"{saved['answered']} of {saved['questions']} questions answered"
        )


def _answers_file(file: Path) -> tuple[dict[str, Any], dict[str, str | None]]:
    if not file.is_file():
        raise NotFound(f"No file at {file}.", where=str(file))
    try:
        data = jsonlib.loads(file.read_bytes())
    except ValueError:
        raise ValidationFailed("The answers file is not valid JSON.", where=file.name) from None
    if not isinstance(data, dict):
        raise ValidationFailed("The answers file holds one JSON object.", where=file.name)
    if isinstance(data.get("answers"), dict):
        comments = data.get("comments") or {}
        if not isinstance(comments, dict):
            raise ValidationFailed("'comments' maps question ids to text.", where=file.name)
        return data["answers"], comments
    return data, {}


@evidence_app.command("add")
def evidence_add(
    assessment: AssessmentArg,
    question: QuestionArg,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The document.")],
    issued: Annotated[datetime, typer.Option("--issued", formats=["%Y-%m-%d"])],
    expires: Annotated[
        datetime | None, typer.Option("--expires", formats=["%Y-%m-%d"], help="If it expires.")
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Default: the file's name.")] = None,
    media_type: Annotated[
        str | None, typer.Option("--media-type", help="Default: guessed from the name.")
    ] = None,
    org: SideOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Upload a document for one question, sealed under the billing company's key."""
    with reported(as_json=json):
        if not file.is_file():
            raise NotFound(f"No file at {file}.", where=str(file))
        if file.stat().st_size > MAX_EVIDENCE_BYTES:
            raise PayloadTooLarge(
                f"A document is at most {MAX_EVIDENCE_BYTES // (1024 * 1024)} MiB.",
                where=str(file),
            )
        upload = EvidenceUpload(
            question=question,
            title=title or file.name,
            issued_on=issued.date(),
            expires_on=expires.date() if expires else None,
            media_type=media_type
            or mimetypes.guess_type(file.name)[0]
            or "application/octet-stream",
        )
        with file.open("rb") as content:
            stored = _act(
                data_dir,
                lambda s, now, files: add_evidence(
                    s,
                    _party(s, assessment, Side.VENDOR, org),
                    files,
                    assessment,
                    upload=upload,
                    content=content,
                    now=now,
                ),
            )
    if json:
        print_json(stored)
    else:
        kind = "certificate" if stored["certificate"] else "evidence"
        until = f", expires {stored['expires_on']}" if stored["expires_on"] else ""
        console.print(f"{kind} {stored['id']} stored for {stored['question']}{until}")


@evidence_app.command("get")
def evidence_get(
    assessment: AssessmentArg,
    evidence: Annotated[str, typer.Argument(metavar="EVIDENCE", help="Evidence id.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the document.")],
    org: SideOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Write a document out (readable by you alone); the reading is audited."""
    with reported(as_json=json):
        document = _act(
            data_dir,
            lambda s, now, files: evidence_content(
                s, _party(s, assessment, Side.PRACTICE, org), files, assessment, evidence, now=now
            ),
        )
        write_private_file(out, document.content)
    if json:
        print_json({**document.meta, "out": str(out)})
    else:
        console.print(f"{escape(document.meta['title'])} written to {escape(str(out))}")


@app.command("submit")
def submit_command(
    assessment: AssessmentArg,
    org: SideOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Submit a draft: the answers freeze and today's score is stored."""
    with reported(as_json=json):
        done = _act(
            data_dir,
            lambda s, now, _f: assessments.submit(
                s, _party(s, assessment, Side.VENDOR, org), assessment, now=now
            ),
        )
    if json:
        print_json(done)
    else:
        console.print(f"assessment {done['id']} submitted: rated {done['rating']}")


@app.command("resolve")
def resolve_command(
    assessment: AssessmentArg,
    question: QuestionArg,
    resolution: Annotated[str, typer.Option("--resolution", help="What was done.")],
    org: SideOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Report a remediation item done (the billing company); the practice then closes it."""
    with reported(as_json=json):
        item = _act(
            data_dir,
            lambda s, now, _f: reviews.report_remediation(
                s,
                _party(s, assessment, Side.VENDOR, org),
                assessment,
                question,
                resolution=resolution,
                now=now,
            ),
        )
    if json:
        print_json(item)
    else:
        console.print(f"{item['question']}: reported done; waiting for the practice to close it")


# -- the practice reviews and decides ---------------------------------------------------------


@app.command("review")
def review_command(
    assessment: AssessmentArg,
    question: QuestionArg,
    accept: Annotated[bool, typer.Option("--accept", help="Accept the answer.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Reject the answer.")] = False,
    remediate: Annotated[bool, typer.Option("--remediate", help="Ask for a fix.")] = False,
    due: Annotated[
        datetime | None, typer.Option("--due", formats=["%Y-%m-%d"], help="Fix by this day.")
    ] = None,
    critical: Annotated[
        bool | None,
        typer.Option(
            "--critical/--not-critical", help="Default: whether the question is critical."
        ),
    ] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    org: SideOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """The practice's verdict on one question of a submitted assessment."""
    with reported(as_json=json):
        chosen = [
            verdict
            for verdict, flag in (
                (reviews.Verdict.ACCEPT, accept),
                (reviews.Verdict.REJECT, reject),
                (reviews.Verdict.REMEDIATE, remediate),
            )
            if flag
        ]
        if len(chosen) != 1:
            raise ValidationFailed(
                "Give one of --accept, --reject or --remediate.", where="--accept"
            )
        item = _act(
            data_dir,
            lambda s, now, _f: reviews.review(
                s,
                _party(s, assessment, Side.PRACTICE, org),
                assessment,
                question,
                verdict=chosen[0],
                due_on=due.date() if due else None,
                critical=critical,
                note=note,
                now=now,
            ),
        )
    if json:
        print_json(item)
    else:
        due_text = f" by {item['due_on']}" if item["due_on"] else ""
        flag = " (critical)" if item["critical"] else ""
        console.print(f"{item['question']}: {item['decision']}{due_text}{flag}")


@app.command("close")
def close_command(
    assessment: AssessmentArg,
    question: QuestionArg,
    org: SideOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Close a remediation item the billing company reported done; the gate runs again."""
    with reported(as_json=json):
        item = _act(
            data_dir,
            lambda s, now, _f: reviews.close_remediation(
                s, _party(s, assessment, Side.PRACTICE, org), assessment, question, now=now
            ),
        )
    if json:
        print_json(item)
    else:
        console.print(f"{item['question']}: remediation closed")


def _decision(approve: bool) -> Callable[..., None]:
    def command(
        assessment: AssessmentArg,
        note: Annotated[str, typer.Option("--note", help="Why.")],
        org: SideOption = None,
        data_dir: DataDirOption = DEFAULT_DATA_DIR,
        json: JsonOption = False,
    ) -> None:
        with reported(as_json=json):
            done = _act(
                data_dir,
                lambda s, now, _f: assessments.decide(
                    s,
                    _party(s, assessment, Side.PRACTICE, org),
                    assessment,
                    approve=approve,
                    note=note,
                    now=now,
                ),
            )
        if json:
            print_json(done)
            return
        engagement = done["engagement"]
        standing = (
            "open"
            if engagement["lapse_condition"] is None
            else f"shut: {engagement['lapse_reason']}"
        )
        console.print(
            f"assessment {done['id']} {done['status']} (rated {done['rating']}); "
            f"engagement {engagement['status']}, {escape(standing)}"
        )

    command.__doc__ = (
        "Approve a submitted assessment; with a BAA in force, access opens."
        if approve
        else "Reject a submitted assessment; the engagement's access stops."
    )
    return command


app.command("approve")(_decision(approve=True))
app.command("reject")(_decision(approve=False))


# -- reading ----------------------------------------------------------------------------------


@app.command("show")
def show_command(
    assessment: AssessmentArg,
    org: SideOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """One assessment: answers, evidence, reviews and the score by section."""
    with reported(as_json=json):
        shown = _act(
            data_dir,
            lambda s, now, _f: assessment_view(
                s, _party(s, assessment, Side.PRACTICE, org), assessment, now=now
            ),
        )
    if json:
        print_json(shown)
    else:
        print_assessment(shown)


@app.command("assessments")
def assessments_command(
    org: Annotated[str, typer.Option("--org", help="A practice or billing company.")],
    status: Annotated[str | None, typer.Option("--status")] = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """The organisation's assessments, newest first."""
    with reported(as_json=json):
        shown = _act(
            data_dir,
            lambda s, now, _f: list_assessments(s, local_admin(s, org), now=now, status=status),
        )
    if json:
        print_json(shown)
        return
    table = Table("id", "practice", "billing company", "status", "rating", "created")
    for item in shown["items"]:
        engagement = item["engagement"]
        table.add_row(
            item["id"],
            escape(engagement["practice"]["name"]),
            escape(engagement["billing_company"]["name"]),
            item["status"],
            item["rating"] or "",
            item["created_at"][:10],
        )
    console.print(table)


@app.command("compare")
def compare_command(
    org: PracticeOption,
    companies: Annotated[
        list[str] | None,
        typer.Argument(metavar="[COMPANY...]", help="Default: those the practice engaged."),
    ] = None,
    within_days: Annotated[
        int, typer.Option("--within-days", min=0, max=3650, help="Certificates expiring within.")
    ] = DEFAULT_EXPIRING_DAYS,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Candidate billing companies side by side, best first."""
    with reported(as_json=json):
        shown = _act(
            data_dir,
            lambda s, now, _f: compare(
                load_candidates(s, local_admin(s, org), companies or [], now=now),
                today=now.date(),
                expiring_within_days=within_days,
            ).to_json(),
        )
    if json:
        print_json(shown)
    else:
        console.print(comparison_table(shown))
