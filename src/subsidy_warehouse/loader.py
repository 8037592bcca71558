"""`subsidy load`: turn the files bureaus send (.xlsx, .xls, GBK or UTF-8 CSV, Chinese headers, 万元, Chinese
dates, total rows) into the raw contract, appending to the raw files of a folder.

Every load is recorded in `load_manifest.csv`; the same bytes are never loaded twice; a corrected re-issue
(same file name, new content) replaces the rows of the version it supersedes, which stays in the manifest
and in `loaded/`. A value the loader cannot read is written as it was, so the next build rejects the row
with its reason; a file it cannot read at all is refused whole, and nothing from it is written. Sheets that
are not data (hidden, instructions, empty) are skipped, each with a manifest row saying why; every other row
of a loaded sheet is either written or counted as a total row.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path

import yaml

from . import progress
from .bureau_files import Sheet, read_sheets
from .contract import PROVENANCE_COLUMNS, RAW_FILES, RawFile
from .errors import UserFacingError, quoted
from .identifiers import fold_identifier, normalise_beneficiary_id
from .ooxml_files import SheetLimits
from .paths import project_dir

MANIFEST_COLUMNS = (
    "load_id", "file_name", "file_sha256", "sheet", "kind", "rows_read", "rows_accepted", "rows_with_problems",
    "total_rows_skipped", "loaded_at", "loaded_by", "status", "superseded_by", "note",
)  # fmt: skip
MONEY_COLUMNS = {"requested_amount", "approved_amount", "base_amount", "loan_principal", "amount"}
DATE_COLUMNS = {"applied_on", "approved_on", "loan_start_on", "loan_end_on", "paid_on", "registered_on"}
CODE_COLUMNS = {"status", "kind", "beneficiary_type", "id_type"}
ID_COLUMNS = {"beneficiary_id", "application_id", "disbursement_id", "project_id", "voucher_no"}
EXCEL_EPOCH = date(1899, 12, 30)
CHINESE_NUMERALS = {"一": "1", "二": "2", "三": "3", "四": "4", "五": "5"}
HEADER_SEARCH_ROWS = 20
BRACKETS = str.maketrans({"【": "[", "】": "]", "〔": "[", "〕": "]"})
MAX_CELLS_NAMED = 5


def _fold(text: str) -> str:
    """Full-width to half-width, no spaces: for ids, numbers, codes and header names."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _alternatives(words: list[str]) -> str:
    """A regex alternation of folded words, longest first so that 万元 is tried before 元."""
    folded = sorted({_fold(str(w)).lower() for w in words}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in folded)


@dataclass(frozen=True)
class TotalRowRule:
    """Tells a total row from a record by the whole row (see total_rows in config/bureau_headers.yml)."""

    marker: re.Pattern[str]
    number: re.Pattern[str]
    placeholders: frozenset[str]

    @classmethod
    def from_config(cls, data: dict[str, list[str]], units: dict[str, Decimal]) -> TotalRowRule:
        markers, counts = _alternatives(data["markers"]), _alternatives(data["count_words"])
        count = rf"共?计?\d+(?:{counts})"
        marker = re.compile(rf"(?:{markers}):?(?:\(?{count}\)?|\d+)?|{count}")
        number = re.compile(rf"[-+]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)%?(?:{_alternatives(list(units))})?")
        return cls(marker, number, frozenset(_fold(p).lower() for p in data["placeholders"]))

    def is_total_row(self, cells: list[str], id_positions: set[int]) -> bool:
        marked = False
        for position, text in enumerate(cells):
            folded = _fold(text).lower()
            if not folded:
                continue
            if self.marker.fullmatch(folded):
                marked = True
            elif position in id_positions:
                return False  # a real id: a record, whatever the rest of the row says
            elif not (self.number.fullmatch(folded) or folded in self.placeholders):
                return False
        return marked


