"""Benchmark: the product against plain DuckDB doing the same work on the same data, in the same run.

For each size (100k and 1M applications; 10M with BENCH_10M=1) it generates a sample once, then, in
interleaved rounds (product step, then its plain-DuckDB twin), times every step and its peak memory:

| step | product | plain DuckDB |
|---|---|---|
| raw load | `land_raw` (every line accounted for) | `read_csv(all_varchar, store_rejects)` of the three files |
| build | `subsidy build` (raw load + dbt build) | raw load + seeds + every model's and test's compiled SQL, in dbt's order, from the product's own manifest |
| audit | `subsidy audit` | the audit's dbt check SQL on one read-only connection |
| daily load | `subsidy build --incremental` after +1% applications and disbursements | — (compared with the full build) |
| dashboards | `subsidy dashboards build --company-pages 20` (once per size, with --dashboards) | — |

Medians of --runs rounds (default 3). Wall time and peak RSS of each step come from /usr/bin/time around a
separate process. Results go to bench/results.json (and are printed as the README's table).

    .venv/bin/python bench/bench_build.py [--sizes 100k,1M] [--runs 3] [--dashboards]
    BENCH_10M=1 .venv/bin/python bench/bench_build.py --sizes 10M --runs 1 [--raw-dir FILES_OF_10M]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
BIN = Path(sys.executable).parent
SCALES = {"100k": 20, "1M": 200, "10M": 2000}

PLAIN_RAW_LOAD = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("create schema raw")
for name in ("beneficiaries", "applications", "disbursements"):
    # the nearest plain equivalent of the product's reader: text columns, unreadable lines to reject tables
    con.execute(f"create table raw.{name} as select * from read_csv('{sys.argv[1]}/{name}.csv', all_varchar=true, "
                f"store_rejects=true, rejects_table='rejects_{name}', rejects_scan='scan_{name}')")
con.close()
"""

PLAIN_PRODUCT_SQL = """
import csv, duckdb, json, sys, time
base, manifest_path, results_path = sys.argv[1], sys.argv[2], sys.argv[3]
manifest = json.load(open(manifest_path))
order = [r["unique_id"] for r in json.load(open(results_path))["results"]]
con = duckdb.connect(base)
timings = {"seeds": 0.0, "models": 0.0, "tests": 0.0}
for unique_id in order:
    node = manifest["nodes"].get(unique_id)
    if node is None or node["resource_type"] == "unit_test":
        continue
    started = time.perf_counter()
    kind = node["resource_type"]
    if kind == "seed":
        con.execute(f"create schema if not exists {node['schema']}")
        path = node["root_path"] + "/" + node["original_file_path"]
        types = node["config"].get("column_types") or {}
        con.execute(f"create or replace table {node['schema']}.{node['alias']} as select * from read_csv('{path}', "
                    f"header=true, types={json.dumps(types) if types else '{}'})")
        timings["seeds"] += time.perf_counter() - started
    elif kind == "model" and node["config"]["materialized"] != "ephemeral":
        con.execute(f"create schema if not exists {node['schema']}")
        relation = "view" if node["config"]["materialized"] == "view" else "table"  # the product's own choice
        con.execute(f"create or replace {relation} {node['schema']}.{node['alias']} as {node['compiled_code']}")
        timings["models"] += time.perf_counter() - started
    elif kind == "test":
        con.execute(f"select count(*) from ({node['compiled_code']}) as t").fetchall()
        timings["tests"] += time.perf_counter() - started
con.close()
print(json.dumps(timings))
"""

PLAIN_AUDIT_SQL = """
import duckdb, json, sys
report = json.load(open(sys.argv[2]))
statements = [c["definition"] for r in report["rules"] for c in r["checks"] if c["engine"] == "dbt"]
con = duckdb.connect(sys.argv[1], read_only=True)
for sql in statements:
    con.execute(f"select count(*) from ({sql}) as failing").fetchall()
"""

