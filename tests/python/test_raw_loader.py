"""Reading the raw contract: layouts that must work and files that must be refused with one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_cli

from subsidy_warehouse.contract import APPLICATIONS, BENEFICIARIES, DISBURSEMENTS
from subsidy_warehouse.errors import UserFacingError
from subsidy_warehouse.raw_loader import check_raw_dir, parse_raw_file


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_bom_column_order_extra_columns_and_empty_cells(tmp_path: Path):
    path = write(
        tmp_path / "disbursements.csv",
        "\ufeffremark,voucher_no,paying_bureau,kind,amount,paid_on,application_id,disbursement_id\n"
        "备注,PZ1,区科技局,payment,100.00,2025-01-02,SQ1,BF1\n"
        "\n"
        ",,区科技局,clawback,5,2025-02-02,SQ1,BF2\n",
    )
    parsed = parse_raw_file(path, DISBURSEMENTS)
    assert parsed.row_numbers == [1, 2]  # the blank line is not a record
    assert parsed.columns["disbursement_id"] == ["BF1", "BF2"]
    assert parsed.columns["voucher_no"] == ["PZ1", None]
    assert parsed.columns["paying_bureau"] == ["区科技局", "区科技局"]
    assert "remark" not in parsed.columns


def test_ragged_rows_are_kept_as_unreadable_with_reason(tmp_path: Path):
    header = ",".join(BENEFICIARIES.columns)
    path = write(tmp_path / "beneficiaries.csv", f"{header}\nB1,甲公司,enterprise,uscc,2020-01-01,上城区\nB2,乙\n")
    parsed = parse_raw_file(path, BENEFICIARIES)
    assert parsed.row_numbers == [1]
    assert parsed.data_rows == 2
    ((row_number, reason, _),) = parsed.unreadable
    assert row_number == 2
    assert "字段数为 2" in reason


@pytest.mark.parametrize(
    ("content", "encoding", "expected"),
    [
        ("", "utf-8", "is empty"),
        ("application_id,beneficiary_id\nA,B\n", "utf-8", "missing required column(s): clause_code"),
        (",".join(APPLICATIONS.columns) + ",status\n", "utf-8", "status more than once"),
        (",".join(APPLICATIONS.columns) + "\n申报,主体\n", "gbk", "is not UTF-8 text"),
    ],
)
def test_unusable_files_are_refused_with_one_sentence(tmp_path: Path, content: str, encoding: str, expected: str):
    path = tmp_path / "applications.csv"
    path.write_bytes(content.encode(encoding))
    with pytest.raises(UserFacingError) as caught:
        parse_raw_file(path, APPLICATIONS)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_raw_dir_checks(tmp_path: Path):
    with pytest.raises(UserFacingError, match="does not exist"):
        check_raw_dir(tmp_path / "nowhere")
    write(tmp_path / "beneficiaries.csv", "x\n")
    with pytest.raises(UserFacingError, match="missing applications.csv, disbursements.csv"):
        check_raw_dir(tmp_path)


def test_cli_build_errors_are_one_sentence_without_traceback(tmp_path: Path):
    missing = run_cli("build", "--raw-dir", str(tmp_path / "nowhere"), "--warehouse", str(tmp_path / "w.duckdb"))
    assert missing.returncode == 2
    assert missing.stderr.strip().startswith("error: Raw directory")
    assert "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "w.duckdb").exists()
