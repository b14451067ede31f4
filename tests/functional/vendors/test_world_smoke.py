"""The fixture's engagement is open through the gate, on both backends."""

from __future__ import annotations

from claimbridge.storage.orgs import engaged_practices
from tests.functional.vendors.conftest import VendorWorld


def test_an_engagement_with_a_baa_and_an_approved_assessment_is_open(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    w.open_engagement(w.riverside, w.summit)
    with w.sessions() as session:
        assert engaged_practices(session, w.summit, now=w.clock.now()) == {w.riverside}
        assert engaged_practices(session, w.northwind, now=w.clock.now()) == set()
