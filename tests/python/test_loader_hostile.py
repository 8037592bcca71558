"""`subsidy load` against hostile bureau files: each class of bad input, in several variants, is either read
right, skipped with its reason in the manifest, or refused with one sentence and nothing written."""

from __future__ import annotations

import csv
import re
import warnings
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
import yaml
from bureau_file_makers import (
    BiffSheet,
    XmlSheet,
    encrypted_workbook,
    ole_container,
    xls_workbook,
    xml_workbook,
)
from helpers import PROJECT_DIR, message_lines, run_cli

from subsidy_warehouse.errors import UserFacingError
from subsidy_warehouse.loader import HeaderConfig, load_files

USCC = "91330102MA27XK1A0H"
HEADER = ["申报编号", "统一社会信用代码", "政策条款", "申报年度", "审核状态", "核定金额", "主管部门"]
ENGLISH_HEADER = ["application_id", "beneficiary_id", "clause_code", "award_year", "status", "approved_amount"]


def record(application_id: str = "SQ1", amount: object = "100", name_or_bureau: str = "区科技局") -> list[object]:
    return [application_id, USCC, "M02-3", "2025", "已批准", amount, name_or_bureau]


def book(path: Path, sheets: list[tuple[str, list[list[object]]]], hidden: dict[str, str] | None = None) -> Path:
    """An .xlsx made with xlsxwriter; hidden maps a sheet name to 'hidden' or 'veryHidden'."""
    workbook = xlsxwriter.Workbook(str(path))
    for name, rows in sheets:
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None and value != "":
                    sheet.write(r, c, value)
        state = (hidden or {}).get(name)
        if state == "hidden":
            sheet.hide()
        elif state == "veryHidden":
            sheet.very_hidden()
    workbook.close()
    return path


