"""PostgreSQL privileges for the application's own login role.

In production the server connects as a role that owns nothing: the
migrations run as the owner, the application as ``claimbridge_app`` (or
whatever the operator names it). That role may read and write the
ordinary tables, but on the audit tables it may only read and append:
UPDATE, DELETE and TRUNCATE are revoked, so even a bug or an injected
statement in the application cannot change the log, whatever the
triggers say. Retention purges therefore run as the owner
(``claimbridge audit purge`` with the owner's database URL).
"""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.sql.compiler import IdentifierPreparer

from claimbridge.errors import ConfigError, ValidationFailed

APPEND_ONLY_TABLES = ("audit_events", "audit_checkpoints", "audit_tree_nodes", "audit_purges")
"""Read and append only, for the application role."""


def grant_application_role(engine: Engine, role: str) -> None:
    """Give ``role`` what the application needs and nothing more (PostgreSQL only)."""
    if engine.dialect.name != "postgresql":
        raise ConfigError("Application roles are a PostgreSQL feature.", where="database_url")
    if not role or len(role) > 63 or not role.replace("_", "").isalnum():
        raise ValidationFailed("A role name is letters, digits and '_'.", where="role")
    preparer: IdentifierPreparer = engine.dialect.identifier_preparer
    name = preparer.quote(role)
    audit = ", ".join(APPEND_ONLY_TABLES)
    with engine.begin() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
        if not exists:
            raise ValidationFailed(
                "No such role: create it first (CREATE ROLE ... LOGIN).", where="role"
            )
        for statement in (
            f"GRANT USAGE ON SCHEMA public TO {name}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {audit} FROM {name}",
            f"REVOKE ALL ON alembic_version FROM {name}",
            f"GRANT SELECT ON alembic_version TO {name}",
        ):
            connection.execute(text(statement))