# `subsidy build` writes no manifest.json: dbt's SQL of a full build, compiled on a copy of a file that holds only the
# raw schema (so that no incremental model exists yet, as in the build)
COMPILED_MANIFEST = """
import json, shutil, sys, tempfile
from pathlib import Path
from subsidy_warehouse.dbt_runner import run_dbt
raw_only, out = Path(sys.argv[1]), Path(sys.argv[2])
with tempfile.TemporaryDirectory(dir=raw_only.parent.parent) as folder:
    copy = Path(folder) / raw_only.name
    shutil.copyfile(raw_only, copy)
    run = run_dbt(["compile", "--exclude", "tag:audit_rule", "test_type:unit"], copy,
                  Path(folder) / "logs", with_manifest=True)
    assert run.success, run.error
out.write_text(json.dumps(run.manifest), encoding="utf-8")
"""

PRODUCT_RAW_LOAD = """
import duckdb, sys
from pathlib import Path
from subsidy_warehouse.build import code_fingerprint, land_raw, writer_settings
with duckdb.connect(sys.argv[2], config=writer_settings()) as con:
    land_raw(con, Path(sys.argv[1]), None, code_fingerprint())
"""


def timed(
    command: list[str],
    ok: tuple[int, ...] | None = (0,),
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    watch: tuple[int, ...] | None = None,
) -> dict:
    """Run `command` under /usr/bin/time: wall seconds, peak RSS (MB, of its largest process), output; stops
    the bench when its exit code is not in `ok` (the audit exits 1 on a sample with fatal findings, on
    purpose), or, with ok=None, returns it as "exit". With `watch` (process ids, such as a database server's;
    may be empty), also the peak memory of the command's whole process tree and of each watched one ("tree_mb",
    "watched_mb": proportional set sizes summed, sampled twice a second). After `timeout` seconds the
    command's process group is killed ("timed_out")."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as measure:
        started = time.perf_counter()
        process = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M", "-o", measure.name, *command],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            start_new_session=timeout is not None,  # its own group, so a timeout kills the whole tree
        )  # fmt: skip
        sampler = TreePeaks((process.pid, *watch)) if watch is not None else None
        timed_out = False
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
        seconds = time.perf_counter() - started
        peaks = sampler.stop() if sampler else []
        rss_kb = int((measure.read().strip().splitlines() or ["0"])[-1] or 0) if not timed_out else 0
    if ok is not None and process.returncode not in ok:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {stderr[-2000:]}")
    result = {"seconds": round(seconds, 2), "rss_mb": round(rss_kb / 1024), "stdout": stdout}
    if ok is None:
        result.update(exit=process.returncode, stderr_tail=stderr[-2000:], timed_out=timed_out)
    if peaks:
        result.update(tree_mb=round(peaks[0] / 1024), watched_mb=[round(kb / 1024) for kb in peaks[1:]])
    return result


class TreePeaks:
    """Peak memory of the process trees rooted at `roots`, each the sum of its processes' PSS (shared pages
    divided among the processes sharing them, so a server's shared buffers count once), sampled from /proc
    in a thread until stop()."""

    def __init__(self, roots: tuple[int, ...], interval: float = 0.5) -> None:
        self.roots, self.interval = roots, interval
        self.peaks = [0] * len(roots)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(self.interval):
            children: dict[int, list[int]] = {}
            for stat in Path("/proc").glob("[0-9]*/stat"):
                with contextlib.suppress(OSError, ValueError, IndexError):
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                    children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
            for i, root in enumerate(self.roots):
                tree, total = [root], 0
                while tree:
                    pid = tree.pop()
                    tree.extend(children.get(pid, []))
                    with contextlib.suppress(OSError):
                        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                            if line.startswith("Pss:"):
                                total += int(line.split()[1])
                                break
                self.peaks[i] = max(self.peaks[i], total)

    def stop(self) -> list[int]:
        """Peak kB per root."""
        self.done.set()
        self.thread.join()
        return self.peaks


def python(script: str, *args: str) -> list[str]:
    return [str(BIN / "python"), "-c", textwrap.dedent(script), *args]


def subsidy(*args: str) -> list[str]:
    return [str(BIN / "subsidy"), *args]


def median_step(samples: list[dict]) -> dict:
    return {
        "seconds": round(statistics.median(s["seconds"] for s in samples), 2),
        "rss_mb": round(statistics.median(s["rss_mb"] for s in samples)),
        "runs": [s["seconds"] for s in samples],
    }


def bench_size(label: str, runs: int, work: Path, dashboards: bool, raw: Path | None = None) -> dict:
    """One size, generated into `work` unless `raw` already holds its files (generate is then not timed)."""
    generation = None
    if raw is None:
        raw = work / "raw"
        generation = timed(subsidy("generate", "--out", str(raw), "--scale", str(SCALES[label])))
    applications = sum(1 for _ in (raw / "applications.csv").open("rb")) - 1
    samples: dict[str, list[dict]] = {key: [] for key in (
        "raw_load", "raw_load_plain", "build", "build_plain", "audit", "audit_plain", "daily",
    )}  # fmt: skip
    plain_parts: list[dict] = []
    warehouse = work / "product" / "warehouse.duckdb"
    cache = PROJECT / "target" / "dbt-duckdb"
    for _ in range(runs):
        for step, command in (
            ("raw_load", python(PRODUCT_RAW_LOAD, str(raw), str(work / "raw_product.duckdb"))),
            ("raw_load_plain", python(PLAIN_RAW_LOAD, str(raw), str(work / "raw_plain.duckdb"))),
        ):
            for stale in work.glob("raw_*.duckdb*"):
                stale.unlink()
            samples[step].append(timed(command))
        # --full-refresh: from the second round on, the warehouse of the round before is there, and a build of the
        # same files would be a daily load of no new lines (and dbt's compiled SQL that of an incremental run)
        samples["build"].append(
            timed(subsidy("build", "--raw-dir", str(raw), "--warehouse", str(warehouse), "--full-refresh"))
        )
        # plain DuckDB: the product's own raw tables, then every node's compiled SQL in dbt's order
        plain = work / "plain" / "warehouse.duckdb"
        shutil.rmtree(plain.parent, ignore_errors=True)
        plain.parent.mkdir()
        shutil.copyfile(cache / "run_results.json", work / "run_results.json")
        started = timed(python(PRODUCT_RAW_LOAD, str(raw), str(plain)))
        timed(python(COMPILED_MANIFEST, str(plain), str(work / "manifest.json")))
        sql = timed(python(PLAIN_PRODUCT_SQL, str(plain), str(work / "manifest.json"), str(work / "run_results.json")))
        plain_parts.append(json.loads(sql["stdout"].strip().splitlines()[-1]))
        samples["build_plain"].append({"seconds": started["seconds"] + sql["seconds"],
                                       "rss_mb": max(started["rss_mb"], sql["rss_mb"])})  # fmt: skip
        audits = work / "audits"
        shutil.rmtree(audits, ignore_errors=True)
        samples["audit"].append(timed(subsidy("audit", "--warehouse", str(warehouse), "--out", str(audits)), ok=(0, 1)))
        report = next(audits.glob("*/report.json"))
        samples["audit_plain"].append(timed(python(PLAIN_AUDIT_SQL, str(warehouse), str(report))))
        samples["daily"].append(daily_load(raw, work / "daily"))
    result = {
        "applications": applications,
        "generate": {"seconds": generation["seconds"], "rss_mb": generation["rss_mb"]} if generation else None,
        **({"raw_dir": str(raw)} if generation is None else {}),
        **{step: median_step(values) for step, values in samples.items() if values},
        "plain_build_parts": {k: round(statistics.median(p[k] for p in plain_parts), 2) for k in plain_parts[0]},
    }
    for step in ("raw_load", "build", "audit"):
        result[step]["ratio_to_plain"] = round(result[step]["seconds"] / result[f"{step}_plain"]["seconds"], 2)
    result["daily"]["ratio_to_full_build"] = round(result["daily"]["seconds"] / result["build"]["seconds"], 2)
    if dashboards:
        result["dashboards"] = timed(subsidy("dashboards", "build", "--warehouse", str(warehouse), "--company-pages", "20"))
        result["dashboards"].pop("stdout")
    return result


def daily_load(raw: Path, work: Path) -> dict:
    """A build of the sample less its last 1% of applications and disbursements, then (timed) the daily load
    that appends them: `subsidy build` on the same folder sees files that only grew."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "raw").mkdir(parents=True)
    held_back: dict[str, bytes] = {}
    for source in sorted(raw.glob("*.csv")):
        data = source.read_bytes()
        if source.name in ("applications.csv", "disbursements.csv"):
            lines = data.count(b"\n")
            cut = len(data)
            for _ in range(max(1, lines // 100)):
                cut = data.rindex(b"\n", 0, cut - 1) + 1 if cut > 1 else cut
            data, held_back[source.name] = data[:cut], data[cut:]
        (work / "raw" / source.name).write_bytes(data)
    warehouse = work / "warehouse.duckdb"
    timed(subsidy("build", "--raw-dir", str(work / "raw"), "--warehouse", str(warehouse)))
    for name, tail in held_back.items():
        with (work / "raw" / name).open("ab") as handle:
            handle.write(tail)
    daily = timed(subsidy("build", "--raw-dir", str(work / "raw"), "--warehouse", str(warehouse)))
    if "daily load" not in daily["stdout"]:
        daily["note"] = "the second build was not a daily load: " + daily["stdout"][-300:]
    return daily


def print_table(results: dict) -> None:
    print("| size | step | product s | product MB | plain DuckDB s | plain MB | ratio |")
    print("|---|---|---|---|---|---|---|")
    for label, r in results["sizes"].items():
        if r["generate"]:
            print(f"| {label} | generate | {r['generate']['seconds']} | {r['generate']['rss_mb']} | | | |")
        for step in ("raw_load", "build", "audit"):
            p, q = r[step], r[f"{step}_plain"]
            print(f"| {label} | {step} | {p['seconds']} | {p['rss_mb']} | {q['seconds']} | {q['rss_mb']} | {p['ratio_to_plain']} |")
        parts = r["plain_build_parts"]
        print(f"| {label} | (plain build: seeds {parts['seeds']} s, models {parts['models']} s, tests {parts['tests']} s) | | | | | |")
        d = r["daily"]
        print(f"| {label} | daily load (+1%) | {d['seconds']} | {d['rss_mb']} | | | {d['ratio_to_full_build']} × full build |")
        if "dashboards" in r:
            print(f"| {label} | dashboards | {r['dashboards']['seconds']} | {r['dashboards']['rss_mb']} | | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_sizes = "100k,1M,10M" if os.environ.get("BENCH_10M") == "1" else "100k,1M"
    parser.add_argument("--sizes", default=default_sizes)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dashboards", action="store_true")
    parser.add_argument("--out", type=Path, default=BENCH / "results.json")
    parser.add_argument("--raw-dir", type=Path, help="raw files already generated at the one size given (10M takes "
                        "7 minutes to generate): read them instead of generating")  # fmt: skip
    args = parser.parse_args()
    sizes = [s for s in args.sizes.split(",") if s]
    if args.raw_dir and (len(sizes) != 1 or not (args.raw_dir / "applications.csv").is_file()):
        raise SystemExit("--raw-dir needs exactly one size in --sizes and a folder with the raw files of that size.")
    if "10M" in sizes and os.environ.get("BENCH_10M") != "1":
        raise SystemExit("10M takes an hour and 30 GB of disk: set BENCH_10M=1 to run it.")
    results = {"machine": {"cores": os.cpu_count()}, "started": time.strftime("%Y-%m-%d %H:%M"), "sizes": {}}
    for label in sizes:
        with tempfile.TemporaryDirectory(prefix=f"bench-{label}-") as work:
            results["sizes"][label] = bench_size(label, args.runs, Path(work), args.dashboards, args.raw_dir)
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print_table(results)
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