def raw_rows(raw_dir: Path, entity: str) -> list[dict[str, str]]:
    with (raw_dir / f"{entity}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assert_refused(tmp_path: Path, bad: Path, *fragments: str, through_cli: bool = True) -> str:
    """The file is refused in-process and through the CLI: one `error: ` line, exit 2, nothing written."""
    raw = tmp_path / "raw"
    with pytest.raises(UserFacingError) as refused:
        load_files([bad], raw)
    message = str(refused.value)
    for fragment in fragments:
        assert fragment in message
    assert not raw.exists()
    if through_cli:
        completed = run_cli("load", str(bad), "--raw-dir", str(raw))
        assert completed.returncode == 2, completed.stderr
        lines = message_lines(completed.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in completed.stderr
        assert bad.name in lines[0] and completed.stdout == ""
        assert not raw.exists()
    return message


def custom_config(tmp_path: Path, change) -> HeaderConfig:
    data = yaml.safe_load((PROJECT_DIR / "config" / "bureau_headers.yml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "bureau_headers.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return HeaderConfig.read(path)


# --- 1. header cells match exactly; only units are stripped; ambiguity is refused ---------------------


@pytest.mark.parametrize("project_header", ["项目编号", "项目编号（申报）", "项目编号(申报)"])
def test_project_number_is_not_an_application_id_unless_it_says_so(tmp_path: Path, project_header: str):
    header = [project_header, *HEADER[1:]]
    path = book(tmp_path / "申报.xlsx", [("申报", [header, record("XM-9")])])
    if project_header == "项目编号":
        assert_refused(tmp_path, path, "missing required column(s): 申报编号 (application_id)", through_cli=False)
    else:  # the configured alias 项目编号（申报）, full-width or not, is an application id
        load_files([path], tmp_path / "raw")
        assert raw_rows(tmp_path / "raw", "applications")[0]["application_id"] == "XM-9"


def test_project_number_beside_an_application_id_stays_a_project_number(tmp_path: Path):
    path = book(tmp_path / "申报.xlsx", [("申报", [[*HEADER, "项目编号"], [*record("SQ1"), "XM-9"]])])
    load_files([path], tmp_path / "raw")
    (row,) = raw_rows(tmp_path / "raw", "applications")
    assert (row["application_id"], row["project_id"]) == ("SQ1", "XM-9")


@pytest.mark.parametrize(
    ("amount_header", "expected"),
    [
        ("核定金额（万元）", "1000000.00"),
        ("核定金额(万元)", "1000000.00"),
        ("核定金额（单位：万元）", "1000000.00"),
        ("核定金额【万元】", "1000000.00"),
        ("核定金额 （ 元 ）", "100.00"),
        ("approved_amount (万元)", "1000000.00"),
        ("Approved_Amount（金额单位:元）", "100.00"),
    ],
)
def test_unit_brackets_are_stripped_and_read(tmp_path: Path, amount_header: str, expected: str):
    header = HEADER.copy()
    header[5] = amount_header
    load_files([book(tmp_path / "a.xlsx", [("申报", [header, record()])])], tmp_path / "raw")
    assert raw_rows(tmp_path / "raw", "applications")[0]["approved_amount"] == expected


@pytest.mark.parametrize("amount_header", ["核定金额（含税）", "核定金额（2024年）", "核定金额备注"])
def test_other_bracket_content_is_part_of_the_name(tmp_path: Path, amount_header: str):
    header = HEADER.copy()
    header[5] = amount_header
    (outcome,) = load_files([book(tmp_path / "a.xlsx", [("申报", [header, record()])])], tmp_path / "raw")
    assert raw_rows(tmp_path / "raw", "applications")[0]["approved_amount"] == ""
    assert f"header cells not loaded: F1 ({amount_header})" in outcome.message
    assert raw_rows(tmp_path / "raw", "load_manifest")[0]["note"] == f"header cells not loaded: F1 ({amount_header})"


@pytest.mark.parametrize(
    ("extra_header", "named"),
    [
        ("申请编号", "A1 (申报编号) and H1 (申请编号) both name application_id"),
        ("application_id", "A1 (申报编号) and H1 (application_id) both name application_id"),
        ("核定金额（元）", "F1 (核定金额) and H1 (核定金额（元）) both name approved_amount"),
        ("批准金额", "F1 (核定金额) and H1 (批准金额) both name approved_amount"),
    ],
)
def test_two_cells_naming_one_column_refuse_the_sheet(tmp_path: Path, extra_header: str, named: str):
    path = book(tmp_path / "两列.xlsx", [("申报", [[*HEADER, extra_header], [*record(), "SQ2"]])])
    assert_refused(tmp_path, path, "两列.xlsx [申报] has an ambiguous header", named, through_cli=False)


def test_ambiguous_header_is_one_line_through_the_cli(tmp_path: Path):
    path = book(tmp_path / "两列.xlsx", [("申报", [[*HEADER, "申请编号"], [*record(), "SQ2"]])])
    assert_refused(tmp_path, path, "ambiguous header")


def test_one_cell_naming_two_columns_refuses_the_sheet(tmp_path: Path):
    def alias_twice(data: dict) -> None:
        data["columns"]["disbursements"]["paying_bureau"].append("部门")
        data["columns"]["disbursements"]["kind"].append("部门")

    config = custom_config(tmp_path, alias_twice)
    path = tmp_path / "拨付.csv"
    path.write_text("拨付编号,申报编号,拨付日期,拨付金额,部门\nBF1,SQ1,2025-06-01,100,区科技局\n", encoding="utf-8")
    with pytest.raises(UserFacingError, match=r"E1 \(部门\) could be any of kind, paying_bureau"):
        load_files([path], tmp_path / "raw", config)
    assert not (tmp_path / "raw").exists()


# --- 2. total rows are told from the whole row ---------------------------------------------------------


@pytest.mark.parametrize("name", ["汇总智能科技有限公司", "合计宝网络公司", "小计科技", "总计", "合计"])
@pytest.mark.parametrize("name_first", [True, False], ids=["name first", "id first"])
def test_a_row_with_a_real_id_is_a_record_whatever_its_name(tmp_path: Path, name: str, name_first: bool):
    header, values = ["统一社会信用代码", "主体名称", "主体类型", "证件类型"], [USCC, name, "企业", "统一社会信用代码"]
    if name_first:
        header[:2], values[:2] = header[1::-1], values[1::-1]
    path = tmp_path / "主体.csv"
    path.write_text(f"{','.join(header)}\n{','.join(values)}\n", encoding="utf-8")
    (outcome,) = load_files([path], tmp_path / "raw")
    assert [r["beneficiary_name"] for r in raw_rows(tmp_path / "raw", "beneficiaries")] == [name]
    assert "0 total rows skipped" in outcome.message


@pytest.mark.parametrize("name", ["汇总智能科技有限公司", "合计宝网络公司"])
def test_a_company_named_like_a_total_without_an_id_is_kept_for_the_build_to_reject(tmp_path: Path, name: str):
    path = tmp_path / "主体.csv"
    path.write_text(f"主体名称,统一社会信用代码,主体类型,证件类型\n{name},,企业,统一社会信用代码\n", encoding="utf-8")
    load_files([path], tmp_path / "raw")
    assert [(r["beneficiary_name"], r["beneficiary_id"]) for r in raw_rows(tmp_path / "raw", "beneficiaries")] == [
        (name, "")
    ]


@pytest.mark.parametrize(
    "total_row",
    [
        ["562 条", "", "", "", "", "1,234.5"],
        ["共 562 条", "", "", "", "", "1234"],
        ["合计：", "", "", "", "", "1,234.50万元"],
        ["", "", "", "", "合计", "1234", "-"],
        ["总计（562条）", "", "", "", "", "1234"],
        ["合计", "562 条"],
        ["Total", "", "", "", "", "1234"],
        ["本页小计", "", "", "", "", "12", "/"],
        ["", "", "", "", "", "1234", "合计: 2 条"],
    ],
)
def test_total_rows_in_their_shapes_are_skipped_and_counted(tmp_path: Path, total_row: list[object]):
    rows = [HEADER, record("SQ1"), record("SQ2"), total_row]
    (outcome,) = load_files([book(tmp_path / "a.xlsx", [("申报", rows)])], tmp_path / "raw")
    assert [r["application_id"] for r in raw_rows(tmp_path / "raw", "applications")] == ["SQ1", "SQ2"]
    (entry,) = raw_rows(tmp_path / "raw", "load_manifest")
    assert (entry["rows_read"], entry["total_rows_skipped"]) == ("3", "1")
    assert "1 total rows skipped" in outcome.message


@pytest.mark.parametrize(
    "row",
    [
        ["SQ3", USCC, "M02-3", "2025", "已批准", "100", "合计"],  # a real id, a marker elsewhere
        ["合计", USCC, "M02-3", "2025", "已批准", "100", "区科技局"],  # a marker with record values beside it
        ["", "", "", "", "", "100", "区科技局"],  # no marker: an incomplete record, not a total
    ],
)
def test_rows_that_are_not_totals_are_kept_for_the_build_to_judge(tmp_path: Path, row: list[object]):
    (outcome,) = load_files([book(tmp_path / "a.xlsx", [("申报", [HEADER, record(), row])])], tmp_path / "raw")
    assert len(raw_rows(tmp_path / "raw", "applications")) == 2
    assert "0 total rows skipped" in outcome.message


def test_total_row_markers_come_from_the_config(tmp_path: Path):
    config = custom_config(tmp_path, lambda data: data["total_rows"]["markers"].append("总额"))
    path = book(tmp_path / "a.xlsx", [("申报", [HEADER, record(), ["总额", "", "", "", "", "100"]])])
    (outcome,) = load_files([path], tmp_path / "raw", config)
    assert "1 total rows skipped" in outcome.message


# --- 3. formulas saved without a result ----------------------------------------------------------------


def formula_sheet(amount_cell: str) -> XmlSheet:
    sheet = XmlSheet("申报").row(1, HEADER).row(2, record(amount="")).row(3, record("SQ2", 5))
    sheet._put("F2", amount_cell)
    return sheet


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="F2"><f>SUM(F3:F3)</f></c>',  # no <v> at all, as non-Excel tools write it
        '<c r="F2"><f>SUM(F3:F3)</f><v></v></c>',  # an empty number result
        '<c r="F2"><f t="shared" si="0"/></c>',  # part of a shared formula, not calculated either
    ],
)
def test_a_formula_without_its_result_refuses_the_file(tmp_path: Path, cell: str):
    path = xml_workbook(tmp_path / "公式.xlsx", [formula_sheet(cell)])
    assert_refused(tmp_path, path, "公式.xlsx [申报]: cell F2 holds a formula saved without a result", "WPS")


def test_many_uncalculated_cells_are_named_five_and_counted(tmp_path: Path):
    sheet = XmlSheet("申报").row(1, HEADER)
    for row in range(2, 10):
        sheet.row(row, record(f"SQ{row}", amount=""))
        sheet.formula(f"F{row}", f"E{row}*2")
    path = xml_workbook(tmp_path / "公式.xlsx", [sheet])
    assert_refused(tmp_path, path, "cells F2, F3, F4, F5, F6 and 3 more hold formulas", through_cli=False)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('<c r="F2"><f>F3*2</f><v>10</v></c>', "10.00"),  # calculated: its result is loaded
        ('<c r="F2" t="str"><f>IF(F3&gt;0,"","x")</f><v></v></c>', ""),  # a text result that is empty
    ],
)
def test_formulas_with_their_result_load_it(tmp_path: Path, cell: str, expected: str):
    load_files([xml_workbook(tmp_path / "公式.xlsx", [formula_sheet(cell)])], tmp_path / "raw")
    assert raw_rows(tmp_path / "raw", "applications")[0]["approved_amount"] == expected


