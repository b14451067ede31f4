"""Which 837 implementation guide a transaction set follows, and whether we read it.

ST03 (or GS08 when ST03 is absent) names the guide: ``005010X222A1`` is the
professional 837 HIPAA names, ``005010X223A2`` the institutional one.
Versions that differ only by errata (``005010X222A2``), the base guide
(``005010X222``) and a bare ``005010`` are read as the named guide and
flagged. Another guide (dental ``005010X224``, the other 837 kind, any 4010
version) is refused: its loops look alike but mean other things, and
reading them as ours would misread claims.
"""

from __future__ import annotations

from claimbridge.formats.x12.errors import GuideErrata, GuideUnsupported
from claimbridge.formats.x12.reader import TransactionContext

__all__ = ["INSTITUTIONAL", "PROFESSIONAL", "accept_guide", "guide_kind"]

PROFESSIONAL = "005010X222A1"
INSTITUTIONAL = "005010X223A2"

_KINDS = {
    "005010X222": "professional (837P)",
    "005010X223": "institutional (837I)",
    "005010X224": "dental (837D)",
}


def guide_kind(guide: str) -> str | None:
    """``professional (837P)``, ``institutional (837I)`` ... for a 5010 837 guide."""
    return _KINDS.get(guide[:10])


def accept_guide(context: TransactionContext, *, guide: str) -> None:
    """Refuse a set that follows another guide; flag one that names an errata of ours."""
    named = context.guide
    if named == guide:
        return
    where = context.position()
    family = guide[:10]
    if named.startswith(family) or named == "005010":
        context.note(
            GuideErrata(
                f"The set names guide {_shown(named)}; it is read as {guide}.",
                position=where,
            )
        )
        return
    kind = guide_kind(named)
    if kind is not None:
        message = f"The set is a {kind} claim ({_shown(named)}); this reader reads {guide}."
    elif named.startswith("004010") or context.version.startswith("004010"):
        message = f"The set follows a 4010 guide ({_shown(named)}); only 5010 ({guide}) is read."
    else:
        message = f"The set names guide {_shown(named)}; this reader reads {guide}."
    raise GuideUnsupported(message, position=where)


def _shown(guide: str) -> str:
    """A guide id as written, when it looks like one (it is never PHI, but may be junk)."""
    return guide if guide.isalnum() and len(guide) <= 12 else "an unrecognized identifier"
