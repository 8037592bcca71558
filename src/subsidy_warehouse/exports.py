"""Files people open in a spreadsheet: text stays text, numbers stay numbers, no personal ID is shown.

Every CSV and XLSX the project writes for people (the audit's findings, `subsidy query --format csv`, the
per-bureau exports to come) goes through this module, so there is one rule for each of:

- Formula injection (OWASP "CSV Injection"): a text cell that begins with = + - @, a tab or a carriage
  return, or with the full-width ＝ ＋ － ＠ that Excel in Chinese locales may read the same way, would run as
  a formula. In CSV such a cell gets a leading single quote and every text cell is quoted; in XLSX text is
  written as a string (never a formula or a link) and such a cell carries Excel's quote prefix, so editing
  it does not turn it into a formula either. Numbers are written as numbers and never altered.
- Personal IDs: `without_personal_ids` masks every resident ID number in every text of a structure, as the
  last line of defence before a file is written.

Files too large to pass through Python a row at a time (the audit's findings: 1.8M rows at 10M applications)
are written by DuckDB under the same two rules, as SQL (`masked_sql`, `csv_text_sql`, `copy_csv`); the tests
hold each to its Python twin.

Files that feed the pipeline itself (the raw contract CSVs, the sample bureau files, seeds) are data, not
exports, and are written verbatim elsewhere.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import shutil
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import polars as pl

from .identifiers import WRITTEN_NUMBER, mask_personal_ids

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

MIN_ID_LENGTH = 15  # a first-generation resident ID number; no shorter text can hold one
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
Cell = str | int | float | Decimal | None
T = TypeVar("T")
KEPT_TYPES = frozenset({type(None), bool, int, float, Decimal})  # no text in them: returned as they are


def starts_like_formula(text: str) -> bool:
    """True when a spreadsheet could read `text` as a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def safe_text_cell(value: str) -> str:
    """A text value made safe for a CSV cell: a leading single quote when it could start a formula."""
    return "'" + value if starts_like_formula(value) else value


def csv_cell(value: Cell) -> Cell:
    # bool is an int, but True in a cell is text, not a number
    if isinstance(value, str | bool):
        return safe_text_cell(str(value))
    return value


class CsvExport:
    """A CSV for Excel, written a batch of rows at a time (`write_csv` in one go): UTF-8 with BOM (so Excel on a
    Chinese desktop reads the Chinese text), text cells neutralised and quoted (a separator inside a text can
    never start a new cell), numbers bare."""

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        self.handle = path.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle, quoting=csv.QUOTE_NONNUMERIC)
        self.writer.writerow([csv_cell(name) for name in header])

    def write_rows(self, rows: Iterable[Sequence[Cell]]) -> None:
        self.writer.writerows([csv_cell(value) for value in row] for row in rows)

    def close(self) -> None:
        self.handle.close()


