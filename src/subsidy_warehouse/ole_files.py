"""OLE compound files: what an Excel 97–2003 .xls and a password-protected .xlsx both are.

An encrypted .xlsx is an OLE container holding the streams `EncryptionInfo` and `EncryptedPackage`; an .xls
holds a BIFF `Workbook` (or `Book`) stream. This module tells them apart and checks an .xls before calamine
(through fastexcel) reads it: calamine trusts the container's sector chains and each sheet's Dimensions record
and cell positions, and a hostile file makes it loop for ever or ask for terabytes and abort the process. So
every chain read here must end inside the file, and each sheet's size is measured from its records.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_STREAMS = {"encryptioninfo", "encryptedpackage"}
WORKBOOK_STREAMS = ("Workbook", "Book", "WORKBOOK", "BOOK")  # the order calamine looks for them in
MINI_STREAM_CUTOFF = 4096  # calamine's, whatever the header says
END_OF_CHAIN, FIRST_RESERVED_ID, DIFAT_SECTOR = 0xFFFFFFFE, 0xFFFFFFFA, 0xFFFFFFFC

BIFF_EOF, BIFF_BOF, BIFF_CODEPAGE, BIFF_FILEPASS, BIFF_BOUNDSHEET, BIFF_DIMENSIONS, BIFF_MULRK = (
    0x000A, 0x0809, 0x0042, 0x002F, 0x0085, 0x0200, 0x00BD,
)  # fmt: skip
# records calamine turns into a cell; each starts with its row and column (u16 each)
BIFF_CELL_RECORDS = {0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006}
SHEET_STATES = {0: "visible", 1: "hidden", 2: "veryHidden"}


class DamagedFile(ValueError):
    """The container or its workbook stream is not what its own headers say: refuse the file."""


@dataclass(frozen=True)
class _Entry:
    name: str
    start: int
    size: int


@dataclass
class CompoundFile:
    """The directory of an OLE compound file, with its streams readable by name."""

    data: bytes
    sector_size: int
    fat: list[int]
    entries: list[_Entry]
    mini_fat: list[int] = field(default_factory=list)
    mini_stream: bytes = b""

    @classmethod
    def parse(cls, data: bytes) -> CompoundFile:
        if len(data) < 512 or not data.startswith(OLE_MAGIC):
            raise DamagedFile("its OLE header is cut short")
        shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise DamagedFile("its OLE header gives an impossible sector size")
        sector_size = 1 << shift
        sector_count = max(0, -(-(len(data) - sector_size) // sector_size))
        fat_count, directory_start = struct.unpack_from("<II", data, 0x2C)
        mini_fat_start, mini_fat_count, difat_start = struct.unpack_from("<III", data, 0x3C)
        # each mini FAT sector maps 8 KiB of the mini stream, which lives in the file's own sectors
        if fat_count > sector_count or mini_fat_count > sector_count // 16 + 1:
            raise DamagedFile("its OLE header claims more sectors than the file holds")
        container = cls(data, sector_size, [], [])
        container.fat = container._read_fat(difat_start, sector_count)
        directory = container._chain_bytes(directory_start, container.fat, sector_size, None)
        container.entries = [_entry(directory[i : i + 128], shift) for i in range(0, len(directory) - 127, 128)]
        if not container.entries:
            raise DamagedFile("its OLE directory is empty")
        if mini_fat_count:
            root = container.entries[0]
            container.mini_stream = container._chain_bytes(root.start, container.fat, sector_size, root.size)
            mini_fat = container._chain_bytes(mini_fat_start, container.fat, sector_size, mini_fat_count * sector_size)
            container.mini_fat = list(struct.unpack(f"<{len(mini_fat) // 4}I", mini_fat[: len(mini_fat) // 4 * 4]))
        return container

    def stream_names(self) -> set[str]:
        return {entry.name for entry in self.entries}

    def read_stream(self, name: str) -> bytes:
        entry = next(e for e in self.entries if e.name == name)
        if entry.size < MINI_STREAM_CUTOFF:
            return self._chain_bytes(entry.start, self.mini_fat, 64, entry.size, self.mini_stream)
        return self._chain_bytes(entry.start, self.fat, self.sector_size, entry.size)

    def _sector(self, sector_id: int, size: int, source: bytes | None = None) -> bytes:
        if source is None:
            offset = (sector_id + 1) * size  # sector 0 starts after the header sector
            source = self.data
        else:
            offset = sector_id * size
        if offset >= len(source):
            raise DamagedFile("a sector chain of its OLE container points past the end of the file")
        return source[offset : offset + size].ljust(size, b"\0")

    def _read_fat(self, difat_start: int, sector_count: int) -> list[int]:
        fat_sectors = list(struct.unpack_from("<109I", self.data, 0x4C))
        seen: set[int] = set()
        sector_id = difat_start
        while sector_id < FIRST_RESERVED_ID:
            if sector_id in seen or len(seen) > sector_count:
                raise DamagedFile("its OLE sector table runs in a circle")
            seen.add(sector_id)
            *entries, sector_id = struct.unpack(f"<{self.sector_size // 4}I", self._sector(sector_id, self.sector_size))
            fat_sectors += entries
        fat: list[int] = []
        for sector_id in (s for s in fat_sectors if s < DIFAT_SECTOR):
            fat += struct.unpack(f"<{self.sector_size // 4}I", self._sector(sector_id, self.sector_size))
        return fat

    def _chain_bytes(
        self, start: int, table: list[int], size: int, length: int | None, source: bytes | None = None
    ) -> bytes:
        """The bytes of a sector chain, `length` long (the whole chain when None); it must end, not loop."""
        chunks: list[bytes] = []
        seen: set[int] = set()
        sector_id, total = start, 0
        while sector_id != END_OF_CHAIN and (length is None or total < length):
            if sector_id in seen or sector_id >= len(table):
                raise DamagedFile("a sector chain of its OLE container runs in a circle or off its table")
            seen.add(sector_id)
            chunks.append(self._sector(sector_id, size, source))
            total += size
            sector_id = table[sector_id]
        joined = b"".join(chunks)
        if length is not None and len(joined) < length:
            raise DamagedFile("a stream of its OLE container is shorter than its directory says")
        return joined if length is None else joined[:length]


def _entry(raw: bytes, shift: int) -> _Entry:
    name = raw[:64].decode("utf-16-le", errors="replace").split("\0", 1)[0]
    start = struct.unpack_from("<I", raw, 116)[0]
    size = struct.unpack_from("<I" if shift == 9 else "<Q", raw, 120)[0]  # version 3 files use the low half only
    return _Entry(name, start, size)


# --- the BIFF workbook stream of an .xls --------------------------------------------------------------


@dataclass
class BiffSheet:
    """What an .xls sheet's records say before calamine reads it: visibility, the cells' extent, and how
    many cells its Dimensions record makes calamine reserve."""

    name: str
    state: str
    first_row: int | None = None
    last_row: int = 0
    first_column: int = 0
    last_column: int = 0
    reserved_cells: int = 0

    def add_cell(self, row: int, column: int) -> None:
        if self.first_row is None:
            self.first_row, self.last_row, self.first_column, self.last_column = row, row, column, column
            return
        self.first_row, self.last_row = min(self.first_row, row), max(self.last_row, row)
        self.first_column, self.last_column = min(self.first_column, column), max(self.last_column, column)


@dataclass(frozen=True)
class XlsLayout:
    encrypted: bool
    sheets: list[BiffSheet]


def workbook_stream(container: CompoundFile) -> bytes | None:
    names = container.stream_names()
    chosen = next((name for name in WORKBOOK_STREAMS if name in names), None)
    return None if chosen is None else container.read_stream(chosen)


def is_encrypted_package(container: CompoundFile) -> bool:
    return bool({name.lower() for name in container.stream_names()} & ENCRYPTED_STREAMS)


def _records(stream: bytes, start: int):
    position = start
    while position + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, position)
        yield kind, stream[position + 4 : position + 4 + length]
        position += 4 + length


def read_xls_layout(stream: bytes) -> XlsLayout:
    """Sheet names, visibility and sizes of a BIFF8 (or BIFF5) workbook stream, read as calamine reads it."""
    encrypted, biff8, codepage = False, True, "cp1252"
    bound: list[tuple[int, str, str]] = []
    for kind, data in _records(stream, 0):
        if kind == BIFF_BOF and len(data) >= 2:
            biff8 = struct.unpack_from("<H", data)[0] == 0x0600
        elif kind == BIFF_CODEPAGE and len(data) >= 2:
            codepage = _codec(struct.unpack_from("<H", data)[0])
        elif kind == BIFF_FILEPASS:
            encrypted = True
        elif kind == BIFF_BOUNDSHEET and len(data) >= 7:
            offset, state = struct.unpack_from("<I", data)[0], SHEET_STATES.get(data[4] & 0x3F, "veryHidden")
            bound.append((offset, _sheet_name(data[6:], biff8, codepage), state))
        elif kind == BIFF_EOF:
            break
    sheets = []
    for offset, name, state in bound:
        if offset >= len(stream):
            raise DamagedFile("a sheet of its workbook stream starts past the end of the stream")
        sheets.append(_measure_sheet(stream, offset, name, state))
    return XlsLayout(encrypted, sheets)


def _codec(codepage: int) -> str:
    return {1200: "utf-16-le", 367: "ascii", 65001: "utf-8"}.get(codepage, f"cp{codepage}")


def _sheet_name(data: bytes, biff8: bool, codepage: str) -> str:
    """A BoundSheet's name: 8-bit in the file's code page before BIFF8; in BIFF8 Latin-1 or UTF-16 by a flag."""
    length = data[0]
    if biff8 and len(data) >= 2:
        raw, codec = (data[2 : 2 + 2 * length], "utf-16-le") if data[1] & 1 else (data[2 : 2 + length], "latin-1")
    else:
        raw, codec = data[1 : 1 + length], codepage
    try:
        return raw.decode(codec, errors="replace")
    except LookupError:
        return raw.decode("latin-1")


def _measure_sheet(stream: bytes, offset: int, name: str, state: str) -> BiffSheet:
    sheet = BiffSheet(name, state)
    depth, seen_bof = 0, False
    for kind, data in _records(stream, offset):
        if depth:  # an embedded chart's substream: calamine skips its records
            depth += {BIFF_BOF: 1, BIFF_EOF: -1}.get(kind, 0)
            continue
        if kind == BIFF_BOF:
            depth, seen_bof = (1, True) if seen_bof else (0, True)
        elif kind == BIFF_EOF:
            break
        elif kind == BIFF_DIMENSIONS:
            sheet.reserved_cells = max(sheet.reserved_cells, _dimension_cells(data))
        elif kind in BIFF_CELL_RECORDS and len(data) >= 4:
            sheet.add_cell(*struct.unpack_from("<HH", data))
        elif kind == BIFF_MULRK and len(data) >= 6:
            row, first_column = struct.unpack_from("<HH", data)
            sheet.add_cell(row, first_column)
            sheet.add_cell(row, struct.unpack_from("<H", data, len(data) - 2)[0])
    return sheet


def _dimension_cells(data: bytes) -> int:
    """How many cells calamine reserves for a Dimensions record: u32 arithmetic, so first > last wraps."""
    if len(data) == 14:
        first_row, row_after, first_col, col_after = struct.unpack_from("<IIHH", data)
    elif len(data) == 10:
        first_row, row_after, first_col, col_after = struct.unpack_from("<HHHH", data)
    else:
        return 0
    if first_col > 0xFF or col_after < first_col:
        first_col = 0
    if row_after < 1 or col_after < 1:
        return 1
    rows = (row_after - 1 - first_row + 1) % 2**32
    columns = (col_after - 1 - first_col + 1) % 2**32
    return rows * columns
