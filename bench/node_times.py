"""Where a dbt run's time went: the slowest nodes of a run_results.json, and the sums by kind.

    .venv/bin/python bench/node_times.py target/dbt-duckdb/run_results.json [--top 15]

`subsidy build` keeps dbt's target folder under the project's target/ (dbt_runner.parse_cache), so the last build's
results are in target/dbt-duckdb/run_results.json (or dbt-duckdb-2, … when builds ran side by side). Node times
overlap when dbt runs two threads: their sum is more than the wall time."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path


def node_times(run_results: Path) -> list[tuple[float, str]]:
    """(seconds, unique_id) of every node, slowest first."""
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    return sorted(((node["execution_time"], node["unique_id"]) for node in results), reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_results", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    if not args.run_results.is_file():
        parser.error(f"{args.run_results} is not a file (a dbt run_results.json)")
    times = node_times(args.run_results)
    by_kind: Counter[str] = Counter()
    for seconds, unique_id in times:
        by_kind[unique_id.split(".")[0]] += seconds
    print(f"{len(times)} nodes, {sum(s for s, _ in times):.1f} s in all; "
          + ", ".join(f"{kind} {seconds:.1f} s" for kind, seconds in by_kind.most_common()))  # fmt: skip
    for seconds, unique_id in times[: args.top]:
        print(f"{seconds:8.2f}  {unique_id}")


if __name__ == "__main__":
    main()
