"""The audit's finding store and the files DuckDB writes from it: report order, masking and the report's totals."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

from subsidy_warehouse.audit.model import Finding
from subsidy_warehouse.audit.report import ReportFiles
from subsidy_warehouse.audit.store import FindingStore
from subsidy_warehouse.identifiers import mask_resident_id, resident_id_check_char

ID_18 = "33010219900307123" + resident_id_check_char("33010219900307123")
# unmasked, "R3301+" sorts before "R330102…" ('+' < '0'); masked, after "R3301****…" ('*' < '+')
WITH_ID, WITHOUT_ID = f"R{ID_18}", "R3301+"


def findings() -> list[Finding]:
    return [
        Finding("overpaid", "check", "application", WITH_ID, bureau="区科技局", amount_at_issue=Decimal("10.00")),
        Finding("overpaid", "check", "application", WITHOUT_ID, bureau=None, amount_at_issue=Decimal("2.50")),
        Finding("over_cap", "check", "application", "A1", bureau="区科技局", amount_at_issue=Decimal("1.25")),
        Finding("key_not_unique", "check", "table", "marts.fct_awards", amount_at_issue=Decimal("0.00")),
    ]


def test_files_follow_the_unmasked_report_order_and_show_no_id(tmp_path: Path) -> None:
    rules = ["over_cap", "overpaid", "key_not_unique"]
    with FindingStore(rules) as store:
        store.add(findings())
        files = ReportFiles(tmp_path, Path(store.folder.name))
        files.write_findings(store)
        with (tmp_path / "findings.csv").open(encoding="utf-8-sig", newline="") as handle:
            record_ids = [row["record_id"] for row in csv.DictReader(handle)]
        rows = json.loads(files.findings_json.read_text(encoding="utf-8"))
        summary = store.summary(fatal_rules=["overpaid"], first_per_rule=1)
    masked = f"R{mask_resident_id(ID_18)}"
    assert WITH_ID > WITHOUT_ID > masked  # so that an order of the masked texts would be another order
    assert record_ids == [row["record_id"] for row in rows] == ["A1", WITHOUT_ID, masked, "marts.fct_awards"]
    assert ID_18 not in (tmp_path / "findings.csv").read_text(encoding="utf-8-sig")

    assert summary.count == 4
    assert summary.amounts == {"over_cap": Decimal("1.25"), "overpaid": Decimal("12.50"), "key_not_unique": 0}
    assert [f.record_id for f in summary.first["overpaid"]] == [WITHOUT_ID]  # the first in report order
    # tables are not money; no bureau counts as unknown; fatal and warning amounts apart, the largest first
    assert summary.totals["bureau"] == [
        {"bureau": "区科技局", "findings": 2, "fatal_amount": "10.00", "warning_amount": "1.25"},
        {"bureau": "（未知）", "findings": 1, "fatal_amount": "2.50", "warning_amount": "0.00"},
    ]
