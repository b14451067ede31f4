"""Rule families, one module each: every rule a small frozen object with one ``check``.

* ``unbundling``  NCCI procedure-to-procedure pairs (``ncci-ptp``)
* ``units``       medically unlikely edits per line and per date of service (``mue-*``)
* ``duplicates``  the same service billed twice, in the batch or before (``duplicate``)
* ``provided``    billed services with no encounter the practice attested
* ``dates``       services in the future, before birth, after death; a provider's day over 24 h
* ``upcoding``    a provider's E/M level mix against its peers (``em-upcoding``, for review)
* ``exclusions``  providers on the OIG exclusion list (``oig-leie``)
* ``codes``       diagnosis, procedure and modifier codes, NPIs, pointers, timely filing

``default_rules()`` is every rule, in that order; findings come in rule order.
"""

from __future__ import annotations

from claimbridge.integrity.engine import Rule
from claimbridge.integrity.rules import (
    codes,
    dates,
    duplicates,
    exclusions,
    provided,
    unbundling,
    units,
    upcoding,
)

__all__ = ["default_rules"]

_FAMILIES = (unbundling, units, duplicates, provided, dates, upcoding, exclusions, codes)


def default_rules() -> tuple[Rule, ...]:
    return tuple(rule for family in _FAMILIES for rule in family.RULES)
