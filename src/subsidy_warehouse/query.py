"""Read-only SQL on a warehouse, for analysts."""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path

import duckdb
import polars as pl

from .build_folders import wait_for_loads_in_place
from .errors import UserFacingError
from .exports import neutralise_text_columns

# DuckDB types polars cannot carry or write as text (also inside a list or struct); NESTED_TYPES are the ones
# CSV cannot hold
TEXT_ONLY_TYPES = re.compile(r"\b(BLOB|INTERVAL|VARIANT|BIT)\b")
NESTED_TYPES = frozenset({"list", "struct", "map", "array", "union"})


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


# DuckDB settings of every connection that reads a warehouse (the CLI, the audit, a SQL console): the
# connection sees the warehouse file and nothing else. No other file is read or written (COPY, EXPORT,
# read_csv, glob, ATTACH, profiling output), no URL is fetched, no extension is installed or loaded, and the
# configuration is locked so that no statement (SET, RESET, PRAGMA) can undo any of it. Spilling to disk is
# off because DuckDB lets even a sandboxed connection write into its temp directory (COPY ... TO there works):
# a query larger than memory fails instead, which a district's warehouse is far from.
SANDBOX_SETTINGS: dict[str, str | bool] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "temp_directory": "",
    "lock_configuration": True,
}


def duckdb_memory_limit(default: str = "3GB") -> str:
    """DuckDB's memory bound for the product's own heavy connections (a build, the audit, the reading sets, the
    dashboards' copy): SUBSIDY_MEMORY_LIMIT, else `default` (3GB keeps a build of 10M applications within 4 GB).
    dbt's connections read the same variable (profiles.yml)."""
    return os.environ.get("SUBSIDY_MEMORY_LIMIT", default)


def check_warehouse_name(warehouse: Path) -> None:
    """DuckDB names a file's catalog after its stem: a warehouse called audit.duckdb makes `audit.exceptions`
    ambiguous between the catalog and the schema, so a name taken by a schema is refused."""
    from .engines import SCHEMAS

    stem = warehouse.name.split(".")[0].lower()
    if stem in SCHEMAS:
        raise UserFacingError(
            f"A warehouse file cannot be named after one of its schemas ({warehouse.name}): "
            "DuckDB would confuse the file with the schema; choose another name such as warehouse.duckdb."
        )