def test_uncalculated_formulas_that_are_not_loaded_do_not_matter(tmp_path: Path):
    sheet = XmlSheet("申报").row(1, HEADER).row(2, record()).row(3, ["合计"])
    sheet.formula("F3", "SUM(F2:F2)")  # in the total row
    sheet.formula("J2", "F2*2")  # in a column the loader does not map
    (outcome,) = load_files([xml_workbook(tmp_path / "公式.xlsx", [sheet])], tmp_path / "raw")
    assert "1 applications rows" in outcome.message and "1 total rows skipped" in outcome.message


# --- 4. sheets too large to read are refused before they are read -------------------------------------


def far_cell_sheets() -> dict[str, XmlSheet]:
    wide_row = XmlSheet("申报").row(1, HEADER).row(2, record())
    wide_row.rows[3] = {f"c{i}": "<c><v>1</v></c>" for i in range(250)}  # cells without r: calamine counts on
    return {
        "XFD1048576": XmlSheet("申报").row(1, HEADER).row(2, record()).number("XFD1048576", 1),
        "lying dimension": XmlSheet("申报", dimension="A1:G2").row(1, HEADER).row(2, record()).number("ZZ3", 1),
        "201 columns": XmlSheet("申报").row(1, HEADER).row(2, record()).number("GS2", 1),
        "250 cells without r": wide_row,
        "row past Excel's last": XmlSheet("申报").row(1, HEADER).number("A99999999", 1),
        "row number with 30 digits": XmlSheet("申报").row(1, HEADER).number("A" + "9" * 30, 1),
        "column past XFD": XmlSheet("申报").row(1, HEADER).number("ZZZZZZ5", 1),
    }