@dataclass(frozen=True)
class HeaderConfig:
    columns: dict[str, dict[str, list[str]]]
    required: dict[str, list[str]]
    codes: dict[str, dict[str, str]]
    units: dict[str, Decimal]
    unit_labels: list[str]
    total_rows: TotalRowRule
    instruction_sheets: list[str]
    limits: SheetLimits

    @classmethod
    def read(cls, path: Path | None = None) -> HeaderConfig:
        path = path or project_dir() / "config" / "bureau_headers.yml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        units = {_fold(str(unit)).lower(): Decimal(str(value)) for unit, value in data["units"].items()}
        return cls(
            data["columns"], data["required"], data["codes"], units, data["unit_labels"],
            TotalRowRule.from_config(data["total_rows"], units),
            [_fold(name).lower() for name in data["instruction_sheets"]], SheetLimits(**data["sheet_limits"]),
        )  # fmt: skip

    @cached_property
    def unit_in_brackets(self) -> re.Pattern[str]:
        """The content of a header's unit bracket: 万元, 单位:万元, 金额单位：元."""
        return re.compile(rf"(?:(?:{_alternatives(self.unit_labels)}):?)?({_alternatives(list(self.units))})")

    @cached_property
    def declared_unit(self) -> re.Pattern[str]:
        """A unit declared in a title or unit row: 单位：万元 inside any text, or a cell that is only a unit."""
        units = _alternatives(list(self.units))
        labelled = rf"(?:{_alternatives(self.unit_labels)}):?({units})(?!\w)"
        return re.compile(rf"{labelled}|^[(\[]?({units})[)\]]?$")


@dataclass(frozen=True)
class ColumnPlace:
    """Where a contract column is in a sheet, and the unit its header gives (None: no unit in the header)."""

    position: int
    unit: Decimal | None = None


@dataclass(frozen=True)
class HeaderMatch:
    row: int
    kind: RawFile
    places: dict[str, ColumnPlace]
    unused: list[int]  # positions of non-empty header cells that name no column of the kind


@dataclass
class SheetLoad:
    """What one sheet of one file becomes: contract rows of one kind, and counts for the manifest."""

    file: Path
    sheet: str
    kind: RawFile
    rows: list[dict[str, str]] = field(default_factory=list)
    rows_with_problems: int = 0
    total_rows_skipped: int = 0
    note: str = ""


@dataclass(frozen=True)
class SkippedSheet:
    sheet: str
    reason: str


def _label(path: Path, sheet: str) -> str:
    return path.name + (f" [{sheet}]" if sheet else "")


# --- recognising the header and the kind ---------------------------------------------------------


def _header_key(cell: str, config: HeaderConfig) -> tuple[str, Decimal | None]:
    """('核定金额', 10000) for '核定金额（万元）': the name without its unit bracket, and the unit's value in
    yuan. Bracket content that is not a unit stays: '项目编号（申报）' → '项目编号(申报)'."""
    unit: Decimal | None = None

    def drop_unit(match: re.Match[str]) -> str:
        nonlocal unit
        found = config.unit_in_brackets.fullmatch(match.group(1))
        if not found:
            return match.group(0)
        unit = config.units[found.group(1)]
        return ""

    folded = _fold(cell).lower().translate(BRACKETS)
    return re.sub(r"[(\[]([^()\[\]]*)[)\]]", drop_unit, folded), unit


def _aliases(config: HeaderConfig, kind: RawFile) -> dict[str, set[str]]:
    return {
        column: {_header_key(name, config)[0] for name in names}
        for column, names in config.columns[kind.entity].items()
    }


def _matches(row: list[str], kind: RawFile, config: HeaderConfig) -> dict[int, list[str]]:
    """For each header cell, the contract columns of this kind it names."""
    aliases = _aliases(config, kind)
    found = {}
    for position, cell in enumerate(row):
        key = _header_key(cell, config)[0]
        columns = [column for column, names in aliases.items() if key and key in names]
        if columns:
            found[position] = columns
    return found


def _best_header(grid: list[list[str]], config: HeaderConfig) -> tuple[int, RawFile, dict[int, list[str]]] | None:
    best, best_score = None, None
    for index, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        for kind in RAW_FILES:
            found = _matches(row, kind, config)
            named = {column for columns in found.values() for column in columns}
            if len(named) < 2:
                continue
            complete = all(c in named for c in config.required[kind.entity])
            score = (complete, len(named), -index)
            if best_score is None or score > best_score:
                best, best_score = (index, kind, found), score
    return best


