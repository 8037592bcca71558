"""Benchmark: `subsidy build` on DuckDB, PostgreSQL and Spark, on the same raw files, same machine, same run.

For each size (the default sample, ≈5,000 applications, and 1M) it generates the raw files once, then times
the real CLI building them on each engine, one after the other, each build a separate process:

| engine | command | starts from |
|---|---|---|
| DuckDB | `subsidy build --raw-dir RAW --warehouse FILE` | a new file (full build) |
| PostgreSQL | `subsidy build --raw-dir RAW --target postgres --dsn …` | a new database on a PostgreSQL 15 server this script starts (tests/python/pg_server.py: 127.0.0.1, fsync off) and stops at the end |
| Spark | `subsidy build --raw-dir RAW --target spark` | a new SUBSIDY_SPARK_DIR, SUBSIDY_SPARK_MASTER=local[2] |

Each build must exit 0. Recorded: wall seconds, peak RSS of the largest process (/usr/bin/time), peak memory
of the CLI's whole process tree (Spark's JVM is a child of the CLI) and of the PostgreSQL server's processes
(PSS sums, sampled from /proc), the load average before and after. At the sample size the `marts` tables'
row counts are compared across engines (a cheap sanity check; tests/python/test_engines_*.py compare every
row). A Spark build still running after --spark-timeout seconds is killed and reported with how far dbt got.
Results go to bench/results-engines.json and are printed as the README's table.

    .venv/bin/python bench/bench_engines.py [--sizes sample,1M] [--engines duckdb,postgres,spark] [--runs 1]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_build import BENCH, BIN, PROJECT, SCALES, subsidy, timed

sys.path.insert(0, str(PROJECT / "tests" / "python"))
from pg_server import new_database, postgres_server  # noqa: E402

SIZES = {"sample": None, **SCALES}  # --scale of `subsidy generate` (None: its default)
ENGINES = ("duckdb", "postgres", "spark")

SPARK_COUNTS = """
import json, sys
from pathlib import Path
from subsidy_warehouse.spark import spark_dir, spark_session
spark = spark_session(spark_dir())
tables = [row.tableName for row in spark.sql("show tables in marts").collect()]
print(json.dumps({t: spark.table(f"marts.{t}").count() for t in tables}))
"""


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def duckdb_counts(warehouse: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        ]
        return {t: con.execute(f'select count(*) from marts."{t}"').fetchone()[0] for t in tables}


def postgres_counts(dsn: str) -> dict[str, int]:
    import psycopg2

    with contextlib.closing(psycopg2.connect(dsn)) as con:
        cur = con.cursor()
        cur.execute("select tablename from pg_tables where schemaname = 'marts'")
        counts = {}
        for (table,) in cur.fetchall():
            cur.execute(f'select count(*) from marts."{table}"')
            counts[table] = cur.fetchone()[0]
        return counts


def postmaster_pid(dsn: str) -> int:
    """The server's main process (its backends are its children): first line of postmaster.pid."""
    import psycopg2

    with contextlib.closing(psycopg2.connect(dsn)) as con:
        cur = con.cursor()
        cur.execute("show data_directory")
        data = Path(cur.fetchone()[0])
    return int((data / "postmaster.pid").read_text().splitlines()[0])


def dbt_progress(tmp: Path) -> str:
    """The last 'N of M' node dbt logged in a Spark build killed half way (its log stays in its temp folder)."""
    lines = []
    for log in tmp.glob("subsidy-spark-build-*/logs/dbt.log"):
        lines += [line for line in log.read_text(errors="replace").splitlines() if re.search(r"\b\d+ of \d+ ", line)]
    return lines[-1].strip()[-200:] if lines else "no dbt log: the raw load had not finished"


def build(
    engine: str, label: str, raw: Path, work: Path, run: int, dsn: str | None, server: int | None, spark_timeout: float
) -> dict:
    """One timed `subsidy build` on `engine` into a new warehouse; returns its measures and, for the sanity
    check, where that warehouse is."""
    env = dict(os.environ)
    command = subsidy("build", "--raw-dir", str(raw), "--quiet")
    timeout = None
    if engine == "duckdb":
        warehouse = work / f"duckdb-{run}" / "warehouse.duckdb"
        warehouse.parent.mkdir()
        command += ["--warehouse", str(warehouse)]
    elif engine == "postgres":
        warehouse = new_database(dsn, f"bench_{label.lower()}_{run}")
        command += ["--target", "postgres", "--dsn", warehouse]
    else:
        warehouse = work / f"spark-{run}"
        (warehouse / "tmp").mkdir(parents=True)
        env.update(SUBSIDY_SPARK_DIR=str(warehouse), SUBSIDY_SPARK_MASTER="local[2]", TMPDIR=str(warehouse / "tmp"))
        command += ["--target", "spark"]
        timeout = spark_timeout
    before = load()
    result = timed(command, ok=None, env=env, timeout=timeout, watch=(server,) if server else ())
    result.pop("stdout")
    result["load_before"], result["load_after"] = before, load()
    watched = result.pop("watched_mb", [])
    if server:
        result["server_mb"] = watched[0]
    if result["timed_out"]:
        result["dbt_progress"] = dbt_progress(warehouse / "tmp")
    if result["exit"] == 0:
        result.pop("stderr_tail")
    return {**result, "warehouse": str(warehouse)}


