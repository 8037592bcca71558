"""`subsidy audit` validates its Great Expectations frames in chunks and streams its findings to file, so that
its memory does not grow with the warehouse; the report must be the one a single chunk (the whole frame) gives.

A copy of the generated sample gets failures planted where the expectations see them: a bureau outside the
policy seeds on 1,500 awards (more failing rows than a check names), award years removed and disbursement years
out of range, scattered over every chunk, duplicated award keys, a resident ID in a disbursement, rollup and cap
sums that no longer add up. Audited with chunks of 997 rows (several per frame, borders inside every planted
run) and with one chunk, every file of the two runs is the same, byte for byte.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from helpers import run_cli

from subsidy_warehouse.audit import expectations
from subsidy_warehouse.audit.expectations import (
    frame_batches,
    frame_chunks,
    gx,
    gxe,
    read_frame,
    unique_in_sql,
    without_batch_fingerprints,
)

CHUNK = 997
PLANTED = [
    "update marts.fct_awards set approving_bureau = '不存在的局' where application_id in "
    "(select application_id from marts.fct_awards order by application_id limit 1500 offset 100)",
    "update marts.fct_awards set award_year = null where hash(application_id) % 50 = 0",
    "insert into marts.fct_awards select * from marts.fct_awards where hash(application_id) % 400 = 1",
    "update marts.fct_disbursements set paid_year = 1999 where hash(disbursement_id) % 300 = 0",
    "update marts.fct_disbursements set beneficiary_id = '330102199003071234' "
    "where disbursement_id = (select max(disbursement_id) from marts.fct_disbursements)",
    "update marts.agg_disbursements_by_bureau_year set net_paid_amount = net_paid_amount + 1 "
    "where paid_year = (select min(paid_year) from marts.agg_disbursements_by_bureau_year)",
    "update marts.agg_cap_utilization set approved_amount = approved_amount + 1 where rowid = 3",
]


@pytest.fixture(scope="module")
def planted(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("planted") / sample_warehouse.name
    shutil.copyfile(sample_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        for sql in PLANTED:
            con.execute(sql)
    return copy


def audit(warehouse: Path, out: Path, chunk_rows: int) -> tuple[Path, dict]:
    completed = run_cli(
        "audit", "--warehouse", str(warehouse), "--out", str(out), env={"SUBSIDY_AUDIT_CHUNK_ROWS": str(chunk_rows)}
    )
    assert completed.returncode == 1, completed.stderr
    run_dir = Path(completed.stdout.split("Report: ")[1].splitlines()[0]).parent
    return run_dir, json.loads((run_dir / "report.json").read_text(encoding="utf-8"))


def without_run(run_dir: Path) -> dict[str, bytes]:
    """Every file of a run, less what differs between two runs of the same audit (its folder, time, duration)
    and the xlsx parts that only carry the time the workbook was written."""
    report = (run_dir / "report.json").read_text(encoding="utf-8")
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    with zipfile.ZipFile(run_dir / "findings.xlsx") as workbook:
        sheets = {name: workbook.read(name) for name in workbook.namelist() if name.startswith("xl/")}
    return {
        "report.json": re.sub(r'"run":\{[^}]*\}', "", report, count=1).encode(),
        "report.html": re.sub(r"<title>.*?</title>|审计时间.*?</p>", "", html).encode(),
        "findings.csv": (run_dir / "findings.csv").read_bytes(),
        **sheets,
    }


@pytest.fixture(scope="module")
def two_audits(planted: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("audits")
    return audit(planted, out / "chunked", CHUNK), audit(planted, out / "whole", 10_000_000)


def test_chunked_audit_writes_the_report_of_one_chunk(planted: Path, two_audits) -> None:
    (chunked_dir, chunked), (whole_dir, whole) = two_audits
    with duckdb.connect(str(planted), read_only=True) as con:
        (awards,) = con.execute("select count(*) from marts.fct_awards").fetchone()
        (disbursements,) = con.execute("select count(*) from marts.fct_disbursements").fetchone()
    assert awards > 3 * CHUNK and disbursements > 3 * CHUNK  # several chunks per frame, one when whole
    assert without_run(chunked_dir) == without_run(whole_dir)
    failed = {
        check["name"]: check["failing_rows"]
        for rule in chunked["rules"]
        for check in rule["checks"]
        if check["engine"] == "great_expectations" and check["status"] == "fail"
    }
    assert failed.keys() == {
        "expect_column_values_to_be_in_set(marts.fct_awards.approving_bureau)",
        "expect_column_values_to_not_be_null(marts.fct_awards.award_year)",
        "expect_column_values_to_be_unique(marts.fct_awards.application_id)",
        "expect_column_values_to_be_between(marts.fct_disbursements.paid_year)",
        "expect_column_values_to_not_match_regex(marts.fct_disbursements.beneficiary_id)",
        "expect_column_sum_to_be_between(marts.agg_disbursements_by_bureau_year.net_paid_cents)",
        "expect_column_sum_to_be_between(marts.agg_cap_utilization.approved_cents)",
    }
    with (chunked_dir / "findings.csv").open(encoding="utf-8-sig") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == len(chunked["findings"]) == chunked["verdict"]["findings"]


def test_no_failing_row_is_lost_at_a_chunk_border(planted: Path, two_audits) -> None:
    (_, report), _ = two_audits

    def named(check: str) -> list[str]:
        return [f["record_id"].split(":", 1)[1] for f in report["findings"] if f["check"] == check]

    def checked(check: str) -> int:
        return next(c["failing_rows"] for r in report["rules"] for c in r["checks"] if c["name"] == check)

    bureaus = expectations.seed_values("policy_bureaus", "bureau_name_zh")
    with duckdb.connect(str(planted), read_only=True) as con:
        no_year = con.execute("select application_id from marts.fct_awards where award_year is null").fetchall()
        bad_year = con.execute("select disbursement_id from marts.fct_disbursements where paid_year < 2000").fetchall()
        # the 1,000 named of the 1,5xx unknown bureaus: the first in the frame's (the table's) order
        unknown = con.execute(
            "select application_id from marts.fct_awards where approving_bureau not in (select unnest(?)) "
            "order by rowid",
            [bureaus],
        ).fetchall()
        duplicated = con.execute(
            "select application_id from marts.fct_awards group by all having count(*) > 1"
        ).fetchall()
    null_check = "expect_column_values_to_not_be_null(marts.fct_awards.award_year)"
    assert sorted(named(null_check)) == sorted(r[0] for r in no_year) and checked(null_check) == len(no_year) > 20
    year_check = "expect_column_values_to_be_between(marts.fct_disbursements.paid_year)"
    assert sorted(named(year_check)) == sorted(r[0] for r in bad_year) and checked(year_check) == len(bad_year) > 5
    bureau_check = "expect_column_values_to_be_in_set(marts.fct_awards.approving_bureau)"
    assert checked(bureau_check) == len(unknown) > expectations.MAX_FAILING_RECORDS
    assert sorted(named(bureau_check)) == sorted(r[0] for r in unknown[: expectations.MAX_FAILING_RECORDS])
    unique_check = "expect_column_values_to_be_unique(marts.fct_awards.application_id)"
    assert sorted(set(named(unique_check))) == sorted(r[0] for r in duplicated) and checked(unique_check) == 2 * len(
        duplicated
    )


def gx_on_whole_frame(frame: pd.DataFrame, expectation: gxe.Expectation, key: str):
    batch = frame_batches(gx.get_context(mode="ephemeral").data_sources.add_pandas("whole"), "frame")(frame)
    with without_batch_fingerprints():
        return batch.validate(
            expectation, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [key]}
        )


def test_uniqueness_in_sql_is_what_gx_finds_on_the_whole_frame(planted: Path, monkeypatch) -> None:
    monkeypatch.setattr(expectations, "MAX_FAILING_RECORDS", 5)  # fewer named than failing: the order counts
    with duckdb.connect(str(planted), read_only=True) as con:
        frame = read_frame(con, "select application_id from marts.fct_awards")
        in_sql = unique_in_sql(con, "marts.fct_awards", "application_id", "application_id")
    whole = gx_on_whole_frame(frame, gxe.ExpectColumnValuesToBeUnique(column="application_id"), "application_id")
    assert whole.success is in_sql.success is False
    assert in_sql.result["unexpected_count"] == whole.result["unexpected_count"] > 5
    assert in_sql.result["unexpected_index_list"] == whole.result["unexpected_index_list"][:5]


def test_chunks_are_typed_as_the_whole_frame() -> None:
    sql = "select * from (values (1::bigint, 10::bigint), (2, null), (3, 30), (4, 40), (5, 50)) as t(id, amount)"
    with duckdb.connect() as con:
        whole = read_frame(con, sql)
        chunks = list(frame_chunks(con, sql, 2))
        only = list(frame_chunks(con, sql, 5))
        empty = list(frame_chunks(con, f"{sql} where false", 2))
    assert [len(chunk) for chunk in chunks] == [2, 2, 1]
    # the null is in the first chunk: the others hold none, but their amount is a nullable integer too
    assert [str(chunk["amount"].dtype) for chunk in chunks] == ["Int64"] * 3
    assert [str(chunk["id"].dtype) for chunk in chunks] == ["int64"] * 3
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)
    pd.testing.assert_frame_equal(only[0], whole)
    assert len(empty) == 1 and list(empty[0].columns) == ["id", "amount"] and empty[0].empty


def test_a_wrong_chunk_size_is_one_sentence(planted: Path, tmp_path: Path) -> None:
    completed = run_cli(
        "audit", "--warehouse", str(planted), "--out", str(tmp_path), env={"SUBSIDY_AUDIT_CHUNK_ROWS": "lots"}
    )
    assert completed.returncode == 2 and "SUBSIDY_AUDIT_CHUNK_ROWS" in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1 and not list(tmp_path.iterdir())
