"""An .xlsx read as what it is, a zip of XML parts, before calamine (through fastexcel) reads its cells.

calamine sizes a sheet from its cells and allocates rows × columns at once: one cell at XFD1048576 in a 16 KB
file makes it ask for 512 GiB and abort the process. So each sheet to be read is streamed here first (never
held whole) to measure the extent of its cells and to find formulas saved without a result. The parts are
found the way calamine finds them (package relationships, then the workbook's), so what is measured here is
what calamine reads. The sheet's <dimension> element is not trusted: writers leave it out or get it wrong.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from typing import IO
from xml.etree import ElementTree
from xml.parsers import expat

ZIP_MAGIC = b"PK\x03\x04"
MAX_EXCEL_ROWS, MAX_EXCEL_COLUMNS = 1_048_576, 16_384
STRING_RESULT_TYPES = {"str", "inlineStr"}  # a formula whose result is text may have an empty result
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
CELL_REF = re.compile(r"([A-Za-z]*)([0-9]+)")


class DamagedFile(ValueError):
    """The package is not a readable workbook; the message says why, in a few words."""


class SheetTooLarge(ValueError):
    """The sheet's cells reach beyond the limits; raised as soon as they do, so a hostile sheet is not read whole."""


@dataclass(frozen=True)
class SheetLimits:
    max_rows: int
    max_columns: int
    max_cells: int


@dataclass(frozen=True)
class PackageSheet:
    name: str
    state: str  # visible, hidden or veryHidden
    kind: str  # worksheet, chartsheet or dialogsheet
    part: str


@dataclass
class SheetScan:
    """0-based extent of the cells that hold a value, and formula cells saved without their result."""

    first_row: int | None = None
    last_row: int = 0
    first_column: int = 0
    last_column: int = 0
    uncalculated: list[tuple[int, int]] = field(default_factory=list)

    def add_cell(self, row: int, column: int) -> None:
        if self.first_row is None:
            self.first_row, self.last_row, self.first_column, self.last_column = row, row, column, column
            return
        self.first_row, self.last_row = min(self.first_row, row), max(self.last_row, row)
        self.first_column, self.last_column = min(self.first_column, column), max(self.last_column, column)

    def exceeds(self, limits: SheetLimits) -> bool:
        """Rows count from the sheet's first row: the loader reads them all, to keep row numbers true."""
        if self.first_row is None:
            return False
        rows, columns = self.last_row + 1, self.last_column - self.first_column + 1
        return rows > limits.max_rows or columns > limits.max_columns or rows * columns > limits.max_cells


def column_name(index: int) -> str:
    """'A' for 0, 'XFD' for 16383."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_name(row: int, column: int) -> str:
    return f"{column_name(column)}{row + 1}"


def _cell_position(reference: str) -> tuple[int, int | None]:
    """0-based (row, column) of 'B7'; column None for a bare row number."""
    match = CELL_REF.fullmatch(reference)
    if not match:
        raise DamagedFile(f"it has the cell reference {reference[:20]!r}, which is not one")
    letters, digits = match.groups()
    column = None
    if letters:
        if len(letters) > 3:  # beyond XFD: refused below as too wide, without a huge number
            return int(digits) - 1, MAX_EXCEL_COLUMNS
        column = 0
        for letter in letters.upper():
            column = column * 26 + ord(letter) - 64
        column -= 1
    return int(digits[:8]) - 1 if len(digits) <= 8 else MAX_EXCEL_ROWS, column


# --- finding the parts -------------------------------------------------------------------------------


class Package:
    """The zip's parts by the name calamine would look them up with (case-insensitive, / or \\)."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.parts: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            key = _ascii_lower(info.filename.replace("\\", "/"))
            if key in self.parts:  # two readers could pick different copies: refuse, don't guess
                raise DamagedFile(f"it holds the part {info.filename} twice")
            self.parts[key] = info

    def open(self, name: str) -> IO[bytes] | None:
        info = self.parts.get(_ascii_lower(name))
        return None if info is None else self.archive.open(info)

    def read_xml(self, name: str) -> ElementTree.Element | None:
        handle = self.open(name)
        if handle is None:
            return None
        with handle:
            try:
                return ElementTree.parse(handle).getroot()
            except (ElementTree.ParseError, LookupError) as exc:  # LookupError: an unknown declared encoding
                raise DamagedFile(f"its part {name} is not well-formed XML ({exc})") from None


def _ascii_lower(name: str) -> str:
    return name.translate(ASCII_LOWER)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attribute(element: ElementTree.Element, name: str) -> str | None:
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


def workbook_folder(package: Package) -> str:
    """Where workbook.xml is, per the package relationships ('xl/' almost always), ending in '/'."""
    package_rels = package.read_xml("_rels/.rels")
    if package_rels is None:
        raise DamagedFile("it has no package relationships (_rels/.rels)")
    folder = "xl/"
    for relation in package_rels:
        if (relation.get("Type") or "").endswith("/relationships/officeDocument") and relation.get("Target"):
            target = relation.get("Target", "")
            folder = target[: target.rfind("/") + 1]
    return folder


