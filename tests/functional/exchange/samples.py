"""Batch contents for the exchange tests: generated 837Ps and conformance files."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from claimbridge.formats.x12.synthetic import synthetic_claims, write_synthetic
from claimbridge.formats.x12.write837p import professional_sets
from claimbridge.formats.x12.writer import write_interchange
from tests.unit.formats.x12.samples import CONFORMANCE

LFH_837P = CONFORMANCE / "linuxforhealth-x12" / "837_005010X222A2"
"""LinuxForHealth's 005010X222A2 demo claims (Apache-2.0): one claim each, with DMG."""
LFH_837I = CONFORMANCE / "linuxforhealth-x12" / "837_005010X223A3"
"""LinuxForHealth's 005010X223A3 institutional claims (Apache-2.0)."""


def generated_837p(claims: int, *, seed: int, per_set: int | None = None) -> bytes:
    """``claims`` synthetic claims; ``per_set`` splits them into several ST/SE sets."""
    if per_set is not None:
        return write_interchange(
            professional_sets(synthetic_claims(claims, seed=seed), claims_per_set=per_set),
            sender="RIVERSIDE",
            receiver="CLAIMBRIDGE",
            interchange_control_number=seed % 999_999_999 + 1,
            group_control_number=1,
            functional_id="HC",
            now=datetime(2026, 3, 1, tzinfo=UTC),
        )
    out = io.BytesIO()
    write_synthetic("837p", claims, seed=seed, out=out, now=datetime(2026, 3, 1, tzinfo=UTC))
    return out.getvalue()


def conformance_837p(name: str = "demo.example1.837") -> bytes:
    return (LFH_837P / name).read_bytes()


def with_one_bad_set(content: bytes) -> bytes:
    """The second transaction set's SE01 made wrong: that set is rejected, the others not."""
    text = content.decode("ascii")
    first = text.index("~SE*")
    second = text.index("~SE*", first + 1)
    start = second + len("~SE*")
    end = text.index("*", start)
    wrong = str(int(text[start:end]) + 1)
    return (text[:start] + wrong + text[end:]).encode("ascii")


DOCS_EXAMPLES = CONFORMANCE.parents[2] / "docs" / "examples"


def example_csv() -> bytes:
    """The documented CSV charge template's example: 5 claims, synthetic patients."""
    return (DOCS_EXAMPLES / "charges.csv").read_bytes()


def example_bundle() -> bytes:
    """The documented FHIR R4 example Bundle (synthetic)."""
    return (DOCS_EXAMPLES / "bundle.json").read_bytes()
