"""The raw input contract: the three CSV files a build reads and the columns each must have."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RawFile:
    """One raw file of the contract: its table name in the `raw` schema and its columns."""

    entity: str
    columns: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"{self.entity}.csv"


BENEFICIARIES = RawFile(
    "beneficiaries",
    ("beneficiary_id", "beneficiary_name", "beneficiary_type", "id_type", "registered_on", "district"),
)
APPLICATIONS = RawFile(
    "applications",
    (
        "application_id",
        "beneficiary_id",
        "clause_code",
        "award_year",
        "applied_on",
        "status",
        "requested_amount",
        "approved_amount",
        "approved_on",
        "approving_bureau",
        "base_amount",
        "tier",
        "project_id",
        "loan_principal",
        "loan_start_on",
        "loan_end_on",
    ),
)
DISBURSEMENTS = RawFile(
    "disbursements",
    ("disbursement_id", "application_id", "paid_on", "amount", "kind", "paying_bureau", "voucher_no"),
)

# Optional columns written by `subsidy load`: which load, bureau file, sheet and row a record came from.
PROVENANCE_COLUMNS = ("load_id", "origin_file", "origin_sheet", "origin_row")

RAW_FILES: tuple[RawFile, ...] = (BENEFICIARIES, APPLICATIONS, DISBURSEMENTS)
