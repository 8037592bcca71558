"""dbt's target folder (its partial-parse cache) is kept between runs; concurrent runs never share one; how
many nodes run at once; the parse a build runs beside its raw reading."""

from __future__ import annotations

import contextlib
import gc
import os
from pathlib import Path

import duckdb
from helpers import GOLDEN_RAW, run_cli

from subsidy_warehouse.dbt_runner import (
    DBT_GC_THRESHOLDS,
    PARSE_CACHE_SLOTS,
    SMALL_BUILD_RECORDS,
    ParseInBackground,
    dbt_threads,
    fewer_collections,
    parse_cache,
)


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


def test_dbt_runs_with_fewer_collections_and_the_collector_is_put_back_after() -> None:
    """A process that runs dbt and goes on (a test session, a build's summary) gets its collector back as it was,
    even when the command raised."""
    before = gc.get_threshold()
    with contextlib.suppress(RuntimeError), fewer_collections():
        assert gc.get_threshold() == DBT_GC_THRESHOLDS
        assert gc.get_freeze_count() > 0  # what existed before the command is not scanned during it
        raise RuntimeError("dbt failed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0  # unfrozen: collectable again
    gc.freeze()  # a caller's own frozen heap stays frozen, and nothing made since is frozen with it
    try:
        frozen = gc.get_freeze_count()
        made_since = [[] for _ in range(1000)]
        with fewer_collections():
            pass
        # frozen objects other threads free leave the count (xdist's own threads do), so it may only fall a little
        assert 0 < gc.get_freeze_count() <= frozen, len(made_since)
    finally:
        gc.unfreeze()


def test_threads_two_for_a_small_build_one_per_four_cores_for_a_large_one(monkeypatch) -> None:
    monkeypatch.delenv("SUBSIDY_DBT_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert dbt_threads(SMALL_BUILD_RECORDS - 1) == 2
    assert dbt_threads(SMALL_BUILD_RECORDS) == 1
    assert dbt_threads() == 1  # other runs (audit, readings) than a build with its count
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert dbt_threads(10) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert (dbt_threads(10), dbt_threads(SMALL_BUILD_RECORDS)) == (2, 4)
    monkeypatch.setenv("SUBSIDY_DBT_THREADS", "3")
    assert dbt_threads(10) == dbt_threads(SMALL_BUILD_RECORDS) == 3
    monkeypatch.setenv("SUBSIDY_DBT_THREADS", "many")  # not a count: the computed choice
    assert dbt_threads(10) == 2


def test_parse_beside_a_build_sets_its_variables_first_and_keeps_the_working_folder(tmp_path: Path, monkeypatch) -> None:
    # build.py parses in a second thread while the first reads the raw files: the thread changes nothing
    monkeypatch.setenv("SUBSIDY_DBT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SUBSIDY_WAREHOUSE", raising=False)
    before = Path.cwd()
    with ParseInBackground(tmp_path / "somewhere" / "warehouse.duckdb") as parsing:
        assert os.environ["SUBSIDY_WAREHOUSE"] == "warehouse.duckdb"  # set before the thread starts
        manifest = parsing.manifest()
    assert Path.cwd() == before and "SUBSIDY_WAREHOUSE" not in os.environ
    models = {node.name for node in manifest.nodes.values() if node.resource_type == "model"}
    assert {"base_raw__applications", "fct_awards", "exceptions"} <= models
    assert all(node.database == "warehouse" for node in manifest.nodes.values() if node.resource_type == "model")
    assert not (tmp_path / "somewhere").exists()  # the warehouse is not opened, nor its folder made


def test_builds_of_differently_named_warehouses_reuse_one_parse(tmp_path: Path, monkeypatch) -> None:
    # dbt names the database after the file it builds, and a profile naming another file means a full parse, which
    # rewrites partial_parse.msgpack: each build names the file it builds alike and renames it at the swap
    monkeypatch.setenv("SUBSIDY_DBT_CACHE", str(tmp_path / "cache"))
    first, second = tmp_path / "a" / "first.duckdb", tmp_path / "b" / "second.duckdb"
    for warehouse in (first, second):
        warehouse.parent.mkdir()
    run_cli("build", "--raw-dir", str(GOLDEN_RAW), "--warehouse", str(first), check=True)
    parse = tmp_path / "cache" / "dbt-duckdb" / "partial_parse.msgpack"
    parsed_at = parse.stat().st_mtime_ns
    run_cli("build", "--raw-dir", str(GOLDEN_RAW), "--warehouse", str(second), check=True)
    assert parse.stat().st_mtime_ns == parsed_at, "the second build parsed the project anew"
    assert sorted(path.name for path in second.parent.iterdir()) == ["second.duckdb"]  # only the warehouse, renamed
    with duckdb.connect(str(second), read_only=True) as con:  # its views name no database: they read under any name
        staged = con.execute("select count(*) from staging.stg_raw__applications").fetchone()[0]
    with duckdb.connect(str(first), read_only=True) as con:
        assert con.execute("select count(*) from staging.stg_raw__applications").fetchone()[0] == staged > 0
