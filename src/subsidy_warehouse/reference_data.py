"""Reference tables the warehouse takes from python-stdnum, written as dbt seeds.

`seeds/reference/cn_divisions.csv` lists every administrative division code that python-stdnum knows
(its `cn/loc.dat`), with the years each name was in use. A resident ID is valid only when its first six
digits name a division that existed in the holder's birth year, as stdnum checks it. A test keeps the seed
equal to the installed stdnum; after upgrading stdnum, rewrite it with
`python -m subsidy_warehouse.reference_data`.
"""

from __future__ import annotations

import csv
import importlib.resources
import re
from pathlib import Path

from .paths import project_dir

DIVISIONS_SEED = Path("seeds") / "reference" / "cn_divisions.csv"
DIVISION_COLUMNS = ("division_code", "first_year", "last_year", "division_name_zh")
_NAMED_SPAN = re.compile(r"^\[(\d*)-(\d*)\](.*)$")


def stdnum_divisions() -> list[dict[str, str]]:
    """One row per (division code, name in use over a span of years) in stdnum's cn/loc.dat."""
    text = (importlib.resources.files("stdnum") / "cn" / "loc.dat").read_text(encoding="utf-8")
    rows: list[dict[str, str]] = []
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, _, value = line.strip().partition(" ")
        if not line.startswith(" "):
            province = code  # a two-digit province line; its counties follow, indented
            continue
        names = value.removeprefix('county="').removesuffix('"')
        for name in names.split(","):
            span = _NAMED_SPAN.match(name)
            first, last, name = span.groups() if span else ("", "", name)
            rows.append(
                {"division_code": province + code, "first_year": first, "last_year": last, "division_name_zh": name}
            )
    return rows


def write_divisions_seed(path: Path | None = None) -> int:
    path = path or project_dir() / DIVISIONS_SEED
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = stdnum_divisions()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=DIVISION_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    print(f"{write_divisions_seed()} division rows written to {DIVISIONS_SEED}")
