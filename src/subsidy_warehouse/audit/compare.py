"""`subsidy audit --compare RUN_A RUN_B`: findings new, resolved and unchanged between two audit runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserFacingError

FindingKey = tuple[str, str, str, str]


@dataclass(frozen=True)
class Comparison:
    new: list[dict]
    resolved: list[dict]
    unchanged: list[dict]


def load_run(run: Path) -> dict:
    report_file = run / "report.json" if run.is_dir() else run
    if not report_file.is_file():
        raise UserFacingError(f"{run} is not an audit run (no report.json); pass the folder `subsidy audit` wrote.")
    try:
        report = json.loads(report_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserFacingError(f"{report_file} is not a readable audit report (invalid JSON).") from None
    if not isinstance(report, dict) or "findings" not in report:
        raise UserFacingError(f"{report_file} is not an audit report (no findings).")
    return report


def key_of(finding: dict) -> FindingKey:
    return (finding["rule_code"], finding["check"], finding["record_type"], finding["record_id"])


def compare_runs(run_a: Path, run_b: Path) -> Comparison:
    before = {key_of(f): f for f in load_run(run_a)["findings"]}
    after = {key_of(f): f for f in load_run(run_b)["findings"]}
    return Comparison(
        new=[after[k] for k in sorted(after.keys() - before.keys())],
        resolved=[before[k] for k in sorted(before.keys() - after.keys())],
        unchanged=[after[k] for k in sorted(after.keys() & before.keys())],
    )
