"""The records an audit produces: rules from the catalogue, checks run against them, and findings."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from ..paths import project_dir

RULE_CATALOGUE = Path("seeds") / "audit" / "audit_rules.csv"


class CheckStatus(StrEnum):
    passed = "pass"
    failed = "fail"
    error = "error"  # the check itself could not run (a table missing, a type the SQL cannot read)


@dataclass(frozen=True)
class Rule:
    rule_code: str
    name_zh: str  # a short Chinese name, shown to people instead of the code
    severity: str
    category: str
    record_type: str
    description_zh: str
    description_en: str

    @property
    def is_fatal(self) -> bool:
        return self.severity == "fatal"


@dataclass
class Check:
    """One dbt test or one Great Expectations expectation, counted against one rule."""

    rule_code: str
    engine: str  # "dbt" or "great_expectations"
    name: str
    target: str  # the table or model checked
    definition: str  # the SQL or the expectation's configuration
    status: CheckStatus
    failing_rows: int
    message: str = ""


@dataclass
class Finding:
    """One failing record. Data rules name an application, disbursement, beneficiary or raw row;
    integrity rules name a table and the offending key."""

    rule_code: str
    check: str
    record_type: str
    record_id: str
    beneficiary_id: str | None = None
    clause_code: str | None = None
    measure_code: str | None = None
    bureau: str | None = None
    award_year: int | None = None
    amount_at_issue: Decimal = field(default_factory=lambda: Decimal("0.00"))
    detail: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.rule_code, self.check, self.record_type, self.record_id)

    def values(self) -> list:
        return [getattr(self, name) for name in FINDING_COLUMNS]  # flat fields: no deep copy (asdict)

    def as_row(self) -> dict[str, object]:
        return row_of(self.values())


def row_of(values: list) -> dict[str, object]:
    """A finding's field values as report.json writes them: by name, the amount a string of yuan."""
    row = dict(zip(FINDING_COLUMNS, values, strict=True))
    row["amount_at_issue"] = f"{row['amount_at_issue']:.2f}"
    return row


FINDING_COLUMNS = list(Finding.__dataclass_fields__)


def load_rule_catalogue() -> dict[str, Rule]:
    """The rule catalogue (seed audit_rules), in its file order."""
    with (project_dir() / RULE_CATALOGUE).open(encoding="utf-8", newline="") as handle:
        return {row["rule_code"]: Rule(**row) for row in csv.DictReader(handle)}
