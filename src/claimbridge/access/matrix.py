"""The policy table as text: what ``claimbridge access matrix`` prints and the docs show."""

from __future__ import annotations

from claimbridge.access.permissions import PHI_PERMISSIONS, Permission
from claimbridge.access.roles import ROLE_PERMISSIONS, VIEWS, needs_mfa
from claimbridge.storage.orgs import Role

KINDS = ("patient", "coverage", "claim")


def permission_rows() -> list[tuple[str, list[bool]]]:
    """One row per permission: which roles hold it, in ``Role`` order."""
    return [(p.value, [p in ROLE_PERMISSIONS[r] for r in Role]) for p in Permission]


def matrix_markdown() -> str:
    roles = list(Role)
    lines = [
        "# Access matrix",
        "",
        "Generated from `src/claimbridge/access/roles.py` by `claimbridge access matrix"
        " --markdown`; a test keeps this file in step with the code.",
        "",
        "## Permissions by role",
        "",
        "| permission | PHI | " + " | ".join(r.value for r in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for name, held in permission_rows():
        phi = "yes" if Permission(name) in PHI_PERMISSIONS else ""
        lines.append(f"| `{name}` | {phi} | " + " | ".join("✔" if h else "" for h in held) + " |")
    lines.append(
        "| second factor required | | "
        + " | ".join("✔" if needs_mfa({r}) else "" for r in roles)
        + " |"
    )
    lines += ["", "## Field views (minimum necessary)", ""]
    for role in roles:
        views = VIEWS[role]
        if not views:
            lines.append(f"- **{role.value}**: no PHI fields.")
            continue
        parts = [f"{kind}: {', '.join(sorted(views[kind]))}" for kind in KINDS if kind in views]
        lines.append(f"- **{role.value}**: " + "; ".join(parts) + ".")
    lines.append("")
    lines.append("No role's view holds `ssn`.")
    return "\n".join(lines) + "\n"
