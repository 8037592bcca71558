"""Shared fixtures: the CLI as a subprocess, and warehouses built from real files by a real dbt build.

The builds that several modules read (the generated sample, the golden fixtures, the hostile corpus) are built
once per test run, whatever the number of xdist workers (`built_once`), and each module gets its own copy of
the files: a test may change its copy, never another module's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from helpers import GOLDEN_RAW, build_into, built_once, copy_build, run_cli

# xdist runs modules whole on one worker, in collection order when the scheduler does not reorder them
# (`--no-loadscope-reorder`, Makefile): the longest modules start first, the short ones fill in at the end.
LONGEST_FIRST = [
    "test_dashboards.py",
    "test_engines_postgres.py",
    "test_audit.py",
    "test_query.py",
    "test_golden.py",
    "test_daily_load.py",
    "test_daily_load_in_place.py",
    "test_loader.py",
    "test_hostile_cli.py",
    "test_progress.py",
    "test_hostile_build.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the others keep their order


def _make_sample(folder: Path) -> None:
    run_cli("generate", "--out", str(folder / "raw"), "--seed", "7", check=True)
    build_into(folder / "raw", folder)  # piped: test_progress reads its progress lines


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated sample (seed 7) and its build, once per run: raw/, warehouse.duckdb, build.stdout/stderr."""
    return built_once(tmp_path_factory, "sample", _make_sample)


@pytest.fixture(scope="session")
def sample_raw_dir(sample_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "raw"
    shutil.copytree(sample_build / "raw", out)
    return out


@pytest.fixture(scope="session")
def sample_warehouse(sample_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_build(sample_build, tmp_path_factory.mktemp("warehouse"))


@pytest.fixture()
def sample_con(sample_warehouse: Path):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def golden_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/fixtures/golden_raw built once per run with --quiet (test_progress reads that it printed no
    progress): warehouse.duckdb, build.stdout/stderr. Tests copy it (copy_build) before changing it."""
    return built_once(tmp_path_factory, "golden", lambda folder: build_into(GOLDEN_RAW, folder, "--quiet"))


@pytest.fixture(scope="session")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile corpus (tests/hostile/corpus.py) written to raw/ and built once per run."""
    from corpus import write_corpus

    def make(folder: Path) -> None:
        write_corpus(folder / "raw")
        build_into(folder / "raw", folder)

    return built_once(tmp_path_factory, "hostile", make)


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """A real PostgreSQL 15 server for the session (pg_server.py), stopped at the end."""
    from pg_server import postgres_server

    with postgres_server() as dsn:
        yield dsn