@pytest.mark.parametrize("case", list(far_cell_sheets()))
def test_a_sheet_reaching_too_far_is_refused_and_the_process_never_aborts(tmp_path: Path, case: str):
    path = xml_workbook(tmp_path / "远.xlsx", [far_cell_sheets()[case]])
    assert path.stat().st_size < 20_000
    assert_refused(tmp_path, path, "远.xlsx [申报] is refused: its cells reach", "delete the stray cells")


def test_the_cell_count_limit_comes_from_the_config(tmp_path: Path):
    config = custom_config(tmp_path, lambda data: data["sheet_limits"].update(max_cells=20))
    path = book(tmp_path / "多.xlsx", [("申报", [HEADER, *[record(f"SQ{i}") for i in range(5)]])])
    with pytest.raises(UserFacingError, match=r"its cells reach at least G3 \(3 rows by 7 columns from column A\)"):
        load_files([path], tmp_path / "raw", config)


def test_a_hidden_sheet_is_not_read_so_its_size_does_not_matter(tmp_path: Path):
    huge_hidden = XmlSheet("旧", state="hidden").number("XFD1048576", 1)
    path = xml_workbook(tmp_path / "a.xlsx", [XmlSheet("申报").row(1, HEADER).row(2, record()), huge_hidden])
    outcomes = load_files([path], tmp_path / "raw")
    assert [o.message for o in outcomes][1] == "skipped (hidden sheet)"


@pytest.mark.parametrize("unique_count", ["100000000000", "18446744073709551615", "60000000"])
def test_shared_strings_claiming_more_than_they_hold_are_refused(tmp_path: Path, unique_count: str):
    path = book(tmp_path / "串.xlsx", [("申报", [HEADER, record()])])  # xlsxwriter writes shared strings
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    shared = parts["xl/sharedStrings.xml"].decode()
    parts["xl/sharedStrings.xml"] = re.sub(r'uniqueCount="\d+"', f'uniqueCount="{unique_count}"', shared).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert_refused(tmp_path, path, "串.xlsx cannot be read as a workbook (its shared strings claim")


