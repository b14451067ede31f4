"""Peer E/M mixes: the shipped default says where it comes from; a replacement file is checked."""

from __future__ import annotations

import copy
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from claimbridge.errors import ValidationFailed
from claimbridge.integrity.peers import (
    ESTABLISHED_CODES,
    NEW_CODES,
    default_peers,
    family_of,
    load_peers,
    parse_peers,
)


def _shipped() -> dict[str, Any]:
    text = (files("claimbridge.integrity") / "data" / "em_peers.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "peers.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _refusal(tmp_path: Path, document: object) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        load_peers(_write(tmp_path, document))
    return caught.value


def test_default_names_its_sources_and_labels_synthetic_figures() -> None:
    peers = default_peers()
    assert "codingintel.com" in peers.provenance
    assert "2023" in peers.provenance
    assert "SYNTHETIC" in peers.provenance
    assert peers.mix_for("", "established").source.startswith("SYNTHETIC")
    assert "2023" in peers.mix_for("207RC0000X", "new").source


def test_default_mixes_are_in_level_order_and_sum_to_one() -> None:
    for mix in default_peers().mixes.values():
        assert len(mix.shares) == len(mix.codes)
        assert sum(mix.shares) == pytest.approx(1.0)
    cardiology = default_peers().mix_for("207RC0000X", "new")
    assert cardiology.codes == NEW_CODES
    assert cardiology.shares[2] == pytest.approx(0.7079, abs=1e-4)
    assert cardiology.top_two == pytest.approx(0.7079 + 0.181, abs=1e-4)


def test_taxonomy_picks_the_specialty_and_unknown_ones_fall_back_to_all() -> None:
    peers = default_peers()
    assert peers.mix_for("207RC0000X", "new").specialty == "cardiology"
    assert peers.mix_for(" 207rc0000x ", "new").specialty == "cardiology"
    assert peers.mix_for("2084N0400X", "new").specialty == "all"
    assert peers.mix_for("", "new").specialty == "all"


def test_specialty_without_an_established_mix_falls_back_to_all() -> None:
    mix = default_peers().mix_for("207Q00000X", "established")
    assert mix.specialty == "all"
    assert mix.codes == ESTABLISHED_CODES


def test_family_of_knows_office_visit_codes_only() -> None:
    assert family_of("99213") == "established"
    assert family_of("99205") == "new"
    assert family_of("99201") is None  # deleted in 2021
    assert family_of("99285") is None  # an emergency department visit


def test_load_peers_reads_a_file_of_the_shipped_shape(tmp_path: Path) -> None:
    loaded = load_peers(_write(tmp_path, _shipped()))
    assert loaded.mixes == default_peers().mixes
    assert loaded.taxonomies == default_peers().taxonomies


def test_missing_codes_count_as_zero_and_shares_are_normalised(tmp_path: Path) -> None:
    document = _shipped()
    document["specialties"]["all"]["new"]["shares"] = {"99203": 0.3, "99204": 0.705}
    mix = load_peers(_write(tmp_path, document)).mix_for("", "new")
    assert mix.shares[0] == 0.0
    assert mix.shares[1] == pytest.approx(0.3 / 1.005)
    assert sum(mix.shares) == pytest.approx(1.0)


def test_shares_off_by_more_than_a_point_are_refused_naming_the_specialty(tmp_path: Path) -> None:
    document = _shipped()
    document["specialties"]["cardiology"]["new"]["shares"]["99205"] = 0.2  # sum 1.0190
    error = _refusal(tmp_path, document)
    assert "'cardiology'" in error.message
    assert "1.0190" in error.message
    assert error.where == "peers.json: specialties.cardiology.new.shares"


def test_an_unknown_code_is_refused_naming_specialty_and_code(tmp_path: Path) -> None:
    document = _shipped()
    document["specialties"]["all"]["established"]["shares"]["99216"] = 0.0
    error = _refusal(tmp_path, document)
    assert "99216" in error.message
    assert "'all'" in error.message
    assert error.where == "peers.json: specialties.all.established.shares.99216"


def test_99201_is_refused_as_deleted(tmp_path: Path) -> None:
    document = _shipped()
    document["specialties"]["pulmonary_disease"]["new"]["shares"]["99201"] = 0.0
    error = _refusal(tmp_path, document)
    assert "deleted in 2021" in error.message
    assert error.where is not None and error.where.endswith("pulmonary_disease.new.shares.99201")


def test_a_code_of_the_other_family_is_refused(tmp_path: Path) -> None:
    document = _shipped()
    document["specialties"]["cardiology"]["new"]["shares"]["99213"] = 0.0
    error = _refusal(tmp_path, document)
    assert "new-patient" in error.message
    assert error.where is not None and error.where.endswith("cardiology.new.shares.99213")


@pytest.mark.parametrize("share", [-0.1, 1.5, True, "0.3", None])
def test_a_share_that_is_not_a_proportion_is_refused(tmp_path: Path, share: object) -> None:
    document = _shipped()
    document["specialties"]["all"]["new"]["shares"]["99202"] = share
    error = _refusal(tmp_path, document)
    assert "99202" in error.message
    assert error.where is not None and error.where.endswith("all.new.shares.99202")


def test_all_must_have_both_families(tmp_path: Path) -> None:
    document = _shipped()
    del document["specialties"]["all"]["established"]
    error = _refusal(tmp_path, document)
    assert "'all'" in error.message
    assert error.where == "peers.json: specialties.all.established"


def test_a_misspelt_family_is_refused(tmp_path: Path) -> None:
    document = _shipped()
    family = document["specialties"]["cardiology"].pop("new")
    document["specialties"]["cardiology"]["nwe"] = family
    error = _refusal(tmp_path, document)
    assert "'nwe'" in error.message
    assert error.where == "peers.json: specialties.cardiology.nwe"


def test_a_taxonomy_naming_an_undefined_specialty_is_refused(tmp_path: Path) -> None:
    document = _shipped()
    document["taxonomies"]["207RG0100X"] = "gastroenterology"
    error = _refusal(tmp_path, document)
    assert "207RG0100X" in error.message
    assert "gastroenterology" in error.message


def test_a_file_without_provenance_is_refused(tmp_path: Path) -> None:
    document = copy.deepcopy(_shipped())
    document["provenance"] = "  "
    error = _refusal(tmp_path, document)
    assert error.where == "peers.json: provenance"


def test_a_mix_without_a_source_takes_the_files_label(tmp_path: Path) -> None:
    document = _shipped()
    del document["specialties"]["all"]["new"]["source"]
    mix = load_peers(_write(tmp_path, document)).mix_for("", "new")
    assert mix.source == document["label"]


def test_invalid_json_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "provenance": "x",\n  "specialties": {,\n}', encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        load_peers(path)
    assert caught.value.where is not None
    assert caught.value.where.startswith("broken.json: line 3")


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="cannot be read"):
        load_peers(tmp_path / "absent.json")


def test_parse_peers_refuses_a_document_that_is_not_an_object() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_peers([1, 2, 3], origin="config")
    assert caught.value.where == "config"
