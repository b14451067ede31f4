"""``claimbridge scrub FILE`` through the command line: tables as published, exit codes, errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner, Result

from claimbridge.cli.main import app
from claimbridge.formats.cms import MueEdit, PtpEdit, write_mue, write_ptp
from tests.functional.exchange.test_integrity import EXCLUDED_NPI, LEIE_1702, charges
from tests.unit.formats.x12.samples import CONFORMANCE

runner = CliRunner()
LFH_837P = CONFORMANCE / "linuxforhealth-x12" / "837_005010X222A2" / "demo.example1.837"


def scrub(*args: str | Path) -> Result:
    return runner.invoke(app, ["scrub", *map(str, args)])


def tables(folder: Path) -> tuple[Path, Path]:
    ptp = folder / "ccipra-v321r0-f1.TXT"
    with ptp.open("wb") as out:
        write_ptp([PtpEdit("80053", "82947", True, date(1996, 1, 1), None, 0, "")], out)
    mue = folder / "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv"
    with mue.open("wb") as out:
        write_mue([MueEdit("97110", 4, 3, "Clinical")], out)
    return ptp, mue


def test_a_clean_file_exits_0_and_names_the_rules_it_could_not_run(tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_bytes(charges({"claim_id": "C1", "procedure_code": "99213"}))

    result = scrub(claims, "--date", "2026-03-02", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["claims"], report["lines"], report["findings"]) == (1, 1, [])
    assert {"ncci-ptp", "mue-line", "mue-day", "oig-leie"} <= set(report["rules_not_run"])
    assert "code-diagnosis" in report["rules_run"]


def test_unbundling_units_and_an_excluded_provider_hold_claims_and_exit_1(tmp_path: Path) -> None:
    ptp, mue = tables(tmp_path)
    claims = tmp_path / "claims.csv"
    claims.write_bytes(
        charges(
            {"claim_id": "C1", "procedure_code": "80053"},
            {"claim_id": "C1", "procedure_code": "82947"},
            {"claim_id": "C2", "procedure_code": "97110", "units": "6", "patient_account": "A2"},
            {"claim_id": "C3", "procedure_code": "99213", "billing_npi": EXCLUDED_NPI},
        )
    )

    result = scrub(
        claims, "--ncci", ptp, "--mue", mue, "--leie", LEIE_1702, "--date", "2026-03-02", "--json"
    )

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    found = {(f["rule"], f["claim"]) for f in report["findings"]}
    assert found == {("ncci-ptp", "claim 1"), ("mue-day", "claim 2"), ("oig-leie", "claim 3")}
    assert report["claims_blocked"] == 3
    assert "Example" not in result.stdout and "1958" not in result.stdout  # no patient


def test_a_conformance_837p_is_scrubbed_and_printed_for_people(tmp_path: Path) -> None:
    result = scrub(LFH_837P, "--date", "2006-01-01")

    assert result.exit_code in (0, 1), result.output
    assert "1 claims" in result.stdout
    assert "not run (no table given)" in result.stdout


def test_a_malformed_table_is_refused_with_its_row(tmp_path: Path) -> None:
    ptp, _ = tables(tmp_path)
    ptp.write_text(ptp.read_text().replace("19960101", "1996-01-01"))
    claims = tmp_path / "claims.csv"
    claims.write_bytes(charges({"claim_id": "C1", "procedure_code": "99213"}))

    result = scrub(claims, "--ncci", ptp, "--json")

    assert result.exit_code == 65
    error = json.loads(result.stdout)["error"]
    assert "row" in error["where"]


def test_a_missing_file_and_a_refused_claim_say_where(tmp_path: Path) -> None:
    missing = scrub(tmp_path / "nowhere.837", "--json")
    assert missing.exit_code == 66
    assert json.loads(missing.stdout)["error"]["where"].endswith("nowhere.837")
    bad = tmp_path / "claims.csv"
    bad.write_bytes(charges({"claim_id": "C1", "procedure_code": "99213", "units": "many"}))
    refused = scrub(bad, "--json")
    assert refused.exit_code == 65
    assert json.loads(refused.stdout)["errors"][0]["where"].startswith("row 2")
