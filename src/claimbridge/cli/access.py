"""``claimbridge access``: the policy table."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from claimbridge.access.matrix import matrix_markdown, permission_rows
from claimbridge.access.roles import VIEWS
from claimbridge.cli.output import JsonOption, console, print_json
from claimbridge.storage.orgs import Role

app = typer.Typer(help="The access policy: roles, permissions, field views.", no_args_is_help=True)


@app.command("matrix")
def matrix(
    json: JsonOption = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the docs page.")] = False,
) -> None:
    """Print which role holds which permission, and each role's field views."""
    if markdown:
        print(matrix_markdown(), end="")
        return
    if json:
        print_json(
            {
                "permissions": {
                    name: [r.value for r, h in zip(Role, held, strict=True) if h]
                    for name, held in permission_rows()
                },
                "views": {
                    role.value: {kind: sorted(fields) for kind, fields in VIEWS[role].items()}
                    for role in Role
                },
            }
        )
        return
    table = Table("permission", *[r.value for r in Role], title="Access matrix")
    for name, held in permission_rows():
        table.add_row(name, *["✔" if h else "" for h in held])
    console.print(table)
