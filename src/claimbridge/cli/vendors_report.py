"""How ``claimbridge vendors`` prints: the questionnaire, one assessment, the comparison."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from rich.markup import escape
from rich.table import Table

from claimbridge.cli.output import console

__all__ = ["comparison_table", "print_assessment", "print_questionnaire"]


def print_questionnaire(shown: dict[str, Any]) -> None:
    console.print(f"[bold]{escape(shown['title'])}[/bold] ({shown['version']})")
    for section in shown["sections"]:
        console.print(f"\n[bold]{section['id']}[/bold] {escape(section['title'])}")
        for q in section["questions"]:
            flags = [q["kind"], f"weight {q['weight']}"]
            if q["critical"]:
                flags.append("critical")
            if q["evidence"]:
                flags.append(
                    ("certificate: " if q["evidence"]["certificate"] else "evidence: ")
                    + q["evidence"]["label"]
                )
            console.print(
                f"  {q['id']}  {escape(q['text'])}  [dim]({escape(', '.join(flags))})[/dim]",
                soft_wrap=True,
            )
            if q["options"]:
                console.print("      " + escape(", ".join(o["value"] for o in q["options"])))


def comparison_table(shown: dict[str, Any]) -> Table:
    """The comparison with one column per candidate, one row per thing weighed."""
    candidates = shown["candidates"]
    table = Table("", *(escape(c["company"]["name"]) for c in candidates), title="Candidates")
    sections: dict[str, str] = {}
    for c in candidates:
        for s in (c["score"] or {}).get("sections", []):
            sections.setdefault(s["section"], s["title"])

    def row(label: str, cell: Callable[[dict[str, Any]], str]) -> None:
        table.add_row(label, *(escape(cell(c)) for c in candidates))

    row("rank", lambda c: str(c["rank"]))
    row("assessment", lambda c: c["assessment"]["status"] if c["assessment"] else "not assessed")
    row("rating", lambda c: c["score"]["rating"] if c["score"] else "-")
    row("residual risk", lambda c: f"{c['score']['residual']:.2f}" if c["score"] else "-")
    for section, title in sections.items():
        row(f"  {title}", functools.partial(_section_cell, section=section))
    row("missing evidence", lambda c: ", ".join(c["missing_evidence"]) or "none")
    row("expired evidence", lambda c: ", ".join(c["expired_evidence"]) or "none")
    row(
        f"expiring in {shown['expiring_within_days']} days",
        lambda c: (
            ", ".join(f"{e['question']} ({e['days_left']}d)" for e in c["expiring_certificates"])
            or "none"
        ),
    )
    row(
        "open remediation",
        lambda c: f"{c['remediation']['open']} ({c['remediation']['past_due']} past due)",
    )
    row("BAA", lambda c: c["baa"]["status"].replace("_", " "))
    return table


def _section_cell(candidate: dict[str, Any], *, section: str) -> str:
    for s in (candidate["score"] or {}).get("sections", []):
        if s["section"] == section:
            return f"{s['residual']:.2f} {s['rating']}"
    return "-"


def print_assessment(shown: dict[str, Any]) -> None:
    engagement = shown["engagement"]
    score = shown["score"]
    console.print(
        f"[bold]assessment {shown['id']}[/bold]: {shown['status']} "
        f"({shown['questionnaire']['version']}); "
        f"{escape(engagement['practice']['name'])} assessing "
        f"{escape(engagement['billing_company']['name'])} (engagement {engagement['status']})"
    )
    provisional = " (provisional, as of today)" if shown["score_provisional"] else ""
    console.print(
        f"rating {score['rating']}, residual risk {score['residual']:.2f} "
        f"of inherent {score['inherent']:.2f}{provisional}"
    )
    table = Table("section", "residual", "rating", "answered", "reviews")
    for section, scored in zip(shown["sections"], score["sections"], strict=True):
        questions = section["questions"]
        answered = sum(1 for q in questions if q["answer"] or q["evidence"])
        reviewed = sum(1 for q in questions if q["review"])
        table.add_row(
            escape(section["title"]),
            f"{scored['residual']:.2f}",
            scored["rating"],
            f"{answered}/{len(questions)}",
            str(reviewed),
        )
    console.print(table)
    for reason in score["reasons"][:10]:
        console.print(f"  {reason['points']:6.2f}  {escape(reason['message'])}")
