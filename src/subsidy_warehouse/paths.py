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


def output_folder(out: Path, what: str) -> Path:
    """`out`, created if need be, for `what` (e.g. "the exports"); raises UserFacingError when it cannot be."""
    from .errors import UserFacingError

    if out.exists() and not out.is_dir():
        raise UserFacingError(f"--out {out} is a file; give a folder for {what}.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserFacingError(f"Cannot create the folder {out}: {exc.strerror}.") from None
    return out


def default_warehouse() -> Path:
    """The warehouse file: SUBSIDY_WAREHOUSE when set, else target/warehouse.duckdb in the project."""
    override = os.environ.get("SUBSIDY_WAREHOUSE")
    return Path(override) if override else project_dir() / DEFAULT_WAREHOUSE
