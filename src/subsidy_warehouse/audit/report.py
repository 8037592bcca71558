"""Writes an audit run: report.html (self-contained, offline), report.json, findings.csv and findings.xlsx."""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import jinja2

from ..exports import (
    Cell,
    ExportWorkbook,
    copy_csv,
    csv_text_sql,
    masked_sql,
    register_masking,
    sql_text,
    without_personal_ids,
)
from ..paths import project_dir
from ..summary import wan
from .fingerprint import quote
from .model import FINDING_COLUMNS, load_rule_catalogue
from .store import FindingStore

TEXT_COLUMNS = [name for name in FINDING_COLUMNS if name not in ("award_year", "amount_at_issue")]
XLSX_FINDINGS = 50_000  # rows a spreadsheet user can still filter; the CSV holds every finding
MONEY = {"num_format": "#,##0.00"}
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


class FindingsWorkbook:
    """findings.xlsx: the findings (the first XLSX_FINDINGS, with a note saying so when there are more;
    findings.csv has all) and the rules, written row by row so that memory does not grow with the findings."""

    def __init__(self, path: Path) -> None:
        self.workbook = ExportWorkbook(path, stream_rows=True)
        self.bold = {"bold": True}
        self.sheet = self.workbook.add_sheet("异常记录")
        for col, name in enumerate(FINDING_COLUMNS):
            self.workbook.write(self.sheet, 0, col, FINDING_HEADERS_ZH[name], self.bold)
        self.styles = [MONEY if name == "amount_at_issue" else None for name in FINDING_COLUMNS]
        self.shown = 0

    def add(self, rows: list[list[Cell]]) -> None:
        """The next findings, in report order, as their values (Finding.values); those past the cap are dropped."""
        shown = rows[: max(XLSX_FINDINGS - self.shown, 0)]
        self.workbook.write_rows(self.sheet, 1 + self.shown, shown, self.styles)
        self.shown += len(shown)

    def finish(self, report: dict, count: int) -> None:
        """The rules sheet, and the note when fewer than the `count` findings were shown."""
        workbook, bold, shown = self.workbook, self.bold, self.shown
        if count > shown:
            note = f"本表仅列出前 {shown:,} 条异常记录（共 {count:,} 条），完整清单见同一文件夹中的 findings.csv。"
            workbook.write(self.sheet, shown + 2, 0, note, bold)
        self.sheet.autofilter(0, 0, max(shown, 1), len(FINDING_COLUMNS) - 1)
        self.sheet.freeze_panes(1, 0)
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
                workbook.write(rules, row_index, col, value, MONEY if col == 6 else None)
        workbook.close()


def dumps(value: object) -> str:
    # compact: Python's C encoder only runs without indent (an indented report took seconds at 1M)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


# report.json is the report followed by its findings, as ReportFiles.finish writes it: compact JSON whose last key
# is "findings". Inside a JSON string a quote is escaped, so this text can only be that key.
FINDINGS_KEY = ',"findings":['


def read_report_head(path: Path) -> dict:
    """report.json without its findings, read without loading them (at 10M applications they are 640 MB of JSON,
    several GB as Python objects): the text up to FINDINGS_KEY, closed. A report written otherwise (an older,
    indented one) is read whole."""
    head = ""
    with path.open(encoding="utf-8") as handle:
        while chunk := handle.read(1 << 20):
            head += chunk
            at = head.find(FINDINGS_KEY)
            if at != -1:
                with contextlib.suppress(ValueError):
                    return json.loads(head[:at] + "}")
                break
    report = json.loads(path.read_text(encoding="utf-8"))
    report.pop("findings", None)
    return report


class ReportFiles:
    """An audit run's four files. `write_findings` writes findings.csv, the findings of findings.xlsx and those of
    report.json (to a scratch file) from the finding store, in report order; `finish` writes the rest once the
    report is complete, report.json being the report with those findings as its last key.

    Whatever a check put into a finding, a message or the report, no file shows a resident ID number:
    everything written is masked here, the one place all of it passes (the findings by DuckDB, `masked_sql`)."""

    def __init__(self, run_dir: Path, scratch: Path) -> None:
        self.run_dir = run_dir
        self.scratch = scratch
        self.findings_json = scratch / "report-findings.json"
        self.workbook = FindingsWorkbook(run_dir / "findings.xlsx")

    def write_findings(self, store: FindingStore) -> None:
        """findings.csv, the findings of findings.xlsx and report.json's (to the scratch file), from `store`."""
        con = store.con
        register_masking(con)

        def columns(text_sql: Callable[[str], str], amount_sql: str = "amount_at_issue") -> str:
            """The findings' fields in order, each text through `text_sql`, the amount as `amount_sql`."""
            sql = {name: text_sql(quote(name)) for name in TEXT_COLUMNS}
            sql |= {"award_year": "award_year", "amount_at_issue": amount_sql}
            return ", ".join(f"{sql[name]} as {quote(name)}" for name in FINDING_COLUMNS)

        store.number_into("report_rows", columns(masked_sql))  # the findings masked, numbered in report order
        shown_query = f"select * exclude (place) from report_rows order by place limit {XLSX_FINDINGS}"
        csv_query = f"select {columns(csv_text_sql)} from report_rows order by place"
        # report.json's amounts are texts of yuan, masked like any text (a 15-digit amount can look like an ID)
        json_amount = masked_sql("cast(amount_at_issue as varchar)")
        json_query = f"select {columns(str, json_amount)} from report_rows order by place"
        # findings.xlsx is Python (xlsxwriter) and the other two are DuckDB, which lets go of Python's lock while it
        # works: they are written at the same time (1M applications: the xlsx's 50,000 rows take longest)
        with con.cursor() as cursor, ThreadPoolExecutor(max_workers=1) as pool:
            xlsx = pool.submit(lambda: self.workbook.add([list(row) for row in cursor.execute(shown_query).fetchall()]))
            copy_csv(con, csv_query, self.run_dir / "findings.csv", TEXT_COLUMNS, self.scratch / "findings.csv.part")
            con.execute(f"copy ({json_query}) to {sql_text(str(self.findings_json))} (format json, array true)")
            xlsx.result()

    def finish(self, report: dict) -> None:
        """Write report.json, report.html and the rest of findings.xlsx for `report` (all but its findings)."""
        report = without_personal_ids(report)
        head = dumps(report)
        with (self.run_dir / "report.json").open("wb") as out, self.findings_json.open("rb") as rows:
            out.write((head[:-1] + FINDINGS_KEY).encode())
            # DuckDB's JSON array, "[", its rows, "]\n": the rows are report.json's findings
            size = self.findings_json.stat().st_size
            if rows.read(1) != b"[" or size < 3:
                raise RuntimeError(f"{self.findings_json} is not a JSON array")
            copy_bytes(rows, out, size - 3)
            out.write(b"]}\n")
        self.findings_json.unlink()
        (self.run_dir / "report.html").write_text(render_html(report), encoding="utf-8")
        self.workbook.finish(report, report["verdict"]["findings"])


def copy_bytes(source: BinaryIO, target: BinaryIO, count: int) -> None:
    while count > 0:
        chunk = source.read(min(count, 1 << 20))
        if not chunk:
            raise RuntimeError("a scratch file ended early")
        target.write(chunk)
        count -= len(chunk)
