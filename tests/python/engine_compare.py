"""Row-for-row comparison of two warehouses' marts and audit tables, whatever engine built them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb

COMPARED_SCHEMAS = ("marts", "audit")


def _sort_key(row: tuple) -> tuple:
    # None first, then by type name so that no two kinds are compared
    return tuple((0, "", "") if value is None else (1, type(value).__name__, value) for value in row)


def table_rows(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> tuple[list[str], list[tuple]]:
    """Column names and every row, sorted on all columns."""
    relation = con.sql(f'select * from "{schema}"."{table}"')
    return relation.columns, sorted(relation.fetchall(), key=_sort_key)


def tables_of(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] = COMPARED_SCHEMAS) -> list[tuple[str, str]]:
    return sorted(
        con.execute(
            "select schema_name, table_name from duckdb_tables() where list_contains(?, schema_name)", [list(schemas)]
        ).fetchall()
    )


def differences(expected: Path, actual: Path, schemas: tuple[str, ...] = COMPARED_SCHEMAS) -> list[str]:
    """Every difference between two DuckDB files' tables in `schemas`: missing tables, other columns, and
    rows on one side only (decimals compared exactly, with their scale; text and dates as they are)."""
    problems = []
    with duckdb.connect(str(expected), read_only=True) as left, duckdb.connect(str(actual), read_only=True) as right:
        left_tables, right_tables = tables_of(left, schemas), tables_of(right, schemas)
        if left_tables != right_tables:
            problems.append(f"tables differ: {sorted(set(left_tables) ^ set(right_tables))}")
        for schema, table in sorted(set(left_tables) & set(right_tables)):
            left_columns, left_rows = table_rows(left, schema, table)
            right_columns, right_rows = table_rows(right, schema, table)
            if left_columns != right_columns:
                problems.append(f"{schema}.{table}: columns {left_columns} != {right_columns}")
                continue
            if [_exact(r) for r in left_rows] != [_exact(r) for r in right_rows]:
                only_left = set(map(_exact, left_rows)) - set(map(_exact, right_rows))
                only_right = set(map(_exact, right_rows)) - set(map(_exact, left_rows))
                problems.append(
                    f"{schema}.{table}: {len(left_rows)} vs {len(right_rows)} rows; "
                    f"only in {expected.name}: {sorted(only_left, key=_sort_key)[:3]}; "
                    f"only in {actual.name}: {sorted(only_right, key=_sort_key)[:3]}"
                )
    return problems


def _exact(row: tuple) -> tuple:
    """Decimals as their text (5.0 and 5.00 differ: the scale is part of the value shown)."""
    return tuple(str(v) if isinstance(v, Decimal) else v for v in row)
