"""`subsidy export`: one workbook per bureau whose totals are the marts', with no formula and no personal ID."""

from __future__ import annotations

import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from helpers import message_lines, run_cli, xlsx_cells

from subsidy_warehouse.exports import starts_like_formula
from subsidy_warehouse.identifiers import find_personal_ids

pytestmark = pytest.mark.slow

# per sheet: the mart, its bureau and year columns, and {column in the workbook: column in the mart}
MARTS = {
    "核定奖励": (
        "marts.fct_awards",
        "approving_bureau",
        "award_year",
        {"核定金额（元）": "approved_amount", "上限内金额（元）": "within_cap_amount", "未拨付余额（元）": "open_balance_amount"},
    ),
    "拨付记录": ("marts.fct_disbursements", "paying_bureau", "paid_year", {"净额（元，追回为负）": "signed_amount"}),
    "异常": ("audit.exceptions", "bureau", "award_year", {"涉及金额（元）": "amount_at_issue"}),
}


def bureaus(con) -> list[str]:
    return [name for (name,) in con.execute("select bureau_name_zh from marts.dim_bureaus").fetchall()]


def mart_totals(con, sheet: str, bureau: str, year: int | None) -> tuple[int, dict[str, Decimal]]:
    table, bureau_column, year_column, columns = MARTS[sheet]
    sums = ", ".join(f"coalesce(sum({c}), 0)" for c in columns.values())
    row = con.execute(
        f"select count(*), {sums} from {table} where {bureau_column} = ? and (? is null or {year_column} = ?)",
        [bureau, year, year],
    ).fetchall()[0]
    return row[0], dict(zip(columns, row[1:], strict=True))


def workbook_sheet(path: Path, sheet: str) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """The data rows of a sheet, and its total rows by label (合计（元）, 合计（万元）)."""
    frame = fastexcel.read_excel(path).load_sheet(sheet, dtypes="string").to_polars()
    first = frame.columns[0]
    blank = frame.with_row_index().filter(pl.all_horizontal(pl.exclude("index").is_null()))["index"]
    data = frame.head(blank[0] if len(blank) else frame.height)
    totals = {row[first]: row for row in frame.filter(pl.col(first).str.starts_with("合计")).iter_rows(named=True)}
    return data, totals