def _ambiguities(sheet: Sheet, row_index: int, row: list[str], found: dict[int, list[str]]) -> list[str]:
    def cell(position: int) -> str:
        return f"{sheet.cell_name(row_index, position)} ({quoted(row[position].strip(), 40)})"

    problems = [f"{cell(p)} could be any of {', '.join(columns)}" for p, columns in found.items() if len(columns) > 1]
    by_column: dict[str, list[int]] = {}
    for position, columns in found.items():
        for column in columns:
            by_column.setdefault(column, []).append(position)
    problems += [
        f"{' and '.join(cell(p) for p in positions)} {'both' if len(positions) == 2 else 'all'} name {column}"
        for column, positions in by_column.items()
        if len(positions) > 1
    ]
    return problems


def _declared_unit(path: Path, sheet: Sheet, header_row: int, config: HeaderConfig) -> Decimal | None:
    """The unit a title or unit row above the header declares (单位：万元), if any."""
    declared: dict[str, str] = {}
    for row_index, row in enumerate(sheet.rows[:header_row]):
        for position, text in enumerate(row):
            for match in config.declared_unit.finditer(_fold(text).lower().translate(BRACKETS)):
                declared.setdefault(match.group(1) or match.group(2), sheet.cell_name(row_index, position))
    if len({config.units[u] for u in declared}) > 1:
        cells = ", ".join(f"{u} in {where}" for u, where in declared.items())
        raise UserFacingError(
            f"{_label(path, sheet.name)} declares different units above its header ({cells}), so its amounts cannot be read."
        )
    return config.units[next(iter(declared))] if declared else None


def recognise(path: Path, sheet: Sheet, config: HeaderConfig) -> HeaderMatch | None:
    """The header row, kind and column places of a sheet; None when no row looks like a header. Raises
    UserFacingError when the header is ambiguous or lacks a required column."""
    label = _label(path, sheet.name)
    best = _best_header(sheet.rows, config)
    if best is None:
        return None
    index, kind, found = best
    row = sheet.rows[index]
    problems = _ambiguities(sheet, index, row, found)
    if problems:
        raise UserFacingError(
            f"{label} has an ambiguous header: {'; '.join(problems[:MAX_CELLS_NAMED])}"
            f"{f' and {len(problems) - MAX_CELLS_NAMED} more' if len(problems) > MAX_CELLS_NAMED else ''}; "
            "rename or remove cells so each column is named once."
        )
    title_unit = _declared_unit(path, sheet, index, config)
    places = {}
    for position, (column,) in found.items():
        unit = _header_key(row[position], config)[1]
        if unit is None and column in MONEY_COLUMNS:
            unit = title_unit  # a unit declared above the header applies to amounts whose header names none
        places[column] = ColumnPlace(position, unit)
    missing = [c for c in config.required[kind.entity] if c not in places]
    if missing:
        names = ", ".join(f"{config.columns[kind.entity][c][1]} ({c})" for c in missing)
        raise UserFacingError(f"{label} looks like {kind.entity} but is missing required column(s): {names}.")
    unused = [p for p, text in enumerate(row) if text.strip() and p not in found]
    return HeaderMatch(index, kind, places, unused)


def no_header_sentence(path: Path, sheet: Sheet) -> str:
    first = quoted(" | ".join(c for c in (sheet.rows[0] if sheet.rows else []) if c))
    return (
        f"{_label(path, sheet.name)}: no header row naming beneficiaries, applications or disbursements was found "
        f"(first row: {first or 'empty'})."
    )


# --- normalising values -----------------------------------------------------------------------


def normalise_money(text: str, header_unit: Decimal | None, units: dict[str, Decimal]) -> tuple[str, bool]:
    """Yuan with cents. A unit written in the cell wins over the header's (or the title's) unit."""
    folded = _fold(text).lower().replace(",", "")
    unit = header_unit if header_unit is not None else Decimal(1)
    for word in sorted(units, key=len, reverse=True):
        if folded.endswith(word):
            unit, folded = units[word], folded[: -len(word)]
            break
    try:
        value = Decimal(folded) * unit
        if not value.is_finite():
            return text.strip(), False
        cents = value.quantize(Decimal("0.01"))
    except InvalidOperation:
        return text.strip(), False
    if value == cents:
        return f"{cents}", True
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


