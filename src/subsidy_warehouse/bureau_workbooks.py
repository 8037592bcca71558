"""`subsidy export`: a bureau's own records back, as the workbook it works in (or CSV / Parquet for analysts).

One workbook per bureau, read from the marts and the audit layer (already pseudonymised; the raw schema is
never read for records), with sheets:

- 封面: the bureau, the year, the warehouse file and its SHA-256, when it was built, what each sheet holds;
- 核定奖励: the awards the bureau approved, with every cap that applied, the one that bound (in Chinese,
  from the seed audit.binding_limits), the amount within caps and the balance not yet paid;
- 拨付记录: the payments and clawbacks the bureau made;
- 异常: the findings of the audit layer (audit.exceptions) about the bureau's records;
- 剩余额度: the annual and lifetime cap room left per company and clause for the clauses the bureau awarded.

Amounts are numbers in 元 with a total row in 元 and one in 万元 below each sheet; headers are Chinese, the
header row is frozen and filtered, columns are as wide as their text. Every text goes through exports (no
formula, no link, quote prefix where a spreadsheet could read one) and through without_personal_ids.
`--year` keeps the awards, findings and cap room of that award year and the payments made in that year.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path

import duckdb
import polars as pl

from . import progress
from .audit.fingerprint import file_sha256
from .audit.report import CATEGORY_ZH, SEVERITY_ZH
from .errors import UserFacingError
from .exports import Cell, ExportWorkbook, write_csv
from .identifiers import WRITTEN_NUMBER, mask_personal_ids
from .paths import output_folder
from .query import open_read_only


class ExportFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"
    parquet = "parquet"


@dataclass(frozen=True)
class Sheet:
    """One sheet: its Chinese name, the SQL of its rows (Chinese column names; parameters $bureau and $year,
    null for every year) and which of its columns are amounts in 元 (totalled)."""

    name: str
    sql: str
    amounts: tuple[str, ...]


SHEETS = (
    Sheet(
        "核定奖励",
        """
        select
            a.application_id as 申报编号,
            a.beneficiary_id as 主体编号,
            a.beneficiary_name as 主体名称,
            a.clause_code as 条款编号,
            c.clause_title_zh as 条款名称,
            a.project_id as 项目编号,
            a.award_year as 年度,
            a.approved_on as 核定日期,
            a.requested_amount as "申请金额（元）",
            a.approved_amount as "核定金额（元）",
            a.per_award_limit as "单笔上限（元）",
            a.ratio_limit as "比例上限（元）",
            a.tier_limit as "档次上限（元）",
            a.interest_limit as "贴息上限（元）",
            a.project_cap_room as "项目累计剩余额度（元）",
            a.annual_cap_room as "年度剩余额度（元）",
            a.lifetime_cap_room as "累计剩余额度（元）",
            coalesce(b.name_zh, a.binding_limit) as 起作用的上限,
            a.within_cap_amount as "上限内金额（元）",
            a.over_cap_amount as "超上限金额（元）",
            a.disbursed_amount as "已拨付（元）",
            a.open_balance_amount as "未拨付余额（元）",
            a.last_paid_on as 最近拨付日期,
        from marts.fct_awards as a
        left join marts.dim_clauses as c on c.clause_code = a.clause_code
        left join audit.binding_limits as b on b.binding_limit = a.binding_limit
        where a.approving_bureau = $bureau and ($year is null or a.award_year = $year)
        order by a.award_year, a.approved_on, a.application_id
        """,
        ("申请金额（元）", "核定金额（元）", "上限内金额（元）", "超上限金额（元）", "已拨付（元）", "未拨付余额（元）"),
    ),
    Sheet(
        "拨付记录",
        """
        select
            d.disbursement_id as 拨付编号,
            d.voucher_no as 凭证号,
            d.application_id as 申报编号,
            d.beneficiary_id as 主体编号,
            d.beneficiary_name as 主体名称,
            d.clause_code as 条款编号,
            d.award_year as 奖励年度,
            case d.kind when 'payment' then '拨付' when 'clawback' then '追回' else d.kind end as 类型,
            d.paid_on as 拨付日期,
            d.amount as "金额（元）",
            d.signed_amount as "净额（元，追回为负）",
            case when d.is_application_known then '是' else '否' end as 申报在库,
        from marts.fct_disbursements as d
        where d.paying_bureau = $bureau and ($year is null or d.paid_year = $year)
        order by d.paid_on, d.disbursement_id
        """,
        ("净额（元，追回为负）",),
    ),
    Sheet(
        "异常",
        """
        select
            e.exception_id as 异常编号,
            e.rule_code as 规则,
            e.severity as 严重程度,
            e.category as 类别,
            e.record_type as 记录类型,
            e.record_id as 记录编号,
            e.beneficiary_id as 主体编号,
            e.clause_code as 条款编号,
            e.award_year as 年度,
            e.amount_at_issue as "涉及金额（元）",
            e.rule_description_zh as 规则说明,
            e.detail as 详情,
        from audit.exceptions as e
        where e.bureau = $bureau and ($year is null or e.award_year = $year)
        order by e.severity, e.rule_code, e.record_id
        """,
        ("涉及金额（元）",),
    ),
    Sheet(
        "剩余额度",
        """
        with bureau_scopes as (
            select distinct beneficiary_id, clause_code, award_year
            from marts.fct_awards
            where approving_bureau = $bureau and ($year is null or award_year = $year)
        )
        select
            u.beneficiary_id as 主体编号,
            u.beneficiary_name as 主体名称,
            u.clause_code as 条款编号,
            c.clause_title_zh as 条款名称,
            u.award_year as 年度,
            u.award_count as 奖励笔数,
            u.within_cap_amount as "年度上限内金额（元）",
            u.annual_cap as "年度上限（元）",
            u.annual_cap_room_left as "年度剩余额度（元）",
            u.lifetime_within_cap_amount as "累计上限内金额（元）",
            u.lifetime_cap as "累计上限（元）",
            u.lifetime_cap - u.lifetime_within_cap_amount as "累计剩余额度（元）",
        from marts.agg_cap_utilization as u
        join bureau_scopes using (beneficiary_id, clause_code, award_year)
        left join marts.dim_clauses as c on c.clause_code = u.clause_code
        order by u.beneficiary_id, u.clause_code, u.award_year
        """,
        ("年度上限内金额（元）",),
    ),
)

TEXT_MAPS = {"严重程度": SEVERITY_ZH, "类别": CATEGORY_ZH}
WAN = Decimal(10000)
MAX_COLUMN_WIDTH = 60
WIDE_CHARACTERS = r"[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]"
EXCEL_MAX_DATA_ROWS = 1_048_576 - 4  # a sheet's rows, less the header, a blank line and two total rows


@dataclass(frozen=True)
class BureauExport:
    bureau: str
    path: Path  # the workbook, or the folder of CSV / Parquet files
    rows: dict[str, int]  # per sheet
    totals: dict[str, dict[str, Decimal]]  # per sheet, per amount column, in 元


def bureau_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [name for (name,) in con.execute("select bureau_name_zh from marts.dim_bureaus order by bureau_code").fetchall()]


def check_bureau(bureau: str, known: list[str]) -> str:
    """The bureau's Chinese name; raises UserFacingError naming the eight when it is none of them."""
    if bureau.strip() in known:
        return bureau.strip()
    shown = bureau if len(bureau) <= 40 else bureau[:40] + "…"
    raise UserFacingError(f"Unknown bureau {shown!r}; use one of: {'、'.join(known)}.")


