"""Read-only SQL on a warehouse, for analysts."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import duckdb
import polars as pl

from .errors import UserFacingError


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def open_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Open a warehouse read-only; raises UserFacingError with the reason when it cannot."""
    if not warehouse.exists():
        raise UserFacingError(f"Warehouse {warehouse} does not exist; build it first with `subsidy build`.")
    if warehouse.is_dir():
        raise UserFacingError(f"Warehouse path {warehouse} is a directory, not a DuckDB file.")
    if warehouse.stat().st_size == 0:
        raise UserFacingError(f"Warehouse {warehouse} is an empty file, not a DuckDB warehouse.")
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            raise UserFacingError(f"Warehouse {warehouse} is locked by another process that is writing it.") from None
        raise UserFacingError(f"{warehouse} is not a DuckDB warehouse ({message.splitlines()[0]}).") from None
    except duckdb.Error as exc:
        raise UserFacingError(f"{warehouse} is not a DuckDB warehouse ({str(exc).splitlines()[0]}).") from None


def run_query(warehouse: Path, sql: str) -> pl.DataFrame:
    """Run one read-only statement and return its rows as a polars frame."""
    if not sql.strip():
        raise UserFacingError('The query is empty; pass a SQL statement such as "select * from marts.fct_awards".')
    with open_read_only(warehouse) as con:
        try:
            relation = con.sql(sql)
        except duckdb.Error as exc:
            raise UserFacingError(f"Query failed: {str(exc).splitlines()[0]}") from None
        if relation is None:
            return pl.DataFrame()
        return relation.pl()


def render(frame: pl.DataFrame, output_format: OutputFormat) -> str:
    if output_format is OutputFormat.csv:
        return frame.write_csv()
    if output_format is OutputFormat.json:
        return frame.write_json()
    with pl.Config(tbl_rows=200, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200, tbl_hide_dataframe_shape=False):
        return str(frame)
