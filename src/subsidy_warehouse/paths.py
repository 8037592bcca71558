"""Where the dbt project and the default files live."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_WAREHOUSE = Path("target/warehouse.duckdb")


def project_dir() -> Path:
    """The dbt project (repository root), or SUBSIDY_PROJECT_DIR when set."""
    override = os.environ.get("SUBSIDY_PROJECT_DIR")
    if override:
        return Path(override).resolve()
    here = Path(__file__).resolve()
    for candidate in here.parents:
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    raise RuntimeError("Cannot find dbt_project.yml above the installed package; set SUBSIDY_PROJECT_DIR.")


def default_warehouse() -> Path:
    """The warehouse file: SUBSIDY_WAREHOUSE when set, else target/warehouse.duckdb in the project."""
    override = os.environ.get("SUBSIDY_WAREHOUSE")
    return Path(override) if override else project_dir() / DEFAULT_WAREHOUSE
