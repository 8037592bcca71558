"""The README's worked queries for analysts: every SQL block and every polars block runs on a built sample,
and each query's SQL and polars forms give the same rows."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import PROJECT_DIR

pytestmark = pytest.mark.slow
SECTION = "## Worked queries for analysts"


def section_blocks() -> tuple[str, list[tuple[str, str]]]:
    """The section's setup block (the first Python block) and its (sql, python) pairs, in order."""
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    blocks = re.findall(r"```(sql|python)\n(.*?)```", readme[start:end], flags=re.DOTALL)
    setup, rest = blocks[0], blocks[1:]
    assert setup[0] == "python" and len(rest) % 2 == 0, "blocks come as setup, then (sql, python) pairs"
    pairs = [(rest[i][1], rest[i + 1][1]) for i in range(0, len(rest), 2)]
    assert all(rest[i][0] == "sql" and rest[i + 1][0] == "python" for i in range(0, len(rest), 2))
    return setup[1], pairs


def comparable(frame: pl.DataFrame) -> list[tuple]:
    """Rows with every number as an exact Decimal of two places and dates as dates, whatever the dtypes."""

    def value(v: object) -> object:
        if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
            return Decimal(str(v)).quantize(Decimal("0.01"))
        return v.date() if hasattr(v, "date") and callable(v.date) else v

    return [tuple(value(v) for v in row) for row in frame.iter_rows()]


def test_the_section_has_the_three_queries() -> None:
    _, pairs = section_blocks()
    assert len(pairs) == 3
    sql = " ".join(s for s, _ in pairs)
    for mart in ("agg_cap_utilization", "fct_awards", "fct_disbursements"):
        assert f"marts.{mart}" in sql


@pytest.mark.parametrize("index", range(3))
def test_sql_and_polars_agree(index: int, sample_warehouse: Path) -> None:
    setup, pairs = section_blocks()
    sql, python = pairs[index]
    namespace: dict[str, object] = {}
    exec(setup.replace("demo/warehouse.duckdb", str(sample_warehouse)), namespace)  # noqa: S102 (the README's code)
    try:
        exec(python, namespace)  # noqa: S102
        from_polars = namespace["result"]
        with duckdb.connect(str(sample_warehouse), read_only=True) as con:
            from_sql = con.sql(sql).pl()
    finally:
        namespace["con"].close()
    assert isinstance(from_polars, pl.DataFrame)
    assert from_polars.columns == from_sql.columns
    assert from_sql.height > 0
    assert comparable(from_polars) == comparable(from_sql)
