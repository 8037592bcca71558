"""Sample bureau files in the shapes bureaus really send, made from the same records as the clean sample.

Each bureau gets an .xlsx of its applications (a merged title row, Chinese headers, amounts in 万元 with
thousands separators, Chinese, slashed and Excel-serial dates, a total row) and a GB18030/GBK CSV of its
payments (amounts in yuan with separators, full-width digits, stray spaces). Beneficiaries come as one
workbook. Values that are already wrong in the clean records are written as they are.
"""

from __future__ import annotations

import csv
import random
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import xlsxwriter

from .paths import output_folder
from .sample_data import ALL_BUREAUS, SampleWriter

APPLICATION_HEADERS = {
    "application_id": "申报编号", "beneficiary_id": "统一社会信用代码", "clause_code": "政策条款", "award_year": "申报年度",
    "applied_on": "申报日期", "status": "审核状态", "requested_amount": "申请金额（万元）", "approved_amount": "核定金额（万元）",
    "approved_on": "批准日期", "approving_bureau": "主管部门", "base_amount": "计算基数（万元）", "tier": "认定档次",
    "project_id": "项目编号", "loan_principal": "贷款本金（万元）", "loan_start_on": "贷款起始日", "loan_end_on": "贷款到期日",
}  # fmt: skip
DISBURSEMENT_HEADERS = {
    "disbursement_id": "拨付编号", "application_id": "申报编号", "paid_on": "拨付日期", "amount": "拨付金额（元）",
    "kind": "拨付类型", "paying_bureau": "拨付部门", "voucher_no": "凭证号",
}  # fmt: skip
BENEFICIARY_HEADERS = {
    "beneficiary_id": "统一社会信用代码/证件号码", "beneficiary_name": "主体名称", "beneficiary_type": "主体类型",
    "id_type": "证件类型", "registered_on": "成立日期", "district": "所在区",
}  # fmt: skip
STATUS_ZH = {"submitted": "审核中", "approved": "已批准", "rejected": "未通过", "withdrawn": "已撤回"}
KIND_ZH = {"payment": "拨付", "clawback": "追回"}
TYPE_ZH = {"enterprise": "企业", "institution": "事业单位", "investor": "投资机构", "person": "个人"}
ID_TYPE_ZH = {"uscc": "统一社会信用代码", "resident_id": "居民身份证", "passport": "护照"}
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _is_valid_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _money(text: str, in_wan: bool) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if value != value.quantize(Decimal("0.01")):
        return f"{text}元"  # not a cent amount: keep it yuan, so it stays as wrong as it was
    if in_wan:
        wan = (value / 10000).normalize()
        return f"{wan:,f}" if wan == wan.to_integral() else f"{wan:,}"
    return f"{value:,.2f}"


class MessyWriter:
    def __init__(self, records: SampleWriter, seed: int) -> None:
        self.records = records
        self.rng = random.Random(seed + 1)

    def _date(self, text: str, serial_ok: bool) -> object:
        parsed = _is_valid_date(text)
        if parsed is None:
            return text
        style = self.rng.random()
        if serial_ok and style < 0.25:
            return (parsed - date(1899, 12, 30)).days  # an Excel serial number
        if style < 0.55:
            return f"{parsed.year}年{parsed.month}月{parsed.day}日"
        if style < 0.8:
            return f"{parsed.year}/{parsed.month}/{parsed.day}"
        return text

    def _cell(self, column: str, text: str, in_wan_columns: set[str], serial_ok: bool) -> object:
        if column.endswith("_on"):
            return self._date(text, serial_ok)
        if column in in_wan_columns or column.endswith("amount") or column == "loan_principal":
            value = _money(text, column in in_wan_columns)
            return f" {value} " if self.rng.random() < 0.05 else value
        if column == "status":
            return STATUS_ZH.get(text, text)
        if column == "kind":
            return KIND_ZH.get(text, text)
        if column == "beneficiary_type":
            return TYPE_ZH.get(text, text)
        if column == "id_type":
            return ID_TYPE_ZH.get(text, text)
        if column == "award_year" and text.isdigit():
            return f"{text}年" if self.rng.random() < 0.5 else text
        if column == "application_id" and self.rng.random() < 0.05:
            return text.translate(FULL_WIDTH)
        return text

    def _workbook(
        self, path: Path, title: str, headers: dict[str, str], rows: list[dict[str, str]], wan: set[str]
    ) -> None:
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet("Sheet1")
        sheet.merge_range(0, 0, 0, len(headers) - 1, title)
        sheet.write_row(1, 0, list(headers.values()))
        for index, row in enumerate(rows, start=2):
            sheet.write_row(index, 0, [self._cell(c, row.get(c, ""), wan, True) for c in headers])
        sheet.write_row(len(rows) + 2, 0, ["合计", f"{len(rows)} 条"])
        book.close()

    def write(self, out: Path) -> dict[str, int]:
        output_folder(out, "the sample")
        wan = {"requested_amount", "approved_amount", "base_amount", "loan_principal"}
        counts: dict[str, int] = {}
        beneficiaries = self.records.beneficiaries
        self._workbook(
            out / "主体名录.xlsx", "上城区人工智能政策支持主体名录", BENEFICIARY_HEADERS, beneficiaries, set()
        )
        counts["主体名录.xlsx"] = len(beneficiaries)
        by_bureau: dict[str, list[dict[str, str]]] = {}
        for row in self.records.applications:
            bureau = row["approving_bureau"] if row["approving_bureau"] in ALL_BUREAUS else "受理窗口"
            by_bureau.setdefault(bureau, []).append(row)
        for bureau, rows in sorted(by_bureau.items()):
            name = f"{bureau}_申报汇总.xlsx"
            self._workbook(
                out / name, f"{bureau}人工智能政策申报汇总表（金额单位：万元）", APPLICATION_HEADERS, rows, wan
            )
            counts[name] = len(rows)
        payments: dict[str, list[dict[str, str]]] = {}
        for row in self.records.disbursements:
            payments.setdefault(row["paying_bureau"] if row["paying_bureau"] in ALL_BUREAUS else "其他", []).append(row)
        for bureau, rows in sorted(payments.items()):
            name = f"{bureau}_拨付明细.csv"
            with (out / name).open("w", encoding="gb18030", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\r\n")
                writer.writerow([f"{bureau}政策资金拨付明细"])
                writer.writerow(list(DISBURSEMENT_HEADERS.values()))
                for row in rows:
                    writer.writerow([self._cell(c, row.get(c, ""), set(), False) for c in DISBURSEMENT_HEADERS])
                writer.writerow(["合计", "", "", f"{sum(Decimal(r['amount']) for r in rows if _ok(r['amount'])):,.2f}"])
            counts[name] = len(rows)
        return counts


def _ok(text: str) -> bool:
    try:
        Decimal(text)
        return True
    except InvalidOperation:
        return False
