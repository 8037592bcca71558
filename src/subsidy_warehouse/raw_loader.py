"""Reads the raw CSV files of the contract into the `raw` schema of a DuckDB file, as text.

Every data row of a file lands either in `raw.<entity>` (with its file name and row number) or, when
it cannot be split into the header's columns, in `raw.unreadable_rows` with the reason. Nothing is
typed here: staging models cast with care and reject what they cannot read.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from .contract import PROVENANCE_COLUMNS, RAW_FILES, RawFile
from .errors import UserFacingError


@dataclass(frozen=True)
class ParsedFile:
    """A raw file split into rows: the readable ones by contract column, the others with a reason."""

    raw_file: RawFile
    path: Path
    sha256: str
    columns: dict[str, list[str | None]]
    row_numbers: list[int]
    unreadable: list[tuple[int, str, str]]  # (row number, reason, the row as read)

    @property
    def data_rows(self) -> int:
        return len(self.row_numbers) + len(self.unreadable)


def check_raw_dir(raw_dir: Path) -> list[Path]:
    """The contract's file paths in raw_dir; raises UserFacingError naming what is missing."""
    if not raw_dir.exists():
        raise UserFacingError(f"Raw directory {raw_dir} does not exist.")
    if not raw_dir.is_dir():
        raise UserFacingError(f"{raw_dir} is not a directory; pass the folder that holds the raw CSV files.")
    missing = [f.file_name for f in RAW_FILES if not (raw_dir / f.file_name).is_file()]
    if missing:
        raise UserFacingError(f"Raw directory {raw_dir} is missing {', '.join(missing)}.")
    return [raw_dir / f.file_name for f in RAW_FILES]


def _decode(path: Path, data: bytes) -> str:
    if not data.strip():
        raise UserFacingError(f"{path} is empty; it needs at least a header row.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserFacingError(
            f"{path} is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}); "
            "save it as UTF-8 or bring it in with `subsidy load`."
        ) from None


def parse_raw_file(path: Path, raw_file: RawFile) -> ParsedFile:
    """Parse one CSV of the contract; raises UserFacingError when the file as a whole is unusable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserFacingError(f"Cannot read {path}: {exc.strerror}.") from None
    text = _decode(path, data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise UserFacingError(f"{path} has no readable header row ({exc}).") from None
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise UserFacingError(f"{path} has the column(s) {', '.join(duplicated)} more than once.")
    missing = [name for name in raw_file.columns if name not in header]
    if missing:
        raise UserFacingError(f"{path} is missing required column(s): {', '.join(missing)}.")

    positions = [header.index(name) for name in raw_file.columns]
    width = len(header)
    good_rows: list[list[str]] = []
    row_numbers: list[int] = []
    unreadable: list[tuple[int, str, str]] = []
    row_number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row_number += 1
            unreadable.append((row_number, f"CSV 格式错误：{exc}", ""))
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # a blank line holds no record
        row_number += 1
        if len(row) != width:
            unreadable.append((row_number, f"字段数为 {len(row)}，与表头的 {width} 列不一致", ",".join(row)))
            continue
        good_rows.append(row)
        row_numbers.append(row_number)

    columns: dict[str, list[str | None]] = {}
    for name, position in zip(raw_file.columns, positions, strict=True):
        columns[name] = [row[position] if row[position] != "" else None for row in good_rows]
    for name in PROVENANCE_COLUMNS:  # kept when present, so every row traces back to a bureau file
        position = header.index(name) if name in header else None
        columns[name] = [row[position] or None if position is not None else None for row in good_rows]
    return ParsedFile(
        raw_file=raw_file,
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        columns=columns,
        row_numbers=row_numbers,
        unreadable=unreadable,
    )


def parse_raw_dir(raw_dir: Path) -> list[ParsedFile]:
    """Check and parse every file of the contract, before anything is written anywhere."""
    paths = check_raw_dir(raw_dir)
    return [parse_raw_file(path, raw_file) for path, raw_file in zip(paths, RAW_FILES, strict=True)]


def write_raw_schema(con: duckdb.DuckDBPyConnection, parsed_files: list[ParsedFile]) -> None:
    """Create the `raw` schema: one all-text table per file, unreadable rows and a file register."""
    con.execute("create schema if not exists raw")
    unreadable_rows: dict[str, list] = {"source_file": [], "row_number": [], "reason": [], "raw_line": []}
    register: dict[str, list] = {"source_file": [], "entity": [], "file_sha256": [], "data_rows": []}
    for parsed in parsed_files:
        name = parsed.raw_file.file_name
        table = pa.table(
            {
                "_source_file": pa.array([name] * len(parsed.row_numbers), pa.string()),
                "_row_number": pa.array(parsed.row_numbers, pa.int64()),
                **{col: pa.array(values, pa.string()) for col, values in parsed.columns.items()},
            }
        )
        con.register("incoming", table)
        con.execute(f"create or replace table raw.{parsed.raw_file.entity} as select * from incoming")
        con.unregister("incoming")
        for row_number, reason, line in parsed.unreadable:
            unreadable_rows["source_file"].append(name)
            unreadable_rows["row_number"].append(row_number)
            unreadable_rows["reason"].append(reason)
            unreadable_rows["raw_line"].append(line)
        register["source_file"].append(name)
        register["entity"].append(parsed.raw_file.entity)
        register["file_sha256"].append(parsed.sha256)
        register["data_rows"].append(parsed.data_rows)
    for table_name, columns, types in (
        ("unreadable_rows", unreadable_rows, [pa.string(), pa.int64(), pa.string(), pa.string()]),
        ("files", register, [pa.string(), pa.string(), pa.string(), pa.int64()]),
    ):
        arrow = pa.table({k: pa.array(v, t) for (k, v), t in zip(columns.items(), types, strict=True)})
        con.register("incoming", arrow)
        con.execute(f"create or replace table raw.{table_name} as select * from incoming")
        con.unregister("incoming")