def sql_text(value: str) -> str:
    """`value` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def csv_text_sql(expression: str) -> str:
    """SQL twin of `csv_cell` for a text column: '' for no value (quoted, as the csv module writes None), and a
    leading single quote where a spreadsheet could read a formula."""
    triggers = ", ".join(sql_text(trigger) for trigger in FORMULA_TRIGGERS)
    neutralised = f"{sql_text(chr(39))} || {expression}"
    return f"case when left({expression}, 1) in ({triggers}) then {neutralised} else coalesce({expression}, '') end"


MASK_FUNCTION = "mask_personal_ids"


def register_masking(con: duckdb.DuckDBPyConnection) -> None:
    """Make `masked_sql` callable on `con`."""
    varchar = duckdb.sqltype("VARCHAR")
    con.create_function(MASK_FUNCTION, mask_personal_ids, [varchar], varchar, side_effects=False)


def masked_sql(expression: str) -> str:
    """SQL twin of `without_personal_ids` for a text column (`register_masking` first): DuckDB finds the few texts
    holding a written number as long as an ID number (WRITTEN_NUMBER), and only those go to mask_personal_ids, in
    Python."""
    return (
        f"case when regexp_matches({expression}, {sql_text(WRITTEN_NUMBER.pattern)}) "
        f"then {MASK_FUNCTION}({expression}) else {expression} end"
    )


def copy_csv(
    con: duckdb.DuckDBPyConnection, query: str, path: Path, text_columns: Sequence[str], scratch: Path
) -> None:
    """CsvExport's file (BOM, quoted header, text quoted, numbers bare, CRLF) of `query`'s rows, written by DuckDB
    (`query` applies `csv_text_sql` to its `text_columns`); DuckDB writes the rows to `scratch` first."""
    header = [column[0] for column in con.execute(f"select * from ({query}) limit 0").description]
    quoted = ", ".join(f'"{name}"' for name in text_columns)
    options = f"header false, force_quote ({quoted}), new_line {sql_text(chr(13) + chr(10))}"
    con.execute(f"copy ({query}) to {sql_text(str(scratch))} ({options})")
    write_csv(path, header, [])
    with path.open("ab") as out, scratch.open("rb") as rows:
        shutil.copyfileobj(rows, out, 1 << 20)
    scratch.unlink()


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    """A CSV for Excel (CsvExport) holding `rows`."""
    export = CsvExport(path, header)
    try:
        export.write_rows(rows)
    finally:
        export.close()


def neutralise_text_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `safe_text_cell` applied to every text column and to the column names (a query's PIVOT makes
    values into names, which head the CSV); other columns untouched."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    neutralised = frame.with_columns(
        pl.col(name).map_elements(safe_text_cell, return_dtype=pl.String, skip_nulls=True) for name in text_columns
    )
    return neutralised.rename(safe_text_cell)


class ExportWorkbook:
    """An .xlsx workbook whose cells hold data only: text as strings, numbers as numbers, no formula or link."""

    def __init__(self, path: Path, stream_rows: bool = False) -> None:
        import xlsxwriter  # only when a workbook is written: `subsidy query` imports this module too

        # xlsxwriter's defaults would turn "=..." into a live formula and "http://..." into a hyperlink;
        # stream_rows (constant_memory) flushes each row as the next begins: rows must come in order
        self.book = xlsxwriter.Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "constant_memory": stream_rows,
            },
        )
        self.formats: dict[tuple[tuple[str, Any], ...], Format] = {}

    def add_sheet(self, name: str) -> Worksheet:
        return self.book.add_worksheet(name)

    def cell_format(self, properties: dict[str, Any]) -> Format | None:
        if not properties:
            return None
        key = tuple(sorted(properties.items()))
        if key not in self.formats:
            self.formats[key] = self.book.add_format(properties)
        return self.formats[key]

    def write(self, sheet: Worksheet, row: int, col: int, value: Cell, style: dict[str, Any] | None = None) -> None:
        """Write one cell: a number with write_number, anything else with write_string, None as nothing."""
        self.write_rows(sheet, row, [[value]], [style], first_col=col)

    def write_rows(
        self,
        sheet: Worksheet,
        first_row: int,
        rows: Iterable[Sequence[Cell]],
        styles: Sequence[dict[str, Any] | None],
        first_col: int = 0,
    ) -> None:
        """Write rows of cells as `write` does, with one style per column (formats resolved once)."""
        plain = [self.cell_format(style or {}) for style in styles]
        quoted = [self.cell_format({**(style or {}), "quote_prefix": True}) for style in styles]
        for row, values in enumerate(rows, start=first_row):
            for index, value in enumerate(values):
                if value is None:
                    continue
                if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
                    sheet.write_number(row, first_col + index, float(value), plain[index])
                else:
                    text = str(value)
                    style = quoted[index] if starts_like_formula(text) else plain[index]
                    sheet.write_string(row, first_col + index, text, style)

    def close(self) -> None:
        self.book.close()


@functools.cache
def field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


def without_personal_ids(value: T) -> T:
    """`value` (text, or dicts, lists, tuples and dataclasses of them) with every resident ID number masked.

    Fields named `*sha256` are kept: a content hash is not personal data, and masking a digit run in one
    would break the fingerprint that ties a report to its file.
    """
    if type(value) in KEPT_TYPES:
        return value  # first and without isinstance: an audit at 1M applications masks 170,000 findings, twice
    if isinstance(value, Enum):
        return value  # a status or kind of the code's own, never data
    if isinstance(value, str):
        # shorter than any ID number, or no ID in it: the same string back (most texts, and fast)
        return value if len(value) < MIN_ID_LENGTH else mask_personal_ids(value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {  # type: ignore[return-value]
            key: item if isinstance(key, str) and key.endswith("sha256") else without_personal_ids(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(without_personal_ids(item) for item in value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {name: getattr(value, name) for name in field_names(type(value))}
        masked = {name: without_personal_ids(item) for name, item in fields.items()}
        if all(masked[name] is item for name, item in fields.items()):
            return value  # nothing to mask: no copy
        return dataclasses.replace(value, **masked)  # type: ignore[arg-type]
    return value
