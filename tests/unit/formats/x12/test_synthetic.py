"""Synthetic 837P claims and 835 remittances: deterministic, realistic, valid, balanced."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from claimbridge.formats.x12 import Outcome, check_balance, read_835, read_837p
from claimbridge.formats.x12.synthetic import (
    synthetic_claims,
    synthetic_remittances,
    write_synthetic,
)
from claimbridge.types import ICD10CM, NPI, Modifier, Money, ProcedureCode

NOW = datetime(2025, 2, 1, 9, 30)  # noqa: DTZ001 - the writer takes the sender's local time


def _written(kind: str, count: int, seed: int = 7) -> bytes:
    sink = io.BytesIO()
    write_synthetic(kind, count, seed=seed, out=sink, now=NOW)
    return sink.getvalue()


def test_same_seed_gives_same_records_and_bytes() -> None:
    assert list(synthetic_claims(40, seed=3)) == list(synthetic_claims(40, seed=3))
    assert list(synthetic_remittances(40, seed=3)) == list(synthetic_remittances(40, seed=3))
    assert _written("837p", 40, seed=3) == _written("837p", 40, seed=3)
    assert _written("835", 40, seed=3) == _written("835", 40, seed=3)


def test_other_seed_gives_other_claims() -> None:
    first = [claim.lines for claim in synthetic_claims(20, seed=1)]
    second = [claim.lines for claim in synthetic_claims(20, seed=2)]
    assert first != second


def test_claims_use_valid_identifiers_and_real_code_sets() -> None:
    claims = list(synthetic_claims(300, seed=11))

    assert len(claims) == 300
    assert len({claim.claim_id for claim in claims}) == 300
    for claim in claims:
        NPI.parse(claim.billing_provider.provider.identifier)
        assert claim.rendering_provider is not None
        NPI.parse(claim.rendering_provider.identifier)
        for diagnosis in claim.diagnoses:
            ICD10CM.parse(diagnosis.code)
        assert 1 <= len(claim.lines) <= 6
        assert claim.total_charge == Money(sum(line.charge.cents for line in claim.lines))
        for line in claim.lines:
            ProcedureCode.parse(line.procedure)
            for modifier in line.modifiers:
                Modifier.parse(modifier)
            assert line.diagnosis_pointers
            assert max(line.diagnosis_pointers) <= len(claim.diagnoses)
    assert {claim.lines[0].procedure[:4] for claim in claims} == {"9920", "9921"}
    assert any(claim.patient is not None for claim in claims)
    assert any(claim.patient is None for claim in claims)
    assert any("25" in claim.lines[0].modifiers for claim in claims)


def test_837p_reads_back_equal_and_accepted_without_errors() -> None:
    reading = read_837p(_written("837p", 400))

    assert list(reading) == list(synthetic_claims(400, seed=7))
    assert reading.accepted
    assert [result.outcome for result in reading.results] == [Outcome.ACCEPTED]


def test_835_reads_back_equal_and_accepted_without_errors() -> None:
    reading = read_835(_written("835", 400))

    remittances = list(reading)
    assert remittances == list(synthetic_remittances(400, seed=7))
    assert reading.accepted
    assert {result.outcome for result in reading.results} == {Outcome.ACCEPTED}


def test_835_pays_every_claim_once_and_balances() -> None:
    claims = {claim.claim_id: claim for claim in synthetic_claims(500, seed=5)}
    remittances = list(synthetic_remittances(500, seed=5))

    paid = [payment for remittance in remittances for payment in remittance.claims]
    assert sorted(payment.patient_control_number for payment in paid) == sorted(claims)
    assert any(remittance.provider_adjustments for remittance in remittances)
    assert any(payment.status == "4" for payment in paid)
    for remittance in remittances:
        assert check_balance(remittance) == []
        plb = sum(adjustment.amount.cents for adjustment in remittance.provider_adjustments)
        assert remittance.payment.amount.cents == sum(p.paid.cents for p in remittance.claims) - plb
        for payment in remittance.claims:
            assert payment.charge == claims[payment.patient_control_number].total_charge
            cas = sum(a.amount.cents for s in payment.services for a in s.adjustments)
            assert payment.charge.cents - cas == payment.paid.cents
            for service in payment.services:
                adjusted = sum(a.amount.cents for a in service.adjustments)
                assert service.charge.cents - adjusted == service.paid.cents


def test_large_file_is_written_in_bounded_pieces_across_sets() -> None:
    class Sink(io.RawIOBase):
        def __init__(self) -> None:
            self.pieces: list[int] = []
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, piece: object) -> int:
            assert isinstance(piece, bytes)
            self.pieces.append(len(piece))
            self.data += piece
            return len(piece)

    sink = Sink()
    done: list[int] = []
    size = write_synthetic("837p", 2500, seed=9, out=sink, now=NOW, progress=done.append)

    assert size == len(sink.data) == sum(sink.pieces)
    assert max(sink.pieces) < 256 * 1024 and len(sink.pieces) > 10
    assert done == [1000, 2000, 2500]
    reading = read_837p(bytes(sink.data))
    assert sum(1 for _ in reading) == 2500
    assert [result.outcome for result in reading.results] == [Outcome.ACCEPTED] * 2


def test_unknown_kind_and_negative_count_are_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        write_synthetic("837d", 1, seed=1, out=io.BytesIO(), now=NOW)
    with pytest.raises(ValueError, match="negative"):
        write_synthetic("835", -1, seed=1, out=io.BytesIO(), now=NOW)