@pytest.mark.parametrize(
    ("case", "sheet"),
    [
        ("huge Dimensions record", BiffSheet("申报", [HEADER], dimensions=(0, 0xFFFFFFFF, 0, 0xFF))),
        ("Dimensions first row after last", BiffSheet("申报", [HEADER], dimensions=(5, 2, 0, 3))),
        ("a cell at (65535, 65535)", BiffSheet("申报", [[*HEADER, (65535, 65535, 1.0)]])),
        ("a cell at column 300", BiffSheet("申报", [[*HEADER, (1, 300, 1.0)]])),
    ],
)
def test_an_xls_sheet_too_large_is_refused_before_calamine_opens_it(tmp_path: Path, case: str, sheet: BiffSheet):
    path = tmp_path / "远.xls"
    path.write_bytes(xls_workbook([sheet]))
    assert_refused(tmp_path, path, "远.xls [申报] is refused")


def test_an_xls_hidden_sheet_too_large_is_refused_too_as_calamine_reads_every_sheet(tmp_path: Path):
    path = tmp_path / "远.xls"
    huge = BiffSheet("旧", [["x"]], hidden=1, dimensions=(0, 0xFFFFFFFF, 0, 0xFF))
    path.write_bytes(xls_workbook([BiffSheet("申报", [HEADER, record()]), huge]))
    assert_refused(tmp_path, path, "远.xls [旧] is refused", through_cli=False)


# --- 5. instruction, hidden, empty and headerless sheets ------------------------------------------------


def manifest_by_sheet(tmp_path: Path) -> dict[str, tuple[str, str]]:
    return {m["sheet"]: (m["status"], m["note"]) for m in raw_rows(tmp_path / "raw", "load_manifest")}


def test_instruction_hidden_and_empty_sheets_are_skipped_and_said_so(tmp_path: Path):
    path = book(
        tmp_path / "申报.xlsx",
        [
            ("填表说明", [["填表说明"], ["1. 金额单位为万元"], ["2. 日期写作 2025年3月1日"]]),
            ("说明（示例）", [HEADER, record("EXAMPLE-1")]),  # an example table on an instructions sheet
            ("申报", [HEADER, record("SQ1")]),
            ("旧版", [HEADER, record("OLD-1")]),
            ("旧版2", [HEADER, record("OLD-2")]),
            ("Sheet3", []),
            ("备注", [["本表由区科技局填报"]]),
        ],
        hidden={"旧版": "hidden", "旧版2": "veryHidden"},
    )
    outcomes = load_files([path], tmp_path / "raw")
    assert [r["application_id"] for r in raw_rows(tmp_path / "raw", "applications")] == ["SQ1"]
    assert manifest_by_sheet(tmp_path) == {
        "填表说明": ("skipped", "instructions sheet, named like 填表说明"),
        "说明（示例）": ("skipped", "instructions sheet, named like 填表说明"),
        "申报": ("active", ""),
        "旧版": ("skipped", "hidden sheet"),
        "旧版2": ("skipped", "very hidden sheet"),
        "Sheet3": ("skipped", "empty sheet"),
        "备注": (
            "skipped",
            "no header row naming beneficiaries, applications or disbursements, while another sheet has one",
        ),
    }
    printed = {o.file: o.message for o in outcomes}
    assert printed["申报.xlsx [旧版]"] == "skipped (hidden sheet)"
    assert printed["申报.xlsx [申报]"].startswith("1 applications rows")


def test_skipped_sheets_are_printed_by_the_cli(tmp_path: Path):
    path = book(tmp_path / "申报.xlsx", [("填表说明", [["请按说明填写"]]), ("申报", [HEADER, record()])])
    completed = run_cli("load", str(path), "--raw-dir", str(tmp_path / "raw"), check=True)
    assert "申报.xlsx [填表说明]: skipped (instructions sheet, named like 填表说明)" in completed.stdout


@pytest.mark.parametrize(
    ("sheets", "hidden", "expected"),
    [
        ([("说明", [["请填写"]]), ("Sheet2", [["本表无数据"]])], {}, "no header row naming beneficiaries"),
        ([("填表说明", [["请填写"]]), ("旧", [HEADER, record()])], {"旧": "hidden"}, "has no sheet to load"),
        ([("Sheet1", []), ("Sheet2", [])], {}, "has no sheet to load ([Sheet1] empty sheet; [Sheet2] empty sheet)"),
    ],
)
def test_a_file_with_nothing_to_load_is_refused_whole(tmp_path: Path, sheets, hidden, expected: str):
    assert_refused(tmp_path, book(tmp_path / "无.xlsx", sheets, hidden), expected, through_cli=False)