def normalise_value(column: str, text: str, unit: Decimal | None, config: HeaderConfig) -> tuple[str, bool]:
    """The contract's text for one cell, and whether it could be read."""
    if not text.strip():
        return "", True
    if column in MONEY_COLUMNS:
        return normalise_money(text, unit, config.units)
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
    if column == "beneficiary_id":  # the same normalisation the staging models apply to raw files
        return normalise_beneficiary_id(text), True
    if column in ID_COLUMNS:
        return fold_identifier(text), True
    return text.strip(), True


# --- reading a sheet ------------------------------------------------------------------------------


def _uncalculated_cells(sheet: Sheet, row_index: int, places: dict[str, ColumnPlace]) -> list[str]:
    return [
        sheet.cell_name(row_index, place.position)
        for place in places.values()
        if (row_index, sheet.first_column + place.position) in sheet.uncalculated
    ]


def _refuse_uncalculated(path: Path, sheet: Sheet, cells: list[str]) -> None:
    """A formula saved without its result has no value to load, and a wrong id or name would pass the build,
    so the file is refused (one save in Excel or WPS calculates it) rather than any cell flagged."""
    named = ", ".join(cells[:MAX_CELLS_NAMED])
    if len(cells) > MAX_CELLS_NAMED:
        named += f" and {len(cells) - MAX_CELLS_NAMED} more"
    what = "cell {} holds a formula" if len(cells) == 1 else "cells {} hold formulas"
    raise UserFacingError(
        f"{_label(path, sheet.name)}: {what.format(named)} saved without a result (the program that wrote the file "
        "did not calculate it), so open the file in Excel or WPS, let it calculate and save it again."
    )


def read_sheet(path: Path, sheet: Sheet, header: HeaderMatch, config: HeaderConfig) -> SheetLoad:
    load = SheetLoad(path, sheet.name, header.kind)
    if header.unused:
        cells = ", ".join(
            f"{sheet.cell_name(header.row, p)} ({sheet.rows[header.row][p].strip()})" for p in header.unused
        )
        load.note = f"header cells not loaded: {cells}"
    id_positions = {place.position for column, place in header.places.items() if column in ID_COLUMNS}
    uncalculated: list[str] = []
    for row_index in range(header.row + 1, len(sheet.rows)):
        cells = [c.strip() for c in sheet.rows[row_index]]
        if not any(cells):
            continue
        if config.total_rows.is_total_row(cells, id_positions):
            load.total_rows_skipped += 1
            continue
        uncalculated += _uncalculated_cells(sheet, row_index, header.places)
        record = {"origin_file": path.name, "origin_sheet": sheet.name, "origin_row": str(row_index + 1)}
        problems = False
        for column in header.kind.columns:
            place = header.places.get(column)
            text = cells[place.position] if place and place.position < len(cells) else ""
            record[column], ok = normalise_value(column, text, place.unit if place else None, config)
            problems |= not ok
        load.rows.append(record)
        load.rows_with_problems += problems
    if uncalculated:
        _refuse_uncalculated(path, sheet, uncalculated)
    return load


def _is_instruction_sheet(name: str, config: HeaderConfig) -> bool:
    folded = _fold(name).lower()
    return bool(folded) and any(folded.startswith(prefix) for prefix in config.instruction_sheets)


def plan_file(path: Path, config: HeaderConfig) -> list[SheetLoad | SkippedSheet]:
    """Every sheet of a file, loaded or skipped with its reason; raises UserFacingError to refuse the file."""
    plans: list[SheetLoad | SkippedSheet | Sheet] = []
    for sheet in read_sheets(path, config.limits):
        if sheet.skip_reason:
            plans.append(SkippedSheet(sheet.name, sheet.skip_reason))
        elif not any(any(c.strip() for c in row) for row in sheet.rows):
            plans.append(SkippedSheet(sheet.name, "empty sheet"))
        elif _is_instruction_sheet(sheet.name, config):
            plans.append(SkippedSheet(sheet.name, "instructions sheet, named like 填表说明"))
        elif (header := recognise(path, sheet, config)) is None:
            plans.append(sheet)  # no header: skipped only if another sheet has one
        else:
            plans.append(read_sheet(path, sheet, header, config))
    headerless = [p for p in plans if isinstance(p, Sheet)]
    if not any(isinstance(p, SheetLoad) for p in plans):
        if headerless:
            raise UserFacingError(no_header_sentence(path, headerless[0]))
        skipped = "; ".join(
            f"[{p.sheet}] {p.reason}" if p.sheet else p.reason for p in plans if isinstance(p, SkippedSheet)
        )
        raise UserFacingError(f"{path.name} has no sheet to load ({skipped or 'no sheets'}).")
    reason = "no header row naming beneficiaries, applications or disbursements, while another sheet has one"
    return [SkippedSheet(p.name, reason) if isinstance(p, Sheet) else p for p in plans]


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


