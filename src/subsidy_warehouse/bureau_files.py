"""A bureau file read into sheets of text cells, refusing what cannot be read safely.

Workbooks are checked before fastexcel (calamine) reads them, because a hostile workbook makes calamine abort
the whole process rather than raise: the .xlsx parts are streamed (ooxml_files) and the .xls records walked
(ole_files) to measure every sheet that will be read. Hidden and very hidden sheets are not read at all.
Every refusal is a UserFacingError: one sentence naming the file (and sheet) and what is wrong.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import ole_files, ooxml_files
from .errors import UserFacingError
from .ooxml_files import SheetLimits, cell_name, column_name

if TYPE_CHECKING:
    import fastexcel

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
CSV_SUFFIXES = (".csv", ".txt")
# what zipfile and zlib raise for damaged, encrypted or oddly compressed members; DamagedFile is a ValueError
UNREADABLE_ZIP = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    LookupError,
    ValueError,
    RuntimeError,
    NotImplementedError,
    EOFError,
    OSError,
    zlib.error,
)
HIDDEN_REASONS = {"hidden": "hidden sheet", "veryHidden": "very hidden sheet"}


@dataclass
class Sheet:
    """One sheet of a file as text cells: rows[i][j] is the sheet's cell (row i, column first_column + j),
    both 0-based. A sheet with a skip_reason was not read (its rows are empty)."""

    name: str
    rows: list[list[str]] = field(default_factory=list)
    first_column: int = 0
    skip_reason: str = ""
    uncalculated: set[tuple[int, int]] = field(default_factory=set)  # 0-based (row, column) in the sheet

    def cell_name(self, row: int, position: int) -> str:
        return cell_name(row, self.first_column + position)


def read_sheets(path: Path, limits: SheetLimits) -> list[Sheet]:
    if path.is_dir():
        raise UserFacingError(f"{path} is a folder; give the bureau's file (.xlsx, .xls or .csv) itself.")
    if not path.exists():
        raise UserFacingError(f"{path} does not exist.")
    if not path.is_file():
        raise UserFacingError(f"{path} is not a regular file; give the bureau's file (.xlsx, .xls or .csv) itself.")
    data = path.read_bytes()
    if not data.strip():
        raise UserFacingError(f"{path.name} is empty.")
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return _read_workbook(path, data, limits)
    if path.suffix.lower() in CSV_SUFFIXES:
        return [Sheet("", _read_csv_rows(path, data))]
    raise UserFacingError(f"{path.name}: only .xlsx, .xls and .csv files can be loaded.")


def _read_csv_rows(path: Path, data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise UserFacingError(f"{path.name}: cannot tell its character encoding; save it as UTF-8 or GBK.")
        text = str(best)
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise UserFacingError(f"{path.name} cannot be read as CSV ({exc}).") from None


def _read_workbook(path: Path, data: bytes, limits: SheetLimits) -> list[Sheet]:
    # the bytes are a stranger's: whatever a parser raises on them means the file cannot be read, not a crash
    try:
        if data.startswith(ooxml_files.ZIP_MAGIC):
            return _read_xlsx(path, data, limits)
        if data.startswith(ole_files.OLE_MAGIC):
            return _read_ole(path, data, limits)
    except UserFacingError:
        raise
    except Exception as exc:
        raise UserFacingError(f"{path.name} cannot be read as a workbook ({_first_line(exc)}).") from None
    raise UserFacingError(f"{path.name} cannot be read as a workbook (it is neither an .xlsx nor an .xls file).")


def _read_xlsx(path: Path, data: bytes, limits: SheetLimits) -> list[Sheet]:
    try:
        package = ooxml_files.Package(zipfile.ZipFile(io.BytesIO(data)))
        parts = ooxml_files.list_sheets(package)
        ooxml_files.check_shared_strings(package, limits)
        sheets = []
        for part in parts:
            sheet = Sheet(part.name, skip_reason=HIDDEN_REASONS.get(part.state, ""))
            if not sheet.skip_reason and part.kind != "worksheet":
                sheet.skip_reason = f"a {part.kind or 'part'}, not a worksheet"
            if not sheet.skip_reason:
                sheet.uncalculated = set(_scan(path, package, part, limits).uncalculated)
            sheets.append(sheet)
    except UNREADABLE_ZIP as exc:
        raise UserFacingError(f"{path.name} cannot be read as a workbook ({_first_line(exc)}).") from None
    reader = _open_reader(path, data)
    if list(reader.sheet_names) != [p.name for p in parts]:
        raise UserFacingError(f"{path.name} cannot be read as a workbook (its sheet list is inconsistent).")
    _fill_cells(path, reader, [s for s in sheets if not s.skip_reason])
    return sheets


def _scan(
    path: Path, package: ooxml_files.Package, part: ooxml_files.PackageSheet, limits: SheetLimits
) -> ooxml_files.SheetScan:
    try:
        return ooxml_files.scan_sheet(package, part.part, limits)
    except ooxml_files.SheetTooLarge as exc:
        scan: ooxml_files.SheetScan = exc.args[0]
        raise UserFacingError(
            _too_large(f"{path.name} [{part.name}]", scan.last_row, scan.first_column, scan.last_column, limits)
        ) from None


def _too_large(label: str, last_row: int, first_column: int, last_column: int, limits: SheetLimits) -> str:
    rows, columns = last_row + 1, last_column - first_column + 1
    return (
        f"{label} is refused: its cells reach at least {cell_name(last_row, last_column)} ({rows:,} rows by {columns:,} "
        f"columns from column {column_name(first_column)}), beyond what a bureau sheet can hold "
        f"({limits.max_columns} columns, {limits.max_cells:,} cells), so delete the stray cells and save it again."
    )


def _read_ole(path: Path, data: bytes, limits: SheetLimits) -> list[Sheet]:
    try:
        container = ole_files.CompoundFile.parse(data)
        if ole_files.is_encrypted_package(container):
            raise UserFacingError(f"{path.name} is encrypted (password-protected); save it again without a password.")
        stream = ole_files.workbook_stream(container)
        if stream is None:
            raise UserFacingError(
                f"{path.name} is an Office 97–2003 container that holds neither an .xls workbook nor an encrypted "
                "(password-protected) .xlsx, so it cannot be loaded."
            )
        layout = ole_files.read_xls_layout(stream)
    except (ole_files.DamagedFile, struct.error) as exc:
        raise UserFacingError(f"{path.name} cannot be read as a workbook ({_first_line(exc)}).") from None
    if layout.encrypted:
        raise UserFacingError(f"{path.name} is encrypted (password-protected); save it again without a password.")
    # calamine reads every sheet of an .xls as it opens the file, hidden ones too: check them all first
    for measured in layout.sheets:
        _check_xls_sheet(f"{path.name} [{measured.name}]", measured, limits)
    reader = _open_reader(path, data)
    if len(reader.sheet_names) != len(layout.sheets):
        raise UserFacingError(f"{path.name} cannot be read as a workbook (its sheet list is inconsistent).")
    sheets = [
        Sheet(name, skip_reason=HIDDEN_REASONS.get(measured.state, ""))
        for name, measured in zip(reader.sheet_names, layout.sheets, strict=True)
    ]
    _fill_cells(path, reader, [s for s in sheets if not s.skip_reason])
    return sheets


def _check_xls_sheet(label: str, measured: ole_files.BiffSheet, limits: SheetLimits) -> None:
    if measured.reserved_cells > limits.max_cells:
        raise UserFacingError(
            f"{label} is refused: its Dimensions record claims {measured.reserved_cells:,} cells, more than a bureau "
            f"sheet can hold ({limits.max_cells:,}), so the file is damaged or made to crash readers."
        )
    if measured.first_row is None:
        return
    rows, columns = measured.last_row + 1, measured.last_column - measured.first_column + 1
    if columns > limits.max_columns or rows * columns > limits.max_cells:
        raise UserFacingError(_too_large(label, measured.last_row, measured.first_column, measured.last_column, limits))


def _refusal(path: Path, exc: BaseException) -> UserFacingError:
    """fastexcel's errors, and calamine's panics (which reach Python as BaseException), refuse the file."""
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        raise exc
    return UserFacingError(f"{path.name} cannot be read as a workbook ({_first_line(exc)}).")


def _open_reader(path: Path, data: bytes) -> fastexcel.ExcelReader:
    import fastexcel

    try:
        return fastexcel.read_excel(data)
    except BaseException as exc:
        raise _refusal(path, exc) from None


def _fill_cells(path: Path, reader: fastexcel.ExcelReader, sheets: list[Sheet]) -> None:
    """Read the cells of these (already checked) sheets; row i of a sheet's rows is the sheet's row i."""
    try:
        for sheet in sheets:
            loaded = reader.load_sheet(sheet.name, header_row=None, skip_rows=0, dtypes="string")
            columns = loaded.available_columns()
            sheet.first_column = columns[0].absolute_index if columns else 0
            sheet.rows = [[_cell_text(v) for v in row] for row in loaded.to_polars().iter_rows()]
    except BaseException as exc:
        raise _refusal(path, exc) from None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(exc).__name__
