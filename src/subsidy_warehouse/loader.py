"""`subsidy load`: turn the files bureaus send (.xlsx, GBK or UTF-8 CSV, Chinese headers, 万元, Chinese
dates, total rows) into the raw contract, appending to the raw files of a folder.

Every load is recorded in `load_manifest.csv`; the same bytes are never loaded twice; a corrected re-issue
(same file name, new content) replaces the rows of the version it supersedes, which stays in the manifest
and in `loaded/`. A value the loader cannot read is written as it was, so the next build rejects the row
with its reason; a file it cannot read at all is refused whole, and nothing from it is written.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from .contract import PROVENANCE_COLUMNS, RAW_FILES, RawFile
from .errors import UserFacingError
from .paths import project_dir

MANIFEST_COLUMNS = (
    "load_id", "file_name", "file_sha256", "sheet", "kind", "rows_read", "rows_accepted", "rows_with_problems",
    "total_rows_skipped", "loaded_at", "loaded_by", "status", "superseded_by",
)  # fmt: skip
MONEY_COLUMNS = {"requested_amount", "approved_amount", "base_amount", "loan_principal", "amount"}
DATE_COLUMNS = {"applied_on", "approved_on", "loan_start_on", "loan_end_on", "paid_on", "registered_on"}
CODE_COLUMNS = {"status", "kind", "beneficiary_type", "id_type"}
ID_COLUMNS = {"beneficiary_id", "application_id", "disbursement_id", "project_id", "voucher_no"}
EXCEL_EPOCH = date(1899, 12, 30)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # password-protected .xlsx files are OLE containers
CHINESE_NUMERALS = {"一": "1", "二": "2", "三": "3", "四": "4", "五": "5"}


@dataclass(frozen=True)
class HeaderConfig:
    columns: dict[str, dict[str, list[str]]]
    required: dict[str, list[str]]
    codes: dict[str, dict[str, str]]
    total_row_markers: list[str]

    @classmethod
    def read(cls, path: Path | None = None) -> HeaderConfig:
        path = path or project_dir() / "config" / "bureau_headers.yml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(data["columns"], data["required"], data["codes"], data["total_row_markers"])


@dataclass
class SheetLoad:
    """What one sheet of one file becomes: contract rows of one kind, and counts for the manifest."""

    file: Path
    sheet: str
    kind: RawFile
    rows: list[dict[str, str]] = field(default_factory=list)
    rows_with_problems: int = 0
    total_rows_skipped: int = 0


def _fold(text: str) -> str:
    """Full-width to half-width, no spaces: for ids, numbers, codes and header names."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _header_key(cell: str) -> tuple[str, bool]:
    """('核定金额', True) for '核定金额（万元）': the name without its unit, and whether it is in 万元."""
    folded = _fold(cell).lower()
    in_wan = "万元" in folded
    return re.sub(r"\([^)]*\)", "", folded), in_wan


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- reading files into grids ------------------------------------------------------------------


def _read_csv_grid(path: Path, data: bytes) -> list[tuple[str, list[list[str]]]]:
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
    return [("", [row for row in csv.reader(io.StringIO(text, newline=""))])]


def _read_workbook_grid(path: Path, data: bytes) -> list[tuple[str, list[list[str]]]]:
    if data.startswith(OLE_MAGIC):
        raise UserFacingError(
            f"{path.name} is an encrypted (password-protected) or legacy .xls workbook; save it as .xlsx without a password."
        )
    import fastexcel

    try:
        reader = fastexcel.read_excel(data)
        sheets = []
        for name in reader.sheet_names:
            frame = reader.load_sheet(name, header_row=None, dtypes="string").to_polars()
            sheets.append((name, [[_cell_text(v) for v in row] for row in frame.iter_rows()]))
    except Exception as exc:  # fastexcel raises its own error types for damaged workbooks
        raise UserFacingError(f"{path.name} cannot be read as a workbook ({str(exc).splitlines()[0]}).") from None
    return sheets


def read_grids(path: Path) -> list[tuple[str, list[list[str]]]]:
    if not path.is_file():
        raise UserFacingError(f"{path} does not exist.")
    data = path.read_bytes()
    if not data.strip():
        raise UserFacingError(f"{path.name} is empty.")
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return _read_workbook_grid(path, data)
    if path.suffix.lower() in (".csv", ".txt"):
        return _read_csv_grid(path, data)
    raise UserFacingError(f"{path.name}: only .xlsx and .csv files can be loaded.")


# --- recognising the header and the kind ---------------------------------------------------------