@pytest.fixture(scope="module")
def exported(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exports")
    completed = run_cli("export", "--all-bureaus", "--out", str(out), "-w", str(sample_warehouse), check=True)
    assert len(completed.stdout.strip().splitlines()) == 8, completed.stdout
    return out


def test_totals_of_each_workbook_equal_the_marts(exported: Path, sample_con) -> None:
    names = bureaus(sample_con)
    assert sorted(p.name for p in exported.iterdir()) == sorted(f"{b}_全部年度.xlsx" for b in names)
    checked = 0
    for bureau in names:
        path = exported / f"{bureau}_全部年度.xlsx"
        assert fastexcel.read_excel(path).sheet_names == ["封面", "核定奖励", "拨付记录", "异常", "剩余额度"]
        for sheet in MARTS:
            rows, expected = mart_totals(sample_con, sheet, bureau, None)
            data, totals = workbook_sheet(path, sheet)
            assert data.height == rows, (bureau, sheet)
            for column, total in expected.items():
                assert Decimal(totals["合计（元）"][column]).quantize(Decimal("0.01")) == total, (bureau, sheet, column)
                in_wan = (total / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                assert Decimal(totals["合计（万元）"][column]).quantize(Decimal("0.01")) == in_wan
                checked += total != 0
    assert checked > 20  # the sample has money in most sheets of most bureaus


def test_cap_room_and_binding_limits_in_chinese(exported: Path, sample_con) -> None:
    path = exported / "区科技局_全部年度.xlsx"
    awards, _ = workbook_sheet(path, "核定奖励")
    names = {n for (n,) in sample_con.execute("select name_zh from audit.binding_limits").fetchall()}
    limits = set(awards["起作用的上限"].drop_nulls())
    assert limits and limits <= names, limits - names
    room, totals = workbook_sheet(path, "剩余额度")
    (pairs,) = sample_con.execute(
        "select count(*) from marts.agg_cap_utilization where (beneficiary_id, clause_code, award_year) in "
        "(select (beneficiary_id, clause_code, award_year) from marts.fct_awards where approving_bureau = '区科技局')"
    ).fetchall()[0]
    assert room.height == pairs > 0
    left = room.filter(pl.col("年度上限（元）").is_not_null())
    assert left.height > 0
    used, cap, room_left = (left[c].cast(pl.Float64) for c in ("年度上限内金额（元）", "年度上限（元）", "年度剩余额度（元）"))
    assert ((cap - used - room_left).abs() < 0.005).all()


def test_no_formula_no_personal_id_and_a_usable_layout(exported: Path) -> None:
    for path in exported.glob("*.xlsx"):
        for sheet, cells in xlsx_cells(path).items():
            assert {"部门", "核定金额（元）", "合计（万元）"} & {text for text, _, _ in cells}, sheet  # text was read
            assert not any(is_formula for _, is_formula, _ in cells), (path.name, sheet)
            for text, _, quoted in cells:
                assert not find_personal_ids(text), (path.name, sheet)
                if starts_like_formula(text) and not re.fullmatch(r"-?\d+(\.\d+)?(E-?\d+)?", text):  # a number: -1.5
                    assert quoted, (path.name, sheet, text)
        with zipfile.ZipFile(path) as archive:
            for number in range(2, 6):  # the four data sheets after the cover
                xml = archive.read(f"xl/worksheets/sheet{number}.xml").decode()
                assert re.search(r'<pane [^>]*ySplit="1"[^>]*state="frozen"', xml), (path.name, number)
                assert "<autoFilter ref=" in xml and "<cols>" in xml and 'customWidth="1"' in xml


def test_cover_names_the_warehouse_it_came_from(exported: Path, sample_warehouse: Path) -> None:
    import hashlib

    cover = fastexcel.read_excel(exported / "区科技局_全部年度.xlsx").load_sheet("封面", header_row=None, dtypes="string")
    lines = dict(cover.to_polars().iter_rows())
    assert lines["部门"] == "区科技局" and lines["年度"] == "全部年度"
    assert lines["仓库指纹（SHA-256）"] == hashlib.sha256(sample_warehouse.read_bytes()).hexdigest()
    assert lines["仓库构建时间"].startswith("20")


def test_one_year_and_other_formats(sample_warehouse: Path, sample_con, tmp_path: Path) -> None:
    (year,) = sample_con.execute("select max(award_year) from marts.fct_awards").fetchall()[0]
    run_cli("export", "-b", "区数据局", "--year", str(year), "-o", str(tmp_path), "-w", str(sample_warehouse), check=True)
    data, totals = workbook_sheet(tmp_path / f"区数据局_{year}.xlsx", "核定奖励")
    rows, expected = mart_totals(sample_con, "核定奖励", "区数据局", year)
    assert data.height == rows and set(data["年度"]) == {str(year)}
    assert Decimal(totals["合计（元）"]["核定金额（元）"]).quantize(Decimal("0.01")) == expected["核定金额（元）"]
    for output_format in ("csv", "parquet"):
        out = tmp_path / output_format
        run_cli("export", "-b", "区数据局", "-f", output_format, "-o", str(out), "-w", str(sample_warehouse), check=True)
        folder = out / "区数据局_全部年度"
        assert sorted(p.stem for p in folder.iterdir()) == sorted(["核定奖励", "拨付记录", "异常", "剩余额度"])
        for sheet in MARTS:
            file = folder / f"{sheet}.{output_format}"
            frame = pl.read_parquet(file) if output_format == "parquet" else pl.read_csv(file, infer_schema=False)
            rows, expected = mart_totals(sample_con, sheet, "区数据局", None)
            assert frame.height == rows
            for column, total in expected.items():
                values = frame[column].cast(pl.Decimal(18, 2)) if output_format == "csv" else frame[column]
                assert Decimal(str(values.sum())).quantize(Decimal("0.01")) == total, (output_format, sheet, column)


@pytest.mark.parametrize("year", ["1999", "-3", "100000000000000000000"])
def test_a_year_the_warehouse_holds_nothing_of_is_one_sentence_naming_its_years(
    year: str, sample_warehouse: Path, sample_con, tmp_path: Path
) -> None:
    completed = run_cli(
        "export", "-b", "区科技局", "--year", year, "--out", str(tmp_path / "out"), "-w", str(sample_warehouse)
    )
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    (line,) = message_lines(completed.stderr)
    held = sample_con.execute(
        "select award_year from marts.fct_awards union select paid_year from marts.fct_disbursements"
    ).fetchall()
    assert line.startswith(f"error: No award, payment or finding of {year} ") and all(str(y) in line for (y,) in held)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bureau", ["区科技", "区科技局'; drop table marts.fct_awards; --", '"区科技局"', "'=1+1"])
def test_unknown_bureau_is_one_sentence_naming_the_eight(
    bureau: str, sample_warehouse: Path, sample_con, tmp_path: Path
) -> None:
    completed = run_cli("export", "--bureau", bureau, "--out", str(tmp_path / "out"), "-w", str(sample_warehouse))
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    (line,) = message_lines(completed.stderr)
    assert line.startswith("error: Unknown bureau") and all(name in line for name in bureaus(sample_con))
    assert not (tmp_path / "out").exists()
