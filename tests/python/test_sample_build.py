"""End to end on generated sample data: a real dbt build into a real DuckDB file."""

from __future__ import annotations

import csv
from pathlib import Path

from helpers import person_pseudonym, run_cli

from subsidy_warehouse.identifiers import (
    is_valid_passport,
    is_valid_resident_id,
    is_valid_uscc,
    looks_like_resident_id,
    normalise_beneficiary_id,
)

VALIDATORS = {"uscc": is_valid_uscc, "resident_id": is_valid_resident_id, "passport": is_valid_passport}


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_generator_is_deterministic(tmp_path: Path, sample_raw_dir: Path):
    again = tmp_path / "again"
    run_cli("generate", "--out", str(again), "--seed", "7", check=True)
    for name in ("beneficiaries.csv", "applications.csv", "disbursements.csv"):
        assert (again / name).read_bytes() == (sample_raw_dir / name).read_bytes()
    other = tmp_path / "other"
    run_cli("generate", "--out", str(other), "--seed", "8", check=True)
    assert (other / "applications.csv").read_bytes() != (sample_raw_dir / "applications.csv").read_bytes()


def test_sample_is_realistic_in_size_and_shape(sample_con):
    awards, clauses, years, beneficiaries = sample_con.execute(
        "select count(*), count(distinct clause_code), count(distinct award_year), count(distinct beneficiary_id) "
        "from marts.fct_awards"
    ).fetchone()
    assert awards > 2500
    assert clauses >= 30
    assert years >= 3
    assert beneficiaries > 300
    assert (
        sample_con.execute("select count(distinct paying_bureau_code) from marts.fct_disbursements").fetchone()[0] == 8
    )


def test_every_raw_row_is_accounted_for(sample_con, sample_raw_dir: Path):
    rows = sample_con.execute(
        "select source_file, raw_rows, staged_rows, rejected_rows, collapsed_duplicate_rows, unaccounted_rows "
        "from audit.raw_reconciliation"
    ).fetchall()
    assert len(rows) == 3
    for source_file, raw_rows, staged, rejected, collapsed, unaccounted in rows:
        with (sample_raw_dir / source_file).open(encoding="utf-8-sig") as handle:
            data_lines = sum(1 for line in handle if line.strip()) - 1
        assert raw_rows == data_lines, source_file
        assert raw_rows == staged + rejected + collapsed and unaccounted == 0
        assert rejected > 0 and collapsed > 0, f"the sample should exercise rejects and duplicates in {source_file}"


def test_every_rule_finds_its_injected_problems(sample_con):
    # integrity rules check the warehouse itself (subsidy audit); every data rule must fire on the sample
    rules = {
        r
        for (r,) in sample_con.execute(
            "select rule_code from audit.audit_rules where category <> 'integrity'"
        ).fetchall()
    }
    found = {r for (r,) in sample_con.execute("select distinct rule_code from audit.exceptions").fetchall()}
    assert rules == found
    share = sample_con.execute(
        "select sum(case when over_cap_amount > 0 then 1 else 0 end) / count(*) from marts.fct_awards"
    ).fetchone()[0]
    assert 0 < share < 0.15, "problems should be a small share of the sample"


def public_id(raw_id: str, id_type: str) -> str:
    """The public beneficiary id the warehouse should give (default demo salt): a person's pseudonym,
    whatever the declared type of a resident ID number, else the normalised identifier."""
    normalised = normalise_beneficiary_id(raw_id)
    if id_type in ("resident_id", "passport") or looks_like_resident_id(normalised):
        return person_pseudonym(raw_id)
    return normalised


def reference_validity(raw_id: str, id_type: str) -> bool:
    normalised = normalise_beneficiary_id(raw_id)
    if id_type == "uscc" and looks_like_resident_id(normalised):
        return False  # a person's number is no company's
    return VALIDATORS[id_type](normalised)


def test_sql_identifier_checks_agree_with_the_reference(sample_con, sample_raw_dir: Path):
    staged = dict(sample_con.execute("select beneficiary_id, is_id_valid from marts.dim_beneficiaries").fetchall())
    raw = read_rows(sample_raw_dir / "beneficiaries.csv")
    expected = {
        public_id(r["beneficiary_id"], r["id_type"]): reference_validity(r["beneficiary_id"], r["id_type"])
        for r in raw
        if r["id_type"] in VALIDATORS and public_id(r["beneficiary_id"], r["id_type"]) in staged
    }
    assert len(expected) == len(staged)
    assert expected == staged
    assert sum(1 for v in staged.values() if not v) >= 2


def test_no_personal_identifier_outside_the_raw_schema(sample_con, sample_raw_dir: Path):
    personal = {r["beneficiary_id"] for r in read_rows(sample_raw_dir / "beneficiaries.csv") if r["id_type"] != "uscc"}
    assert len(personal) > 20
    sample_con.execute("create temp table personal_ids (id varchar)")
    sample_con.executemany("insert into personal_ids values (?)", [[p] for p in personal])
    columns = sample_con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema not in ('raw', 'temp') and data_type = 'VARCHAR' and table_catalog = current_database()"
    ).fetchall()
    assert len(columns) > 50
    for schema, table, column in columns:
        leaked = sample_con.execute(
            f"""select count(*) from (
                    select unnest(regexp_extract_all("{column}", '[0-9A-Z]{{5,18}}')) as token
                    from "{schema}"."{table}"
                ) as tokens
                where token in (select id from personal_ids)"""
        ).fetchone()[0]
        assert leaked == 0, f"{schema}.{table}.{column} holds {leaked} personal identifiers"


def test_build_prints_a_summary(sample_build: Path):
    stdout = (sample_build / "build.stdout").read_text(encoding="utf-8")  # the sample's build (conftest)
    assert "获批项目 awards" in stdout
    assert "万元" in stdout
    assert "over_cap" in stdout
