"""Runs dbt in this process, keeping its parse between runs.

dbt parses the whole project before every command (≈ 6 s here); with its target folder kept between runs it
re-parses only what changed (`partial_parse.msgpack`). Partial parsing holds only while the connection
profile is the same, so dbt is pointed at the warehouse by file name, from inside the warehouse's folder:
every run on a `warehouse.duckdb`, wherever it is, reuses the same parse, and every build names the file it
builds so (build_folders.WORK_FILE_NAME), whatever the warehouse's name. A second dbt run while the cache is in use
parses into a private folder instead of waiting.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import tempfile
import threading
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


# A build of fewer raw records runs two dbt nodes at once. Its queries take milliseconds, and dbt's own work
# per node (~15 ms, 160 nodes) counts: a second thread overlaps it. Measured on 2 cores, one build each way:
# 1M applications (2.2M records) build in 21 s with two threads against 23 s with one; 10M (22M records)
# in 182 s against 175 s, two heavy queries sharing the cores and the memory limit.
SMALL_BUILD_RECORDS = 5_000_000


def dbt_threads(records: int | None = None) -> int:
    """How many nodes dbt runs at once: two (on two cores or more) for a build of fewer than
    SMALL_BUILD_RECORDS raw `records`; else one per four cores, because each DuckDB query already uses
    every core and two heavy queries on two cores only fight. SUBSIDY_DBT_THREADS overrides."""
    configured = os.environ.get("SUBSIDY_DBT_THREADS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    cores = os.cpu_count() or 1
    if records is not None and records < SMALL_BUILD_RECORDS:
        return min(2, cores)
    return max(1, cores // 4)


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
def inside(folder: Path | None, environment: dict[str, str]) -> Iterator[None]:
    """Run with `folder` (if any) as working directory and `environment` set, restoring both afterwards."""
    previous_dir = Path.cwd()
    previous_env = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)
    if folder is not None:
        os.chdir(folder)
    try:
        yield
    finally:
        if folder is not None:
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


def dbt_environment(warehouse: Path, environment: dict[str, str] | None) -> dict[str, str]:
    """The variables a dbt run of `warehouse` sets: offline, `environment`, and the profile's file name."""
    return {
        **OFFLINE_ENVIRONMENT,
        **(environment or {}),
        "SUBSIDY_WAREHOUSE": warehouse.name,
        "DBT_PROFILES_DIR": str(project_dir()),
    }


def dbt_arguments(
    args: list[str], target: str, target_dir: Path, log_dir: Path, threads: int | None = None, file_log: str = "info"
) -> list[str]:
    """dbt's command line: `args`, then the project, profile target, folders, threads (dbt_threads() if
    None), a quiet console and the log file's level."""
    project = str(project_dir())
    return [
        *args,
        "--target", target,
        "--project-dir", project,
        "--profiles-dir", project,
        "--target-path", str(target_dir),
        "--log-path", str(log_dir),
        "--threads", str(threads or dbt_threads()),
        "--log-level", "none",
        "--log-level-file", file_log,
    ]  # fmt: skip


# dbt keeps its flags, event logger and adapters in process globals: one dbt command at a time per process
ONE_DBT_COMMAND = threading.Lock()

# A dbt command makes millions of short-lived objects (Jinja, events, result tables) beside a large manifest. At
# Python's default thresholds a golden build ran 1,400 collections of the cyclic garbage collector, 0.9 s of work
# holding Python's lock in a 7 s build; with these and the heap frozen, 150 collections and 0.3 s.
DBT_GC_THRESHOLDS = (50_000, 20, 100)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """The garbage collector runs rarely while dbt works: what exists when it starts (modules, a parsed
    manifest) is frozen, never scanned again, and young objects are collected in larger batches. Both are
    undone on leaving (a heap the caller had frozen is left to it). Entered under ONE_DBT_COMMAND, so two
    commands never interleave the settings."""
    thresholds = gc.get_threshold()
    freezing = gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    gc.set_threshold(*DBT_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if freezing:
            gc.unfreeze()


def parse_project(target: str = "duckdb") -> object | None:
    """dbt's manifest of the project (for run_dbt's `manifest`), parsed partially from the cache when nothing
    changed, for the warehouse whose variables (dbt_environment) the caller has set; None when the project
    does not parse (the run then parses and says why). It neither opens the warehouse nor changes the
    working directory or the environment, and writes only in the cache folder."""
    with ONE_DBT_COMMAND, fewer_collections(), parse_cache(target) as target_dir:
        from dbt.cli.main import dbtRunner

        outcome = dbtRunner().invoke(
            dbt_arguments(["parse", "--no-write-json"], target, target_dir, target_dir, file_log="none")
        )
    return outcome.result if outcome.success else None


class ParseInBackground:
    """parse_project in a daemon thread, around a build's reading of its raw files: dbt imports and parses
    (seconds of Python) while DuckDB reads. The profile's variables are set here, before the thread starts,
    and restored on leaving: changing the environment while another thread's DuckDB may read it is unsafe.
    A build that fails before it needs the manifest does not wait for it: the command ends (and the thread
    with it), and a next dbt command in the same process waits on ONE_DBT_COMMAND."""

    def __init__(self, warehouse: Path) -> None:
        self._environment = inside(None, dbt_environment(warehouse, None))
        self._manifest: object | None = None
        self._thread = threading.Thread(target=self._parse, name="dbt-parse", daemon=True)

    def __enter__(self) -> ParseInBackground:
        self._environment.__enter__()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._environment.__exit__(*exc_info)

    def _parse(self) -> None:
        with contextlib.suppress(Exception):  # the build then parses in its own run, and reports what failed
            self._manifest = parse_project()

    def manifest(self) -> object | None:
        """The parsed manifest, once the parse is done; None if it failed."""
        self._thread.join()
        return self._manifest


def run_dbt(
    args: list[str],
    warehouse: Path,
    log_dir: Path,
    target: str = "duckdb",
    with_manifest: bool = False,
    copy_out: dict[str, Path] | None = None,
    environment: dict[str, str] | None = None,
    manifest: object | None = None,
    threads: int | None = None,
) -> DbtRun:
    """Run one dbt command (e.g. ["build", "--exclude", "tag:audit_rule"]) on `warehouse` with profile
    target `target`, `environment` set (a PostgreSQL target's connection, engines.dsn_environment); dbt's
    log goes to log_dir, nothing to the console. `copy_out` copies files dbt wrote in its target folder
    ({name: destination}) before another run can replace them. `manifest`, from parse_project for the same
    warehouse and target, spares the command dbt's parse; `threads` defaults to dbt_threads(). dbt writes its
    manifest.json only for a caller that reads it (`with_manifest`) or copies files out (a build spent its last
    0.4 s on it); run_results.json is written either way."""
    write_manifest = with_manifest or bool(copy_out)
    with (
        ONE_DBT_COMMAND,
        fewer_collections(),
        parse_cache(target) as target_dir,
        inside(warehouse.parent, dbt_environment(warehouse, environment)),
    ):
        from dbt.cli.main import dbtRunner  # dbt takes a second to import: only when dbt runs

        results_file = target_dir / "run_results.json"
        results_file.unlink(missing_ok=True)  # never read an earlier run's results as this one's
        outcome = dbtRunner(manifest=manifest, callbacks=[NodeProgress()]).invoke(
            dbt_arguments([*args, *(() if write_manifest else ("--no-write-json",))], target, target_dir, log_dir, threads)
        )
        if not write_manifest and hasattr(outcome.result, "write"):  # --no-write-json leaves out run_results.json too
            outcome.result.write(str(results_file))
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
