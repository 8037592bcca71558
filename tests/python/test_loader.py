"""`subsidy load`: bureau files in their real shapes → the raw contract, idempotent and traceable."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
from bureau_file_makers import encrypted_workbook
from helpers import message_lines, run_cli

from subsidy_warehouse.errors import UserFacingError
from subsidy_warehouse.loader import load_files
from subsidy_warehouse.messy_files import APPLICATION_HEADERS

APP_HEADER = [
    "申报编号",
    "统一社会信用代码",
    "政策条款",
    "申报年度",
    "审核状态",
    "核定金额（万元）",
    "批准日期",
    "主管部门",
    "认定档次",
]
USCC = "91330102MA27XK1A0H"


def raw_rows(raw_dir: Path, entity: str) -> list[dict[str, str]]:
    with (raw_dir / f"{entity}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def workbook(path: Path, rows: list[list[object]], title: str | None = "上城区科技局申报汇总表") -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("申报")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    start = 0
    if title:
        sheet.merge_range(0, 0, 0, len(APP_HEADER) - 1, title)
        start = 1
    for r, row in enumerate(rows, start=start):
        for c, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, date_format)
            else:
                sheet.write(r, c, value)
    book.close()
    return path


# (quirk, the cell as the bureau wrote it, contract column, value expected in the raw file)
QUIRKS = [
    ("amount in 万元 with thousands separator", "1,234.5678", "approved_amount", "12345678.00"),
    ("amount in 万元 with cents", "12.345678", "approved_amount", "123456.78"),
    ("full-width digits in an amount", "１２", "approved_amount", "120000.00"),
    ("unit written in the cell wins over the header", "500元", "approved_amount", "500.00"),
    ("amount that is not a number stays as written", "十万", "approved_amount", "十万"),
    ("date 2025年3月1日", "2025年3月1日", "approved_on", "2025-03-01"),
    ("date 2025/3/1", "2025/3/1", "approved_on", "2025-03-01"),
    ("Excel serial number", 45717, "approved_on", "2025-03-01"),
    ("real Excel date cell", date(2025, 3, 1), "approved_on", "2025-03-01"),
    ("impossible date stays as written", "2025年2月30日", "approved_on", "2025年2月30日"),
    ("year with 年", "2025年", "award_year", "2025"),
    ("full-width year", "２０２６", "award_year", "2026"),
    ("Chinese status", "已批准", "status", "approved"),
    ("status with stray spaces", " 未通过 ", "status", "rejected"),
    ("clause without leading zero", "m2-3", "clause_code", "M02-3"),
    ("tier in Chinese", "二档", "tier", "2"),
    ("bureau with stray spaces", " 区科技局 ", "approving_bureau", "区科技局"),
    ("full-width application id", "ＳＱ２０２５００１", "application_id", "SQ2025001"),
]


@pytest.mark.parametrize(("quirk", "written", "column", "expected"), QUIRKS, ids=[q[0] for q in QUIRKS])
def test_quirk_in_a_workbook(tmp_path: Path, quirk: str, written: object, column: str, expected: str):
    row: list[object] = ["SQ1", USCC, "M02-3", "2025", "已批准", "100", "2025-03-01", "区科技局", ""]
    row[APP_HEADER.index(next(h for h in APP_HEADER if _column_of(h) == column))] = written
    path = workbook(tmp_path / "申报.xlsx", [APP_HEADER, row, ["合计", "", "", "", "", "100"]])
    load_files([path], tmp_path / "raw")
    (record,) = raw_rows(tmp_path / "raw", "applications")
    assert record[column] == expected
    assert record["origin_file"] == "申报.xlsx" and record["origin_sheet"] == "申报" and record["origin_row"] == "3"


def _column_of(header: str) -> str:
    return {zh: column for column, zh in APPLICATION_HEADERS.items()}[header]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_encodings_title_row_and_total_row(tmp_path: Path, encoding: str):
    text = (
        "区科技局政策资金拨付明细\r\n"
        "拨付编号,申报编号,拨付日期,拨付金额（元）,拨付类型,拨付部门,凭证号\r\n"
        'BF1,SQ1,2025/6/1,"1,200,000.50",拨付,区科技局,PZ1\r\n'
        "BF2,SQ1,2025年7月1日,300.00,追回,区科技局,PZ2\r\n"
        ",,,,,,\r\n"
        '合计,,,"1,199,700.50",,,\r\n'
    )
    path = tmp_path / "拨付明细.csv"
    path.write_bytes(text.encode(encoding))
    (outcome,) = load_files([path], tmp_path / "raw")
    assert "2 disbursements rows" in outcome.message and "1 total rows skipped" in outcome.message
    rows = raw_rows(tmp_path / "raw", "disbursements")
    assert [(r["amount"], r["kind"], r["paid_on"], r["paying_bureau"]) for r in rows] == [
        ("1200000.50", "payment", "2025-06-01", "区科技局"),
        ("300.00", "clawback", "2025-07-01", "区科技局"),
    ]


def test_same_file_twice_adds_nothing(tmp_path: Path):
    path = workbook(
        tmp_path / "a.xlsx", [APP_HEADER, ["SQ1", USCC, "M02-3", "2025", "已批准", "1", "2025-03-01", "区科技局", ""]]
    )
    load_files([path], tmp_path / "raw")
    before = (tmp_path / "raw" / "applications.csv").read_bytes()
    (outcome,) = load_files([path], tmp_path / "raw")
    assert "already loaded" in outcome.message
    assert (tmp_path / "raw" / "applications.csv").read_bytes() == before
    assert len(raw_rows(tmp_path / "raw", "load_manifest")) == 1


def test_corrected_reissue_supersedes_and_keeps_both_versions(tmp_path: Path):
    first = [APP_HEADER, ["SQ1", USCC, "M02-3", "2025", "已批准", "1", "2025-03-01", "区科技局", ""],
             ["SQ2", USCC, "M02-3", "2025", "已批准", "2", "2025-03-01", "区科技局", ""]]  # fmt: skip
    load_files([workbook(tmp_path / "科技局.xlsx", first)], tmp_path / "raw")
    other = workbook(
        tmp_path / "other.xlsx",
        [APP_HEADER, ["SQ9", USCC, "M02-3", "2025", "已批准", "9", "2025-03-01", "区科技局", ""]],
    )
    load_files([other], tmp_path / "raw")
    corrected = [APP_HEADER, ["SQ1", USCC, "M02-3", "2025", "已批准", "1.5", "2025-03-01", "区科技局", ""]]
    (outcome,) = load_files([workbook(tmp_path / "科技局.xlsx", corrected)], tmp_path / "raw")
    assert "supersedes" in outcome.message
    rows = raw_rows(tmp_path / "raw", "applications")
    assert sorted((r["application_id"], r["approved_amount"]) for r in rows) == [
        ("SQ1", "15000.00"),
        ("SQ9", "90000.00"),
    ]
    manifest = raw_rows(tmp_path / "raw", "load_manifest")
    assert [(m["file_name"], m["status"]) for m in manifest] == [
        ("科技局.xlsx", "superseded"), ("other.xlsx", "active"), ("科技局.xlsx", "active"),
    ]  # fmt: skip
    assert manifest[0]["superseded_by"] == manifest[2]["load_id"]
    assert len(list((tmp_path / "raw" / "loaded").iterdir())) == 3  # every version's bytes are kept


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "empty.csv is empty"),
        ("notes.csv", "会议纪要\n今天讨论了预算\n".encode(), "no header row naming beneficiaries"),
        (
            "partial.csv",
            "申报编号,统一社会信用代码,申报年度,审核状态\nSQ1,X,2025,已批准\n".encode(),
            "missing required column(s): 政策条款 (clause_code)",
        ),
        ("locked.xlsx", encrypted_workbook(), "encrypted (password-protected)"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "cannot be read as a workbook"),
    ],
)
def test_unreadable_files_are_refused_and_nothing_is_written(tmp_path: Path, name: str, content: bytes, expected: str):
    good = workbook(
        tmp_path / "good.xlsx",
        [APP_HEADER, ["SQ1", USCC, "M02-3", "2025", "已批准", "1", "2025-03-01", "区科技局", ""]],
    )
    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(UserFacingError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_files([good, bad], tmp_path / "raw")
    assert not (tmp_path / "raw" / "applications.csv").exists()
    completed = run_cli("load", str(good), str(bad), "--raw-dir", str(tmp_path / "raw"))
    assert completed.returncode == 2
    assert name in completed.stderr and "Nothing was loaded" in completed.stderr
    assert len(message_lines(completed.stderr)) == 1 and "Traceback" not in completed.stderr


def test_a_folder_or_a_missing_file_is_named_for_what_it_is(tmp_path: Path):
    folder = tmp_path / "bureau-files"
    folder.mkdir()
    with pytest.raises(UserFacingError, match="bureau-files is a folder; give the bureau's file"):
        load_files([folder], tmp_path / "raw")
    with pytest.raises(UserFacingError, match="missing.xlsx does not exist"):
        load_files([tmp_path / "missing.xlsx"], tmp_path / "raw")
    assert not (tmp_path / "raw").exists()


def test_round_trip_bureau_files_give_the_same_warehouse(tmp_path: Path, sample_con):
    bureau_files = tmp_path / "bureau"
    run_cli("generate", "--out", str(bureau_files), "--seed", "7", "--messy", check=True)
    assert any(p.suffix == ".xlsx" for p in bureau_files.iterdir()) and any(
        p.suffix == ".csv" for p in bureau_files.iterdir()
    )
    run_cli("load", *[str(p) for p in sorted(bureau_files.iterdir())], "--raw-dir", str(tmp_path / "raw"), check=True)
    warehouse = tmp_path / "warehouse.duckdb"
    run_cli("build", "--raw-dir", str(tmp_path / "raw"), "--warehouse", str(warehouse), check=True)
    totals = (
        "select (select count(*) from marts.fct_awards), (select sum(approved_amount) from marts.fct_awards), "
        "(select sum(within_cap_amount) from marts.fct_awards), (select sum(signed_amount) from marts.fct_disbursements), "
        "(select count(*) from marts.dim_beneficiaries)"
    )
    findings = "select rule_code, count(*), sum(amount_at_issue) from audit.exceptions where rule_code <> 'rejected_row' group by 1 order by 1"
    with duckdb.connect(str(warehouse), read_only=True) as loaded:
        assert loaded.execute(totals).fetchone() == sample_con.execute(totals).fetchone()
        assert loaded.execute(findings).fetchall() == sample_con.execute(findings).fetchall()
        # the clean file has one extra ragged line that no bureau file carries
        rejected = "select count(*) from audit.rejected_rows where record_type <> 'unreadable'"
        assert loaded.execute(rejected).fetchone() == sample_con.execute(rejected).fetchone()
        traced = loaded.execute(
            "select count(*) from raw.applications where origin_file like '%.xlsx' and origin_row is not null"
        ).fetchone()[0]
        assert traced == loaded.execute("select count(*) from raw.applications").fetchone()[0]