def list_sheets(package: Package) -> list[PackageSheet]:
    """The workbook's sheets in order, with their state and part, as calamine resolves them."""
    workbook_dir = workbook_folder(package)
    workbook = package.read_xml(f"{workbook_dir}workbook.xml")
    if workbook is None:
        return []
    relations = package.read_xml(f"{workbook_dir}_rels/workbook.xml.rels")
    targets = {
        r.get("Id"): (r.get("Target", ""), r.get("Type", "")) for r in (relations if relations is not None else [])
    }
    sheets = []
    for element in workbook.iter():
        if _local(element.tag) != "sheet":
            continue
        name = element.get("name", "")
        target, kind = targets.get(_attribute(element, "id"), (None, ""))
        if target is None:
            raise DamagedFile(f"its sheet {name} points to no part")
        part = target[1:] if target.startswith("/") else f"{workbook_dir}{target}"
        sheets.append(PackageSheet(name, element.get("state", "visible"), kind.rsplit("/", 1)[-1], part))
    return sheets


# --- measuring a sheet -------------------------------------------------------------------------------


class _SheetReader:
    """Expat handlers that follow calamine's cell positions: a cell without `r` follows the previous cell of
    its row; a row without `r` follows the previous row."""

    def __init__(self, limits: SheetLimits) -> None:
        self.limits = limits
        self.scan = SheetScan()
        self.in_sheet_data = False
        self.row_index = self.column_index = 0
        self.cell: tuple[int, int] | None = None
        self.cell_type = ""
        self.children: set[str] = set()
        self.value_text = False
        self.in_value = False

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        name = _local(tag)
        if name == "sheetData":
            self.in_sheet_data = True
        elif not self.in_sheet_data:
            return
        elif name == "row" and "r" in attributes:
            self.row_index = _cell_position(attributes["r"])[0]
        elif name == "c":
            reference = attributes.get("r")
            if reference:
                row, column = _cell_position(reference)
                self.column_index = column if column is not None else self.column_index
                self.cell = (row, self.column_index)
            else:
                self.cell = (self.row_index, self.column_index)
            self.cell_type, self.children, self.value_text = attributes.get("t", ""), set(), False
        elif self.cell is not None and name in ("v", "f", "is"):
            self.children.add(name)
            self.in_value = name == "v"

    def text(self, data: str) -> None:
        if self.in_value and data.strip():
            self.value_text = True

    def end(self, tag: str) -> None:
        name = _local(tag)
        if name == "sheetData":
            self.in_sheet_data = False
        elif not self.in_sheet_data:
            return
        elif name == "v":
            self.in_value = False
        elif name == "row":
            self.row_index, self.column_index = self.row_index + 1, 0
        elif name == "c" and self.cell is not None:
            self._end_cell(*self.cell)
            self.cell, self.column_index = None, self.column_index + 1

    def _end_cell(self, row: int, column: int) -> None:
        if "v" in self.children or "is" in self.children:
            self.scan.add_cell(row, column)
            if self.scan.exceeds(self.limits) or row >= MAX_EXCEL_ROWS or column >= MAX_EXCEL_COLUMNS:
                raise SheetTooLarge
        if "f" in self.children and not (
            self.value_text or ("v" in self.children and self.cell_type in STRING_RESULT_TYPES)
        ):
            self.scan.uncalculated.append((row, column))


def scan_sheet(package: Package, part: str, limits: SheetLimits) -> SheetScan:
    """Stream one worksheet part; raises SheetTooLarge (with the scan so far as its argument) past the limits."""
    handle = package.open(part)
    if handle is None:
        raise DamagedFile(f"its sheet part {part} is missing")
    reader = _SheetReader(limits)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = lambda tag, attributes: reader.start(tag, attributes)
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    parser.StartDoctypeDeclHandler = _refuse_doctype  # no OOXML part has one; entity tricks need one
    with handle:
        try:
            while chunk := handle.read(1 << 20):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except SheetTooLarge:
            raise SheetTooLarge(reader.scan) from None
        except (expat.ExpatError, LookupError) as exc:
            raise DamagedFile(f"its part {part} is not well-formed XML ({exc})") from None
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise DamagedFile(f"its part {part} cannot be unpacked ({exc})") from None
    return reader.scan


class _FoundCount(Exception):
    """Stops streaming the shared strings once their declared count is read."""


def check_shared_strings(package: Package, limits: SheetLimits) -> None:
    """calamine reserves room for `uniqueCount` strings before reading any: a lying count in a tiny file asks
    for terabytes and aborts. Refuse a count the part cannot hold (each string takes at least `<si/>`, 5
    bytes) or beyond the cell limit."""
    part = f"{workbook_folder(package)}sharedStrings.xml"
    handle = package.open(part)
    if handle is None:
        return

    def on_start(tag: str, attributes: dict[str, str]) -> None:
        if _local(tag) == "sst":
            raise _FoundCount(attributes.get("uniqueCount", ""))

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = on_start
    parser.StartDoctypeDeclHandler = _refuse_doctype
    declared = ""
    with handle:
        try:
            while chunk := handle.read(1 << 16):
                parser.Parse(chunk, False)
        except _FoundCount as found:
            declared = found.args[0].strip()
        except expat.ExpatError as exc:
            raise DamagedFile(f"its part {part} is not well-formed XML ({exc})") from None
    size = package.parts[_ascii_lower(part)].file_size
    if declared.isdigit() and int(declared) > min(limits.max_cells, size // 5 + 1):
        raise DamagedFile(f"its shared strings claim {int(declared):,} strings, far more than the part holds")


def _refuse_doctype(*_: object) -> None:
    raise DamagedFile("a sheet part declares a DOCTYPE, which no spreadsheet writes")