def open_read_only(warehouse: Path, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open a warehouse read-only and sandboxed (SANDBOX_SETTINGS), with DuckDB's `memory_limit` when given;
    raises UserFacingError with the reason when it cannot. A daily load writing the warehouse in place is waited
    for. Every reader of a warehouse uses this, and a SQL console should too."""
    if not warehouse.exists():
        raise UserFacingError(f"Warehouse {warehouse} does not exist; build it first with `subsidy build`.")
    if warehouse.is_dir():
        raise UserFacingError(f"Warehouse path {warehouse} is a directory, not a DuckDB file.")
    if warehouse.stat().st_size == 0:
        raise UserFacingError(f"Warehouse {warehouse} is an empty file, not a DuckDB warehouse.")
    check_warehouse_name(warehouse)
    wait_for_loads_in_place(warehouse)
    config = dict(SANDBOX_SETTINGS) | ({"memory_limit": memory_limit} if memory_limit else {})
    try:
        return duckdb.connect(str(warehouse), read_only=True, config=config)
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            raise UserFacingError(f"Warehouse {warehouse} is locked by another process that is writing it.") from None
        raise UserFacingError(f"{warehouse} is not a DuckDB warehouse ({first_line(exc)}).") from None
    except duckdb.Error as exc:
        raise UserFacingError(f"{warehouse} is not a DuckDB warehouse ({first_line(exc)}).") from None


def first_line(error: Exception) -> str:
    """DuckDB's message without its multi-line context (LINE 1: ..., candidate lists)."""
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


def refusal(error: duckdb.Error) -> str:
    """One sentence for a statement DuckDB refused or could not run."""
    detail = first_line(error)
    if isinstance(error, duckdb.PermissionException):
        return (
            "Refused: `subsidy query` reads only the warehouse; it cannot read or write other files, reach the "
            f"network or install or load extensions ({detail})."
        )
    if "configuration has been locked" in detail:
        return f"Refused: `subsidy query` cannot change DuckDB settings, which are locked ({detail})."
    if "attached in read-only mode" in detail:
        return f"Refused: the warehouse is opened read-only, so nothing in it can be changed ({detail})."
    return f"Query failed: {detail}"


# The dates and instants polars can print (chrono's calendar, years -262143 to 262142; measured): DuckDB holds
# dates far beyond, and `infinity`, and polars panics printing them.
PRINTABLE_DAYS = (-96_465_292, 95_026_236)
PRINTABLE_MICROSECONDS = (-8_334_601_228_800_000_000, 8_210_266_876_799_999_999)
MICROSECONDS_PER_UNIT = {"ms": 1000, "us": 1}  # nanoseconds: every value DuckDB can hold prints


def unprintable_columns(frame: pl.DataFrame) -> set[str]:
    """The date and datetime columns of `frame` holding a value polars cannot print."""
    found = set()
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            low, high = PRINTABLE_DAYS
        elif isinstance(dtype, pl.Datetime) and dtype.time_unit in MICROSECONDS_PER_UNIT:
            low, high = (bound // MICROSECONDS_PER_UNIT[dtype.time_unit] for bound in PRINTABLE_MICROSECONDS)
        else:
            continue
        physical = frame[name].to_physical()
        if physical.null_count() < len(physical) and not (low <= physical.min() and physical.max() <= high):
            found.add(name)
    return found


def as_displayable(
    relation: duckdb.DuckDBPyRelation, flat: bool, as_text: set[str] = frozenset()
) -> duckdb.DuckDBPyRelation:
    """`relation` with the columns polars cannot carry or write (blobs, intervals, variants, bit strings; with
    `flat`, also lists, structs and maps, which CSV cannot hold; the columns named in `as_text`) turned into
    DuckDB's text of their values."""
    columns, changed = [], False
    for name, dtype in zip(relation.columns, relation.dtypes, strict=True):
        quoted = '"' + name.replace('"', '""') + '"'
        if TEXT_ONLY_TYPES.search(str(dtype).upper()) or (flat and dtype.id in NESTED_TYPES) or name in as_text:
            columns.append(f"cast({quoted} as varchar) as {quoted}")
            changed = True
        else:
            columns.append(quoted)
    return relation.project(", ".join(columns)) if changed else relation


def run_query(warehouse: Path, sql: str, flat: bool = False) -> pl.DataFrame:
    """Run one read-only statement and return its rows as a polars frame (`flat`: no nested columns)."""
    if not sql.strip():
        raise UserFacingError('The query is empty; pass a SQL statement such as "select * from marts.fct_awards".')
    with open_read_only(warehouse) as con:
        try:
            relation = con.sql(sql)
            if relation is None:
                return pl.DataFrame()
            frame = as_displayable(relation, flat).pl()
            unprintable = unprintable_columns(frame)  # rare (`infinity`): the query runs again, those columns as text
            return as_displayable(relation, flat, unprintable).pl() if unprintable else frame
        except duckdb.Error as exc:
            raise UserFacingError(refusal(exc)) from None
        except pl.exceptions.PolarsError as exc:
            raise UserFacingError(
                f"The result has a column type polars cannot read; cast it to varchar ({first_line(exc)})."
            ) from None


def render(frame: pl.DataFrame, output_format: OutputFormat) -> str:
    try:
        if output_format is OutputFormat.csv:
            # CSV is what people open in a spreadsheet: text that could run as a formula is neutralised
            return neutralise_text_columns(frame).write_csv()
        if output_format is OutputFormat.json:
            return frame.write_json()
        with pl.Config(
            tbl_rows=200, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200, tbl_hide_dataframe_shape=False
        ):
            return str(frame)
    except pl.exceptions.PolarsError as exc:
        raise UserFacingError(
            f"The result cannot be written as {output_format}; cast the column that fails to varchar "
            f"({first_line(exc)})."
        ) from None