def test_a_sheet_with_a_broken_header_still_refuses_the_file(tmp_path: Path):
    path = book(tmp_path / "坏.xlsx", [("填表说明", [["请填写"]]), ("申报", [HEADER[:3], ["SQ1", USCC, "M02-3"]])])
    assert_refused(tmp_path, path, "坏.xlsx [申报] looks like applications but is missing", through_cli=False)


# --- 6. .xls workbooks, encrypted workbooks and other OLE containers ------------------------------------


def test_an_xls_workbook_is_read_like_an_xlsx(tmp_path: Path):
    path = tmp_path / "科技局申报.xls"
    data_sheet = BiffSheet(
        "申报",
        [
            ["上城区科技局申报汇总表（金额单位：万元）"],
            HEADER,
            record("SQ1", 12.5),
            record("SQ2", "3万元"),
            ["合计", "", "", "", "", 15.5],
        ],
    )
    old_copy = BiffSheet("旧", [HEADER, record("OLD-1", 1)], hidden=1)
    path.write_bytes(xls_workbook([BiffSheet("填表说明", [["请按说明填写"]]), data_sheet, old_copy]))
    outcomes = load_files([path], tmp_path / "raw")
    rows = raw_rows(tmp_path / "raw", "applications")
    assert [(r["application_id"], r["approved_amount"], r["status"]) for r in rows] == [
        ("SQ1", "125000.00", "approved"),
        ("SQ2", "30000.00", "approved"),
    ]
    assert [(r["origin_sheet"], r["origin_row"]) for r in rows] == [("申报", "3"), ("申报", "4")]
    assert [o.message.split(" as ")[0] for o in outcomes] == [
        "skipped (instructions sheet, named like 填表说明)",
        "2 applications rows (0 with unreadable values, 1 total rows skipped)",
        "skipped (hidden sheet)",
    ]
    assert (tmp_path / "raw" / "loaded").is_dir()


def test_an_xls_through_the_cli(tmp_path: Path):
    path = tmp_path / "拨付.xls"
    header = ["拨付编号", "申报编号", "拨付日期", "拨付金额（元）"]
    path.write_bytes(xls_workbook([BiffSheet("拨付", [header, ["BF1", "SQ1", "2025/6/1", 1200.5]])]))
    completed = run_cli("load", str(path), "--raw-dir", str(tmp_path / "raw"), check=True)
    assert "拨付.xls [拨付]: 1 disbursements rows" in completed.stdout
    assert raw_rows(tmp_path / "raw", "disbursements")[0]["amount"] == "1200.50"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (encrypted_workbook(), "锁.xls is encrypted (password-protected)"),
        (xls_workbook([BiffSheet("申报", [HEADER])], encrypted=True), "锁.xls is encrypted (password-protected)"),
        (ole_container({"WordDocument": b"\0" * 5000}), "holds neither an .xls workbook nor an encrypted"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "锁.xls cannot be read as a workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "锁.xls cannot be read as a workbook"),
    ],
)
def test_ole_containers_that_are_not_readable_workbooks_are_told_apart(tmp_path: Path, content: bytes, expected: str):
    path = tmp_path / "锁.xls"
    path.write_bytes(content)
    assert_refused(tmp_path, path, expected, through_cli=content == encrypted_workbook())


def test_an_ole_container_whose_sector_chain_loops_is_refused_not_followed(tmp_path: Path):
    container = bytearray(xls_workbook([BiffSheet("申报", [HEADER, record()])]))
    directory_start = int.from_bytes(container[0x30:0x34], "little")
    fat_offset = 512  # the FAT is the first sector; point the directory's sector at itself
    container[fat_offset + 4 * directory_start : fat_offset + 4 * directory_start + 4] = directory_start.to_bytes(
        4, "little"
    )
    path = tmp_path / "环.xls"
    path.write_bytes(bytes(container))
    assert_refused(tmp_path, path, "runs in a circle", through_cli=False)


