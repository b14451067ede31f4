"""``claimbridge claims submit`` on the demo: ready claims out, the two the scrub holds kept.

The demo's Riverside batch carries two claims a billing company should never
send (an unbundled glucose test, a visit the practice never recorded); the
rest of the batch is ready. On SQLite and PostgreSQL, each test on its own
copy of one loaded demo.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claimbridge.cli.main import app
from claimbridge.demo.accounts import LAKESIDE, RIVERSIDE, SUMMIT
from claimbridge.formats.x12.records837 import reference_value
from claimbridge.formats.x12.x837p import read_837p
from tests.functional.demo_instances import DemoInstances

runner = CliRunner()


@dataclass(frozen=True)
class Demo:
    data_dir: Path
    held: int
    """Claims of the demo's batch the scrub held."""


@pytest.fixture
def demo(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    demo_instances: DemoInstances,
) -> Demo:
    instance = demo_instances.copy(
        backend, tmp_path / "data", request, demo=["--patients", "40", "--json"]
    )
    if instance.database_url is not None:
        monkeypatch.setenv("CLAIMBRIDGE_DATABASE_URL", instance.database_url)
    return Demo(instance.data_dir, json.loads(instance.output)["batch"]["claims_held"])


def submit(data_dir: Path, *args: str) -> tuple[int, Any]:
    result = runner.invoke(app, ["claims", "submit", "--data-dir", str(data_dir), "--json", *args])
    return result.exit_code, json.loads(result.output)


def test_submit_writes_the_ready_claims_and_keeps_the_held_ones(demo: Demo) -> None:
    data_dir = demo.data_dir
    out = data_dir.parent / "outbound.837"

    code, sent = submit(data_dir, "--org", RIVERSIDE, "--out", str(out))

    assert code == 0, sent
    assert demo.held == 2  # the two claims the demo adds for the scrub to hold
    assert sent["claims_sent"] > 0 and sent["claims_held"] == demo.held
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    reading = read_837p(out.read_bytes())
    claims = list(reading)
    assert all(result.accepted for result in reading.results)
    sent_ids = {reference_value(c.references, "D9") for c in claims}
    assert sent_ids == set(sent["claim_ids"])

    code, again = submit(data_dir, "--org", RIVERSIDE)

    assert code == 0
    assert (again["batch_id"], again["claims_sent"], again["claims_held"]) == (None, 0, demo.held)


def test_submit_refuses_a_practice_with_no_engaged_billing_company(demo: Demo) -> None:
    code, refused = submit(demo.data_dir, "--org", LAKESIDE)

    assert code == 66
    assert refused["error"]["where"] == "--org"


def test_submit_wants_a_practice_not_a_billing_company(demo: Demo) -> None:
    code, refused = submit(demo.data_dir, "--org", SUMMIT)

    assert code == 65
    assert refused["error"]["where"] == "--org"
