"""Golden data: a small hand-made raw set whose every award and finding was computed by hand.

tests/fixtures/golden_raw holds one case per cap kind and per rule. If any of these numbers changes,
the policy arithmetic changed: that must be a decision, not an accident.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from helpers import GOLDEN_RAW, copy_build, run_cli

# application: (approved, eligible, within cap, over cap, binding limit)
EXPECTED_AWARDS = {
    "G01": ("400000.00", "370370.37", "370370.37", "29629.63", "ratio_of_base"),  # 30% × 1,234,567.89
    "G02": ("600000.00", "1000000.00", "600000.00", "0.00", None),
    "G03": ("600000.00", "400000.00", "400000.00", "200000.00", "annual_cap"),  # M12-1 1,000,000 a year
    "G04": ("8000.00", "6286.58", "6286.58", "1713.42", "lpr_interest"),  # 1,000,075 × 3.10% × 73/360 = 6286.5826
    "G05": ("9000000.00", "9000000.00", "9000000.00", "0.00", None),
    "G06": ("3000000.00", "1000000.00", "1000000.00", "2000000.00", "project_cap"),  # PRJ-1 capped at 10,000,000
    "G07": ("1000000.00", "5000000.00", "1000000.00", "0.00", None),
    "G08": ("500000.00", "0.00", "0.00", "500000.00", "once_only_repeat"),
    "G09": ("7000000.00", "6000000.00", "6000000.00", "1000000.00", "per_award"),
    "G10": ("100000.00", "0.00", "0.00", "100000.00", "beneficiary_type_not_allowed"),
    "G11": ("200000.00", "0.00", "0.00", "200000.00", "non_monetary"),
    "G12": ("500000.00", "0.00", "0.00", "500000.00", "missing_basis"),
    "G13": ("1000000.00", "2000000.00", "1000000.00", "0.00", None),
    "G14": ("1000000.00", "2000000.00", "1000000.00", "0.00", None),
    "G15": ("300000.00", "500000.00", "300000.00", "0.00", None),
    # a loan of 2023-03-01, under the LPR of 2022-08-22: 1,000,000 × 3.65% × 366/360 = 37,108.33
    "G22": ("40000.00", "37108.33", "37108.33", "2891.67", "lpr_interest"),
}

EXPECTED_FINDINGS = (
    {("over_cap", "application", r) for r in ("G01", "G03", "G04", "G06", "G08", "G09", "G10", "G11", "G12", "G22")}
    | {
        ("overpaid", "application", "G07"),
        ("paid_without_approval", "disbursement", "D05"),
        ("paid_without_approval", "disbursement", "D06"),  # its application SQ-NOPE does not exist
        ("unknown_reference", "application", "G16"),
        ("unknown_reference", "application", "G17"),
        ("unknown_reference", "disbursement", "D06"),
        ("invalid_id", "beneficiary", "P"),  # a person: the record id is a pseudonym, checked separately
        ("duplicate_record", "beneficiary", "91330102MA28YB2C33"),
        ("duplicate_record", "beneficiary", "91330102MA2KL33P6J"),
        ("duplicate_record", "application", "G07"),
        ("duplicate_record", "application", "G21"),
        ("date_order", "application", "G15"),
        ("date_order", "disbursement", "D07"),
        ("outside_policy_period", "application", "G13"),
        ("bureau_mismatch", "application", "G14"),
        ("bureau_mismatch", "disbursement", "D09"),
        ("non_monetary_award", "application", "G11"),
        ("beneficiary_type_mismatch", "application", "G10"),
        ("missing_basis", "application", "G12"),
    }
    | {
        ("rejected_row", record_type, row)
        for record_type, row in (
            ("beneficiary", "beneficiaries.csv#8"),
            ("beneficiary", "beneficiaries.csv#9"),
            ("beneficiary", "beneficiaries.csv#10"),
            ("application", "applications.csv#20"),
            ("application", "applications.csv#22"),
            ("application", "applications.csv#23"),
            ("disbursement", "disbursements.csv#9"),
            ("unreadable", "disbursements.csv#11"),
        )
    }
)


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory, golden_build: Path):
    # golden_raw built once per run (conftest.golden_build), copied for this module
    warehouse = copy_build(golden_build, tmp_path_factory.mktemp("golden"))
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con
    con.close()


def test_every_award_matches_the_hand_computation(golden):
    rows = golden.execute(
        "select application_id, approved_amount, eligible_amount, within_cap_amount, over_cap_amount, binding_limit "
        "from marts.fct_awards order by application_id"
    ).fetchall()
    actual = {r[0]: tuple(str(v) if isinstance(v, Decimal) else v for v in r[1:]) for r in rows}
    assert actual == EXPECTED_AWARDS


def test_every_finding_and_nothing_else(golden):
    rows = golden.execute("select rule_code, record_type, record_id from audit.exceptions").fetchall()
    actual = {
        (rule, kind, "P" if rule == "invalid_id" and record.startswith("P") else record) for rule, kind, record in rows
    }
    assert actual == EXPECTED_FINDINGS
    assert len(rows) == len(EXPECTED_FINDINGS)


def test_amounts_at_issue(golden):
    amounts = dict(
        golden.execute(
            "select record_id, amount_at_issue from audit.exceptions "
            "where rule_code in ('overpaid', 'paid_without_approval')"
        ).fetchall()
    )
    # G07: 1,100,000 paid − 50,000 clawed back against 1,000,000 approved; D06 pays 1,000 with no application
    assert amounts == {"G07": Decimal("50000.00"), "D05": Decimal("200000.00"), "D06": Decimal("1000.00")}


def test_reconciliation_and_duplicates(golden):
    rows = golden.execute(
        "select source_file, raw_rows, staged_rows, rejected_rows, collapsed_duplicate_rows, unaccounted_rows, "
        "physical_lines, blank_lines, staged_lines, rejected_lines, collapsed_duplicate_lines, unaccounted_lines "
        "from audit.raw_reconciliation order by source_file"
    ).fetchall()
    assert rows == [
        ("applications.csv", 23, 19, 3, 1, 0, 24, 0, 19, 3, 1, 0),
        ("beneficiaries.csv", 9, 5, 3, 1, 0, 10, 0, 5, 3, 1, 0),
        ("disbursements.csv", 10, 8, 2, 0, 0, 11, 0, 8, 2, 0, 0),
    ]


def test_staging_views_read_the_same_in_a_copy_under_another_name(tmp_path: Path, golden_build: Path):
    # the staging models are views; DuckDB names a file's catalog after the file, so a view that named it would
    # break in a copy under another name (the dashboards' copy, an analyst's) or in a file attached under an alias
    staged = {"stg_raw__applications": 19, "stg_raw__beneficiaries": 5, "stg_raw__disbursements": 8}
    copy = tmp_path / "another-name.duckdb"
    shutil.copyfile(copy_build(golden_build, tmp_path / "built"), copy)
    with duckdb.connect(str(copy), read_only=True) as con:
        views = {name for (name,) in con.execute("select view_name from duckdb_views() where schema_name = 'staging'")
                 .fetchall()}  # fmt: skip
        assert views == set(staged)
        assert {view: con.execute(f"select count(*) from staging.{view}").fetchone()[0] for view in staged} == staged
    with duckdb.connect() as con:
        con.execute(f"attach '{copy}' as elsewhere (read_only)")
        assert {
            view: con.execute(f"select count(*) from elsewhere.staging.{view}").fetchone()[0] for view in staged
        } == staged


def test_rejection_reasons_name_the_problem(golden):
    reasons = dict(golden.execute("select rejected_row_id, rejection_reason from audit.rejected_rows").fetchall())
    assert "申报日期（applied_on）不是有效日期" in reasons["applications.csv#20"]
    assert "为负数" in reasons["disbursements.csv#9"]
    assert "内容不一致" in reasons["applications.csv#22"]
    assert "主体类型（beneficiary_type）取值无效：company" in reasons["beneficiaries.csv#10"]
    assert "字段数为 2" in reasons["disbursements.csv#11"]


def test_person_identifiers_never_leave_the_raw_layer(golden):
    resident_id = "33010219850612001X"
    for schema, table, column in golden.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema <> 'raw' and data_type = 'VARCHAR'"
    ).fetchall():
        hits = golden.execute(
            f'select count(*) from "{schema}"."{table}" where "{column}" like ?', [f"%{resident_id[6:14]}%"]
        ).fetchone()[0]
        assert hits == 0, f"{schema}.{table}.{column} holds a resident ID"
    display = golden.execute(
        "select beneficiary_id, beneficiary_id_display from marts.dim_beneficiaries where beneficiary_type = 'person'"
    ).fetchall()
    assert all(b.startswith("P") and "*" in d for b, d in display)


# totals over many records: DECIMAL(38,2), so that no input can overflow them (macros/money.sql)
MONEY_TOTALS = {
    ("agg_cap_utilization", c)
    for c in ("approved_amount", "within_cap_amount", "over_cap_amount", "annual_cap_room_left", "lifetime_within_cap_amount")
} | {
    (rollup, c)
    for rollup in ("agg_disbursements_by_company_year", "agg_disbursements_by_bureau_year", "agg_disbursements_by_clause_year")
    for c in ("paid_amount", "clawed_back_amount", "net_paid_amount")
} | {("fct_awards", "disbursed_amount"), ("fct_awards", "open_balance_amount"), ("exceptions", "amount_at_issue")}


def test_money_is_decimal_18_2_and_totals_decimal_38_2(golden):
    types = golden.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema in ('marts', 'audit') and (column_name like '%amount%' or column_name like '%_cap' "
        "or column_name like '%_room_left')"
    ).fetchall()
    assert len(types) > 30, "no money columns found"
    wrong = [t for t in types if t[2] != ("DECIMAL(38,2)" if (t[0], t[1]) in MONEY_TOTALS else "DECIMAL(18,2)")]
    assert wrong == []


def test_failed_build_leaves_the_previous_warehouse_untouched(tmp_path: Path, golden_build: Path):
    raw = tmp_path / "raw"
    shutil.copytree(GOLDEN_RAW, raw)
    warehouse = copy_build(golden_build, tmp_path)  # built from the same files
    before = warehouse.read_bytes()
    reader = duckdb.connect(str(warehouse), read_only=True)  # a reader holding the old file open
    (raw / "applications.csv").write_text("application_id,beneficiary_id\nX,Y\n", encoding="utf-8")
    failed = run_cli("build", "--raw-dir", str(raw), "--warehouse", str(warehouse))
    assert failed.returncode == 2
    assert "missing required column(s): clause_code" in failed.stderr
    assert warehouse.read_bytes() == before
    assert reader.execute("select count(*) from marts.fct_awards").fetchone()[0] == 16
    reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw", "warehouse.duckdb"]  # no half-built leftovers


def test_rebuild_swaps_in_while_a_reader_keeps_the_old_snapshot(tmp_path: Path, golden_build: Path):
    raw = tmp_path / "raw"
    shutil.copytree(GOLDEN_RAW, raw)
    warehouse = copy_build(golden_build, tmp_path)  # built from the same files
    reader = duckdb.connect(str(warehouse), read_only=True)
    with (raw / "applications.csv").open("a", encoding="utf-8") as handle:
        handle.write("G99,91330102MA27XK1A0H,M04-5,2025,2025-01-02,approved,1.00,1.00,2025-02-01,区科技局,,,,,,\n")
    run_cli("build", "--raw-dir", str(raw), "--warehouse", str(warehouse), check=True)
    assert reader.execute("select count(*) from marts.fct_awards").fetchone()[0] == 16
    reader.close()
    with duckdb.connect(str(warehouse), read_only=True) as fresh:
        assert fresh.execute("select count(*) from marts.fct_awards").fetchone()[0] == 17


def test_dbt_failure_exits_1_and_keeps_the_previous_warehouse(tmp_path: Path, golden_build: Path):
    project = Path(__file__).parents[2]
    broken = tmp_path / "project"
    broken.mkdir()
    for part in ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests"):
        source = project / part
        (shutil.copytree if source.is_dir() else shutil.copyfile)(source, broken / part)
    (broken / "models" / "marts" / "fct_broken.sql").write_text("select no_such_column from {{ ref('fct_awards') }}\n")
    warehouse = copy_build(golden_build, tmp_path / "out")  # built from GOLDEN_RAW
    before = warehouse.read_bytes()
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "subsidy"), "build", "--raw-dir", str(GOLDEN_RAW), "--warehouse", str(warehouse)],
        capture_output=True, text=True, env={**os.environ, "SUBSIDY_PROJECT_DIR": str(broken)}, check=False,
    )  # fmt: skip
    assert completed.returncode == 1
    assert "fct_broken" in completed.stderr and "previous warehouse is unchanged" in completed.stderr
    assert warehouse.read_bytes() == before
    assert Path(f"{warehouse}.failed-build.log").exists()


def test_dbt_unit_tests_pass(tmp_path: Path, golden_build: Path):
    """The unit tests of the cap models (fixed rows in, hand-computed awards out), which `subsidy build` leaves
    to this suite; they need the warehouse's tables only for their column types."""
    from subsidy_warehouse.dbt_runner import run_dbt

    run = run_dbt(["test", "--select", "test_type:unit"], copy_build(golden_build, tmp_path), tmp_path / "logs")
    statuses = {result["unique_id"].split(".")[-1]: result["status"] for result in run.results}
    assert statuses == {
        "static_limits_apply_each_cap_kind": "pass",
        "running_caps_let_through_only_what_fits": "pass",
    }, run.error
