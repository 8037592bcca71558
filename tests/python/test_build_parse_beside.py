"""A build of large raw files parses dbt's project in a second thread while it reads them (build.py,
ParseInBackground). Here the threshold is lowered so that the golden files take that path, in this process."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from helpers import GOLDEN_RAW

from subsidy_warehouse import build
from subsidy_warehouse.errors import UserFacingError

AWARDS = "select * from marts.fct_awards order by application_id"


@pytest.mark.slow
def test_parse_beside_the_raw_reading_builds_the_same_and_an_error_waits_for_nothing(
    tmp_path: Path, golden_build: Path, monkeypatch
) -> None:
    monkeypatch.setattr(build, "PARSE_BESIDE_RAW_BYTES", 0)
    broken = tmp_path / "broken"
    shutil.copytree(GOLDEN_RAW, broken)
    (broken / "disbursements.csv").write_bytes(b"")
    with pytest.raises(UserFacingError, match="disbursements.csv is empty"):
        build.build_warehouse(broken, tmp_path / "w" / "warehouse.duckdb")
    assert list((tmp_path / "w").iterdir()) == []  # no partial build left behind
    # the next build in this process, while the failed build's parse may still run, waits its turn for dbt
    result = build.build_warehouse(GOLDEN_RAW, tmp_path / "w" / "warehouse.duckdb")
    assert result.mode == "full"
    with duckdb.connect(str(result.warehouse), read_only=True) as con:
        built = con.execute(AWARDS).fetchall()
    with duckdb.connect(str(golden_build / "warehouse.duckdb"), read_only=True) as con:
        assert built == con.execute(AWARDS).fetchall() and built  # as the CLI built it, parsing in its own run
