"""`subsidy query`: read-only SQL in three formats, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_cli


def test_query_formats(sample_warehouse: Path):
    sql = "select clause_code, count(*) as n from marts.fct_awards group by clause_code order by clause_code"
    as_csv = run_cli("query", sql, "-w", str(sample_warehouse), "--format", "csv", check=True).stdout
    lines = as_csv.strip().splitlines()
    assert lines[0] == "clause_code,n"
    assert lines[1].startswith("M01-1,")
    as_json = json.loads(run_cli("query", sql, "-w", str(sample_warehouse), "--format", "json", check=True).stdout)
    assert {row["clause_code"] for row in as_json} >= {"M01-1", "M11-2", "M11-4"}
    table = run_cli("query", sql, "-w", str(sample_warehouse), check=True).stdout
    assert "M11-4" in table


def test_query_is_read_only_and_errors_are_clear(sample_warehouse: Path, tmp_path: Path):
    write = run_cli("query", "delete from marts.fct_awards", "-w", str(sample_warehouse))
    assert write.returncode == 2
    assert "read-only" in write.stderr.lower()
    bad_format = run_cli("query", "select 1", "-w", str(sample_warehouse), "--format", "xml")
    assert bad_format.returncode == 2 and "--format must be one of" in bad_format.stderr
    missing = run_cli("query", "select 1", "-w", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    not_duckdb = tmp_path / "notes.duckdb"
    not_duckdb.write_text("hello")
    garbage = run_cli("query", "select 1", "-w", str(not_duckdb))
    assert garbage.returncode == 2 and "not a DuckDB warehouse" in garbage.stderr
    for completed in (write, bad_format, missing, garbage):
        assert "Traceback" not in completed.stderr
