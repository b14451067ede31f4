"""``claimbridge x12 parse | validate | generate`` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from claimbridge.cli.main import app
from claimbridge.formats.x12 import Outcome, read_999
from claimbridge.formats.x12.synthetic import synthetic_claims
from tests.unit.formats.x12.samples import CONFORMANCE

runner = CliRunner()


VALID_837P = CONFORMANCE / "badx12/edi/X222-commercial-health-insurance.edi"
VALID_835 = CONFORMANCE / "badx12/edi/X221-multiple-claims-single-check.edi"
REJECTED_837P = CONFORMANCE / "imsweb-x12-parser/837_5010/x12_bad_valid_code.txt"
BROKEN_ENVELOPES = CONFORMANCE / "badx12/errors/error_validation.edi"
NOT_X12 = CONFORMANCE / "imsweb-x12-parser/837_5010/x12_no_isa_line.txt"
# 156 copies of one interchange: every set is sound, every repeat of ISA13 is not.
REPEATED_INTERCHANGES = CONFORMANCE / "tastypackets-x12-parser/835/profee-multiple.edi"
# The x12 command group alone, as its own program: the whole CLI takes seconds to import.
COMMAND = [sys.executable, "-c", "from claimbridge.cli.x12 import app; app()"]


def x12(*args: str | Path, stdin: bytes | None = None) -> Result:
    return runner.invoke(app, ["x12", *map(str, args)], input=stdin)


def generated(kind: str, claims: int, seed: int = 4) -> bytes:
    result = x12("generate", "--kind", kind, "--claims", str(claims), "--seed", str(seed))
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def json_lines(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_generate_writes_the_same_valid_file_for_the_same_seed(tmp_path: Path) -> None:
    out = tmp_path / "claims.837"
    result = x12("generate", "--kind", "837p", "--claims", "120", "--seed", "4", "--out", out)

    assert result.exit_code == 0, result.output
    assert "120 claims" in result.stderr
    assert out.read_bytes() == generated("837p", 120)
    assert not list(tmp_path.glob(".*.tmp"))
    report = x12("validate", out)
    assert report.exit_code == 0, report.output
    assert report.stdout.splitlines()[-1] == "1 transaction set, 1 accepted: accepted"


def test_parse_json_prints_one_record_per_generated_claim() -> None:
    result = x12("parse", "-", "--json", stdin=generated("837p", 60))

    assert result.exit_code == 0, result.output
    records = json_lines(result)
    expected = list(synthetic_claims(60, seed=4))
    assert [record["claim_id"] for record in records] == [c.claim_id for c in expected]
    first = records[0]
    assert first["record"] == "professional_claim"
    assert first["total_charge"] == str(expected[0].total_charge)
    first_line = expected[0].lines[0]
    assert first["lines"][0]["charge"] == str(first_line.charge)
    assert first_line.service_date is not None
    assert first["lines"][0]["service_date"]["first"] == first_line.service_date.first.isoformat()
    assert first["billing_provider"]["provider"]["id_kind"] == "npi"


def test_parse_json_prints_one_record_per_claim_payment_of_a_generated_835() -> None:
    result = x12("parse", "-", "--json", stdin=generated("835", 80))

    assert result.exit_code == 0, result.output
    records = json_lines(result)
    payments = [record for record in records if record["record"] == "claim_payment"]
    assert len(payments) == 80
    assert {record["record"] for record in records} <= {"claim_payment", "provider_adjustment"}
    payment = payments[0]
    assert payment["remittance"]["payment"]["method"] in ("ACH", "NON")
    cas = sum(
        float(adjustment["amount"])
        for service in payment["services"]
        for adjustment in service["adjustments"]
    )
    assert round(float(payment["charge"]) - cas, 2) == float(payment["paid"])


def test_parse_summarises_sets_of_conformance_files() -> None:
    claims = x12("parse", VALID_837P)
    payments = x12("parse", VALID_835)

    assert claims.exit_code == 0, claims.output
    assert "accepted" in claims.stdout and "1 sets" in claims.stdout
    assert payments.exit_code == 0, payments.output
    assert "│       9 │" in payments.stdout  # nine claims paid by one check


def test_validate_accepts_valid_conformance_files() -> None:
    for path in (VALID_837P, VALID_835):
        result = x12("validate", path, "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["outcome"] == "accepted"


def test_rejected_file_exits_65_with_the_error_located() -> None:
    result = x12("validate", REJECTED_837P, "--json")

    assert result.exit_code == 65
    report = json.loads(result.stdout)
    assert report["outcome"] == "rejected"
    [rejected] = report["interchanges"][0]["groups"][0]["sets"]
    assert rejected["outcome"] == "rejected"
    first = rejected["errors"][0]
    assert first["code"] == "x12_element_invalid"
    assert first["position"]["segment_id"] == "NM1"
    assert first["position"]["element"] == 1
    assert first["position"]["segment_in_set"] == 7
    assert first["codes"] == {"IK502": "5", "IK304": "8", "IK403": "7"}

    shown = x12("validate", REJECTED_837P)
    assert shown.exit_code == 65
    assert "rejected" in shown.stdout and "segment 9 (NM1), element 1" in shown.stdout


def test_the_last_line_says_which_envelopes_were_rejected_when_no_set_was() -> None:
    result = x12("validate", REPEATED_INTERCHANGES)

    assert result.exit_code == 65
    assert result.stdout.splitlines()[-1] == (
        "156 transaction sets, 156 accepted; 155 of 156 interchanges rejected: rejected"
    )
    assert result.stdout.count("ISA13 repeats the control number") == 155


def test_broken_envelopes_are_reported_at_every_level() -> None:
    result = x12("validate", BROKEN_ENVELOPES, "--json")

    assert result.exit_code == 65
    interchange = json.loads(result.stdout)["interchanges"][0]
    assert interchange["outcome"] == "rejected"
    assert "x12_group_count_mismatch" in {error["code"] for error in interchange["errors"]}
    group = interchange["groups"][0]
    assert "x12_set_count_mismatch" in {error["code"] for error in group["errors"]}
    set_codes = {error["code"] for error in group["sets"][0]["errors"]}
    assert {"x12_segment_count_mismatch", "x12_control_number_mismatch"} <= set_codes


def test_ack_writes_a_999_with_the_same_outcome(tmp_path: Path) -> None:
    rejected_ack = tmp_path / "rejected.999"
    accepted_ack = tmp_path / "accepted.999"

    assert x12("validate", REJECTED_837P, "--ack", rejected_ack).exit_code == 65
    assert x12("validate", "-", "--ack", accepted_ack, stdin=generated("835", 30)).exit_code == 0

    reading = read_999(rejected_ack.read_bytes())
    [ack] = list(reading)
    assert reading.accepted
    assert ack.outcome is Outcome.REJECTED
    assert [(s.control_number, s.outcome) for s in ack.sets] == [("987654", Outcome.REJECTED)]
    assert ack.sets[0].segments[0].segment_id == "NM1"
    [accepted] = list(read_999(accepted_ack.read_bytes()))
    assert accepted.outcome is Outcome.ACCEPTED
    assert accepted.sets_accepted == accepted.sets_received > 0


def test_unreadable_input_prints_the_one_error_shape() -> None:
    not_x12 = x12("parse", NOT_X12, "--json")
    missing = x12("validate", "no-such-file.837", "--json")

    assert not_x12.exit_code == 65
    assert json.loads(not_x12.stdout)["error"]["code"] == "x12_not_x12"
    assert missing.exit_code == 66
    assert json.loads(missing.stdout)["error"]["code"] == "not_found"
    plain = x12("parse", NOT_X12)
    assert plain.exit_code == 65 and "error:" in plain.stderr and not plain.stdout


def test_parse_of_a_rejected_file_ends_with_the_error() -> None:
    result = x12("parse", REJECTED_837P, "--json")

    assert result.exit_code == 65
    last = json_lines(result)[-1]
    assert last["error"]["code"] == "x12_element_invalid"
    assert "(NM1)" in last["error"]["where"]


def test_generate_piped_into_validate() -> None:
    generate = subprocess.Popen(
        [*COMMAND, "generate", "--kind", "835", "--claims", "300", "--seed", "8"],
        stdout=subprocess.PIPE,
    )
    validate = subprocess.run(
        [*COMMAND, "validate", "-", "--json"],
        stdin=generate.stdout,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert generate.stdout is not None
    generate.stdout.close()

    assert generate.wait(timeout=60) == 0
    assert validate.returncode == 0, validate.stderr
    report = json.loads(validate.stdout)
    assert report["outcome"] == "accepted"
    assert report["sets"]["received"] == report["sets"]["accepted"] > 1


def test_generate_stops_quietly_when_the_reader_goes_away() -> None:
    generate = subprocess.Popen(
        [*COMMAND, "generate", "--kind", "837p", "--claims", "20000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert generate.stdout is not None and generate.stderr is not None
    assert generate.stdout.read(100).startswith(b"ISA*")
    generate.stdout.close()

    assert generate.wait(timeout=60) == 0
    assert generate.stderr.read() == b""
