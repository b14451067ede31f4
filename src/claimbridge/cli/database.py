"""``claimbridge db``: the database as the operator sets it up."""

from __future__ import annotations

from typing import Annotated

import typer

from claimbridge.audit.record import LOCAL_OPERATOR, Event, record
from claimbridge.cli.common import settings_for
from claimbridge.cli.errors import reported
from claimbridge.cli.output import DataDirOption, JsonOption, console, print_json
from claimbridge.clock import SystemClock
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.instance.open import open_database, require_initialised
from claimbridge.storage.db import make_sessionmaker
from claimbridge.storage.privileges import APPEND_ONLY_TABLES, grant_application_role

app = typer.Typer(help="Set up the database for production.", no_args_is_help=True)


@app.command("grant-app-role")
def grant_app_role(
    role: Annotated[str, typer.Argument(help="The login role the server connects as.")],
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Grant the server's own role what it needs; the audit tables read and append only.

    Run as the database owner (CLAIMBRIDGE_DATABASE_URL naming the owner);
    then run the server with a URL naming ROLE.
    """
    with reported(as_json=json):
        settings = settings_for(data_dir)
        require_initialised(settings)
        engine = open_database(settings, upgrade=False)
        try:
            grant_application_role(engine, role)
            with make_sessionmaker(engine).begin() as session:
                record(
                    session,
                    Event(
                        action="storage:app-role:granted",
                        resource_type="database_role",
                        resource_id=role,
                        purpose="operations",
                        actor=LOCAL_OPERATOR,
                    ),
                    now=SystemClock().now(),
                )
        finally:
            engine.dispose()
        if json:
            print_json({"role": role, "append_only": list(APPEND_ONLY_TABLES)})
        else:
            console.print(
                f"granted {role}: read and write, audit tables read and append only", soft_wrap=True
            )
