"""A real build of the hostile corpus (tests/hostile/corpus.py): every record ends where it must, every
physical line is accounted for, no resident ID number survives outside `raw`, and nothing in the data can
stop the build."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from corpus import (
    COMPANY,
    DECLARED_AS_USCC,
    LEGACY_PERSON_15,
    LEGACY_PERSON_18,
    PASSPORT_AS_USCC,
    PASSPORT_NUMBERS,
    PERSONAL_NUMBERS,
    STRAY_PERSON,
    Case,
    write_corpus,
)
from helpers import copy_build, person_pseudonym, personal_ids_outside_raw


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, hostile_build: Path) -> tuple[Path, list[Case], str]:
    """The corpus built once per run (conftest.hostile_build, which asserts the build exited 0), copied here,
    with the cases of the same corpus written again here: the raw files must be the ones it was built from."""
    folder = tmp_path_factory.mktemp("hostile")
    cases = write_corpus(folder / "raw")
    for written in (folder / "raw").iterdir():
        assert written.read_bytes() == (hostile_build / "raw" / written.name).read_bytes(), written.name
    warehouse = copy_build(hostile_build, folder)
    printed = (hostile_build / "build.stdout").read_text(encoding="utf-8")
    return warehouse, cases, printed + (hostile_build / "build.stderr").read_text(encoding="utf-8")


@pytest.fixture()
def con(hostile):
    with duckdb.connect(str(hostile[0]), read_only=True) as connection:
        yield connection


def outcomes(con) -> dict[tuple[str, int], tuple[str, int, str]]:
    """(file, first line) → (outcome, last line, reason) for every record of the build."""
    found: dict[tuple[str, int], tuple[str, int, str]] = {}
    for entity in ("beneficiaries", "applications", "disbursements"):
        for file, first, last in con.execute(
            f"select source_file, source_line, source_last_line from staging.stg_raw__{entity}"
        ).fetchall():
            found[(file, first)] = ("staged", last, "")
        for file, first, last in con.execute(
            f"select source_file, source_line, source_last_line from staging.base_raw__{entity} "
            "where row_disposition = 'collapsed_duplicate'"
        ).fetchall():
            found[(file, first)] = ("collapsed", last, "")
    for file, first, last, reason in con.execute(
        "select source_file, source_line, source_last_line, rejection_reason from audit.rejected_rows"
    ).fetchall():
        assert (file, first) not in found, f"{file} line {first} ended up twice"
        found[(file, first)] = ("rejected", last, reason)
    return found


def test_every_record_ends_where_it_must(hostile, con):
    _, cases, _ = hostile
    found = outcomes(con)
    wrong = []
    for case in cases:
        if case.expected == "blank":
            if (case.file, case.first_line) in found:
                wrong.append((case, found[(case.file, case.first_line)]))
            continue
        outcome, last, reason = found.get((case.file, case.first_line), ("missing", 0, ""))
        if outcome != case.expected or last != case.last_line or case.reason not in reason:
            wrong.append((case, (outcome, last, reason)))
    assert wrong == []
    assert len(found) == sum(1 for c in cases if c.expected != "blank")  # and nothing else


def test_every_physical_line_is_accounted_for(hostile, con):
    raw = hostile[0].parent / "raw"
    rows = con.execute(
        "select source_file, physical_lines, unaccounted_rows, unaccounted_lines, blank_lines "
        "from audit.raw_reconciliation order by source_file"
    ).fetchall()
    assert len(rows) == 3
    for source_file, physical, unaccounted_rows, unaccounted_lines, _ in rows:
        data = (raw / source_file).read_bytes()
        assert physical == data.count(b"\n") + (not data.endswith(b"\n")), source_file
        assert unaccounted_rows == 0 and unaccounted_lines == 0, source_file
    assert {r[0]: r[4] for r in rows}["beneficiaries.csv"] == 2


def test_no_resident_id_outside_raw_and_none_printed(hostile, con):
    assert personal_ids_outside_raw(con) == {}
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables where table_schema not in ('raw')"
    ).fetchall()
    for schema, table in tables:
        text = " ".join(str(v) for row in con.execute(f'select * from "{schema}"."{table}"').fetchall() for v in row)
        for number in PERSONAL_NUMBERS + PASSPORT_NUMBERS:
            assert number not in text and number.lower() not in text, f"{schema}.{table}"
    assert not any(number in hostile[2] for number in PERSONAL_NUMBERS + PASSPORT_NUMBERS)


def test_a_person_is_a_person_whatever_the_id_type_says(con):
    # beneficiary_type person with id_type uscc: pseudonymised and masked like any person, and the award joins
    declared = con.execute(
        "select beneficiary_id, beneficiary_id_display from marts.dim_beneficiaries where beneficiary_name = '孙护照'"
    ).fetchone()
    assert declared == (person_pseudonym(PASSPORT_AS_USCC), PASSPORT_AS_USCC[:4] + "***" + PASSPORT_AS_USCC[-2:])
    assert con.execute("select beneficiary_id from marts.fct_awards where application_id = 'H-A-PASS'").fetchone() == (
        person_pseudonym(PASSPORT_AS_USCC),
    )
    # a misspelt id type (Passport, PASSPORT, 护照) rejects the row, which shows the number masked
    record_ids = [row[0] for row in con.execute(
        "select record_id from audit.rejected_rows where rejection_reason like '%证件类型（id_type）取值无效%' "
        "and raw_values like '%张护照%'"
    ).fetchall()]  # fmt: skip
    masked = [number[:4] + "*" * (len(number) - 6) + number[-2:] for number in PASSPORT_NUMBERS]
    assert sorted(record_ids) == sorted(set(masked) - {masked[PASSPORT_NUMBERS.index(PASSPORT_AS_USCC)]})


def test_a_person_is_one_person_whatever_the_column_or_spelling(con):
    # the 15-digit first-generation number in beneficiaries.csv, the 18-digit one on the application
    assert person_pseudonym(LEGACY_PERSON_15) == person_pseudonym(LEGACY_PERSON_18)
    assert con.execute(
        "select beneficiary_id from marts.fct_awards where application_id = 'H-A-LEGACY'"
    ).fetchone() == (person_pseudonym(LEGACY_PERSON_18),)
    # a resident ID declared as a USCC is still a person: pseudonymised, shown masked
    declared = con.execute(
        "select beneficiary_id, beneficiary_id_display from marts.dim_beneficiaries where beneficiary_name = '周冒充'"
    ).fetchone()
    assert declared == (person_pseudonym(DECLARED_AS_USCC), DECLARED_AS_USCC[:4] + "*" * 12 + DECLARED_AS_USCC[-2:])
    # typed into an application id on both files, the number becomes the same pseudonym: the payment joins
    pseudonym = person_pseudonym(STRAY_PERSON)
    assert con.execute(
        "select is_application_known from marts.fct_disbursements where disbursement_id = 'H-D-APP'"
    ).fetchone() == (True,)
    assert con.execute("select count(*) from marts.fct_awards where application_id = ?", [pseudonym]).fetchone() == (1,)
    assert con.execute(
        "select voucher_no from marts.fct_disbursements where disbursement_id = 'H-D-VOUCHER'"
    ).fetchone() == (pseudonym,)
    assert con.execute(
        "select count(*) from marts.dim_beneficiaries where beneficiary_name = ?", [f"杭州{pseudonym}工作室"]
    ).fetchone() == (1,)


def test_totals_beyond_decimal_18_2_are_exact(con):
    expected = Decimal("999999999999.99") * 10_001
    assert expected > Decimal("9999999999999999.99")  # beyond what DECIMAL(18,2) holds
    assert con.execute(
        "select disbursed_amount from marts.fct_awards where application_id = 'H-A-MAX'"
    ).fetchone() == (expected + Decimal("0.00"),)
    net = con.execute("select sum(net_paid_amount) from marts.agg_disbursements_by_clause_year").fetchone()[0]
    assert net == con.execute("select sum(signed_amount) from marts.fct_disbursements").fetchone()[0]
    assert net > expected


def test_text_is_only_ever_text(con):
    names = {n for (n,) in con.execute("select beneficiary_name from marts.dim_beneficiaries").fetchall()}
    assert {"'); drop table marts.fct_awards; --", '=HYPERLINK("http://x","y")', "{{ var('id_hash_salt') }}"} <= names
    assert "杭州\ufffd空字符科技" in names and "杭州\r回车科技" in names and "杭州\n换行\n科技有限公司" in names
    assert con.execute("select count(*) from raw.files").fetchone() == (3,)
    assert con.execute(
        "select count(*) from marts.fct_awards where beneficiary_id = ?", [COMPANY]
    ).fetchone()[0] >= 1
    salt_hash = hashlib.sha256(b"subsidy-warehouse-demo-salt").hexdigest()
    assert not any(salt_hash in str(n) for n in names)


def test_only_records_not_staged_keep_their_text_in_staging(con):
    """The base models keep a value's raw text only for the rows that are not staged: the rejects show what was
    written, while a staged row's value is in its typed column."""
    text_columns = {
        "beneficiaries": ["registered_on_text"],
        "applications": ["award_year_text", "tier_text", "requested_amount_text", "approved_amount_text",
                         "base_amount_text", "loan_principal_text", "applied_on_text", "approved_on_text",
                         "loan_start_on_text", "loan_end_on_text"],  # fmt: skip
        "disbursements": ["amount_text", "paid_on_text"],
    }
    for entity, columns in text_columns.items():
        staged, with_text = con.execute(
            f"select count(*), count(coalesce({', '.join(columns)})) from staging.base_raw__{entity} "
            "where row_disposition = 'staged'"
        ).fetchone()
        assert staged > 0 and with_text == 0, entity
    formula = con.execute(
        "select b.row_disposition, json_extract_string(r.raw_values, '$.approved_amount') "
        "from staging.base_raw__applications b join audit.rejected_rows r "
        "on r.source_file = b.source_file and r.source_line = b.source_line "
        "where b.approved_amount_text = '=1+1'"
    ).fetchall()
    assert formula == [("rejected", "=1+1")]
    assert con.execute(
        "select count(*) from staging.base_raw__applications where row_disposition = 'collapsed_duplicate' "
        "and approved_amount_text = '100000.00'"
    ).fetchone()[0] >= 2  # the exact copies of H-A1