def _skipped_manifest_row(load_id: str, path: Path, sha: str, skipped: SkippedSheet, now: datetime, user: str):
    return {
        "load_id": load_id, "file_name": path.name, "file_sha256": sha, "sheet": skipped.sheet, "kind": "",
        "rows_read": "", "rows_accepted": "", "rows_with_problems": "", "total_rows_skipped": "",
        "loaded_at": now.isoformat(timespec="seconds"), "loaded_by": user, "status": "skipped", "superseded_by": "",
        "note": skipped.reason,
    }  # fmt: skip


def load_files(files: list[Path], raw_dir: Path, config: HeaderConfig | None = None) -> list[LoadOutcome]:
    """Load bureau files into raw_dir. All files are read and checked before anything is written."""
    config = config or HeaderConfig.read()
    manifest_path = raw_dir / "load_manifest.csv"
    _, manifest = _read_csv_rows(manifest_path)
    loaded_hashes = {m["file_sha256"]: m["load_id"] for m in manifest}

    planned: list[tuple[Path, str, list[SheetLoad | SkippedSheet]]] = []
    outcomes: list[LoadOutcome] = []
    for path in files:
        sha = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        if sha and sha in loaded_hashes:
            outcomes.append(LoadOutcome(path.name, f"already loaded as {loaded_hashes[sha]}; nothing added"))
            continue
        progress.current().step(f"读取 read {path.name}")
        sheets = plan_file(path, config)
        for sheet in sheets:
            if isinstance(sheet, SheetLoad):
                progress.current().rows(_label(path, sheet.sheet), len(sheet.rows))
        planned.append((path, sha, sheets))

    now = datetime.now().astimezone()
    user = getpass.getuser()
    raw_tables = {f.entity: _read_csv_rows(raw_dir / f.file_name) for f in RAW_FILES}
    changed: set[str] = set()
    archive = raw_dir / "loaded"
    if planned:  # the first write: a --raw-dir that cannot be a folder stops the load before anything is written
        try:
            archive.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserFacingError(f"Cannot create the folder {archive}: {exc.strerror}.") from None
    for number, (path, sha, sheets) in enumerate(planned):
        for index, sheet in enumerate(sheets):
            load_id = f"L{now:%Y%m%d%H%M%S}-{sha[:8]}-{number}{index}"
            if isinstance(sheet, SkippedSheet):
                manifest.append(_skipped_manifest_row(load_id, path, sha, sheet, now, user))
                outcomes.append(LoadOutcome(_label(path, sheet.sheet), f"skipped ({sheet.reason})"))
                continue
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
                "note": sheet.note,
            })  # fmt: skip
            note = f"; supersedes {', '.join(o['load_id'] for o in superseded)}" if superseded else ""
            unused = f"; {sheet.note}" if sheet.note else ""
            outcomes.append(LoadOutcome(
                _label(path, sheet.sheet),
                f"{len(sheet.rows):,} {sheet.kind.entity} rows ({sheet.rows_with_problems} with unreadable values, "
                f"{sheet.total_rows_skipped} total rows skipped) as {load_id}{note}{unused}",
            ))  # fmt: skip
        shutil.copyfile(path, archive / f"{sha[:12]}-{path.name}")
    for entity in changed:
        columns, rows = raw_tables[entity]
        _write_csv_rows(raw_dir / f"{entity}.csv", columns, rows)
    if planned:
        _write_csv_rows(manifest_path, list(MANIFEST_COLUMNS), manifest)
    return outcomes