def marts_counts(engine: str, warehouse: str) -> dict[str, int]:
    if engine == "duckdb":
        return duckdb_counts(Path(warehouse))
    if engine == "postgres":
        return postgres_counts(warehouse)
    env = {**os.environ, "SUBSIDY_SPARK_DIR": warehouse, "SUBSIDY_SPARK_MASTER": "local[2]"}
    out = subprocess.run([str(BIN / "python"), "-c", SPARK_COUNTS], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_size(label: str, engines: list[str], runs: int, work: Path, pg: str | None, spark_timeout: float) -> dict:
    raw = work / "raw"
    scale = SIZES[label]
    generation = timed(subsidy("generate", "--out", str(raw), *(["--scale", str(scale)] if scale else [])))
    applications = sum(1 for _ in (raw / "applications.csv").open("rb")) - 1
    server = postmaster_pid(pg) if pg else None
    builds: dict[str, list[dict]] = {engine: [] for engine in engines}
    for run in range(runs):
        for engine in engines:
            builds[engine].append(
                build(engine, label, raw, work, run, pg, server if engine == "postgres" else None, spark_timeout)
            )
    result: dict = {
        "applications": applications,
        "generate": {k: generation[k] for k in ("seconds", "rss_mb")},
        "engines": {},
    }
    for engine, samples in builds.items():
        done = [s for s in samples if s["exit"] == 0]
        summary = {"runs": samples, "ok": len(done) == len(samples)}
        if done:
            summary["seconds"] = round(statistics.median(s["seconds"] for s in done), 2)
            for key in ("rss_mb", "tree_mb", "server_mb"):
                if key in done[0]:
                    summary[key] = round(statistics.median(s[key] for s in done))
        result["engines"][engine] = summary
    base = result["engines"].get("duckdb", {}).get("seconds")
    for summary in result["engines"].values():
        if base and "seconds" in summary:
            summary["ratio_to_duckdb"] = round(summary["seconds"] / base, 2)
    if label == "sample":
        counts = {e: marts_counts(e, s[-1]["warehouse"]) for e, s in builds.items() if s[-1]["exit"] == 0}
        reference = next(iter(counts.values()), {})
        result["marts_row_counts"] = reference
        differ = {
            e: {t: (reference.get(t), c.get(t)) for t in set(reference) | set(c) if reference.get(t) != c.get(t)}
            for e, c in counts.items()
        }
        result["marts_counts_differ"] = {e: d for e, d in differ.items() if d}
        result["marts_counts_agree"] = len(counts) == len(engines) and not result["marts_counts_differ"]
    return result


def print_table(results: dict) -> None:
    print(
        "| size | engine | build s | × DuckDB | CLI tree peak MB | largest process MB | PG server peak MB | load before → after |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, r in results["sizes"].items():
        for engine, e in r["engines"].items():
            last = e["runs"][-1]
            if not e["ok"]:
                why = (
                    f"killed after {last['seconds']} s at {last['dbt_progress']}"
                    if last["timed_out"]
                    else f"exit {last['exit']}"
                )
                print(
                    f"| {label} ({r['applications']:,}) | {engine} | {why} | | | | | {last['load_before'][0]} → {last['load_after'][0]} |"
                )
                continue
            print(f"| {label} ({r['applications']:,}) | {engine} | {e['seconds']} | {e.get('ratio_to_duckdb', '')} | {e.get('tree_mb', '')} "
                  f"| {e['rss_mb']} | {e.get('server_mb', '')} | {last['load_before'][0]} → {last['load_after'][0]} |")  # fmt: skip
        if "marts_counts_agree" in r:
            print(
                f"| {label} | marts row counts agree across engines: {r['marts_counts_agree']} {r['marts_counts_differ'] or ''} | | | | | | |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="sample,1M")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--spark-timeout", type=float, default=45 * 60, help="seconds before a Spark build is killed")
    parser.add_argument("--out", type=Path, default=BENCH / "results-engines.json")
    args = parser.parse_args()
    sizes = [s for s in args.sizes.split(",") if s]
    engines = [e for e in args.engines.split(",") if e]
    if unknown := [s for s in sizes if s not in SIZES] + [e for e in engines if e not in ENGINES]:
        raise SystemExit(
            f"unknown size or engine: {', '.join(unknown)} (sizes {', '.join(SIZES)}; engines {', '.join(ENGINES)})"
        )
    if "10M" in sizes and os.environ.get("BENCH_10M") != "1":
        raise SystemExit("10M takes hours: set BENCH_10M=1 to run it.")
    results = {
        "machine": {"cores": os.cpu_count()},
        "started": time.strftime("%Y-%m-%d %H:%M"),
        "load_start": load(),
        "sizes": {},
    }
    with postgres_server() if "postgres" in engines else contextlib.nullcontext() as pg:
        for label in sizes:
            with tempfile.TemporaryDirectory(prefix=f"bench-{label}-") as work:
                results["sizes"][label] = bench_size(label, engines, args.runs, Path(work), pg, args.spark_timeout)
            results["load_end"] = load()
            args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print_table(results)
    print(f"results: {args.out}")
    failed = [
        f"{label} {engine}"
        for label, r in results["sizes"].items()
        for engine, e in r["engines"].items()
        if not e["ok"]
    ]
    if failed:
        raise SystemExit(f"builds that did not finish: {', '.join(failed)} (see {args.out})")


if __name__ == "__main__":
    main()