def _match_header(row: list[str], config: HeaderConfig) -> tuple[RawFile, dict[str, tuple[int, bool]]] | None:
    best: tuple[int, RawFile, dict[str, tuple[int, bool]]] | None = None
    keys = [_header_key(cell) for cell in row]
    for raw_file in RAW_FILES:
        aliases = config.columns[raw_file.entity]
        found: dict[str, tuple[int, bool]] = {}
        for column, names in aliases.items():
            wanted = {_header_key(n)[0] for n in names}
            for position, (key, in_wan) in enumerate(keys):
                if key in wanted and column not in found:
                    found[column] = (position, in_wan)
                    break
        complete = all(c in found for c in config.required[raw_file.entity])
        score = (len(found) + 100 * complete, raw_file, found)
        if best is None or score[0] > best[0]:
            best = score
    if best is None or best[0] < 2:
        return None
    return best[1], best[2]


def recognise(path: Path, sheet: str, grid: list[list[str]], config: HeaderConfig):
    """(header row index, kind, column positions) of a sheet; raises UserFacingError naming what is missing."""
    label = f"{path.name}" + (f" [{sheet}]" if sheet else "")
    candidates = []
    for index, row in enumerate(grid[:20]):
        matched = _match_header(row, config)
        if matched:
            candidates.append((len(matched[1]), index, *matched))
    if not candidates:
        first = " | ".join(c for c in (grid[0] if grid else []) if c)[:80]
        raise UserFacingError(
            f"{label}: no header row naming beneficiaries, applications or disbursements was found (first row: {first or 'empty'})."
        )
    _, index, kind, positions = max(candidates, key=lambda c: (c[0], -c[1]))
    missing = [c for c in config.required[kind.entity] if c not in positions]
    if missing:
        names = ", ".join(f"{config.columns[kind.entity][c][1]} ({c})" for c in missing)
        raise UserFacingError(f"{label} looks like {kind.entity} but is missing required column(s): {names}.")
    return index, kind, positions


# --- normalising values -----------------------------------------------------------------------


def normalise_money(text: str, in_wan: bool) -> tuple[str, bool]:
    folded = _fold(text).replace(",", "").replace("，", "")
    # a unit written in the cell wins over the header's
    unit_wan = folded.endswith(("万元", "万")) or (in_wan and not folded.endswith("元"))
    folded = re.sub(r"(万元|万|元)$", "", folded)
    try:
        value = Decimal(folded)
    except InvalidOperation:
        return text.strip(), False
    if unit_wan:
        value *= 10000
    if value == value.quantize(Decimal("0.01")):
        return f"{value.quantize(Decimal('0.01'))}", True
    return format(value.normalize(), "f"), False  # more than cents: staging rejects it, visibly


def normalise_date(text: str) -> tuple[str, bool]:
    folded = _fold(text)
    match = re.fullmatch(r"(\d{4})(?:年|/|-|\.)(\d{1,2})(?:月|/|-|\.)(\d{1,2})日?(?:\d{1,2}:\d{2}(?::\d{2})?)?", folded)
    try:
        if match:
            return date(*(int(g) for g in match.groups())).isoformat(), True
        if re.fullmatch(r"\d{5}(\.0+)?", folded) and 20000 <= float(folded) <= 80000:
            return (EXCEL_EPOCH + timedelta(days=int(float(folded)))).isoformat(), True
        return datetime.fromisoformat(folded).date().isoformat(), True
    except ValueError:
        return text.strip(), False


def normalise_value(column: str, text: str, in_wan: bool, config: HeaderConfig) -> tuple[str, bool]:
    """The contract's text for one cell, and whether it could be read."""
    if not text.strip():
        return "", True
    if column in MONEY_COLUMNS:
        return normalise_money(text, in_wan)
    if column in DATE_COLUMNS:
        return normalise_date(text)
    folded = _fold(text)
    if column in CODE_COLUMNS:
        code = config.codes.get(column, {}).get(folded, folded.lower())
        return code, True
    if column == "award_year":
        match = re.fullmatch(r"(\d{4})(年|\.0+)?", folded)
        return (match.group(1), True) if match else (text.strip(), False)
    if column == "tier":
        folded = "".join(CHINESE_NUMERALS.get(ch, ch) for ch in folded)
        match = re.fullmatch(r"第?(\d)档?", folded)
        return (match.group(1), True) if match else (text.strip(), False)
    if column == "clause_code":
        match = re.fullmatch(r"M?(\d{1,2})-(\d{1,2})", folded.upper())
        return (f"M{int(match.group(1)):02d}-{match.group(2)}", True) if match else (folded.upper(), True)
    if column in ID_COLUMNS:
        return folded.upper() if column == "beneficiary_id" else folded, True
    return text.strip(), True


