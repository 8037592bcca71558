"""exports: the one rule for spreadsheet cells (OWASP CSV injection) and for masking personal IDs."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import xlsx_cells

from subsidy_warehouse.exports import (
    ExportWorkbook,
    copy_csv,
    csv_text_sql,
    masked_sql,
    neutralise_text_columns,
    register_masking,
    safe_text_cell,
    without_personal_ids,
    write_csv,
)
from subsidy_warehouse.identifiers import find_personal_ids, mask_resident_id, resident_id_check_char

ID_18 = "33010219900307123" + resident_id_check_char("33010219900307123")
FORMULAS = ["=1+1", '=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "＝1", "＋1", "－1", "＠x"]
PLAIN = ["", "plain", "1-2", "a=b", " =1", "区科技局", "'already quoted", "\nx"]


@pytest.mark.parametrize("text", FORMULAS)
def test_text_that_could_start_a_formula_gets_a_quote(text: str) -> None:
    assert safe_text_cell(text) == "'" + text


@pytest.mark.parametrize("text", PLAIN)
def test_other_text_is_left_alone(text: str) -> None:
    assert safe_text_cell(text) == text


def test_csv_neutralises_and_quotes_text_and_keeps_numbers(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_csv(path, ["label", "amount", "year"], [["-2", Decimal("-1200.00"), 2025], ["=1+1", Decimal("5.50"), None]])
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())  # BOM: Excel reads the file as UTF-8
    assert raw.decode("utf-8-sig").splitlines() == [
        '"label","amount","year"',
        '"\'-2",-1200.00,2025',
        '"\'=1+1",5.50,""',
    ]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle))[1] == ["'-2", "-1200.00", "2025"]


# texts DuckDB and Python must treat alike: formulas, separators, quotes, IDs in a text and alone, and runs of
# digits that are not IDs (too short, a wrong check digit, an amount)
TWIN_TEXTS = [
    *FORMULAS,
    *PLAIN,
    None,
    'a"b,c',
    "中文\n换行",
    f"SQ-{ID_18}",
    f"证件号码{ID_18}；旧证 330102900307123，又 {ID_18[:17]}x",
    ID_18[:-1] + ("0" if ID_18[-1] != "0" else "1"),
    "12345678901234",
    "123456789012345.00",
    f"=HYPERLINK(\"{ID_18}\")",
]


def test_duckdb_masks_and_neutralises_as_python_does(tmp_path: Path) -> None:
    con = duckdb.connect()
    register_masking(con)
    con.execute("create table t (position integer, label varchar, amount decimal(18, 2), year integer)")
    rows = [
        [text, Decimal("-1200.50") if i % 2 else Decimal("5.00"), None if i % 3 else 2025]
        for i, text in enumerate(TWIN_TEXTS)
    ]
    con.executemany("insert into t values (?, ?, ?, ?)", [[i, *row] for i, row in enumerate(rows)])
    masked = [text for (text,) in con.execute(f"select {masked_sql('label')} from t order by position").fetchall()]
    assert masked == [without_personal_ids(text) for text in TWIN_TEXTS]
    assert masked[TWIN_TEXTS.index(f"SQ-{ID_18}")] == f"SQ-{mask_resident_id(ID_18)}"

    query = f"select {csv_text_sql(masked_sql('label'))} as label, amount, year from t order by position"
    copy_csv(con, query, tmp_path / "duckdb.csv", ["label"], tmp_path / "rows.part")
    write_csv(tmp_path / "python.csv", ["label", "amount", "year"], [without_personal_ids(row) for row in rows])
    duck, python = ((tmp_path / name).read_bytes() for name in ("duckdb.csv", "python.csv"))
    assert not (tmp_path / "rows.part").exists()
    assert duck.split(b"\r\n")[0] == python.split(b"\r\n")[0] == '\ufeff"label","amount","year"'.encode()

    def cells(raw: bytes) -> list[list[str]]:
        return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))

    assert cells(duck) == cells(python) and len(cells(duck)) == len(rows) + 1
    assert find_personal_ids(duck.decode("utf-8-sig")) == []
    # a missing number is an empty field (the csv module quotes it: "", which reads the same)
    assert b'"\'=HYPERLINK(""http://x"",""y"")",-1200.50,\r\n' in duck


def test_xlsx_holds_no_formula_and_keeps_text_as_text(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    book = ExportWorkbook(path)
    sheet = book.add_sheet("s")
    for row, text in enumerate([*FORMULAS, *PLAIN, "http://example.org/"]):
        book.write(sheet, row, 0, text, {"bold": True} if row == 0 else None)
        book.write(sheet, row, 1, Decimal("-1200.50"), {"num_format": "#,##0.00"})
    book.close()
    cells = xlsx_cells(path)["xl/worksheets/sheet1.xml"]
    assert not [cell for cell in cells if cell[1]], "a formula cell was written"
    texts = {text: quoted for text, _, quoted in cells[0::2]}
    assert all(texts[text] for text in FORMULAS)  # Excel's quote prefix: editing the cell keeps it text
    assert not any(texts[text] for text in PLAIN if text)
    assert {value for value, _, _ in cells[1::2]} == {"-1200.5"}  # numbers as numbers
    with pytest.raises(KeyError):  # no hyperlink relationship: a URL is text
        zipfile.ZipFile(path).getinfo("xl/worksheets/_rels/sheet1.xml.rels")


def test_query_frames_neutralise_text_columns_only() -> None:
    frame = pl.DataFrame({"label": ["-2", "ok", None], "amount": [-2, 3, 4]})
    assert neutralise_text_columns(frame).to_dict(as_series=False) == {
        "label": ["'-2", "ok", None],
        "amount": [-2, 3, 4],
    }


class Kind(StrEnum):
    fail = "fail"


@dataclass
class Row:
    record_id: str
    kind: Kind
    amount: Decimal


def test_personal_ids_are_masked_everywhere_but_in_digests() -> None:
    digest = "0" * 10 + ID_18 + "a" * 36  # a hash that happens to hold an ID-shaped run is still a hash
    masked = without_personal_ids(
        {
            "findings": [Row(f"SQ-{ID_18}", Kind.fail, Decimal("1.00")), (ID_18, 3)],
            "detail": f"证件号码{ID_18}；旧证 330102900307123",
            "warehouse_sha256": digest,
        }
    )
    assert masked["findings"][0] == Row(f"SQ-{mask_resident_id(ID_18)}", Kind.fail, Decimal("1.00"))
    assert isinstance(masked["findings"][0].kind, Kind)
    assert masked["findings"][1] == (mask_resident_id(ID_18), 3)
    assert find_personal_ids(masked["detail"]) == []
    assert masked["warehouse_sha256"] == digest


def test_findings_workbook_beyond_its_cap_says_where_the_rest_is(tmp_path: Path, monkeypatch) -> None:
    from subsidy_warehouse.audit import report
    from subsidy_warehouse.audit.model import Finding

    monkeypatch.setattr(report, "XLSX_FINDINGS", 3)
    findings = [Finding("over_cap", "check", "application", f"A{i}", detail=f"=cmd{i}") for i in range(5)]
    path = tmp_path / "findings.xlsx"
    workbook = report.FindingsWorkbook(path)
    workbook.add([finding.values() for finding in findings[:2]])  # in batches, as an audit streams them
    workbook.add([finding.values() for finding in findings[2:]])
    workbook.finish({"rules": []}, count=5)
    texts = [text for text, _, _ in xlsx_cells(path)["xl/worksheets/sheet1.xml"]]
    assert [t for t in texts if t.startswith("A")] == ["A0", "A1", "A2"]  # the first three, in order
    assert any("共 5 条" in t and "findings.csv" in t for t in texts)
    assert not any(is_formula for _, is_formula, _ in xlsx_cells(path)["xl/worksheets/sheet1.xml"])
