"""The SQL identifier checks and pseudonymisation, held to python-stdnum on a real build.

tests/fixtures/stdnum_vectors.csv holds python-stdnum's published test vectors (tests/test_cn_uscc.doctest
and tests/test_cn_ric.doctest, © their authors, LGPL-2.1-or-later): every USCC found online that stdnum
lists as valid, and its valid and invalid resident ID examples. They go into a beneficiaries file with
hostile variants (15-digit first-generation numbers, spaces, full-width digits, a letter O, lower-case x,
a resident ID declared as a USCC) and resident ID numbers typed into every other column; a real
`subsidy build` must pass each check as stdnum does, and no resident ID may survive outside `raw`.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import duckdb
import pytest
from helpers import PROJECT_DIR, person_pseudonym, personal_ids_outside_raw, run_cli

from subsidy_warehouse.contract import APPLICATIONS, BENEFICIARIES, DISBURSEMENTS
from subsidy_warehouse.identifiers import (
    is_valid_resident_id,
    is_valid_uscc,
    looks_like_resident_id,
    normalise_beneficiary_id,
    resident_id_check_char,
    upgrade_first_generation_id,
)

VECTORS = PROJECT_DIR / "tests" / "fixtures" / "stdnum_vectors.csv"


def stdnum_vectors() -> list[dict[str, str]]:
    with VECTORS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def generated_resident_ids(rng: random.Random) -> list[str]:
    """Resident IDs around the edges of validity: real and unknown divisions, divisions renamed before or
    after the birth year, impossible dates, wrong check digits, the far past and the future."""
    divisions = ["330102", "110105", "120110", "110111", "110201", "990426", "339999", "110000"]
    numbers = []
    for division in divisions:
        for born in ["19491231", "19800101", "19920229", "19930229", "20141005", "21000101", "18991231"]:
            body = f"{division}{born}{rng.randrange(1000):03d}"
            numbers.append(body + resident_id_check_char(body))
            numbers.append(body + ("0" if resident_id_check_char(body) != "0" else "1"))
    return numbers


@pytest.fixture(scope="module")
def identifier_cases() -> dict[str, tuple[str, str]]:
    """{raw beneficiary id: (id_type, expected validity as 'valid'/'invalid')} — expectations from stdnum's
    published verdicts, or from the Python reference (stdnum) for the generated numbers."""
    cases: dict[str, tuple[str, str]] = {}
    for vector in stdnum_vectors():
        cases[vector["number"]] = (vector["id_kind"], vector["expected"])
    for number in generated_resident_ids(random.Random(7)):
        cases[number] = ("resident_id", "valid" if is_valid_resident_id(number) else "invalid")
    first_generation = "330102850612001"  # born 1985-06-12, the same person as its 18-digit form
    cases[first_generation] = ("resident_id", "valid")
    cases["３３０１０２ 19850612 002" + resident_id_check_char("33010219850612002")] = ("resident_id", "valid")
    cases["3301O2198501011234"] = ("resident_id", "invalid")  # letter O: unreadable as a number, still a person
    cases["33010219850613001x"[:-1] + resident_id_check_char("33010219850613001").lower()] = ("resident_id", "valid")
    declared_uscc = "33010219850614001" + resident_id_check_char("33010219850614001")
    cases[declared_uscc] = ("uscc", "invalid")  # a person's number declared as a company's
    # keep one raw spelling per normalised identifier: two spellings of one id would be conflicting versions
    unique: dict[str, tuple[str, tuple[str, str]]] = {}
    for raw_id, case in cases.items():
        unique.setdefault(normalise_beneficiary_id(raw_id), (raw_id, case))
    return {raw_id: case for raw_id, case in unique.values()}


@pytest.fixture(scope="module")
def identifier_warehouse(tmp_path_factory, identifier_cases) -> Path:
    raw = tmp_path_factory.mktemp("identifiers") / "raw"
    raw.mkdir()
    persons = [raw_id for raw_id, (kind, _) in identifier_cases.items() if kind == "resident_id"]
    with (raw / BENEFICIARIES.file_name).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(BENEFICIARIES.columns)
        for number, (raw_id, (kind, _)) in enumerate(identifier_cases.items()):
            beneficiary_type = "person" if kind == "resident_id" else "enterprise"
            writer.writerow([raw_id, f"主体{number} 证件{raw_id}", beneficiary_type, kind, "", f"上城区{persons[0]}"])
    with (raw / APPLICATIONS.file_name).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(APPLICATIONS.columns)
        for number, person in enumerate(persons[:20]):
            # a resident ID typed into the id, project and amount columns, and into the bureau's name
            writer.writerow([
                person if number % 2 else f"SQ-{person}", person, "M10-4", "2025", "2025-01-02", "approved",
                "100.00", person if number % 3 == 0 else "100.00", "2025-02-01", f"区科技局{person}", "",
                "", person, "", "", "",
            ])  # fmt: skip
    with (raw / DISBURSEMENTS.file_name).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(DISBURSEMENTS.columns)
        for number, person in enumerate(persons[:20]):
            application_id = person if number % 2 else f"SQ-{person}"
            writer.writerow([f"D{number}", application_id, "2025-03-01", "100.00", "payment", "区科技局", person])
    warehouse = raw.parent / "warehouse.duckdb"
    run_cli("build", "--raw-dir", str(raw), "--warehouse", str(warehouse), check=True)
    return warehouse


def public_id(raw_id: str, kind: str) -> str:
    normalised = normalise_beneficiary_id(raw_id)
    return person_pseudonym(raw_id) if kind == "resident_id" or looks_like_resident_id(normalised) else normalised


def test_sql_checks_give_stdnum_verdicts(identifier_warehouse: Path, identifier_cases):
    with duckdb.connect(str(identifier_warehouse), read_only=True) as con:
        verdicts = dict(con.execute("select beneficiary_id, is_id_valid from staging.base_raw__beneficiaries").fetchall())
    vectors = stdnum_vectors()
    assert sum(1 for v in vectors if v["id_kind"] == "uscc" and v["expected"] == "valid") >= 200
    wrong = {
        raw_id: expected
        for raw_id, (kind, expected) in identifier_cases.items()
        if verdicts.get(public_id(raw_id, kind)) != (expected == "valid")
    }
    assert wrong == {}


def test_python_reference_gives_stdnum_verdicts():
    for vector in stdnum_vectors():
        number = normalise_beneficiary_id(vector["number"])
        check = is_valid_uscc if vector["id_kind"] == "uscc" else is_valid_resident_id
        assert check(number) == (vector["expected"] == "valid"), vector


def test_a_first_generation_id_is_the_same_person_as_its_18_digit_form():
    assert upgrade_first_generation_id("330102850612001") == "33010219850612001" + resident_id_check_char(
        "33010219850612001"
    )
    assert person_pseudonym("330102850612001") == person_pseudonym(upgrade_first_generation_id("330102850612001"))


def test_no_resident_id_survives_outside_raw(identifier_warehouse: Path):
    with duckdb.connect(str(identifier_warehouse), read_only=True) as con:
        assert personal_ids_outside_raw(con) == {}
        # typed into other columns, a number becomes its holder's pseudonym, so keys still join
        joined = con.execute("select count(*) from marts.fct_disbursements where is_application_known").fetchone()[0]
        staged = con.execute("select count(*) from staging.stg_raw__applications").fetchone()[0]
        assert joined == staged == 20 - 7  # every third application has a resident ID as its amount: rejected
        assert con.execute(
            "select count(*) from audit.rejected_rows where rejection_reason like '核定金额（approved_amount）%'"
        ).fetchone()[0] == 7
        declared = con.execute(
            "select beneficiary_id, beneficiary_id_display from marts.dim_beneficiaries where id_type = 'uscc' "
            "and beneficiary_id like 'P%'"
        ).fetchall()
        assert len(declared) == 1 and "*" in declared[0][1]
