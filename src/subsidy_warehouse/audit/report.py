"""Writes an audit run: report.html (self-contained, offline), report.json, findings.csv and findings.xlsx."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import jinja2

from ..exports import Cell, ExportWorkbook, without_personal_ids, write_csv
from ..paths import project_dir
from ..summary import wan
from .model import FINDING_COLUMNS, Finding, load_rule_catalogue

XLSX_FINDINGS = 50_000  # rows a spreadsheet user can still filter; the CSV holds every finding
SEVERITY_ZH = {"fatal": "致命", "warning": "警告"}
CATEGORY_ZH = {"accuracy": "准确性", "completeness": "完整性", "compliance": "合规性", "integrity": "仓库一致性"}
STATUS_ZH = {"pass": "通过", "fail": "未通过", "error": "无法运行"}
FINDING_HEADERS_ZH = {
    "rule_code": "规则",
    "check": "检查项",
    "record_type": "记录类型",
    "record_id": "记录编号",
    "beneficiary_id": "主体编号",
    "clause_code": "政策条款",
    "measure_code": "措施",
    "bureau": "部门",
    "award_year": "年度",
    "amount_at_issue": "涉及金额（元）",
    "detail": "说明",
}


def measure_titles() -> dict[str, str]:
    with (project_dir() / "seeds" / "policy" / "policy_measures.csv").open(encoding="utf-8", newline="") as handle:
        return {row["measure_code"]: row["measure_title_zh"] for row in csv.DictReader(handle)}


def rule_names(codes: list[str]) -> str:
    """Rules as people read them in the verdict: their Chinese names (seed audit_rules.name_zh), joined with 、."""
    catalogue = load_rule_catalogue()
    return "、".join(catalogue[code].name_zh if code in catalogue else code for code in codes)


def render_html(report: dict) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["wan"] = wan
    template = environment.get_template("report.html.j2")
    return template.render(
        report=report,
        severity_zh=SEVERITY_ZH,
        category_zh=CATEGORY_ZH,
        status_zh=STATUS_ZH,
        headers_zh=FINDING_HEADERS_ZH,
        measure_titles=measure_titles(),
        rule_names=rule_names,
    )


def write_findings_csv(path: Path, findings: list[Finding]) -> None:
    write_csv(path, FINDING_COLUMNS, ([getattr(finding, name) for name in FINDING_COLUMNS] for finding in findings))


def write_findings_xlsx(path: Path, report: dict, findings: list[Finding]) -> None:
    """The findings (the first XLSX_FINDINGS, with a note saying so when there are more; findings.csv has
    all) and the rules, written row by row so that memory does not grow with the findings."""
    workbook = ExportWorkbook(path, stream_rows=True)
    bold = {"bold": True}
    money = {"num_format": "#,##0.00"}
    sheet = workbook.add_sheet("异常记录")
    shown = findings[:XLSX_FINDINGS]
    for col, name in enumerate(FINDING_COLUMNS):
        workbook.write(sheet, 0, col, FINDING_HEADERS_ZH[name], bold)
    workbook.write_rows(
        sheet,
        1,
        ([getattr(finding, name) for name in FINDING_COLUMNS] for finding in shown),
        [money if name == "amount_at_issue" else None for name in FINDING_COLUMNS],
    )
    if len(findings) > len(shown):
        note = f"本表仅列出前 {len(shown):,} 条异常记录（共 {len(findings):,} 条），完整清单见同一文件夹中的 findings.csv。"
        workbook.write(sheet, len(shown) + 2, 0, note, bold)
    sheet.autofilter(0, 0, max(len(shown), 1), len(FINDING_COLUMNS) - 1)
    sheet.freeze_panes(1, 0)
    rules = workbook.add_sheet("规则")
    rule_headers = ["规则", "严重程度", "类别", "说明", "结果", "不合格行数", "涉及金额（元）"]
    for col, name in enumerate(rule_headers):
        workbook.write(rules, 0, col, name, bold)
    for row_index, rule in enumerate(report["rules"], start=1):
        cells: list[Cell] = [
            rule["rule_code"],
            SEVERITY_ZH[rule["severity"]],
            CATEGORY_ZH.get(rule["category"], rule["category"]),
            rule["description_zh"],
            STATUS_ZH[rule["status"]],
            rule["failing_rows"],
            Decimal(rule["amount_at_issue"]),
        ]
        for col, value in enumerate(cells):
            workbook.write(rules, row_index, col, value, money if col == 6 else None)
    workbook.close()


def write_report(run_dir: Path, report: dict, findings: list[Finding]) -> None:
    """Write the run's four files. Whatever a check put into a finding, a message or the report, no file
    shows a resident ID number: everything written is masked here, the one place all of it passes."""
    report = without_personal_ids(report)
    findings = without_personal_ids(findings)
    # compact: Python's C encoder only runs without indent (an indented report took seconds at 1M)
    (run_dir / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, separators=(",", ":"), default=str) + "\n", encoding="utf-8"
    )
    (run_dir / "report.html").write_text(render_html(report), encoding="utf-8")
    write_findings_csv(run_dir / "findings.csv", findings)
    write_findings_xlsx(run_dir / "findings.xlsx", report, findings)
