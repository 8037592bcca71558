"""dbt's target folder (its partial-parse cache) is kept between runs; concurrent runs never share one."""

from __future__ import annotations

import contextlib
from pathlib import Path

from subsidy_warehouse.dbt_runner import PARSE_CACHE_SLOTS, parse_cache


def test_concurrent_runs_each_get_their_own_kept_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SUBSIDY_DBT_CACHE", str(tmp_path))
    with contextlib.ExitStack() as runs:
        held = [runs.enter_context(parse_cache("duckdb")) for _ in range(PARSE_CACHE_SLOTS + 1)]
        kept, private = held[:-1], held[-1]
        assert kept[0] == tmp_path / "dbt-duckdb"
        assert len(set(kept)) == PARSE_CACHE_SLOTS and all(folder.parent == tmp_path for folder in kept)
        assert private.parent != tmp_path  # every slot busy: a private folder, removed afterwards
    assert not private.exists()
    with parse_cache("duckdb") as again:  # the slots are free again: the first one, with its cache, is reused
        assert again == tmp_path / "dbt-duckdb"
    with parse_cache("postgres") as other:
        assert other == tmp_path / "dbt-postgres"
