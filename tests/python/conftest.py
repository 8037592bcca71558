"""Shared fixtures: the CLI as a subprocess, and warehouses built from real files by a real dbt build."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from helpers import run_cli


@pytest.fixture(scope="session")
def sample_raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "raw"
    run_cli("generate", "--out", str(out), "--seed", "7", check=True)
    return out


@pytest.fixture(scope="session")
def sample_warehouse(sample_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    run_cli("build", "--raw-dir", str(sample_raw_dir), "--warehouse", str(warehouse), check=True)
    return warehouse


@pytest.fixture()
def sample_con(sample_warehouse: Path):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """A real PostgreSQL 15 server for the session (pg_server.py), stopped at the end."""
    from pg_server import postgres_server

    with postgres_server() as dsn:
        yield dsn
