"""Workbooks made byte by byte, for the shapes xlsxwriter cannot make: formulas saved without a result, cells
far out, hidden sheets, Excel 97–2003 (.xls, BIFF8) workbooks and encrypted workbooks (OLE containers)."""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


# --- .xlsx from raw XML ---------------------------------------------------------------------------


@dataclass
class XmlSheet:
    """A worksheet written as XML: `rows` maps a 1-based row number to {cell reference: cell XML}."""

    name: str
    rows: dict[int, dict[str, str]] = field(default_factory=dict)
    state: str = ""  # "", "hidden" or "veryHidden"
    dimension: str = ""

    def text(self, ref: str, value: str) -> XmlSheet:
        return self._put(ref, f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')

    def number(self, ref: str, value: float) -> XmlSheet:
        return self._put(ref, f'<c r="{ref}"><v>{value}</v></c>')

    def formula(self, ref: str, formula: str, cached: str | None = None) -> XmlSheet:
        result = "" if cached is None else f"<v>{cached}</v>"
        return self._put(ref, f'<c r="{ref}"><f>{escape(formula)}</f>{result}</c>')

    def row(self, number: int, values: list[object]) -> XmlSheet:
        for index, value in enumerate(values):
            ref = f"{column_letters(index)}{number}"
            if isinstance(value, int | float):
                self.number(ref, value)
            elif value:
                self.text(ref, str(value))
        return self

    def _put(self, ref: str, xml: str) -> XmlSheet:
        number = int("".join(ch for ch in ref if ch.isdigit()))
        self.rows.setdefault(number, {})[ref] = xml
        return self

    def xml(self) -> str:
        dimension = f'<dimension ref="{self.dimension}"/>' if self.dimension else ""
        rows = "".join(
            f'<row r="{number}">{"".join(cells.values())}</row>' for number, cells in sorted(self.rows.items())
        )
        return f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">{dimension}<sheetData>{rows}</sheetData></worksheet>'


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def xml_workbook(path: Path, sheets: list[XmlSheet]) -> Path:
    """An .xlsx holding these sheets, inline strings only (no shared strings, no styles)."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{SHEET_TYPE}"/>'
        for i in range(1, len(sheets) + 1)
    )
    entries = "".join(
        f'<sheet name="{escape(s.name)}" sheetId="{i}" r:id="rId{i}"'
        + (f' state="{s.state}"' if s.state else "")
        + "/>"
        for i, s in enumerate(sheets, start=1)
    )
    relations = "".join(
        f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            f'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_REL_NS}"><Relationship Id="rId1" '
            f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>{entries}</sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_REL_NS}">{relations}</Relationships>',
        )
        for i, sheet in enumerate(sheets, start=1):
            archive.writestr(f"xl/worksheets/sheet{i}.xml", sheet.xml())
    return path


# --- OLE containers (Compound File Binary, version 3) ---------------------------------------------

SECTOR = 512
FREE, END_OF_CHAIN, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def ole_container(streams: dict[str, bytes]) -> bytes:
    """A compound file holding these streams, each padded to 4 KiB so that none lives in the mini stream."""
    padded = {name: data.ljust(max(4096, -(-len(data) // SECTOR) * SECTOR), b"\0") for name, data in streams.items()}
    directory_sectors = -(-(len(streams) + 1) // (SECTOR // 128))
    data_sectors = sum(len(d) // SECTOR for d in padded.values())
    fat_sectors = 1
    while fat_sectors * (SECTOR // 4) < fat_sectors + directory_sectors + data_sectors:
        fat_sectors += 1
    fat = [FAT_SECTOR] * fat_sectors
    directory_start = len(fat)
    fat += [*range(directory_start + 1, directory_start + directory_sectors), END_OF_CHAIN]
    starts = {}
    for name, data in padded.items():
        starts[name] = len(fat)
        count = len(data) // SECTOR
        fat += [*range(len(fat) + 1, len(fat) + count), END_OF_CHAIN]
    fat += [FREE] * (fat_sectors * (SECTOR // 4) - len(fat))

    names = list(streams)
    entries = [_directory_entry("Root Entry", 5, END_OF_CHAIN, 0, child=1 if names else NO_STREAM)]
    for index, name in enumerate(names, start=1):
        right = index + 1 if index < len(names) else NO_STREAM
        entries.append(
            _directory_entry(
                name,
                2,
                starts[name],
                len(streams[name]) if len(streams[name]) >= 4096 else len(padded[name]),
                right=right,
            )
        )
    directory = b"".join(entries).ljust(directory_sectors * SECTOR, b"\0")
    difat = list(range(fat_sectors)) + [FREE] * (109 - fat_sectors)
    header = (
        OLE_MAGIC
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, fat_sectors, directory_start, 0, 4096, END_OF_CHAIN, 0, END_OF_CHAIN, 0)
        + struct.pack("<109I", *difat)
    )
    body = struct.pack(f"<{len(fat)}I", *fat) + directory + b"".join(padded.values())
    return header + body


def _directory_entry(
    name: str, kind: int, start: int, size: int, child: int = NO_STREAM, right: int = NO_STREAM
) -> bytes:
    encoded = (name + "\0").encode("utf-16-le")
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", NO_STREAM, right, child)
        + b"\0" * 16
        + struct.pack("<IQQ", 0, 0, 0)
        + struct.pack("<IQ", start, size)
    )


def encrypted_workbook() -> bytes:
    """What Excel writes for a password-protected .xlsx: an OLE container with the encrypted package in it."""
    return ole_container({"EncryptionInfo": b"\x04\x00\x04\x00" + b"\0" * 200, "EncryptedPackage": b"\0" * 5000})


# --- Excel 97–2003 workbooks (BIFF8 in an OLE container) ------------------------------------------


@dataclass
class BiffSheet:
    name: str
    rows: list[list[object]]
    hidden: int = 0  # 0 visible, 1 hidden, 2 very hidden
    dimensions: tuple[int, int, int, int] | None = None  # first row, last row + 1, first col, last col + 1


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _unicode(text: str, length_bytes: str) -> bytes:
    return struct.pack(length_bytes, len(text)) + b"\x01" + text.encode("utf-16-le")


def xls_workbook(sheets: list[BiffSheet], encrypted: bool = False) -> bytes:
    """An Excel 97–2003 .xls: one BIFF8 Workbook stream, strings in the shared string table (UTF-16)."""
    strings: list[str] = []
    for sheet in sheets:
        for row in sheet.rows:
            strings += [v for v in row if isinstance(v, str) and v and v not in strings]
    bof_globals = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 1997, 0, 6))
    file_pass = _record(0x002F, b"\x01\x00" + b"\0" * 52) if encrypted else b""
    codepage = _record(0x0042, struct.pack("<H", 1200))
    xfs = b"".join(_record(0x00E0, b"\0" * 20) for _ in range(16))
    sst = _record(0x00FC, struct.pack("<II", len(strings), len(strings)) + b"".join(_unicode(s, "<H") for s in strings))
    eof = _record(0x000A)
    bound_sizes = [len(_record(0x0085, struct.pack("<IBB", 0, 0, 0) + _unicode(s.name, "<B"))) for s in sheets]
    substreams = [_sheet_substream(sheet, strings) for sheet in sheets]
    offset = len(bof_globals) + len(file_pass) + len(codepage) + len(xfs) + sum(bound_sizes) + len(sst) + len(eof)
    bound = b""
    for sheet, substream in zip(sheets, substreams, strict=True):
        bound += _record(0x0085, struct.pack("<IBB", offset, sheet.hidden, 0) + _unicode(sheet.name, "<B"))
        offset += len(substream)
    stream = bof_globals + file_pass + codepage + xfs + bound + sst + eof + b"".join(substreams)
    return ole_container({"Workbook": stream})


def _sheet_substream(sheet: BiffSheet, strings: list[str]) -> bytes:
    records = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0, 1997, 0, 6))
    width = max((len(r) for r in sheet.rows), default=0)
    first_row, last_row, first_col, last_col = sheet.dimensions or (0, len(sheet.rows), 0, width)
    records += _record(0x0200, struct.pack("<IIHHH", first_row, last_row, first_col, last_col, 0))
    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            if isinstance(value, tuple):  # (row, col, number): a cell placed anywhere
                r_at, c_at, number = value
                records += _record(0x0203, struct.pack("<HHHd", r_at, c_at, 15, number))
            elif isinstance(value, int | float):
                records += _record(0x0203, struct.pack("<HHHd", r, c, 15, float(value)))
            elif value:
                records += _record(0x00FD, struct.pack("<HHHI", r, c, 15, strings.index(value)))
    return records + _record(0x000A)
