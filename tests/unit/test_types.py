"""Tests for claimbridge.types: ids, money, provider and service codes, dates."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claimbridge.errors import ValidationFailed
from claimbridge.types import (
    ICD10CM,
    NCCI_ASSOCIATED_MODIFIERS,
    NPI,
    PLACES_OF_SERVICE,
    DateOfService,
    Modifier,
    Money,
    PlaceOfService,
    ProcedureCode,
    ServicePeriod,
    check_digit,
    new_id,
    parse_x12_date,
    parse_x12_period,
)

VALID_NPIS = ["1234567893", "1245319599", "1679576722"]


# --- ids ------------------------------------------------------------------------


def test_new_id_is_a_random_uuid4() -> None:
    first, second = new_id(), new_id()
    assert uuid.UUID(first).version == 4
    assert str(uuid.UUID(first)) == first
    assert first != second


# --- NPI ------------------------------------------------------------------------


def test_check_digit_matches_the_cms_worked_example() -> None:
    assert check_digit("123456789") == "3"


@pytest.mark.parametrize("number", VALID_NPIS)
def test_valid_npi_parses_to_itself(number: str) -> None:
    npi = NPI.parse(number)
    assert str(npi) == number
    assert npi == NPI(number)
    assert hash(npi) == hash(NPI(number))


@pytest.mark.parametrize("number", VALID_NPIS)
def test_every_single_digit_change_of_a_valid_npi_is_refused(number: str) -> None:
    for position in range(10):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            changed = number[:position] + digit + number[position + 1 :]
            with pytest.raises(ValidationFailed):
                NPI.parse(changed)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("123456789", "must be 10 digits"),
        ("12345678931", "must be 10 digits"),
        ("", "must be 10 digits"),
        ("12345678a3", "only digits"),
        ("١٢٣٤٥٦٧٨٩٣", "only digits"),
        ("3234567893", "start with 1 or 2"),
        ("1234567890", "fails its check digit"),
    ],
)
def test_invalid_npi_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValidationFailed, match=reason) as caught:
        NPI.parse(text, where="NM109")
    assert caught.value.where == "NM109"


def test_npi_constructor_refuses_invalid_numbers_too() -> None:
    with pytest.raises(ValidationFailed, match="check digit"):
        NPI("1234567890")


def test_npi_refuses_non_strings() -> None:
    with pytest.raises(TypeError):
        NPI.parse(1234567893)  # type: ignore[arg-type]


def test_check_digit_needs_nine_digits() -> None:
    with pytest.raises(ValidationFailed, match="nine digits"):
        check_digit("12345678")


@given(st.sampled_from("12"), st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_check_digit_always_yields_a_valid_npi(first: str, rest: str) -> None:
    payload = first + rest
    assert str(NPI.parse(payload + check_digit(payload))) == payload + check_digit(payload)


@given(
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.integers(min_value=0, max_value=9),
    st.integers(min_value=1, max_value=9),
)
def test_changing_any_one_digit_breaks_the_check(rest: str, position: int, shift: int) -> None:
    payload = "1" + rest
    number = payload + check_digit(payload)
    changed_digit = str((int(number[position]) + shift) % 10)
    changed = number[:position] + changed_digit + number[position + 1 :]
    with pytest.raises(ValidationFailed):
        NPI.parse(changed)


def test_free_text_in_a_code_field_is_not_echoed() -> None:
    with pytest.raises(ValidationFailed) as caught:
        NPI.parse("JOHN Q SMITH")
    assert "JOHN" not in caught.value.message
    assert "12-character value" in caught.value.message


# --- Money ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("123.45", 12345),
        ("100", 10000),
        ("100.5", 10050),
        ("-12.30", -1230),
        (".5", 50),
        ("-.05", -5),
        ("0", 0),
        ("-0", 0),
        ("007.10", 710),
        ("1.2300", 123),
        ("9999999999999999.99", 999999999999999999),
    ],
)
def test_money_parses_decimal_strings_exactly(text: str, cents: int) -> None:
    assert Money.parse(text) == Money(cents)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1.234",
        "1.005",
        "1e5",
        "1E-2",
        "NaN",
        "Infinity",
        "+1.00",
        " 1.00",
        "1.00\n",
        "1,000.00",
        "1.",
        ".",
        "-",
        "$5.00",
        "١٢",
        "10000000000000000",
    ],
)
def test_money_refuses_malformed_amounts(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Money.parse(text, where="CLM02")
    assert caught.value.where == "CLM02"


def test_money_refuses_sub_cent_amounts_with_the_reason() -> None:
    with pytest.raises(ValidationFailed, match="at most 2 decimal places"):
        Money.parse("19.999")


def test_money_reads_a_long_tail_of_zeros_without_rounding() -> None:
    assert Money.parse("1." + "0" * 5000) == Money(100)
    with pytest.raises(ValidationFailed):
        Money.parse("1." + "0" * 5000 + "1")


def test_money_refuses_huge_amounts_cheaply() -> None:
    with pytest.raises(ValidationFailed, match="at most 16 digits"):
        Money.parse("9" * 5000)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Money(1.5),  # type: ignore[arg-type]
        lambda: Money.parse(1.5),  # type: ignore[arg-type]
        lambda: Money.from_decimal(0.1),  # type: ignore[arg-type]
        lambda: Money(1) * 1.5,  # type: ignore[operator]
        lambda: Money(1) + 0.5,  # type: ignore[operator]
    ],
)
def test_money_never_accepts_floats(make: Callable[[], object]) -> None:
    with pytest.raises(TypeError):
        make()


def test_money_refuses_other_non_integers() -> None:
    with pytest.raises(TypeError):
        Money(True)
    with pytest.raises(TypeError):
        Money(Decimal("1"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.parse(100)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cents", "text"),
    [(12345, "123.45"), (5, "0.05"), (-5, "-0.05"), (-1230, "-12.30"), (0, "0.00"), (100, "1.00")],
)
def test_money_formats_as_a_two_place_decimal(cents: int, text: str) -> None:
    assert str(Money(cents)) == text


@given(st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1))
def test_money_round_trips_through_text(cents: int) -> None:
    money = Money(cents)
    assert Money.parse(str(money)) == money


@given(st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1))
def test_money_round_trips_through_decimal(cents: int) -> None:
    money = Money(cents)
    assert Money.from_decimal(money.to_decimal()) == money


def test_money_sums_exactly_where_floats_do_not() -> None:
    assert Money.parse("0.1") + Money.parse("0.2") == Money.parse("0.3")
    assert sum([Money.parse("0.10")] * 10) == Money.parse("1.00")
    assert sum([Money(1), Money(2)], Money(0)) == Money(3)
    assert sum([], Money(0)) == Money(0)


def test_money_arithmetic() -> None:
    assert Money.parse("10.00") - Money.parse("2.50") == Money(750)
    assert -Money(750) == Money(-750)
    assert Money.parse("19.99") * 3 == Money.parse("59.97")
    assert 3 * Money.parse("19.99") == Money.parse("59.97")
    assert Money(1) < Money(2) <= Money(2)
    assert max(Money(5), Money(-7)) == Money(5)


def test_money_does_not_mix_with_bare_numbers() -> None:
    assert Money(100) != 100  # type: ignore[comparison-overlap]
    with pytest.raises(TypeError):
        Money(1) + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = Money(1) < 2  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money(1) * True


def test_money_from_decimal() -> None:
    assert Money.from_decimal(Decimal("12.3")) == Money(1230)
    assert Money.from_decimal(Decimal("1E+2")) == Money(10000)
    assert Money(1230).to_decimal() == Decimal("12.30")
    for bad in (Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("0.001")):
        with pytest.raises(ValidationFailed):
            Money.from_decimal(bad)


# --- ICD-10-CM ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "dotted"),
    [
        ("E11.9", "E119", "E11.9"),
        ("e119", "E119", "E11.9"),
        ("E11", "E11", "E11"),
        ("S72.001A", "S72001A", "S72.001A"),
        ("u07.1", "U071", "U07.1"),
        ("M1A.0710", "M1A0710", "M1A.0710"),
        ("Z3A20", "Z3A20", "Z3A.20"),
    ],
)
def test_icd10cm_normalises_to_upper_case_without_the_dot(
    text: str, code: str, dotted: str
) -> None:
    parsed = ICD10CM.parse(text)
    assert parsed.code == code
    assert str(parsed) == code
    assert parsed.dotted == dotted
    assert parsed == ICD10CM(code)


def test_icd10cm_spellings_of_one_code_are_equal() -> None:
    assert len({ICD10CM.parse("E11.9"), ICD10CM.parse("e119"), ICD10CM.parse("E119")}) == 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "E1",
        "E11.",
        "E1.19",
        "11.9",
        "EA1",
        "E11.12345",
        "E1112345",
        "E 11.9",
        "E11.9\n",
        "E11..9",
        "E11-9",
        "e1ß",
        "Ｅ11.9",
    ],
)
def test_icd10cm_refuses_other_shapes(text: str) -> None:
    with pytest.raises(ValidationFailed, match="ICD-10-CM") as caught:
        ICD10CM.parse(text, where="HI01-2")
    assert caught.value.where == "HI01-2"


def test_icd10cm_constructor_takes_only_the_canonical_form() -> None:
    with pytest.raises(ValidationFailed):
        ICD10CM("E11.9")
    with pytest.raises(ValidationFailed):
        ICD10CM("e119")


# --- procedure codes and modifiers ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "kind"),
    [
        ("99213", "99213", "CPT"),
        ("00100", "00100", "CPT"),
        ("3078F", "3078F", "CPT-II"),
        ("0075t", "0075T", "CPT-III"),
        ("0001U", "0001U", "PLA"),
        ("J1100", "J1100", "HCPCS"),
        ("g0439", "G0439", "HCPCS"),
        ("U0003", "U0003", "HCPCS"),
        ("V2020", "V2020", "HCPCS"),
    ],
)
def test_procedure_codes_parse_with_their_kind(text: str, code: str, kind: str) -> None:
    parsed = ProcedureCode.parse(text)
    assert str(parsed) == code
    assert parsed.kind == kind


@pytest.mark.parametrize(
    "text", ["", "9921", "992133", "1234A", "W1234", "Z9999", "J110", "J11000", "99-13", "99213 "]
)
def test_procedure_codes_refuse_other_shapes(text: str) -> None:
    with pytest.raises(ValidationFailed, match="procedure code") as caught:
        ProcedureCode.parse(text, where="SV101-2")
    assert caught.value.where == "SV101-2"


@pytest.mark.parametrize(("text", "code"), [("25", "25"), ("xe", "XE"), ("Lt", "LT"), ("95", "95")])
def test_modifiers_are_upper_cased(text: str, code: str) -> None:
    assert Modifier.parse(text) == Modifier(code)
    assert str(Modifier.parse(text)) == code


@pytest.mark.parametrize("text", ["", "5", "255", "X-", "x ", "ẞ1"])
def test_modifiers_refuse_other_shapes(text: str) -> None:
    with pytest.raises(ValidationFailed, match="modifier") as caught:
        Modifier.parse(text)
    assert caught.value.where == "modifier"


@pytest.mark.parametrize("code", ["59", "XE", "XS", "XP", "XU", "25", "LT", "RT", "F5", "TA", "91"])
def test_ncci_associated_modifiers_bypass_edits(code: str) -> None:
    assert Modifier.parse(code).is_ncci_associated


@pytest.mark.parametrize("code", ["26", "TC", "50", "51", "76", "GT", "95", "KX"])
def test_other_modifiers_do_not_bypass_edits(code: str) -> None:
    assert not Modifier.parse(code).is_ncci_associated


def test_ncci_associated_modifier_set_is_the_manual_list() -> None:
    anatomic = {"E1", "E2", "E3", "E4", "FA", "TA", "LT", "RT", "LC", "LD", "LM", "RC", "RI"}
    anatomic |= {f"F{n}" for n in range(1, 10)} | {f"T{n}" for n in range(1, 10)}
    global_surgery = {"24", "25", "57", "58", "78", "79"}
    other = {"27", "59", "91", "XE", "XS", "XP", "XU"}
    assert anatomic | global_surgery | other == NCCI_ASSOCIATED_MODIFIERS
    assert len(NCCI_ASSOCIATED_MODIFIERS) == 44


# --- places of service ----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("02", "Telehealth Provided Other than in Patient's Home"),
        ("10", "Telehealth Provided in Patient's Home"),
        ("11", "Office"),
        ("12", "Home"),
        ("19", "Off Campus-Outpatient Hospital"),
        ("21", "Inpatient Hospital"),
        ("22", "On Campus-Outpatient Hospital"),
        ("23", "Emergency Room – Hospital"),
        ("31", "Skilled Nursing Facility"),
        ("81", "Independent Laboratory"),
        ("99", "Other Place of Service"),
    ],
)
def test_place_of_service_names(code: str, name: str) -> None:
    place = PlaceOfService.parse(code)
    assert place.name == name
    assert str(place) == code


@pytest.mark.parametrize("code", ["00", "28", "30", "40", "59", "63", "80", "98"])
def test_unassigned_places_of_service_are_refused(code: str) -> None:
    with pytest.raises(ValidationFailed, match="not an assigned") as caught:
        PlaceOfService.parse(code, where="CLM05-1")
    assert caught.value.where == "CLM05-1"


@pytest.mark.parametrize("text", ["", "1", "011", "1a", "١١", " 11"])
def test_places_of_service_must_be_two_digits(text: str) -> None:
    with pytest.raises(ValidationFailed, match="two digits"):
        PlaceOfService.parse(text)


def test_place_of_service_code_set_shape() -> None:
    assert all(len(code) == 2 and code.isdigit() for code in PLACES_OF_SERVICE)
    assert len(PLACES_OF_SERVICE) == 51
    with pytest.raises(TypeError):
        PLACES_OF_SERVICE["28"] = "Invented"  # type: ignore[index]


# --- dates of service -----------------------------------------------------------


def test_parse_x12_date() -> None:
    assert parse_x12_date("20240131") == date(2024, 1, 31)
    assert parse_x12_date("20240229") == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2024013", "eight digits"),
        ("2024-01-31", "eight digits"),
        ("", "eight digits"),
        ("20230229", "real calendar date"),
        ("20241301", "real calendar date"),
        ("00000101", "real calendar date"),
    ],
)
def test_parse_x12_date_refuses_bad_dates(text: str, reason: str) -> None:
    with pytest.raises(ValidationFailed, match=reason) as caught:
        parse_x12_date(text, where="DTP03")
    assert caught.value.where == "DTP03"


def test_refused_dates_are_not_repeated_in_messages() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_x12_date("20230229")
    assert "2023" not in str(caught.value)


def test_parse_x12_period() -> None:
    period = parse_x12_period("20240101-20240131")
    assert period == ServicePeriod(date(2024, 1, 1), date(2024, 1, 31))
    assert period.days == 31
    assert date(2024, 1, 15) in period
    assert date(2024, 2, 1) not in period
    assert str(period) == "20240101-20240131"


def test_period_may_not_end_before_it_starts() -> None:
    with pytest.raises(ValidationFailed, match="end before it starts") as caught:
        parse_x12_period("20240131-20240101", where="DTP03")
    assert caught.value.where == "DTP03"
    with pytest.raises(ValidationFailed):
        ServicePeriod(date(2024, 1, 31), date(2024, 1, 1))


@pytest.mark.parametrize("text", ["20240101", "20240101-", "-20240101", "20240101-2024013"])
def test_parse_x12_period_refuses_other_shapes(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_x12_period(text)


def test_single_day_service() -> None:
    day = ServicePeriod.parse("20240131")
    assert day == ServicePeriod.on(date(2024, 1, 31))
    assert day.days == 1
    assert str(day) == "20240131"
    assert DateOfService is ServicePeriod


def test_service_period_refuses_datetimes() -> None:
    with pytest.raises(TypeError):
        ServicePeriod.on(datetime(2024, 1, 1))  # noqa: DTZ001 - the point is the wrong type


@given(st.dates(), st.dates())
def test_service_period_round_trips_through_text(one: date, other: date) -> None:
    period = ServicePeriod(min(one, other), max(one, other))
    assert ServicePeriod.parse(str(period)) == period


# --- errors carry where ---------------------------------------------------------


@pytest.mark.parametrize(
    "refuse",
    [
        lambda: NPI.parse("1", where="loop 2310B NM109"),
        lambda: Money.parse("x", where="loop 2310B NM109"),
        lambda: ICD10CM.parse("x", where="loop 2310B NM109"),
        lambda: ProcedureCode.parse("x", where="loop 2310B NM109"),
        lambda: Modifier.parse("x", where="loop 2310B NM109"),
        lambda: PlaceOfService.parse("x", where="loop 2310B NM109"),
        lambda: ServicePeriod.parse("x", where="loop 2310B NM109"),
    ],
)
def test_every_refusal_names_where(refuse: Callable[[], object]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        refuse()
    assert caught.value.where == "loop 2310B NM109"
    assert caught.value.to_dict()["where"] == "loop 2310B NM109"
    assert caught.value.code == "validation_failed"


def test_values_are_frozen() -> None:
    npi = NPI.parse("1234567893")
    with pytest.raises(AttributeError):
        npi.number = "1245319599"  # type: ignore[misc]