def read_sheet(path: Path, sheet: str, grid: list[list[str]], config: HeaderConfig) -> SheetLoad:
    header_index, kind, positions = recognise(path, sheet, grid, config)
    load = SheetLoad(path, sheet, kind)
    for offset, row in enumerate(grid[header_index + 1 :], start=header_index + 2):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        first = next(c for c in cells if c)
        if any(_fold(first).startswith(marker) for marker in config.total_row_markers):
            load.total_rows_skipped += 1
            continue
        record = {"origin_file": path.name, "origin_sheet": sheet, "origin_row": str(offset)}
        problems = False
        for column in kind.columns:
            if column not in positions:
                record[column] = ""
                continue
            position, in_wan = positions[column]
            value, ok = normalise_value(column, cells[position] if position < len(cells) else "", in_wan, config)
            record[column] = value
            problems |= not ok
        load.rows.append(record)
        load.rows_with_problems += problems
    return load


# --- writing: raw files and the manifest ---------------------------------------------------------


def _read_csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    if not path.exists():
        return [], []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write_csv_rows(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    temporary = path.with_suffix(".csv.tmp")
    with temporary.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    temporary.replace(path)


@dataclass(frozen=True)
class LoadOutcome:
    file: str
    message: str


def load_files(files: list[Path], raw_dir: Path, config: HeaderConfig | None = None) -> list[LoadOutcome]:
    """Load bureau files into raw_dir. All files are read and checked before anything is written."""
    config = config or HeaderConfig.read()
    raw_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = raw_dir / "load_manifest.csv"
    _, manifest = _read_csv_rows(manifest_path)
    loaded_hashes = {m["file_sha256"]: m["load_id"] for m in manifest}

    planned: list[tuple[Path, str, list[SheetLoad]]] = []
    outcomes: list[LoadOutcome] = []
    for path in files:
        sha = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        if sha and sha in loaded_hashes:
            outcomes.append(LoadOutcome(path.name, f"already loaded as {loaded_hashes[sha]}; nothing added"))
            continue
        sheets = [read_sheet(path, name, grid, config) for name, grid in read_grids(path) if any(any(r) for r in grid)]
        if not sheets:
            raise UserFacingError(f"{path.name} has no sheet with data.")
        planned.append((path, sha, sheets))

    now = datetime.now().astimezone()
    user = getpass.getuser()
    raw_tables = {f.entity: _read_csv_rows(raw_dir / f.file_name) for f in RAW_FILES}
    changed: set[str] = set()
    archive = raw_dir / "loaded"
    for number, (path, sha, sheets) in enumerate(planned):
        for sheet in sheets:
            load_id = f"L{now:%Y%m%d%H%M%S}-{sha[:8]}-{number}{sheets.index(sheet)}"
            superseded = [
                m for m in manifest
                if m["file_name"] == path.name and m["sheet"] == sheet.sheet and m["status"] == "active"
            ]  # fmt: skip
            columns, rows = raw_tables[sheet.kind.entity]
            for old in superseded:
                old["status"], old["superseded_by"] = "superseded", load_id
                rows[:] = [r for r in rows if r.get("load_id") != old["load_id"]]
            for record in sheet.rows:
                record["load_id"] = load_id
            rows.extend(sheet.rows)
            wanted = [*sheet.kind.columns, *PROVENANCE_COLUMNS]
            raw_tables[sheet.kind.entity] = (columns + [c for c in wanted if c not in columns], rows)
            changed.add(sheet.kind.entity)
            manifest.append({
                "load_id": load_id, "file_name": path.name, "file_sha256": sha, "sheet": sheet.sheet,
                "kind": sheet.kind.entity, "rows_read": str(len(sheet.rows) + sheet.total_rows_skipped),
                "rows_accepted": str(len(sheet.rows) - sheet.rows_with_problems),
                "rows_with_problems": str(sheet.rows_with_problems), "total_rows_skipped": str(sheet.total_rows_skipped),
                "loaded_at": now.isoformat(timespec="seconds"), "loaded_by": user, "status": "active", "superseded_by": "",
            })  # fmt: skip
            note = f"; supersedes {', '.join(o['load_id'] for o in superseded)}" if superseded else ""
            outcomes.append(LoadOutcome(
                path.name + (f" [{sheet.sheet}]" if sheet.sheet else ""),
                f"{len(sheet.rows):,} {sheet.kind.entity} rows ({sheet.rows_with_problems} with unreadable values, "
                f"{sheet.total_rows_skipped} total rows skipped) as {load_id}{note}",
            ))  # fmt: skip
        archive.mkdir(exist_ok=True)
        shutil.copyfile(path, archive / f"{sha[:12]}-{path.name}")
    for entity in changed:
        columns, rows = raw_tables[entity]
        _write_csv_rows(raw_dir / f"{entity}.csv", columns, rows)
    if planned:
        _write_csv_rows(manifest_path, list(MANIFEST_COLUMNS), manifest)
    return outcomes
