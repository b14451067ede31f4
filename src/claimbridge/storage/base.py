"""The declarative base, random ids and the column types every table shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, DateTime, Integer, LargeBinary, MetaData, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from claimbridge.types import new_id

# Stable constraint names, so migrations can refer to them on both databases
# (SQLite's batch mode rebuilds tables by name).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
BigInt = BigInteger().with_variant(Integer(), "sqlite")

# Ciphertext of a PHI field: the envelope format of ``crypto/envelope.py``.
Sealed = LargeBinary


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC and read back timezone-aware on both databases.

    SQLite has no time zones and SQLAlchemy drops them, so naive datetimes
    are refused on the way in rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def id_column() -> Mapped[str]:
    """A random UUIDv4 primary key: nothing a user sees is sequential."""
    return mapped_column(String(36), primary_key=True, default=new_id)