# --- 7. units declared above the header -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "header_amount", "cell", "expected"),
    [
        ("单位：万元", "approved_amount", "12.5", "125000.00"),
        ("（金额单位：万元）", "approved_amount", "12.5", "125000.00"),
        ("上城区申报汇总表（单位:万元）", "approved_amount", "1,234", "12340000.00"),
        ("万元", "approved_amount", "2", "20000.00"),
        ("单位：万元", "approved_amount (元)", "12.5", "12.50"),  # the header's unit wins over the title's
        ("单位：万元", "approved_amount", "500元", "500.00"),  # the cell's unit wins over both
        ("单位：元", "approved_amount", "12.5", "12.50"),
        ("填报单位：元宇宙科技有限公司", "approved_amount", "12.5", "12.50"),  # not a unit
        ("上城区申报汇总表", "approved_amount", "12.5", "12.50"),
    ],
)
def test_a_unit_declared_above_the_header(tmp_path: Path, title: str, header_amount: str, cell: str, expected: str):
    header = [*ENGLISH_HEADER[:5], header_amount, "base_amount", "tier"]
    workbook = xlsxwriter.Workbook(str(tmp_path / "en.xlsx"))
    sheet = workbook.add_worksheet("Sheet1")
    sheet.merge_range(0, 0, 0, len(header) - 1, title)
    sheet.write_row(1, 0, header)
    sheet.write_row(2, 0, ["SQ1", USCC, "M02-3", "2025", "approved", cell, "3", "2"])
    workbook.close()
    load_files([tmp_path / "en.xlsx"], tmp_path / "raw")
    (row,) = raw_rows(tmp_path / "raw", "applications")
    assert row["approved_amount"] == expected
    assert row["tier"] == "2"  # a unit applies to amounts only
    assert row["base_amount"] == ("30000.00" if "万元" in title and "元宇宙" not in title else "3.00")


def test_a_unit_row_in_a_csv_applies_too(tmp_path: Path):
    path = tmp_path / "拨付.csv"
    path.write_text(",,,单位：万元\n拨付编号,申报编号,拨付日期,拨付金额\nBF1,SQ1,2025/6/1,1.5\n", encoding="gbk")
    load_files([path], tmp_path / "raw")
    assert raw_rows(tmp_path / "raw", "disbursements")[0]["amount"] == "15000.00"


def test_two_different_units_above_the_header_refuse_the_sheet(tmp_path: Path):
    path = tmp_path / "拨付.csv"
    path.write_text(
        "单位：万元,,,单位：元\n拨付编号,申报编号,拨付日期,拨付金额\nBF1,SQ1,2025/6/1,1.5\n", encoding="utf-8"
    )
    assert_refused(tmp_path, path, "declares different units above its header (万元 in A1, 元 in D1)")


# --- rows are numbered as the sheet numbers them ------------------------------------------------------------


def test_origin_row_counts_leading_empty_rows_and_columns(tmp_path: Path):
    sheet = XmlSheet("申报")
    for offset, values in ((3, HEADER), (4, record())):
        for index, value in enumerate(values):
            sheet.text(f"{chr(ord('C') + index)}{offset}", str(value))
    sheet.formula("H4", "1+1")  # an uncalculated formula: named by its real cell, H4
    path = xml_workbook(tmp_path / "偏.xlsx", [sheet])
    assert_refused(tmp_path, path, "cell H4 holds a formula", through_cli=False)
    del sheet.rows[4]["H4"]
    load_files([xml_workbook(tmp_path / "偏.xlsx", [sheet])], tmp_path / "raw")
    assert raw_rows(tmp_path / "raw", "applications")[0]["origin_row"] == "4"


# --- packages that would let the check and the reader see different things ---------------------------------


def test_a_part_stored_twice_is_refused(tmp_path: Path):
    path = xml_workbook(tmp_path / "双.xlsx", [XmlSheet("申报").row(1, HEADER).row(2, record())])
    with zipfile.ZipFile(path, "a") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name this test wants
        archive.writestr("XL/worksheets/sheet1.xml", XmlSheet("申报").number("XFD1048576", 1).xml())
    assert_refused(tmp_path, path, "双.xlsx cannot be read as a workbook (it holds the part", through_cli=False)


def test_a_sheet_declaring_entities_is_refused(tmp_path: Path):
    path = xml_workbook(tmp_path / "实体.xlsx", [XmlSheet("申报").row(1, HEADER).row(2, record())])
    laughs = '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode().split("?>", 1)[1]
    parts["xl/worksheets/sheet1.xml"] = (laughs + sheet).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert_refused(tmp_path, path, "declares a DOCTYPE", through_cli=False)
