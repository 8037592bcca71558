"""Writes an audit run: report.html (self-contained, offline), report.json, findings.csv and findings.xlsx."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jinja2
import xlsxwriter

from ..paths import project_dir
from ..summary import wan
from .model import FINDING_COLUMNS, Finding

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
    )


def write_findings_csv(path: Path, findings: list[Finding]) -> None:
    # UTF-8 with BOM: Excel on a Chinese Windows desktop then reads the Chinese text correctly
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FINDING_COLUMNS)
        writer.writeheader()
        writer.writerows(finding.as_row() for finding in findings)


def write_findings_xlsx(path: Path, report: dict, findings: list[Finding]) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    sheet = workbook.add_worksheet("异常记录")
    for col, name in enumerate(FINDING_COLUMNS):
        sheet.write(0, col, FINDING_HEADERS_ZH[name], bold)
    for row_index, finding in enumerate(findings, start=1):
        for col, name in enumerate(FINDING_COLUMNS):
            value = getattr(finding, name)
            if name == "amount_at_issue":
                sheet.write_number(row_index, col, float(value), money)
            elif value is not None:
                sheet.write(row_index, col, value)
    sheet.autofilter(0, 0, max(len(findings), 1), len(FINDING_COLUMNS) - 1)
    sheet.freeze_panes(1, 0)
    rules = workbook.add_worksheet("规则")
    rule_headers = ["规则", "严重程度", "类别", "说明", "结果", "不合格行数", "涉及金额（元）"]
    for col, name in enumerate(rule_headers):
        rules.write(0, col, name, bold)
    for row_index, rule in enumerate(report["rules"], start=1):
        rules.write(row_index, 0, rule["rule_code"])
        rules.write(row_index, 1, SEVERITY_ZH[rule["severity"]])
        rules.write(row_index, 2, CATEGORY_ZH.get(rule["category"], rule["category"]))
        rules.write(row_index, 3, rule["description_zh"])
        rules.write(row_index, 4, STATUS_ZH[rule["status"]])
        rules.write_number(row_index, 5, rule["failing_rows"])
        rules.write_number(row_index, 6, float(rule["amount_at_issue"]), money)
    workbook.close()


def write_report(run_dir: Path, report: dict, findings: list[Finding]) -> None:
    (run_dir / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8"
    )
    (run_dir / "report.html").write_text(render_html(report), encoding="utf-8")
    write_findings_csv(run_dir / "findings.csv", findings)
    write_findings_xlsx(run_dir / "findings.xlsx", report, findings)