def check_year(con: duckdb.DuckDBPyConnection, year: int | None) -> None:
    """Raises UserFacingError naming the years the warehouse holds when `year` is none of them: an export of a
    year with no award, payment or finding would be empty workbooks that look like a quiet year."""
    if year is None:
        return
    held = [
        row[0]
        for row in con.execute(
            """
            select award_year from marts.fct_awards
            union select paid_year from marts.fct_disbursements
            union select award_year from audit.exceptions
            """
        ).fetchall()
        if row[0] is not None
    ]
    if year not in held:
        years = "、".join(str(y) for y in sorted(held)) or "none"
        raise UserFacingError(f"No award, payment or finding of {year} in this warehouse; its years: {years}.")


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: two for each wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_widths(frame: pl.DataFrame) -> list[int]:
    """The widest text of each column (header included), wide characters counting two, amounts with their
    thousands separators."""
    widths = []
    for name, dtype in frame.schema.items():
        text = frame[name].cast(pl.String)
        longest = text.str.len_chars() + text.str.count_matches(WIDE_CHARACTERS)
        if dtype.is_numeric():
            longest = longest + longest // 4  # 1,234,567.89
        widths.append(max(display_width(name), int(longest.max() or 0)))
    return widths


def as_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` as cells: dates as ISO text, amounts as floats (what a spreadsheet stores), every text with
    personal ID numbers masked (the marts hold none; this is the last line of defence)."""
    converted = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype.is_temporal():
            converted.append(column.cast(pl.String))
        elif isinstance(dtype, pl.Decimal):
            converted.append(column.cast(pl.Float64))
        elif dtype == pl.String and frame[name].str.contains(WRITTEN_NUMBER.pattern).any():
            converted.append(column.map_elements(mask_personal_ids, return_dtype=pl.String, skip_nulls=True))
    return frame.with_columns(converted)


def in_wan(amount: Decimal) -> Decimal:
    return (amount / WAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def sheet_frame(con: duckdb.DuckDBPyConnection, sheet: Sheet, bureau: str, year: int | None) -> pl.DataFrame:
    frame = con.sql(sheet.sql, params={"bureau": bureau, "year": year}).pl()
    for column, mapping in TEXT_MAPS.items():
        if column in frame.columns:
            frame = frame.with_columns(pl.col(column).replace(mapping))
    return frame


def totals_of(frame: pl.DataFrame, sheet: Sheet) -> dict[str, Decimal]:
    return {column: Decimal(str(frame[column].sum() or 0)).quantize(Decimal("0.01")) for column in sheet.amounts}


def write_sheet(book: ExportWorkbook, sheet: Sheet, frame: pl.DataFrame, totals: dict[str, Decimal]) -> None:
    ws = book.add_sheet(sheet.name)
    header = {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": False}
    money = {"num_format": "#,##0.00"}
    styles = [money if isinstance(dtype, pl.Decimal | pl.Float64) else None for dtype in frame.schema.values()]
    book.write_rows(ws, 0, [frame.columns], [header] * frame.width)
    book.write_rows(ws, 1, as_cells(frame).iter_rows(), styles)
    widths = column_widths(frame)
    last = frame.height
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(last, 1), max(len(frame.columns) - 1, 0))
    bold_money = {**money, "bold": True}
    for offset, (label, convert) in enumerate((("合计（元）", lambda v: v), ("合计（万元）", in_wan)), start=2):
        book.write(ws, last + offset, 0, label, {"bold": True})
        for column, total in totals.items():
            book.write(ws, last + offset, frame.columns.index(column), convert(total), bold_money)
    for col, width in enumerate(widths):
        ws.set_column(col, col, min(width + 2, MAX_COLUMN_WIDTH))


def write_cover(book: ExportWorkbook, lines: list[tuple[str, Cell]]) -> None:
    ws = book.add_sheet("封面")
    for row, (label, value) in enumerate(lines):
        book.write(ws, row, 0, label, {"bold": True})
        book.write(ws, row, 1, value)
    ws.set_column(0, 0, max(display_width(label) for label, _ in lines) + 2)
    ws.set_column(1, 1, MAX_COLUMN_WIDTH * 2)


def cover_lines(
    bureau: str, year: int | None, warehouse: Path, digest: str, built_at: object, rows: dict[str, int]
) -> list[tuple[str, Cell]]:
    return [
        ("部门", bureau),
        ("年度", str(year) if year is not None else "全部年度"),
        ("仓库文件", str(warehouse)),
        ("仓库指纹（SHA-256）", digest),
        ("仓库构建时间", str(built_at)),
        ("导出时间", datetime.now().astimezone().isoformat(timespec="seconds")),
        ("金额单位", "元（每张表末尾另有万元合计）"),
        ("个人身份证号", "已脱敏（仓库中只有假名编号）"),
        *((f"{name}（行数）", count) for name, count in rows.items()),
        ("说明", "核定奖励、异常、剩余额度按奖励年度筛选；拨付记录按拨付年度筛选。"),
    ]


def export_bureau(
    con: duckdb.DuckDBPyConnection,
    bureau: str,
    year: int | None,
    out: Path,
    output_format: ExportFormat,
    warehouse: Path,
    digest: str,
    built_at: object,
) -> BureauExport:
    frames = {sheet.name: sheet_frame(con, sheet, bureau, year) for sheet in SHEETS}
    too_long = [name for name, frame in frames.items() if frame.height > EXCEL_MAX_DATA_ROWS]
    if output_format is ExportFormat.xlsx and too_long:
        raise UserFacingError(
            f"{bureau}'s sheet {too_long[0]} has more rows than Excel holds ({frames[too_long[0]].height:,}); "
            "export one year with --year, or use --format csv or parquet."
        )
    totals = {sheet.name: totals_of(frames[sheet.name], sheet) for sheet in SHEETS}
    rows = {name: frame.height for name, frame in frames.items()}
    stem = f"{bureau}_{year if year is not None else '全部年度'}"
    if output_format is ExportFormat.xlsx:
        path = out / f"{stem}.xlsx"
        book = ExportWorkbook(path, stream_rows=True)  # a bureau at 1M applications has 100,000s of rows
        write_cover(book, cover_lines(bureau, year, warehouse, digest, built_at, rows))
        for sheet in SHEETS:
            write_sheet(book, sheet, frames[sheet.name], totals[sheet.name])
            progress.current().rows(f"{path.name} {sheet.name}", frames[sheet.name].height)
        book.close()
    else:
        path = out / stem
        path.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            if output_format is ExportFormat.parquet:
                masked = [c for c, dtype in frame.schema.items() if dtype == pl.String]
                frame.with_columns(as_cells(frame.select(masked))).write_parquet(path / f"{name}.parquet")
            else:
                write_csv(path / f"{name}.csv", frame.columns, as_cells(frame).iter_rows())
            progress.current().rows(f"{path.name}/{name}.{output_format}", frame.height)
    return BureauExport(bureau, path, rows, totals)


def export_bureaus(
    warehouse: Path,
    out: Path,
    bureaus: list[str] | None,
    year: int | None = None,
    output_format: ExportFormat = ExportFormat.xlsx,
) -> list[BureauExport]:
    """Write one export per bureau (None: all eight) into `out`; raises UserFacingError for an unknown bureau,
    a year the warehouse holds nothing of, or a folder that cannot be written."""
    warehouse = warehouse.resolve()
    with open_read_only(warehouse) as con:
        try:
            known = bureau_names(con)
            built_at = con.execute("select max(built_at) from raw.batches").fetchall()[0][0]
            check_year(con, year)
        except duckdb.Error:
            raise UserFacingError(f"{warehouse} is not a subsidy warehouse; build one with `subsidy build`.") from None
        chosen = known if bureaus is None else [check_bureau(b, known) for b in bureaus]
        output_folder(out, "the exports")
        digest = file_sha256(warehouse)
        exports = []
        for bureau in chosen:
            progress.current().step(bureau)
            exports.append(export_bureau(con, bureau, year, out, output_format, warehouse, digest, built_at))
    return exports
