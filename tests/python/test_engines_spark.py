"""The same warehouse on Spark: built by `subsidy build --target spark` in a local Spark session (dbt-spark's
session method, local[*]), equal row for row to the DuckDB build of the same files. Slow (a JVM, minutes per
build): run by `make test-spark`, not by `make test`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from engine_compare import differences
from helpers import BIN, run_cli

# Spark is an extra (`uv sync --extra spark`): `make test-spark` installs it and selects these; `make test`
# deselects them by their marker (pyproject addopts), so nothing is reported as skipped
pytestmark = pytest.mark.spark
GOLDEN_RAW = Path(__file__).parents[1] / "fixtures" / "golden_raw"


def build_on_spark(raw_dir: Path, spark_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "subsidy"), "build", "--raw-dir", str(raw_dir), "--target", "spark"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SUBSIDY_SPARK_DIR": str(spark_dir), "SUBSIDY_SPARK_MASTER": "local[2]"},
    )


def spark_tables(spark_dir: Path, path: Path) -> Path:
    """The Spark build's marts and audit tables as a DuckDB file, read in a separate process (one JVM each)."""
    code = (
        "import sys; from pathlib import Path; from subsidy_warehouse.spark import snapshot_spark; "
        "snapshot_spark(Path(sys.argv[1]))"
    )
    subprocess.run(
        [str(BIN / "python"), "-c", code, str(path)],
        check=True,
        capture_output=True,
        env={**os.environ, "SUBSIDY_SPARK_DIR": str(spark_dir)},
    )
    return path


@pytest.mark.parametrize("which", ["golden", "sample"])
def test_the_same_tables_on_spark(which: str, sample_raw_dir: Path, sample_warehouse: Path, tmp_path: Path) -> None:
    if which == "golden":
        raw_dir, duckdb_build = GOLDEN_RAW, tmp_path / "golden.duckdb"
        run_cli("build", "--raw-dir", str(raw_dir), "--warehouse", str(duckdb_build), check=True)
    else:
        raw_dir, duckdb_build = sample_raw_dir, sample_warehouse
    built = build_on_spark(raw_dir, tmp_path / "spark")
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    assert "Warehouse built on Spark" in built.stdout
    assert differences(duckdb_build, spark_tables(tmp_path / "spark", tmp_path / "spark.duckdb")) == []
