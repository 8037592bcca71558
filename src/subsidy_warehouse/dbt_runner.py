"""Runs dbt in this process, keeping its parse between runs.

dbt parses the whole project before every command (≈ 6 s here); with its target folder kept between runs it
re-parses only what changed (`partial_parse.msgpack`). Partial parsing holds only while the connection
profile is the same, so dbt is pointed at the warehouse by file name, from inside the warehouse's folder:
every build of `warehouse.duckdb`, wherever it is written, reuses the same parse. A second dbt run while
the cache is in use parses into a private folder instead of waiting.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from . import progress
from .locks import exclusive_lock
from .paths import project_dir

T = TypeVar("T")
OFFLINE_ENVIRONMENT = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}


@dataclass(frozen=True)
class DbtRun:
    """What a dbt command did: whether it succeeded, the error that stopped it, its run results."""

    success: bool
    error: str | None
    results: list[dict] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

    def failed_nodes(self) -> list[str]:
        """'node: first line of its message' for each node that failed or errored."""
        return [
            f"{r['unique_id']}: {(r.get('message') or r['status']).strip().splitlines()[0]}"
            for r in self.results
            if r.get("status") in ("error", "fail", "runtime error")
        ]


def dbt_threads() -> int:
    """Models run one at a time on a small machine: each DuckDB query already uses every core, and two
    heavy queries on two cores only fight. SUBSIDY_DBT_THREADS overrides."""
    configured = os.environ.get("SUBSIDY_DBT_THREADS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, (os.cpu_count() or 1) // 4)


PARSE_CACHE_SLOTS = 4  # concurrent runs (two audits, a build and a test session) each keep a warm cache


@contextlib.contextmanager
def parse_cache(target: str) -> Iterator[Path]:
    """A dbt target folder for `target`, kept between runs (under SUBSIDY_DBT_CACHE, default the project's
    target/): the first of PARSE_CACHE_SLOTS folders no other run holds, else a private one (also when the
    project is read-only: it parses every time)."""
    root = Path(os.environ.get("SUBSIDY_DBT_CACHE") or project_dir() / "target")
    for slot in range(PARSE_CACHE_SLOTS):
        cache = root / (f"dbt-{target}" if slot == 0 else f"dbt-{target}-{slot + 1}")
        with exclusive_lock(cache / ".lock") as held:
            if held:
                yield cache
                return
    with tempfile.TemporaryDirectory(prefix="subsidy-dbt-") as private:
        yield Path(private)


@contextlib.contextmanager
def inside(folder: Path, environment: dict[str, str]) -> Iterator[None]:
    """Run with `folder` as working directory and `environment` set, restoring both afterwards."""
    previous_dir = Path.cwd()
    previous_env = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous_dir)
        for key, value in previous_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def release_duckdb() -> None:
    """Close the database dbt-duckdb keeps open after a run (it only drops its reference), so that this
    process can open the file again with other settings (the audit's sandbox) or replace it."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if environment is not None:
        environment.close()


class NodeProgress:
    """A dbt event callback that tells the current progress reporter how many nodes are done out of the
    total and which one just finished. dbt's LogStartLine carries the total; NodeExecuting starts a node that
    counts in it (NodeStart and NodeFinished also come for nodes that are only compiled)."""

    def __init__(self) -> None:
        self.total = 0
        self.started: set[str] = set()
        self.finished: set[str] = set()

    def __call__(self, event) -> None:  # dbt's EventMsg
        name = event.info.name
        if name == "FoundStats":  # the project is parsed (seconds, or a minute when the models changed)
            progress.current().step(f"dbt 已解析 parsed: {event.data.stat_line}")
        elif name == "LogStartLine":
            self.total = max(self.total, event.data.total)
        elif name == "NodeExecuting":
            self.started.add(event.data.node_info.unique_id)
            if self.total:
                total = max(self.total, len(self.started))
                progress.current().nodes(len(self.finished), total, event.data.node_info.node_name, running=True)
        elif name == "NodeFinished" and self.total and event.data.node_info.unique_id in self.started:
            # (a command that only compiles, such as docs generate, announces no total: nothing to count)
            self.finished.add(event.data.node_info.unique_id)
            total = max(self.total, len(self.started))
            progress.current().nodes(len(self.finished), total, event.data.node_info.node_name)


def run_dbt(
    args: list[str],
    warehouse: Path,
    log_dir: Path,
    target: str = "duckdb",
    with_manifest: bool = False,
    copy_out: dict[str, Path] | None = None,
    environment: dict[str, str] | None = None,
) -> DbtRun:
    """Run one dbt command (e.g. ["build", "--exclude", "tag:audit_rule"]) on `warehouse` with profile
    target `target`, `environment` set (a PostgreSQL target's connection, engines.dsn_environment); dbt's
    log goes to log_dir, nothing to the console. `copy_out` copies files dbt wrote in its target folder
    ({name: destination}) before another run can replace them."""
    from dbt.cli.main import dbtRunner  # dbt takes a second to import: only when dbt runs

    project = project_dir()
    environment = {
        **OFFLINE_ENVIRONMENT,
        **(environment or {}),
        "SUBSIDY_WAREHOUSE": warehouse.name,
        "DBT_PROFILES_DIR": str(project),
    }
    with parse_cache(target) as target_dir, inside(warehouse.parent, environment):
        results_file = target_dir / "run_results.json"
        results_file.unlink(missing_ok=True)  # never read an earlier run's results as this one's
        outcome = dbtRunner(callbacks=[NodeProgress()]).invoke([
            *args,
            "--target", target,
            "--project-dir", str(project),
            "--profiles-dir", str(project),
            "--target-path", str(target_dir),
            "--log-path", str(log_dir),
            "--threads", str(dbt_threads()),
            "--log-level", "none",
            "--log-level-file", "info",
        ])  # fmt: skip
        if target.startswith("duckdb"):
            release_duckdb()
        results = json.loads(results_file.read_text(encoding="utf-8"))["results"] if results_file.exists() else []
        manifest_file = target_dir / "manifest.json"
        manifest = (
            json.loads(manifest_file.read_text(encoding="utf-8")) if with_manifest and manifest_file.exists() else {}
        )
        for name, destination in (copy_out or {}).items():
            if (target_dir / name).is_file():
                shutil.copyfile(target_dir / name, destination)
    error = None if outcome.exception is None else str(outcome.exception).strip().splitlines()[0]
    return DbtRun(success=outcome.success, error=error, results=results, manifest=manifest)


def compiled_once(name: str, warehouse: Path, compile_sql: Callable[[], T]) -> T:
    """What `compile_sql` takes from dbt's compiled SQL (JSON-able), kept in the dbt cache folder per version of
    the code and warehouse file name (compiled SQL names the database after the file); dbt compiles anew
    only when either changed. A cache that cannot be written only costs the next run a compile."""
    from .build import code_fingerprint  # build runs dbt through this module

    cache = Path(os.environ.get("SUBSIDY_DBT_CACHE") or project_dir() / "target") / f"compiled-{name}-{warehouse.stem}.json"
    code = code_fingerprint()
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        stored = json.loads(cache.read_text(encoding="utf-8"))
        if stored["code"] == code:
            return stored["value"]
    value = compile_sql()
    with contextlib.suppress(OSError):
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(f".{cache.name}.{os.getpid()}")
        partial.write_text(json.dumps({"code": code, "value": value}, ensure_ascii=False), encoding="utf-8")
        partial.replace(cache)  # readers see the whole file or none
    return value
